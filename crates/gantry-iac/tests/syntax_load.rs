//! Data-driven loader cases: every directory under `tests/syntax/load/`
//! holds `.tf` files and `expected.txt`, the model summary of a good
//! configuration or the rendered diagnostics of a bad one. Run with
//! `GANTRY_BLESS=1` to rewrite the expectations (then review the diff).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gantry_iac::syntax::{BlockBody, Expr, IgnoreChanges, Loc, Module, Validation, load_module};
use hcl_edit::Span as _;
use hcl_edit::structure::Structure;

fn text(e: &Expr) -> String {
    e.expr
        .span()
        .and_then(|r| e.src.text.get(r))
        .unwrap_or("<no span>")
        .to_owned()
}

fn pos(l: &Loc) -> String {
    let s = l.src.span(&l.range);
    let shown = l.src.text.get(l.range.clone()).unwrap_or("");
    format!(
        "{}:{}:{} `{}`",
        l.src.path,
        s.line,
        s.col,
        shown.replace('\n', "\\n")
    )
}

fn body_keys(b: &BlockBody) -> String {
    let keys: Vec<String> = b
        .body
        .iter()
        .map(|s| match s {
            Structure::Attribute(a) => a.key.as_str().to_owned(),
            Structure::Block(b) => format!("{}{{}}", b.ident.as_str()),
        })
        .collect();
    format!("[{}]", keys.join(" "))
}

fn exprs(es: &[Expr]) -> String {
    format!("[{}]", es.iter().map(text).collect::<Vec<_>>().join(", "))
}

fn validations(vs: &[Validation]) -> String {
    let items: Vec<String> = vs
        .iter()
        .map(|v| format!("({} | {})", text(&v.condition), text(&v.error_message)))
        .collect();
    format!("[{}]", items.join(" "))
}

fn summary(m: &Module) -> String {
    let mut o = String::new();
    let tf = &m.terraform;
    if let Some(v) = &tf.required_version {
        let _ = writeln!(o, "required_version {v:?}");
    }
    for (name, rp) in &tf.required_providers {
        let _ = writeln!(
            o,
            "required_provider {name} source={} version={:?} at {}",
            rp.source,
            rp.version,
            pos(&rp.loc)
        );
    }
    if let Some(b) = &tf.backend {
        let _ = writeln!(
            o,
            "backend {} body={} at {}",
            b.kind,
            body_keys(&b.body),
            pos(&b.loc)
        );
    }
    for p in &m.providers {
        let _ = writeln!(
            o,
            "provider {} alias={:?} body={} at {}",
            p.name,
            p.alias,
            body_keys(&p.body),
            pos(&p.loc)
        );
    }
    for v in m.variables.values() {
        let _ = writeln!(
            o,
            "variable {} type={} default={:?} description={:?} sensitive={} nullable={} validations={} at {}",
            v.name,
            v.ty,
            v.default.as_ref().map(text),
            v.description,
            v.sensitive,
            v.nullable,
            validations(&v.validations),
            pos(&v.loc)
        );
    }
    for l in m.locals.values() {
        let _ = writeln!(o, "local {} = {} at {}", l.name, text(&l.expr), pos(&l.loc));
    }
    for out in m.outputs.values() {
        let _ = writeln!(
            o,
            "output {} value={} description={:?} sensitive={} depends_on={} preconditions={} at {}",
            out.name,
            text(&out.value),
            out.description,
            out.sensitive,
            exprs(&out.depends_on),
            validations(&out.preconditions),
            pos(&out.loc)
        );
    }
    for (key, r) in &m.resources {
        let lc = &r.lifecycle;
        let ignore = match &lc.ignore_changes {
            IgnoreChanges::None => "none".to_owned(),
            IgnoreChanges::All => "all".to_owned(),
            IgnoreChanges::Paths(ps) => {
                let items: Vec<String> = ps
                    .iter()
                    .map(|p| p.iter().map(ToString::to_string).collect::<String>())
                    .collect();
                format!("[{}]", items.join(" "))
            }
        };
        let _ = writeln!(
            o,
            "{key} ({:?} {} {}) provider={} count={:?} for_each={:?} depends_on={} body={} at {}",
            r.mode,
            r.type_name,
            r.name,
            r.provider
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            r.count.as_ref().map(text),
            r.for_each.as_ref().map(text),
            exprs(&r.depends_on),
            body_keys(&r.body),
            pos(&r.loc)
        );
        let _ = writeln!(
            o,
            "  lifecycle cbd={} prevent_destroy={} ignore_changes={ignore} replace_triggered_by={} pre={} post={}",
            lc.create_before_destroy,
            lc.prevent_destroy,
            exprs(&lc.replace_triggered_by),
            validations(&lc.preconditions),
            validations(&lc.postconditions)
        );
    }
    for c in m.module_calls.values() {
        let providers: Vec<String> = c
            .providers
            .iter()
            .map(|(a, b)| format!("{a}={b}"))
            .collect();
        let inputs: Vec<String> = c
            .inputs
            .iter()
            .map(|(k, v)| format!("{k}={}", text(v)))
            .collect();
        let _ = writeln!(
            o,
            "module {} source={:?} version={:?} count={:?} for_each={:?} providers=[{}] depends_on={} inputs=[{}] at {}",
            c.name,
            c.source,
            c.version,
            c.count.as_ref().map(text),
            c.for_each.as_ref().map(text),
            providers.join(" "),
            exprs(&c.depends_on),
            inputs.join(" "),
            pos(&c.loc)
        );
    }
    for mv in &m.moved {
        let _ = writeln!(
            o,
            "moved {} -> {} at {}",
            text(&mv.from),
            text(&mv.to),
            pos(&mv.loc)
        );
    }
    for i in &m.imports {
        let _ = writeln!(
            o,
            "import to={} id={} provider={} at {}",
            text(&i.to),
            text(&i.id),
            i.provider
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            pos(&i.loc)
        );
    }
    for w in &m.warnings {
        let _ = writeln!(o, "{}", w.one_line());
    }
    let files: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    let _ = writeln!(o, "files {}", files.join(" "));
    o
}

fn outcome(dir: &Path) -> String {
    match load_module(dir) {
        Ok(m) => format!("ok\n{}", summary(&m)),
        Err(diags) => {
            let mut o = String::from("errors\n");
            for d in &diags {
                let _ = writeln!(o, "{}", d.one_line());
            }
            o.push('\n');
            o.push_str(&diags.render_all());
            o
        }
    }
}

#[test]
fn loader_cases() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/syntax/load");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/syntax/load exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 40, "only {} loader cases", dirs.len());
    let bless = std::env::var_os("GANTRY_BLESS").is_some();
    let mut failures = Vec::new();
    for dir in &dirs {
        let got = outcome(dir);
        let expected_path = dir.join("expected.txt");
        if bless {
            std::fs::write(&expected_path, &got).expect("write expected.txt");
            continue;
        }
        let want = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "--- {}\n=== want\n{want}\n=== got\n{got}",
                dir.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_directory_is_an_error() {
    let err = load_module(Path::new("/nonexistent/gantry/module")).expect_err("no such dir");
    let first = err.iter().next().expect("one diagnostic");
    assert!(
        first.message.starts_with("failed to read module directory"),
        "{}",
        first.message
    );
}

#[test]
fn empty_directory_is_an_empty_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("notes.txt"), "not terraform").expect("write");
    let m = load_module(dir.path()).expect("empty module loads");
    assert!(m.files.is_empty() && m.resources.is_empty());
}
