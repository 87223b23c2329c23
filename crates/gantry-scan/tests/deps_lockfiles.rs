//! Lockfile parsers: every fixture under tests/fixtures/deps/lockfiles/*/
//! against its expected.txt (`name@version:line` per package, in order);
//! corrupt files give an error naming the position; no parser panics.

use std::fs;
use std::path::Path;

use gantry_scan::{Ecosystem, LockfileKind, lockfile_kind, parse_lockfile};
use proptest::prelude::*;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deps/lockfiles")
}

#[test]
fn every_fixture_parses_to_its_expected_packages() {
    let mut checked = Vec::new();
    let mut dirs: Vec<_> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let expected = fs::read_to_string(dir.join("expected.txt")).unwrap();
        let lockfile = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap() != "expected.txt")
            .unwrap();
        let name = lockfile.file_name().unwrap().to_str().unwrap();
        let kind = lockfile_kind(name).unwrap_or_else(|| panic!("{name} is not a lockfile name"));
        let rel = format!("sub/{name}");
        let content = fs::read_to_string(&lockfile).unwrap();
        let packages = parse_lockfile(kind, &rel, &content)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let got: Vec<String> = packages
            .iter()
            .map(|p| format!("{}@{}:{}", p.name, p.version, p.location.line))
            .collect();
        let want: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(got, want, "{}", dir.display());
        for p in &packages {
            assert_eq!(p.ecosystem, kind.ecosystem());
            assert_eq!(p.location.path, rel);
        }
        checked.push(kind);
    }
    // Every format has at least one fixture.
    for k in LockfileKind::ALL {
        assert!(checked.contains(&k), "no fixture for {k:?}");
    }
}

#[test]
fn ecosystems_follow_the_format() {
    assert_eq!(LockfileKind::GoMod.ecosystem(), Ecosystem::Go);
    assert_eq!(LockfileKind::PnpmLock.ecosystem(), Ecosystem::Npm);
    assert_eq!(LockfileKind::UvLock.ecosystem(), Ecosystem::PyPI);
    assert_eq!(LockfileKind::ComposerLock.ecosystem(), Ecosystem::Packagist);
}

/// (format, content, what the error must contain)
const CORRUPT: &[(LockfileKind, &str, &str)] = &[
    (
        LockfileKind::CargoLock,
        "[[package]]\nname = \"a\"\nversion = ",
        "3:",
    ),
    (
        LockfileKind::CargoLock,
        "[[package]]\nname = \"a\"\n",
        "version",
    ),
    (
        LockfileKind::CargoLock,
        "[[package]]\nname = 5\nversion = \"1\"\n",
        "2:",
    ),
    (
        LockfileKind::NpmLock,
        "{\n  \"packages\": {\n    \"node_modules/a\": {\"version\": 1.0}\n  }\n}",
        "3:",
    ),
    (
        LockfileKind::NpmLock,
        "{\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"node_modules/a\": {\"version\": \"1.0.0\"\n  }\n}",
        "6:",
    ),
    (LockfileKind::NpmLock, "[1, 2]", "expected an object"),
    (
        LockfileKind::YarnLock,
        "# yarn lockfile v1\n\nlodash@^4:\n  resolved \"x\"\n",
        "no version",
    ),
    (LockfileKind::YarnLock, "  version \"1.0.0\"\n", "1:3"),
    (
        LockfileKind::YarnLock,
        "lodash@^4\n  version \"1.0.0\"\n",
        "1:1",
    ),
    (
        LockfileKind::PnpmLock,
        "packages:\n  /a@1.0.0:\n",
        "lockfileVersion",
    ),
    (
        LockfileKind::PnpmLock,
        "lockfileVersion: '6.0'\npackages:\n  /a@1.0.0 junk\n",
        "3:3",
    ),
    (LockfileKind::PnpmLock, "lockfileVersion: banana\n", "1:"),
    (LockfileKind::Requirements, "django==3.2\n!!!\n", "2:1"),
    (LockfileKind::Requirements, "django[extra==3.2\n", "1:"),
    (
        LockfileKind::PoetryLock,
        "[[package]]\nname = \"a\"\n",
        "no `version`",
    ),
    (LockfileKind::PoetryLock, "[[package]\nname = \"a\"\n", "1:"),
    (
        LockfileKind::UvLock,
        "version = 1\n[[package]]\nname = \"a\"\nsource = { registry = \"x\" }\n",
        "3:",
    ),
    (
        LockfileKind::PipfileLock,
        "{\"default\": {\"a\": {\"version\": 3}}}",
        "must be a string",
    ),
    (
        LockfileKind::PipfileLock,
        "{\"default\": []}",
        "must be an object",
    ),
    (
        LockfileKind::GoMod,
        "module x\n\nrequire (\n\tgithub.com/a/b\n)\n",
        "4:",
    ),
    (
        LockfileKind::GoMod,
        "module x\nrequire (\n\tgithub.com/a/b v1.0.0\n",
        "unterminated",
    ),
    (
        LockfileKind::GoMod,
        "module x\nrequire github.com/a/b 1.0.0\n",
        "2:",
    ),
    (
        LockfileKind::GoMod,
        "module x\nfrobnicate y\n",
        "2:1: unknown go.mod directive",
    ),
    (LockfileKind::GoMod, "replace a => \n", "1:"),
    (
        LockfileKind::GemfileLock,
        "GEM\n  remote: x\n  specs:\n    rack 2.2.3\n",
        "4:5",
    ),
    (
        LockfileKind::GemfileLock,
        "GEM\n  specs:\n    rack (2.2.3\n",
        "3:",
    ),
    (
        LockfileKind::ComposerLock,
        "{\"packages\": [{\"name\": \"a/b\"}]}",
        "has no `version`",
    ),
    (
        LockfileKind::ComposerLock,
        "{\"packages\": {}}",
        "must be an array",
    ),
    (
        LockfileKind::ComposerLock,
        "{\n\"packages\": [\n{\"name\": \"a/b\", \"version\": \"1\",}\n]}",
        "3:",
    ),
];

#[test]
fn corrupt_files_are_errors_with_positions() {
    for (kind, content, want) in CORRUPT {
        match parse_lockfile(*kind, "dir/lock", content) {
            Ok(p) => panic!("{kind:?} accepted {content:?}: {p:?}"),
            Err(e) => {
                assert_eq!(e.path, "dir/lock");
                assert!(
                    e.message.contains(want),
                    "{kind:?} {content:?}: `{}` lacks `{want}`",
                    e.message
                );
            }
        }
    }
}

#[test]
fn unknown_and_empty_inputs() {
    // An empty lockfile has no packages but is not an error where the format allows it.
    for k in [
        LockfileKind::CargoLock,
        LockfileKind::Requirements,
        LockfileKind::GoMod,
        LockfileKind::GemfileLock,
        LockfileKind::YarnLock,
        LockfileKind::PoetryLock,
    ] {
        assert_eq!(parse_lockfile(k, "x", "").unwrap(), vec![], "{k:?}");
    }
    for k in [
        LockfileKind::NpmLock,
        LockfileKind::PipfileLock,
        LockfileKind::ComposerLock,
    ] {
        assert!(parse_lockfile(k, "x", "").is_err(), "{k:?}");
    }
}

fn fixture_texts() -> Vec<String> {
    let mut out = Vec::new();
    for d in fs::read_dir(fixtures()).unwrap() {
        for f in fs::read_dir(d.unwrap().path()).unwrap() {
            out.push(fs::read_to_string(f.unwrap().path()).unwrap());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_parser_panics_on_arbitrary_text(s in "\\PC{0,300}") {
        for k in LockfileKind::ALL {
            let _ = parse_lockfile(k, "x", &s);
        }
    }

    #[test]
    fn no_parser_panics_on_mangled_fixtures(idx in 0usize..64, cut in 0usize..4000, junk in "[\\[\\]{}\"':,@ \\n\\t()=a-z0-9.]{0,20}") {
        let texts = fixture_texts();
        let text = &texts[idx % texts.len()];
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mangled = format!("{}{junk}{}", &text[..cut], &text[cut..]);
        for k in LockfileKind::ALL {
            let _ = parse_lockfile(k, "x", &mangled);
            let _ = parse_lockfile(k, "x", &text[..cut]);
        }
    }
}

#[test]
fn huge_and_deep_inputs() {
    // 100,000 packages in one package-lock.json: every one found, lines right.
    let mut s = String::from("{\n\"lockfileVersion\": 3,\n\"packages\": {\n\"\": {}");
    for i in 0..100_000 {
        s.push_str(&format!(
            ",\n\"node_modules/p{i}\": {{\"version\": \"1.0.{i}\"}}"
        ));
    }
    s.push_str("\n}\n}\n");
    let p = parse_lockfile(LockfileKind::NpmLock, "package-lock.json", &s).unwrap();
    assert_eq!(p.len(), 100_000);
    assert_eq!(
        (p[99_999].name.as_str(), p[99_999].location.line),
        ("p99999", 100_004)
    );
    // Nesting deep enough to overflow a naive recursive parser is an error.
    let deep = format!(
        "{{\"dependencies\": {}{}",
        "{\"a\": {\"dependencies\": ".repeat(50_000),
        "}".repeat(100_001)
    );
    let e = parse_lockfile(LockfileKind::NpmLock, "package-lock.json", &deep).unwrap_err();
    assert!(e.message.contains("nesting"), "{}", e.message);
    // A 1 MB line with no structure is a plain error.
    let junk = "x".repeat(1 << 20);
    for k in LockfileKind::ALL {
        let _ = parse_lockfile(k, "x", &junk);
    }
    assert!(parse_lockfile(LockfileKind::GoMod, "go.mod", &junk).is_err());
}
