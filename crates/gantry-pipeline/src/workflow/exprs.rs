//! Checks every `${{ }}` expression (and every `if:` condition) in a
//! workflow with [`crate::expr`], pointing at the offending token.
//!
//! Error offsets are byte offsets into the YAML value; they are mapped back
//! to the file from the value's span: on a single-line scalar the column is
//! the value's start (after an opening quote) plus the characters before the
//! offset; in a literal block scalar (`|`) each newline of the value is one
//! line of the file at the block's indentation. Two cases are approximate:
//! escapes in quoted scalars shift the column by the escape's length, and in
//! folded scalars (`>` or multi-line plain) lines are joined, so the
//! position may land on the block's first line.

use gantry_config::{Diagnostic, Span};
use serde_json::Value;

use super::model::*;
use crate::expr;

struct Exprs<'a> {
    file: &'a str,
    source: &'a str,
    diags: &'a mut Vec<Diagnostic>,
}

pub(crate) fn check(wf: &Workflow, source: &str, diags: &mut Vec<Diagnostic>) {
    let mut ck = Exprs {
        file: &wf.file,
        source,
        diags,
    };
    ck.opt(&wf.name);
    ck.opt(&wf.run_name);
    ck.pairs(&wf.env);
    ck.defaults(&wf.defaults);
    ck.concurrency(&wf.concurrency);
    if let Some(call) = &wf.on.workflow_call {
        for (_, output) in &call.outputs {
            if let Some(value) = &output.value {
                ck.call_output(value);
            }
        }
    }
    for (_, job) in &wf.jobs {
        ck.job(job);
    }
}

impl Exprs<'_> {
    fn job(&mut self, job: &Job) {
        self.opt(&job.name);
        if let Some(cond) = &job.condition {
            self.condition(cond);
        }
        if let Some(runs_on) = &job.runs_on
            && let [label] = runs_on.labels.as_slice()
            && runs_on.group.is_none()
        {
            self.template(&Spanned::new(label.clone(), runs_on.span));
        }
        self.pairs(&job.outputs);
        self.pairs(&job.env);
        self.defaults(&job.defaults);
        self.number(&job.timeout_minutes);
        self.boolean(&job.continue_on_error);
        if let Some(strategy) = &job.strategy {
            self.boolean(&strategy.fail_fast);
            self.number(&strategy.max_parallel);
            if let Some(matrix) = &strategy.matrix {
                self.opt(&matrix.expression);
                for (_, dynamic) in &matrix.dynamic {
                    self.template(dynamic);
                }
            }
        }
        if let Some(env) = &job.environment {
            self.template(&env.name);
            self.opt(&env.url);
        }
        self.concurrency(&job.concurrency);
        for (_, value) in &job.with {
            if let Value::String(text) = &value.value {
                self.template(&Spanned::new(text.clone(), value.span));
            }
        }
        if let Some(CallSecrets::Map(secrets)) = &job.secrets {
            self.pairs(secrets);
        }
        for step in &job.steps {
            self.opt(&step.id);
            self.opt(&step.name);
            if let Some(cond) = &step.condition {
                self.condition(cond);
            }
            if let StepAction::Run(run) = &step.action {
                self.template(run);
            }
            self.opt(&step.shell);
            self.opt(&step.working_directory);
            self.pairs(&step.env);
            self.pairs(&step.with);
            self.number(&step.timeout_minutes);
            self.boolean(&step.continue_on_error);
        }
    }

    fn opt(&mut self, value: &Option<Spanned<String>>) {
        if let Some(value) = value {
            self.template(value);
        }
    }

    fn pairs(&mut self, pairs: &Pairs) {
        for (_, value) in pairs {
            self.template(value);
        }
    }

    fn defaults(&mut self, defaults: &Defaults) {
        self.opt(&defaults.run.shell);
        self.opt(&defaults.run.working_directory);
    }

    fn concurrency(&mut self, concurrency: &Option<Concurrency>) {
        if let Some(c) = concurrency {
            self.template(&c.group);
            self.boolean(&c.cancel_in_progress);
        }
    }

    fn boolean(&mut self, value: &Option<BoolOrExpr>) {
        if let Some(BoolOrExpr::Expr(text)) = value {
            self.template(text);
        }
    }

    fn number(&mut self, value: &Option<NumberOrExpr>) {
        if let Some(NumberOrExpr::Expr(text)) = value {
            self.template(text);
        }
    }

    /// A string that may contain `${{ }}` parts.
    fn template(&mut self, value: &Spanned<String>) {
        if !value.value.contains("${{") {
            return;
        }
        for embedded in expr::find_embedded(&value.value) {
            if let Err(err) = embedded.expr {
                self.report(value, &err);
            }
        }
    }

    /// `on.workflow_call.outputs.<id>.value`: the only place where the
    /// `jobs` context exists, which the expression parser does not know.
    fn call_output(&mut self, value: &Spanned<String>) {
        for embedded in expr::find_embedded(&value.value) {
            if let Err(err) = embedded.expr
                && err.message != "unrecognized named-value: `jobs`"
            {
                self.report(value, &err);
            }
        }
    }

    /// An `if:` condition: a bare expression, or `${{ }}` parts.
    fn condition(&mut self, value: &Spanned<String>) {
        if value.value.contains("${{") {
            self.template(value);
        } else if !value.value.trim().is_empty()
            && let Err(err) = expr::parse(&value.value)
        {
            self.report(value, &err);
        }
    }

    fn report(&mut self, value: &Spanned<String>, err: &expr::ExprError) {
        let span = self.locate(value, err.offset, err.len);
        self.diags.push(
            Diagnostic::error(self.file, format!("invalid expression: {}", err.message))
                .with_span(span),
        );
    }

    /// The file position of bytes `offset..offset+len` of `value`.
    fn locate(&self, value: &Spanned<String>, offset: usize, len: usize) -> Span {
        let text = &value.value;
        let start = text.floor_char_boundary(offset.min(text.len()));
        let end = text.floor_char_boundary(offset.saturating_add(len).min(text.len()));
        let head = &text[..start];
        let newlines = head.matches('\n').count();
        let tail = &head[head.rfind('\n').map_or(0, |i| i + 1)..];
        let marked = &text[start..end.max(start)];
        let marked = marked.split('\n').next().unwrap_or("");
        let width = marked.chars().count();
        if newlines == 0 {
            let line = self
                .source
                .lines()
                .nth(value.span.line.saturating_sub(1))
                .unwrap_or("");
            let quoted = matches!(
                line.chars().nth(value.span.col.saturating_sub(1)),
                Some('"' | '\'')
            );
            Span::new(
                value.span.line,
                value.span.col + usize::from(quoted) + tail.chars().count(),
                width,
            )
        } else {
            Span::new(
                value.span.line + newlines,
                value.span.col + tail.chars().count(),
                width,
            )
        }
    }
}
