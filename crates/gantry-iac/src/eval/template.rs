//! String templates and heredocs: interpolation, `%{if}` and `%{for}`
//! directives, and `~` strip markers.

use hcl_edit::Span as _;
use hcl_edit::template::{Directive, Element, ForDirective, IfDirective, Template};

use super::expr::{Ctx, Env, Error};
use crate::value::{Type, Value};

/// The string being built.
#[derive(Default)]
struct Out {
    s: String,
    /// Bytes at the end of `s` that came from literal text (the only text
    /// a strip marker may remove).
    lit_tail: usize,
    /// The next literal loses its leading whitespace.
    strip_next: bool,
    unknown: bool,
    marked: bool,
    /// A `<<-` heredoc's indentation: hcl-edit removes it from top-level
    /// literals only, so literals inside directives lose it here.
    dedent: Option<usize>,
    /// How many directives deep the current literal is.
    nested: usize,
}

impl Out {
    fn literal(&mut self, text: &str) {
        let owned;
        let text = match self.dedent {
            Some(k) if self.nested > 0 && text.contains('\n') => {
                owned = dedent_lines(text, k);
                owned.as_str()
            }
            _ => text,
        };
        let text = if self.strip_next {
            text.trim_start()
        } else {
            text
        };
        self.strip_next = false;
        self.s.push_str(text);
        self.lit_tail += text.len();
    }

    fn trim_tail(&mut self) {
        let start = self.s.len().saturating_sub(self.lit_tail);
        let kept = self.s.get(start..).map_or(0, |tail| tail.trim_end().len());
        self.s.truncate(start + kept);
        self.lit_tail = kept;
    }

    /// Starts a non-literal part: no stripping crosses it.
    fn boundary(&mut self, strip_before: bool) {
        if strip_before {
            self.trim_tail();
        }
        self.strip_next = false;
        self.lit_tail = 0;
    }
}

impl Ctx<'_> {
    /// A template's value: a string, or the value itself when the template
    /// is a single interpolation (`"${x}"`).
    pub(crate) fn eval_template(&self, t: &Template, env: &Env) -> Result<Value, Error> {
        self.eval_template_indented(t, None, env)
    }

    /// A heredoc's template; `dedent` is the indentation `<<-` removed.
    pub(crate) fn eval_template_indented(
        &self,
        t: &Template,
        dedent: Option<usize>,
        env: &Env,
    ) -> Result<Value, Error> {
        if let Some(Element::Interpolation(i)) = t.as_single_element() {
            return self.eval(&i.expr, env);
        }
        let mut out = Out {
            dedent,
            ..Out::default()
        };
        self.render(t, env, &mut out)?;
        let v = if out.unknown {
            Value::Unknown(Type::String)
        } else {
            Value::String(out.s)
        };
        Ok(v.mark_if(out.marked))
    }

    fn render(&self, t: &Template, env: &Env, out: &mut Out) -> Result<(), Error> {
        for el in t.iter() {
            match el {
                Element::Literal(s) => out.literal(s.value()),
                Element::Interpolation(i) => {
                    out.boundary(i.strip.strip_start());
                    let (v, m) = self.eval(&i.expr, env)?.unmark();
                    out.marked |= m;
                    if v.is_null() {
                        return Err(self.err(
                            i.expr.span(),
                            "invalid template interpolation value; the expression result is null, cannot include a null value in a string template",
                        ));
                    }
                    if !v.is_known() {
                        out.unknown = true;
                    } else if let Some(s) = v.to_template_string() {
                        out.s.push_str(&s);
                    } else {
                        return Err(self.err(
                            i.expr.span(),
                            format!(
                                "invalid template interpolation value; cannot include the given value in a string template: string required, but have {}",
                                v.kind_name()
                            ),
                        ));
                    }
                    out.strip_next = i.strip.strip_end();
                }
                Element::Directive(d) => match &**d {
                    Directive::If(d) => self.render_if(d, env, out)?,
                    Directive::For(d) => self.render_for(d, env, out)?,
                },
            }
        }
        Ok(())
    }

    fn render_if(&self, d: &IfDirective, env: &Env, out: &mut Out) -> Result<(), Error> {
        out.boundary(d.if_expr.strip.strip_start());
        let span = d.if_expr.cond_expr.span();
        let (c, m) = self.eval(&d.if_expr.cond_expr, env)?.unmark();
        out.marked |= m;
        if c.is_null() {
            return Err(self.err(
                span,
                "invalid template directive; the condition value is null, conditions must either be true or false",
            ));
        }
        let cond = match c.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => Some(b),
            Ok(_) => None,
            Err(e) => {
                return Err(self.err(
                    span,
                    format!(
                        "invalid template directive; the 'if' condition must be a bool: {}",
                        e.message
                    ),
                ));
            }
        };
        match cond {
            None => out.unknown = true,
            Some(true) => {
                out.strip_next = d.if_expr.strip.strip_end();
                out.nested += 1;
                let r = self.render(&d.if_expr.template, env, out);
                out.nested -= 1;
                r?;
                let strip_end = match &d.else_expr {
                    Some(e) => e.strip.strip_start(),
                    None => d.endif_expr.strip.strip_start(),
                };
                if strip_end {
                    out.trim_tail();
                }
            }
            Some(false) => {
                if let Some(e) = &d.else_expr {
                    out.strip_next = e.strip.strip_end();
                    out.lit_tail = 0;
                    out.nested += 1;
                    let r = self.render(&e.template, env, out);
                    out.nested -= 1;
                    r?;
                    if d.endif_expr.strip.strip_start() {
                        out.trim_tail();
                    }
                }
            }
        }
        out.lit_tail = 0;
        out.strip_next = d.endif_expr.strip.strip_end();
        Ok(())
    }

    fn render_for(&self, d: &ForDirective, env: &Env, out: &mut Out) -> Result<(), Error> {
        let f = &d.for_expr;
        out.boundary(f.strip.strip_start());
        let span = f.collection_expr.span();
        let (coll, m) = self.eval(&f.collection_expr, env)?.unmark();
        out.marked |= m;
        match self.iter_items(coll, span, "a template 'for' directive")? {
            None => out.unknown = true,
            Some(items) => {
                let kname = f.key_var.as_ref().map(|k| k.value().as_str().to_owned());
                let vname = f.value_var.value().as_str().to_owned();
                for (k, v) in items {
                    let mut vars = Vec::with_capacity(2);
                    if let Some(kn) = &kname {
                        vars.push((kn.clone(), k));
                    }
                    vars.push((vname.clone(), v));
                    let child = env.child(vars);
                    out.lit_tail = 0;
                    out.strip_next = f.strip.strip_end();
                    out.nested += 1;
                    let r = self.render(&f.template, &child, out);
                    out.nested -= 1;
                    r?;
                    if d.endfor_expr.strip.strip_start() {
                        out.trim_tail();
                    }
                }
            }
        }
        out.lit_tail = 0;
        out.strip_next = d.endfor_expr.strip.strip_end();
        Ok(())
    }
}

/// Removes up to `k` leading whitespace characters from every line that
/// starts inside `text` (not from its first line, which continues the line
/// of whatever came before).
fn dedent_lines(text: &str, k: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(line);
            continue;
        }
        out.push('\n');
        let skip: usize = line
            .chars()
            .take(k)
            .take_while(|c| *c == ' ' || *c == '\t')
            .map(char::len_utf8)
            .sum();
        out.push_str(line.get(skip..).unwrap_or(line));
    }
    out
}
