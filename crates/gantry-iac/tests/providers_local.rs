//! The built-in `local` provider against a temporary directory.

mod providers_support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gantry_iac::value::{Type, Value};
use md5::Md5;
use providers_support::{Expect, Harness, Pairs, attr_path, get, harness, s};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

async fn local() -> Harness {
    harness("local").await
}

fn p(dir: &Path, rel: &str) -> Value {
    Value::string(dir.join(rel).to_str().unwrap())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Asserts every checksum attribute against `bytes`.
fn assert_hashes(st: &Value, bytes: &[u8]) {
    assert_eq!(s(st, "id"), hex::encode(Sha1::digest(bytes)));
    assert_eq!(s(st, "content_sha1"), hex::encode(Sha1::digest(bytes)));
    assert_eq!(s(st, "content_md5"), hex::encode(Md5::digest(bytes)));
    assert_eq!(s(st, "content_sha256"), hex::encode(Sha256::digest(bytes)));
    assert_eq!(
        s(st, "content_base64sha256"),
        STANDARD.encode(Sha256::digest(bytes))
    );
    assert_eq!(s(st, "content_sha512"), hex::encode(Sha512::digest(bytes)));
    assert_eq!(
        s(st, "content_base64sha512"),
        STANDARD.encode(Sha512::digest(bytes))
    );
}

#[tokio::test]
async fn plan_on_create_knows_inline_checksums_and_defaults() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "a.txt")),
            ("content", Value::string("foo!")),
        ],
    );
    let plan = h.plan("local_file", None, &cfg).await.unwrap();
    assert_hashes(&plan.planned, b"foo!");
    assert_eq!(get(&plan.planned, "file_permission"), Value::string("0777"));
    assert_eq!(
        get(&plan.planned, "directory_permission"),
        Value::string("0777")
    );
    // Nothing is written at plan.
    assert!(!dir.path().join("a.txt").exists());

    // Unknown content: checksums unknown.
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "a.txt")),
            ("content", Value::Unknown(Type::String)),
        ],
    );
    let plan = h.plan("local_file", None, &cfg).await.unwrap();
    for a in ["id", "content_md5", "content_sha512"] {
        assert!(!get(&plan.planned, a).is_known(), "{a}");
    }

    // A source file is read at apply, so its checksums are unknown.
    std::fs::write(dir.path().join("src.txt"), "x").unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "b.txt")),
            ("source", p(dir.path(), "src.txt")),
        ],
    );
    let plan = h.plan("local_file", None, &cfg).await.unwrap();
    assert!(!get(&plan.planned, "id").is_known());

    // local_sensitive_file defaults to 0700.
    let cfg = h.config(
        "local_sensitive_file",
        &[
            ("filename", p(dir.path(), "c.txt")),
            ("content", Value::string("s")),
        ],
    );
    let plan = h.plan("local_sensitive_file", None, &cfg).await.unwrap();
    assert_eq!(get(&plan.planned, "file_permission"), Value::string("0700"));
    assert_eq!(
        get(&plan.planned, "directory_permission"),
        Value::string("0700")
    );
}

#[tokio::test]
async fn create_writes_the_file_with_parents_and_permissions() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "deep/er/out.txt")),
            ("content", Value::string("hello\n")),
            ("file_permission", Value::string("0600")),
            ("directory_permission", Value::string("0700")),
        ],
    );
    let st = h.create("local_file", &cfg).await;
    let file = dir.path().join("deep/er/out.txt");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello\n");
    assert_hashes(&st, b"hello\n");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&dir.path().join("deep")), 0o700);
    assert_eq!(mode(&dir.path().join("deep/er")), 0o700);
    assert_eq!(get(&st, "content"), Value::string("hello\n"));

    // The same configuration plans no change.
    let plan = h.plan("local_file", Some(&st), &cfg).await.unwrap();
    assert_eq!(plan.planned, st);
    assert!(plan.requires_replace.is_empty());
    // Refresh of an untouched file keeps the state.
    assert_eq!(
        h.provider.read("local_file", &st).await.unwrap(),
        Some(st.clone())
    );
}

#[tokio::test]
async fn sensitive_file_gets_private_permissions() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = h.config(
        "local_sensitive_file",
        &[
            ("filename", p(dir.path(), "keys/id")),
            ("content", Value::string("secret")),
        ],
    );
    let st = h.create("local_sensitive_file", &cfg).await;
    assert_eq!(mode(&dir.path().join("keys/id")), 0o700);
    assert_eq!(mode(&dir.path().join("keys")), 0o700);
    assert_eq!(s(&st, "file_permission"), "0700");
    assert_hashes(&st, b"secret");
    let schema = h.resource_schema("local_sensitive_file");
    assert!(schema.attributes["content"].sensitive);
    assert!(schema.attributes["content_base64"].sensitive);
    assert!(!schema.attributes.contains_key("sensitive_content"));
    let plain = h.resource_schema("local_file");
    assert!(!plain.attributes["content"].sensitive);
    assert!(plain.attributes["sensitive_content"].sensitive);
}

#[tokio::test]
async fn each_content_argument_writes_its_bytes() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let binary: Vec<u8> = vec![0, 159, 146, 150, 255, 10];
    std::fs::write(dir.path().join("source.bin"), &binary).unwrap();
    let cases: Vec<(&str, &str, Value, Vec<u8>)> = vec![
        (
            "local_file",
            "content",
            Value::string("text"),
            b"text".to_vec(),
        ),
        (
            "local_file",
            "sensitive_content",
            Value::string("hidden"),
            b"hidden".to_vec(),
        ),
        (
            "local_file",
            "content_base64",
            Value::string(STANDARD.encode(&binary)),
            binary.clone(),
        ),
        (
            "local_file",
            "source",
            p(dir.path(), "source.bin"),
            binary.clone(),
        ),
        (
            "local_sensitive_file",
            "content_base64",
            Value::string(STANDARD.encode(b"zz")),
            b"zz".to_vec(),
        ),
        (
            "local_sensitive_file",
            "source",
            p(dir.path(), "source.bin"),
            binary.clone(),
        ),
    ];
    for (i, (ty, arg, v, want)) in cases.into_iter().enumerate() {
        let name = format!("out{i}");
        let cfg = h.config(ty, &[("filename", p(dir.path(), &name)), (arg, v.clone())]);
        let st = h.create(ty, &cfg).await;
        assert_eq!(
            std::fs::read(dir.path().join(&name)).unwrap(),
            want,
            "{ty}.{arg}"
        );
        assert_hashes(&st, &want);
        assert_eq!(get(&st, arg), v, "{ty}.{arg} is kept as configured");
        let plan = h.plan(ty, Some(&st), &cfg).await.unwrap();
        assert_eq!(plan.planned, st, "{ty}.{arg}: no change");
    }
}

#[tokio::test]
async fn refresh_reports_a_missing_file_and_drifted_content() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.txt");
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "f.txt")),
            ("content", Value::string("orig")),
        ],
    );
    let st = h.create("local_file", &cfg).await;

    // Changed on disk: the refreshed state shows the new content.
    std::fs::write(&file, "changed").unwrap();
    let refreshed = h.provider.read("local_file", &st).await.unwrap().unwrap();
    assert_eq!(get(&refreshed, "content"), Value::string("changed"));
    assert_hashes(&refreshed, b"changed");
    // The plan brings back the configured content; `content` is
    // force_new, so the engine replaces the file.
    let plan = h.plan("local_file", Some(&refreshed), &cfg).await.unwrap();
    assert_eq!(get(&plan.planned, "content"), Value::string("orig"));
    assert_hashes(&plan.planned, b"orig");
    assert!(h.resource_schema("local_file").attributes["content"].force_new);
    let recreated = h
        .apply("local_file", None, Some(&plan.planned), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "orig");
    assert_eq!(recreated, st);

    // Gone: read returns None.
    std::fs::remove_file(&file).unwrap();
    assert_eq!(h.provider.read("local_file", &st).await.unwrap(), None);
}

#[tokio::test]
async fn drift_of_a_base64_or_source_file() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.bin");
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "b.bin")),
            (
                "content_base64",
                Value::string(STANDARD.encode([1u8, 2, 3])),
            ),
        ],
    );
    let st = h.create("local_file", &cfg).await;
    std::fs::write(&out, [9u8, 9]).unwrap();
    let refreshed = h.provider.read("local_file", &st).await.unwrap().unwrap();
    assert_eq!(
        get(&refreshed, "content_base64"),
        Value::string(STANDARD.encode([9u8, 9]))
    );

    // With `source`, the arguments do not change: plan asks for a
    // replacement through `id`.
    std::fs::write(dir.path().join("src"), "source text").unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "copy")),
            ("source", p(dir.path(), "src")),
        ],
    );
    let st = h.create("local_file", &cfg).await;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("copy")).unwrap(),
        "source text"
    );
    std::fs::write(dir.path().join("copy"), "edited").unwrap();
    let refreshed = h.provider.read("local_file", &st).await.unwrap().unwrap();
    assert_hashes(&refreshed, b"edited");
    assert_eq!(get(&refreshed, "source"), get(&st, "source"));
    let plan = h.plan("local_file", Some(&refreshed), &cfg).await.unwrap();
    assert_eq!(plan.requires_replace, vec![attr_path("id")]);
    assert!(!get(&plan.planned, "id").is_known());
}

#[tokio::test]
async fn delete_removes_the_file_and_tolerates_its_absence() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "sub/x")),
            ("content", Value::string("x")),
        ],
    );
    let st = h.create("local_file", &cfg).await;
    assert!(dir.path().join("sub/x").exists());
    let r = h.apply("local_file", Some(&st), None, &cfg).await.unwrap();
    assert_eq!(r, None);
    assert!(!dir.path().join("sub/x").exists());
    assert!(dir.path().join("sub").is_dir(), "directories are kept");
    // Deleting again is not an error.
    assert_eq!(
        h.apply("local_file", Some(&st), None, &cfg).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn apply_fails_on_a_missing_source_or_unwritable_target() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "out")),
            ("source", p(dir.path(), "nope")),
        ],
    );
    let plan = h.plan("local_file", None, &cfg).await.unwrap();
    let e = h
        .apply("local_file", None, Some(&plan.planned), &cfg)
        .await
        .unwrap_err();
    assert_eq!(e.attribute, Some(attr_path("source")));

    // The parent "directory" is a file.
    std::fs::write(dir.path().join("plain"), "").unwrap();
    let cfg = h.config(
        "local_file",
        &[
            ("filename", p(dir.path(), "plain/out")),
            ("content", Value::string("x")),
        ],
    );
    let plan = h.plan("local_file", None, &cfg).await.unwrap();
    let e = h
        .apply("local_file", None, Some(&plan.planned), &cfg)
        .await
        .unwrap_err();
    assert_eq!(e.summary, "create local file error");
}

#[tokio::test]
async fn relative_filenames_resolve_against_the_current_directory() {
    let h = local().await;
    let name = format!("gantry-prov-test-{}.txt", std::process::id());
    let cfg = h.config(
        "local_file",
        &[
            ("filename", Value::string(name.clone())),
            ("content", Value::string("rel")),
        ],
    );
    let st = h.create("local_file", &cfg).await;
    let abs = std::env::current_dir().unwrap().join(&name);
    assert_eq!(std::fs::read_to_string(&abs).unwrap(), "rel");
    h.apply("local_file", Some(&st), None, &cfg).await.unwrap();
    assert!(!abs.exists());
}

#[tokio::test]
async fn validation_of_content_arguments_and_modes() {
    let h = local().await;
    let f = Value::string("/tmp/x");
    let cases: Vec<(&str, Pairs, Expect)> = vec![
        ("local_file", vec![("content", Value::string("a"))], None),
        (
            "local_file",
            vec![],
            Some((
                "content",
                "no attribute specified when one (and only one) of [content,sensitive_content,content_base64,source] is required",
            )),
        ),
        (
            "local_file",
            vec![
                ("content", Value::string("a")),
                ("source", Value::string("/b")),
            ],
            Some((
                "source",
                "2 attributes specified when one (and only one) of",
            )),
        ),
        (
            "local_sensitive_file",
            vec![],
            Some(("content", "[content,content_base64,source]")),
        ),
        (
            "local_file",
            vec![
                ("content", Value::string("a")),
                ("file_permission", Value::string("0999")),
            ],
            Some((
                "file_permission",
                "bad mode for file - must be three octal digits: 0999",
            )),
        ),
        (
            "local_file",
            vec![
                ("content", Value::string("a")),
                ("directory_permission", Value::string("77")),
            ],
            Some((
                "directory_permission",
                "string length should be 3 or 4 digits",
            )),
        ),
        (
            "local_file",
            vec![("content_base64", Value::string("%%%"))],
            Some(("content_base64", "not valid base64")),
        ),
        // An unknown content argument may turn out to be the one.
        (
            "local_file",
            vec![("content", Value::Unknown(Type::String))],
            None,
        ),
        (
            "local_file",
            vec![
                ("content", Value::string("a")),
                ("file_permission", Value::Unknown(Type::String)),
            ],
            None,
        ),
    ];
    for (ty, mut pairs, want) in cases {
        pairs.push(("filename", f.clone()));
        let errs = h.validate(ty, &h.config(ty, &pairs));
        match want {
            None => assert!(errs.is_empty(), "{pairs:?}: {errs:?}"),
            Some((attr, msg)) => {
                assert_eq!(errs.len(), 1, "{pairs:?}: {errs:?}");
                assert_eq!(errs[0].attribute, Some(attr_path(attr)), "{pairs:?}");
                assert!(errs[0].detail.contains(msg), "{}", errs[0].detail);
            }
        }
    }
    let errs = h.validate(
        "local_file",
        &h.config(
            "local_file",
            &[
                ("filename", Value::string("")),
                ("content", Value::string("a")),
            ],
        ),
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].attribute, Some(attr_path("filename")));
}

#[tokio::test]
async fn data_sources_read_files() {
    let h = local().await;
    let dir = tempfile::tempdir().unwrap();
    let bytes = b"data \xff\n";
    std::fs::write(dir.path().join("in"), bytes).unwrap();
    for ty in ["local_file", "local_sensitive_file"] {
        let cfg = h.data_config(ty, &[("filename", p(dir.path(), "in"))]);
        let out = h.provider.read_data(ty, &cfg).await.unwrap();
        assert_eq!(s(&out, "content"), String::from_utf8_lossy(bytes));
        assert_eq!(s(&out, "content_base64"), STANDARD.encode(bytes));
        assert_eq!(get(&out, "filename"), p(dir.path(), "in"));
        assert_hashes(&out, bytes);
        assert!(out.is_wholly_known());

        let cfg = h.data_config(ty, &[("filename", p(dir.path(), "missing"))]);
        let e = h.provider.read_data(ty, &cfg).await.unwrap_err();
        assert_eq!(e.summary, "read local file data source error");
        assert_eq!(e.attribute, Some(attr_path("filename")));
    }
    assert!(h.data_schema("local_sensitive_file").attributes["content"].sensitive);
    assert!(!h.data_schema("local_file").attributes["content"].sensitive);
    let cfg = h.data_config("local_file", &[("filename", p(dir.path(), "in"))]);
    assert!(h.provider.read_data("local_dir", &cfg).await.is_err());
}
