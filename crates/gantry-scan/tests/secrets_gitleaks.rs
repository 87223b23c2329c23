//! gitleaks TOML configuration compatibility: the real default
//! configuration loads whole, and our own fixtures exercise every field.

use std::path::{Path, PathBuf};

use gantry_scan::secrets::{ConfigError, Rules, Scanner};

fn shared_gitleaks() -> Option<PathBuf> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/gitleaks/gitleaks.toml");
    if p.exists() {
        Some(p)
    } else {
        println!(
            "notice: {} is absent; skipping the real gitleaks configuration test",
            p.display()
        );
        None
    }
}

/// A token the gitleaks rules look for, built from pieces at run time.
fn pieces(parts: &[&str]) -> String {
    parts.concat()
}

#[test]
fn real_gitleaks_config_loads_every_rule() {
    let Some(path) = shared_gitleaks() else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let declared = text.lines().filter(|l| l.trim() == "[[rules]]").count();
    assert_eq!(declared, 222, "the shared configuration changed");
    let rules = Rules::from_gitleaks_toml(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules.len(), 222);
    // Every rule has a compiled regex or path.
    for r in rules.iter() {
        assert!(
            r.regex_source().is_some() || r.path_source().is_some(),
            "{} has neither regex nor path",
            r.id
        );
    }
    // The global allowlist came through.
    assert!(!rules.allowlists().is_empty());
    // The loaded rules find things: a GitHub PAT and an AWS key.
    let scanner = Scanner::new(rules);
    let ghp = pieces(&["gh", "p_", "Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7"]);
    let found = scanner.scan_bytes("src/app.py", format!("TOKEN = \"{ghp}\"\n").as_bytes());
    assert!(found.iter().any(|f| f.rule_id == "github-pat"), "{found:?}");
    let akia = pieces(&["AK", "IA", "Q7ZL4M2XRN5TWB3Y"]);
    let found = scanner.scan_bytes("a.txt", format!("k={akia}\n").as_bytes());
    assert!(
        found.iter().any(|f| f.rule_id == "aws-access-token"),
        "{found:?}"
    );
    // gitleaks' global path allowlist: lock files are skipped.
    let found = scanner.scan_bytes("web/package-lock.json", format!("k={akia}\n").as_bytes());
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn real_gitleaks_config_extended_by_path() {
    let Some(path) = shared_gitleaks() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("my.toml");
    let text = format!(
        "[extend]\npath = {:?}\ndisabledRules = [\"github-pat\"]\n\n[[rules]]\nid = \"internal-token\"\nregex = '''\\bitk_[a-z0-9]{{20}}\\b'''\nkeywords = [\"itk_\"]\n",
        path.display().to_string()
    );
    std::fs::write(&cfg, &text).unwrap();
    let rules = Rules::from_gitleaks_file(&cfg).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rules.len(), 222);
    assert!(rules.get("github-pat").is_none());
    assert!(rules.get("internal-token").is_some());
}

#[test]
fn use_default_extends_the_builtin_rules() {
    let builtin = Rules::builtin().len();
    let text = r#"
[extend]
useDefault = true
disabledRules = ["jwt"]

[[rules]]
id = "github-pat"
description = "overridden description"
[[rules.allowlists]]
stopwords = ["zzzallowedzzz"]

[[rules]]
id = "acme-token"
description = "ACME internal token"
regex = '''\bacme_([a-z0-9]{24})\b'''
secretGroup = 1
entropy = 3
keywords = ["acme_"]
"#;
    let rules = Rules::from_gitleaks_toml(text, Path::new("gitleaks.toml")).unwrap();
    assert_eq!(rules.len(), builtin); // -jwt +acme-token
    assert!(rules.get("jwt").is_none());
    let gh = rules.get("github-pat").unwrap();
    assert_eq!(gh.description, "overridden description");
    assert!(gh.regex_source().is_some(), "the built-in regex is kept");
    assert_eq!(gh.allowlist_count(), 1);
    let scanner = Scanner::new(rules);
    let tok = pieces(&["acme_", "k3j9x2m8q7w1z5r4t6y0u2p8"]);
    let f = scanner.scan_bytes("x.env", format!("A={tok}\n").as_bytes());
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule_id, "acme-token");
    assert_eq!(f[0].redacted.as_deref(), Some("k3j9…"));
    // The per-rule stopword added by the extension allows a PAT holding it.
    let ghp = pieces(&["gh", "p_", "zzzallowedzzzX4Nc1Kp9Ws3Hd6Jf0Ab5Ey7"]);
    assert_eq!(ghp.len(), 40);
    let f = scanner.scan_bytes("x.env", format!("A={ghp}\n").as_bytes());
    assert!(f.iter().all(|f| f.rule_id != "github-pat"), "{f:?}");
}

#[test]
fn allowlists_paths_regexes_targets_stopwords_and_conditions() {
    let text = r#"
[allowlist]
paths = ['''(?:^|/)testdata/''']

[[allowlists]]
targetRules = ["tok"]
regexTarget = "line"
regexes = ['''(?i)fixture''']

[[rules]]
id = "tok"
regex = '''\btok_[a-z0-9]{16}\b'''
keywords = ["tok_"]
  [[rules.allowlists]]
  description = "AND: only in docs and only when the match says tok_test"
  condition = "AND"
  paths = ['''^docs/''']
  regexTarget = "match"
  regexes = ['''^tok_test''']
  [[rules.allowlists]]
  stopwords = ["deadbeef"]
  [[rules.allowlists]]
  commits = ["0123456789abcdef0123456789abcdef01234567"]
"#;
    let rules = Rules::from_gitleaks_toml(text, Path::new("cfg.toml")).unwrap();
    let s = Scanner::new(rules);
    let hit = |path: &str, body: &str| {
        s.scan_bytes(path, body.as_bytes())
            .iter()
            .filter(|f| f.rule_id == "tok")
            .count()
    };
    let real = pieces(&["tok_", "a1b2c3d4e5f6g7h8"]);
    let testy = pieces(&["tok_", "test1234abcd5678"]);
    let stop = pieces(&["tok_", "x1deadbeefy2z3w4"]);
    assert_eq!(hit("src/a.rs", &format!("k = {real}\n")), 1);
    // global path allowlist
    assert_eq!(hit("pkg/testdata/a.rs", &format!("k = {real}\n")), 0);
    // global targeted allowlist on the line
    assert_eq!(hit("src/a.rs", &format!("k = {real} // FIXTURE\n")), 0);
    // AND: both the path and the match regex must hold
    assert_eq!(hit("docs/a.md", &format!("k = {testy}\n")), 0);
    assert_eq!(hit("src/a.md", &format!("k = {testy}\n")), 1);
    assert_eq!(hit("docs/a.md", &format!("k = {real}\n")), 1);
    // stopword in the secret
    assert_eq!(hit("src/a.rs", &format!("k = {stop}\n")), 0);
}

#[test]
fn legacy_rule_allowlist_path_rules_and_inline_tables() {
    let text = r#"
rules = [
  { id = "p12", description = "key store", path = '''\.p12$''' },
  { id = "x", regex = '''xk_[0-9]{6}''', allowlist = { regexes = ['''xk_000000'''] } },
]
"#;
    let rules = Rules::from_gitleaks_toml(text, Path::new("c.toml")).unwrap();
    let s = Scanner::new(rules);
    let f = s.scan_bytes("certs/client.p12", b"\x00\x01binary");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule_id, "p12");
    assert_eq!(f[0].location.as_ref().unwrap().line, 0);
    let f = s.scan_bytes("a.txt", b"xk_000000 xk_123456\n");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].location.as_ref().unwrap().column, 11);
}

#[test]
fn errors_name_the_rule_the_field_and_the_position() {
    let cases: &[(&str, &str)] = &[
        (
            "[[rules]]\nid = \"a\"\nregex = '''(unclosed'''\n",
            "c.toml:3:9: rule `a`: field `regex`: does not compile",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 5\n",
            "c.toml:3:9: rule `a`: field `regex`: expected a string",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x(y)'\nsecretGroup = 3\n",
            "rule `a`: field `secretGroup`: is 3 but the regex has 1 capture group(s)",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\nentropy = \"high\"\n",
            "rule `a`: field `entropy`: expected a non-negative number",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\nkeywords = [\"k\", 3]\n",
            "c.toml:4:18: rule `a`: field `keywords`: expected a string, found integer",
        ),
        (
            "[[rules]]\ndescription = \"no id\"\nregex = 'x'\n",
            "field `id`: a rule needs an `id`",
        ),
        (
            "[[rules]]\nid = \"a\"\n",
            "rule `a`: field `regex`: a rule needs a `regex` or a `path`",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules.allowlists]]\ncondition = \"XOR\"\nstopwords = [\"s\"]\n",
            "rule `a`: field `allowlists[0].condition`: expected \"OR\" or \"AND\"",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules.allowlists]]\nregexTarget = \"file\"\nregexes = ['y']\n",
            "field `allowlists[0].regexTarget`",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules.allowlists]]\ndescription = \"empty\"\n",
            "rule `a`: field `allowlists[0]`: an allowlist needs at least one",
        ),
        (
            "[[rules]]\nid = \"a\"\nregex = 'x'\n[[rules]]\nid = \"a\"\nregex = 'y'\n",
            "c.toml:5:6: rule `a`: field `id`: duplicate rule id",
        ),
        (
            "[allowlist]\npaths = ['''(''']\n",
            "field `allowlist.paths`: does not compile",
        ),
        (
            "[extend]\npath = \"does-not-exist.toml\"\n",
            "field `extend.path`: cannot read",
        ),
        (
            "[extend]\nuseDefault = \"yes\"\n",
            "field `extend.useDefault`: expected true or false",
        ),
        ("[[rules]\nid = 1\n", "c.toml:1:"),
    ];
    for (text, want) in cases {
        let err = Rules::from_gitleaks_toml(text, Path::new("c.toml"))
            .expect_err(&format!("accepted: {text}"))
            .to_string();
        assert!(
            err.contains(want),
            "for {text:?}\n got: {err}\nwant: {want}"
        );
    }
    match Rules::from_gitleaks_file(Path::new("/nonexistent/gitleaks.toml")) {
        Err(ConfigError::Io { path, .. }) => assert!(path.ends_with("gitleaks.toml")),
        other => panic!("{other:?}"),
    }
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_config_text_never_panics(text in "\\PC{0,400}") {
            let _ = Rules::from_gitleaks_toml(&text, Path::new("c.toml"));
        }

        #[test]
        fn config_shaped_text_never_panics(
            id in "[a-z-]{0,8}",
            regex in "[\\[\\](){}a-z0-9\\\\|*+?.^$:,-]{0,30}",
            group in 0i64..4,
            entropy in -1.0f64..8.0,
        ) {
            let text = format!(
                "[[rules]]\nid = {id:?}\nregex = '''{regex}'''\nsecretGroup = {group}\nentropy = {entropy}\nkeywords = [\"a\"]\n"
            );
            if let Ok(rules) = Rules::from_gitleaks_toml(&text, Path::new("c.toml")) {
                let s = Scanner::new(rules);
                let _ = s.scan_bytes("f", b"a{}()[] aaaa 0123 a\n");
            }
        }
    }
}

#[test]
fn fixture_extends_a_relative_path_and_merges_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/secrets");
    let rules =
        Rules::from_gitleaks_file(&dir.join("extending.toml")).unwrap_or_else(|e| panic!("{e}"));
    let mut ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["acme-deploy-key", "acme-session"]);
    let key = rules.get("acme-deploy-key").unwrap();
    assert_eq!(key.description, "ACME deploy key");
    assert_eq!(key.tags, ["internal", "deploy"]);
    assert_eq!(key.secret_group, 1);
    assert_eq!(
        key.allowlist_count(),
        2,
        "legacy allowlist + the extension's"
    );
    assert_eq!(rules.allowlists().len(), 2);

    let s = Scanner::new(rules);
    let key = pieces(&["acmd_", "q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3"]);
    let count = |path: &str, line: &str| {
        s.scan_bytes(path, format!("{line}\n").as_bytes())
            .iter()
            .filter(|f| f.rule_id == "acme-deploy-key")
            .count()
    };
    assert_eq!(count("deploy/prod.env", &format!("KEY={key}")), 1);
    // global path allowlist from the base file
    assert_eq!(count("vendor/x/prod.env", &format!("KEY={key}")), 0);
    // targeted global allowlist from the extension
    assert_eq!(count("pkg/testdata/prod.env", &format!("KEY={key}")), 0);
    // AND allowlist: a .md file AND the line says rotated
    assert_eq!(count("docs/keys.md", &format!("{key} (rotated)")), 0);
    assert_eq!(count("docs/keys.md", &key), 1);
    assert_eq!(count("docs/keys.txt", &format!("{key} (rotated)")), 1);
    // legacy per-rule stopword
    let sample = pieces(&["acmd_", "0000sample1a2b3c4d5e6f7g8h9i0j1k"]);
    assert_eq!(count("a.env", &format!("KEY={sample}")), 0);
}
