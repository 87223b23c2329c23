//! The scanning engine: keyword gate, entropy, inline allow, binary skip,
//! big-file streaming, positions and redaction.

use std::io::Write;
use std::path::Path;

use gantry_scan::secrets::{Rules, Scanner, redact, shannon_entropy};
use gantry_scan::{Kind, Severity};

/// A GitHub classic PAT built from pieces (36 characters after the prefix).
fn ghp(tail: &str) -> String {
    let body: String = tail.chars().cycle().take(36).collect();
    ["gh", "p_", &body].concat()
}

fn builtin() -> Scanner {
    Scanner::new(Rules::builtin())
}

fn ids(f: &[gantry_scan::Finding]) -> Vec<&str> {
    f.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn finding_shape_position_and_redaction() {
    let s = builtin();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let text = format!("line one\n  héllo = \"{tok}\"\n");
    let f = s.scan_bytes("src/main.rs", text.as_bytes());
    assert_eq!(ids(&f), ["github-pat"]);
    let f = &f[0];
    assert_eq!(f.kind, Kind::Secret);
    assert_eq!(f.severity, Severity::High);
    let loc = f.location.as_ref().unwrap();
    assert_eq!(
        (loc.path.as_str(), loc.line, loc.column, loc.end_line),
        ("src/main.rs", 2, 12, 0)
    );
    assert_eq!(f.redacted.as_deref(), Some("ghp_…"));
    assert!(f.message.contains("ghp_…"));
    assert!(f.commit.is_none());
    // The secret itself is nowhere in the finding.
    assert!(!format!("{f:?}").contains(&tok[4..]));
    assert!(!serde_json::to_string(f).unwrap().contains(&tok[4..]));
    // The fingerprint depends on the secret and the path, not the line.
    let moved = s.scan_bytes("src/main.rs", format!("\n\n\nx = {tok}\n").as_bytes());
    assert_eq!(moved[0].fingerprint, f.fingerprint);
    let other = s.scan_bytes(
        "src/main.rs",
        format!("x = {}\n", ghp("Mn3Pq7Rs1Tu5Vw9Xy2Za4Bc6De8Fg0Hi")).as_bytes(),
    );
    assert_ne!(other[0].fingerprint, f.fingerprint);
    let elsewhere = s.scan_bytes("src/lib.rs", format!("x = {tok}\n").as_bytes());
    assert_ne!(elsewhere[0].fingerprint, f.fingerprint);
}

#[test]
fn several_hits_on_a_line_have_their_own_columns() {
    let s = builtin();
    let (a, b, c) = (
        ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7"),
        ghp("Mn3Pq7Rs1Tu5Vw9Xy2Za4Bc6De8Fg0Hi"),
        ghp("Pp1Oo2Ii3Uu4Yy5Tt6Rr7Ee8Ww9Qq0Aa"),
    );
    let text = format!("é {a} ü {b}\nxx {c}\n");
    let pos: Vec<(u32, u32)> = s
        .scan_bytes("f", text.as_bytes())
        .iter()
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (l.line, l.column)
        })
        .collect();
    // "é " is 2 characters, the token 40, " ü " 3: the second token is at 46.
    assert_eq!(pos, [(1, 3), (1, 46), (2, 4)]);
}

#[test]
fn multi_line_secret_has_an_end_line() {
    let s = builtin();
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0";
    let pem = format!(
        "x\n{}\n{body}\n{body}\n{}\n",
        ["-----BEGIN RSA PRIVATE", " KEY-----"].concat(),
        ["-----END RSA PRIVATE", " KEY-----"].concat()
    );
    let f = s.scan_bytes("id_rsa", pem.as_bytes());
    let k = f
        .iter()
        .find(|f| f.rule_id == "private-key")
        .expect("private key found");
    let loc = k.location.as_ref().unwrap();
    assert_eq!((loc.line, loc.column, loc.end_line), (2, 1, 5));
    assert_eq!(k.redacted.as_deref(), Some("----…"));
}

#[test]
fn keyword_gate_is_case_insensitive_and_selects_rules() {
    // A rule whose keyword is absent never runs its regex, even if the
    // regex would match.
    let text = r#"
[[rules]]
id = "gated"
regex = '''zz[0-9]{4}'''
keywords = ["marker"]
[[rules]]
id = "ungated"
regex = '''yy[0-9]{4}'''
"#;
    let s = Scanner::new(Rules::from_gitleaks_toml(text, Path::new("c.toml")).unwrap());
    assert_eq!(ids(&s.scan_bytes("a", b"zz1234 yy5678")), ["ungated"]);
    assert_eq!(ids(&s.scan_bytes("a", b"MaRkEr zz1234")), ["gated"]);
    let found = s.scan_bytes("a", b"zz1234 MARKER yy5678");
    let mut both = ids(&found);
    both.sort();
    assert_eq!(both, ["gated", "ungated"]);
}

#[test]
fn entropy_threshold_drops_low_entropy_values() {
    assert_eq!(shannon_entropy(b""), 0.0);
    assert_eq!(shannon_entropy(b"aaaa"), 0.0);
    assert!((shannon_entropy(b"ab") - 1.0).abs() < 1e-9);
    assert!((shannon_entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    let text = r#"
[[rules]]
id = "e"
regex = '''tok_([a-z0-9]{16})'''
entropy = 3.0
keywords = ["tok_"]
"#;
    let s = Scanner::new(Rules::from_gitleaks_toml(text, Path::new("c.toml")).unwrap());
    assert!(s.scan_bytes("a", b"tok_aaaaaaaabbbbbbbb").is_empty());
    assert_eq!(s.scan_bytes("a", b"tok_a1b2c3d4e5f6g7h8").len(), 1);
    // The entropy is of the secret group, not the whole match.
    assert!(s.scan_bytes("a", b"tok_0000000000000000").is_empty());
}

#[test]
fn inline_allow_markers_skip_their_line_only() {
    let s = builtin();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let text =
        format!("a = \"{tok}\" # gantry:allow\nb = \"{tok}\" // gitleaks:allow\nc = \"{tok}\"\n");
    let f = s.scan_bytes("x.py", text.as_bytes());
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].location.as_ref().unwrap().line, 3);
}

#[test]
fn documented_examples_and_placeholders_are_allowed() {
    let s = builtin();
    let aws_example = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    assert!(
        s.scan_bytes("a", format!("k={aws_example}\n").as_bytes())
            .is_empty()
    );
    let pg = ["postgres://u:", "${DB_PASS}", "@h/db"].concat();
    assert!(s.scan_bytes("a", format!("{pg}\n").as_bytes()).is_empty());
}

#[test]
fn binary_files_are_skipped_but_path_rules_still_apply() {
    let s = builtin();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let mut data = b"\x7fELF\x00\x01".to_vec();
    data.extend_from_slice(tok.as_bytes());
    assert!(s.scan_bytes("bin/tool", &data).is_empty());
    // A NUL after the first 8 KiB does not make a file binary.
    let mut late = vec![b' '; 9000];
    late.push(0);
    late.extend_from_slice(format!("\n{tok}\n").as_bytes());
    assert_eq!(ids(&s.scan_bytes("x.txt", &late)), ["github-pat"]);
    assert_eq!(ids(&s.scan_bytes("keys/store.p12", &data)), ["pkcs12-file"]);
}

#[test]
fn generic_rule_yields_to_a_specific_rule_on_the_same_secret() {
    let s = builtin();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let f = s.scan_bytes("a", format!("api_token = \"{tok}\"\n").as_bytes());
    assert_eq!(ids(&f), ["github-pat"]);
    let f = s.scan_bytes("a", b"api_token = \"Qm9vb3Rz1XyZ8kLpW2vR\"\n");
    assert_eq!(ids(&f), ["generic-api-key"]);
}

#[test]
fn scan_file_reads_and_reports_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a.env"), format!("T={tok}\n")).unwrap();
    let s = builtin();
    let f = s.scan_file(dir.path(), "sub/a.env").unwrap();
    assert_eq!(ids(&f), ["github-pat"]);
    assert_eq!(f[0].location.as_ref().unwrap().path, "sub/a.env");
    let e = s.scan_file(dir.path(), "missing.txt").unwrap_err();
    assert_eq!(e.path, "missing.txt");
    assert!(e.message.contains("cannot read"), "{e}");
    let e = s.scan_file(dir.path(), "sub").unwrap_err();
    assert!(e.message.contains("directory"), "{e}");
    // A FIFO is refused instead of blocking the scan.
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo (coreutils) failed");
    let e = s.scan_file(dir.path(), "pipe").unwrap_err();
    assert!(e.message.contains("special file"), "{e}");
}

/// A 50 MB file streamed in 8 MiB chunks: secrets right before, across
/// and right after a chunk boundary are each found once, with the right
/// line numbers, and a multi-line key straddling a boundary is found whole.
#[test]
fn big_file_is_streamed_and_boundary_secrets_are_found_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let filler =
        b"2026-01-01T00:00:00Z INFO request served path=/api/v1/items status=200 bytes=512\n";
    let chunk = gantry_scan::secrets::DEFAULT_CHUNK_SIZE;
    let tok1 = ghp("Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk1Ll2M");
    let tok2 = ghp("Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8N");
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0";
    let pem = format!(
        "{}\n{body}\n{body}\n{body}\n{}\n",
        ["-----BEGIN EC PRIVATE", " KEY-----"].concat(),
        ["-----END EC PRIVATE", " KEY-----"].concat()
    );
    let mut written = 0usize;
    let mut line = 1u32;
    let mut expect = Vec::new();
    let plant = |w: &mut std::io::BufWriter<std::fs::File>,
                 written: &mut usize,
                 line: &mut u32,
                 text: &str,
                 id: &str,
                 expect: &mut Vec<(String, u32)>| {
        expect.push((id.to_string(), *line));
        w.write_all(text.as_bytes()).unwrap();
        *written += text.len();
        *line += text.matches('\n').count() as u32;
    };
    // Fill up to just before the first boundary, then a secret that
    // straddles it; just before the second a multi-line key; one secret at
    // 40 MB; then fill to 50 MB.
    let targets = [chunk - 20, 2 * chunk - 100, 40 << 20];
    for (i, target) in targets.iter().enumerate() {
        while written + filler.len() < *target {
            w.write_all(filler).unwrap();
            written += filler.len();
            line += 1;
        }
        match i {
            0 => plant(
                &mut w,
                &mut written,
                &mut line,
                &format!("token={tok1}\n"),
                "github-pat",
                &mut expect,
            ),
            1 => plant(
                &mut w,
                &mut written,
                &mut line,
                &pem,
                "private-key",
                &mut expect,
            ),
            _ => plant(
                &mut w,
                &mut written,
                &mut line,
                &format!("token={tok2}\n"),
                "github-pat",
                &mut expect,
            ),
        }
    }
    while written < 50 << 20 {
        w.write_all(filler).unwrap();
        written += filler.len();
    }
    drop(w);
    let s = builtin();
    let f = s.scan_file(dir.path(), "big.log").unwrap();
    let got: Vec<(String, u32)> = f
        .iter()
        .map(|f| (f.rule_id.clone(), f.location.as_ref().unwrap().line))
        .collect();
    // github-pat's location is the token (after `token=`), same line.
    assert_eq!(got, expect);
    let key = f.iter().find(|f| f.rule_id == "private-key").unwrap();
    assert_eq!(key.location.as_ref().unwrap().end_line, expect[1].1 + 4);

    // The same file read whole (limit raised) gives the same findings.
    let whole = Scanner::new(Rules::builtin())
        .with_max_file_size(u64::MAX)
        .scan_file(dir.path(), "big.log")
        .unwrap();
    assert_eq!(whole, f);
}

#[test]
fn small_chunks_agree_with_a_whole_read() {
    // Many boundaries: 1 KiB chunks over a file with a secret every ~700 bytes.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&"x".repeat(600 + (i * 37) % 300));
        text.push('\n');
        text.push_str(&format!(
            "t{i} = {}\n",
            ghp(&format!("Q{i}w9E8r7T6y5U4i3O2p1A0s"))
        ));
    }
    std::fs::write(dir.path().join("f.txt"), &text).unwrap();
    let whole = builtin().scan_file(dir.path(), "f.txt").unwrap();
    assert_eq!(whole.len(), 200);
    let streamed = builtin()
        .with_max_file_size(0)
        .with_chunking(1024, 1024)
        .scan_file(dir.path(), "f.txt")
        .unwrap();
    assert_eq!(streamed, whole);
}

#[test]
fn scanner_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scanner>();
    let s = builtin();
    let tok = ghp("Zq8Lm2Rt7Vx4Nc1Kp9Ws3Hd6Jf0Ab5Ey2Tg7");
    let counts: Vec<usize> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4)
            .map(|i| {
                let (s, tok) = (&s, &tok);
                sc.spawn(move || {
                    s.scan_bytes(&format!("f{i}"), format!("t={tok}").as_bytes())
                        .len()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts, [1, 1, 1, 1]);
}

#[test]
fn redact_keeps_four_characters() {
    assert_eq!(redact(b"abcdefgh"), "abcd…");
    assert_eq!(redact(b"ab"), "ab…");
    assert_eq!(redact("éèêëx".as_bytes()), "éèêë…");
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096), path in "\\PC{0,40}") {
            let s = builtin();
            for f in s.scan_bytes(&path, &data) {
                prop_assert_eq!(f.kind, Kind::Secret);
                prop_assert!(f.redacted.is_some() || f.location.as_ref().unwrap().line == 0);
            }
        }

        #[test]
        fn keyword_soup_never_panics(words in proptest::collection::vec(
            prop_oneof![
                Just("ghp_"), Just("AKIA"), Just("-----BEGIN RSA PRIVATE KEY-----"), Just("\n"),
                Just("postgres://"), Just(":"), Just("@"), Just("="), Just("eyJ"), Just("."),
                Just("api_key"), Just("\""), Just("x"), Just("7"), Just("é"), Just("\u{0}"),
            ], 0..200)) {
            let text: String = words.concat();
            let _ = builtin().scan_bytes("f.txt", text.as_bytes());
        }
    }
}
