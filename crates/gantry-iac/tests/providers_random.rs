//! The built-in `random` provider, driven as the engine drives it.

mod providers_support;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use gantry_iac::provider::builtin::words::{ADJECTIVES, ADVERBS, NAMES};
use gantry_iac::value::{Type, Value};
use providers_support::{Expect, Harness, Pairs, attr_path, get, harness, n, s, slist, smap};

async fn random() -> Harness {
    harness("random").await
}

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

#[tokio::test]
async fn every_random_type_plans_its_results_unknown_on_create() {
    let h = random().await;
    let cases: &[(&str, Pairs, &[&str])] = &[
        (
            "random_id",
            vec![("byte_length", Value::Number(4.0))],
            &["id", "b64_url", "b64_std", "hex", "dec"],
        ),
        (
            "random_string",
            vec![("length", Value::Number(8.0))],
            &["id", "result"],
        ),
        (
            "random_password",
            vec![("length", Value::Number(8.0))],
            &["id", "result"],
        ),
        (
            "random_integer",
            vec![("min", Value::Number(1.0)), ("max", Value::Number(3.0))],
            &["id", "result"],
        ),
        ("random_pet", vec![], &["id"]),
        ("random_uuid", vec![], &["id", "result"]),
        (
            "random_shuffle",
            vec![("input", slist(&["a", "b"]))],
            &["id", "result"],
        ),
    ];
    for (ty, pairs, unknown) in cases {
        let cfg = h.config(ty, pairs);
        let plan = h.plan(ty, None, &cfg).await.unwrap();
        for a in *unknown {
            assert!(
                !get(&plan.planned, a).is_known(),
                "{ty}.{a} should be unknown: {:?}",
                plan.planned
            );
        }
        for (a, v) in pairs {
            assert_eq!(&get(&plan.planned, a), v, "{ty}.{a} keeps its config value");
        }
        assert!(plan.requires_replace.is_empty());
    }
}

#[tokio::test]
async fn string_and_pet_defaults_are_planned() {
    let h = random().await;
    let cfg = h.config("random_string", &[("length", Value::Number(8.0))]);
    let p = h.plan("random_string", None, &cfg).await.unwrap().planned;
    for flag in ["special", "upper", "lower", "numeric"] {
        assert_eq!(get(&p, flag), Value::Bool(true), "{flag}");
    }
    for min in ["min_special", "min_upper", "min_lower", "min_numeric"] {
        assert_eq!(get(&p, min), Value::Number(0.0), "{min}");
    }
    assert_eq!(get(&p, "override_special"), Value::Null);
    // A value set in configuration wins over the default.
    let cfg = h.config(
        "random_string",
        &[
            ("length", Value::Number(8.0)),
            ("special", Value::Bool(false)),
        ],
    );
    let p = h.plan("random_string", None, &cfg).await.unwrap().planned;
    assert_eq!(get(&p, "special"), Value::Bool(false));

    let cfg = h.config("random_pet", &[]);
    let p = h.plan("random_pet", None, &cfg).await.unwrap().planned;
    assert_eq!(get(&p, "length"), Value::Number(2.0));
    assert_eq!(get(&p, "separator"), Value::string("-"));
}

#[tokio::test]
async fn unchanged_configuration_plans_the_prior_state() {
    let h = random().await;
    let cases: Vec<(&str, Vec<(&str, Value)>)> = vec![
        (
            "random_id",
            vec![
                ("byte_length", Value::Number(6.0)),
                ("prefix", Value::string("p-")),
            ],
        ),
        (
            "random_string",
            vec![
                ("length", Value::Number(12.0)),
                ("keepers", smap(&[("k", "v")])),
            ],
        ),
        ("random_password", vec![("length", Value::Number(20.0))]),
        (
            "random_integer",
            vec![
                ("min", Value::Number(1.0)),
                ("max", Value::Number(100.0)),
                ("seed", Value::string("s")),
            ],
        ),
        ("random_pet", vec![("length", Value::Number(3.0))]),
        ("random_uuid", vec![]),
        (
            "random_shuffle",
            vec![
                ("input", slist(&["a", "b", "c"])),
                ("result_count", Value::Number(2.0)),
            ],
        ),
    ];
    for (ty, pairs) in cases {
        let cfg = h.config(ty, &pairs);
        let state = h.create(ty, &cfg).await;
        let plan = h.plan(ty, Some(&state), &cfg).await.unwrap();
        assert_eq!(plan.planned, state, "{ty}: no change planned");
        assert!(plan.requires_replace.is_empty(), "{ty}");
        // Refresh keeps random values as they are.
        let read = h.provider.read(ty, &state).await.unwrap();
        assert_eq!(read.as_ref(), Some(&state), "{ty}: read");
        // Destroy.
        let gone = h.apply(ty, Some(&state), None, &cfg).await.unwrap();
        assert_eq!(gone, None, "{ty}: delete");
    }
}

#[tokio::test]
async fn changed_keepers_plan_new_results() {
    let h = random().await;
    for (ty, pairs) in [
        ("random_id", vec![("byte_length", Value::Number(4.0))]),
        ("random_uuid", vec![]),
        ("random_pet", vec![]),
        (
            "random_integer",
            vec![("min", Value::Number(0.0)), ("max", Value::Number(9.0))],
        ),
    ] {
        let mut with_keepers = pairs.clone();
        with_keepers.push(("keepers", smap(&[("ami", "a-1")])));
        let state = h.create(ty, &h.config(ty, &with_keepers)).await;
        let mut changed = pairs.clone();
        changed.push(("keepers", smap(&[("ami", "a-2")])));
        let plan = h
            .plan(ty, Some(&state), &h.config(ty, &changed))
            .await
            .unwrap();
        assert!(
            !get(&plan.planned, "id").is_known(),
            "{ty}: a replacement has a new id"
        );
        assert_eq!(get(&plan.planned, "keepers"), smap(&[("ami", "a-2")]));
    }
}

#[tokio::test]
async fn random_id_encodings_agree() {
    let h = random().await;
    for len in [1usize, 4, 8, 16, 33] {
        let cfg = h.config("random_id", &[("byte_length", Value::Number(len as f64))]);
        let st = h.create("random_id", &cfg).await;
        let bytes = URL_SAFE_NO_PAD.decode(s(&st, "id")).unwrap();
        assert_eq!(bytes.len(), len);
        assert_eq!(s(&st, "b64_url"), s(&st, "id"));
        assert_eq!(STANDARD.decode(s(&st, "b64_std")).unwrap(), bytes);
        assert_eq!(s(&st, "hex"), hex::encode(&bytes));
        assert_eq!(s(&st, "hex").len(), 2 * len);
        if len <= 16 {
            let mut v: u128 = 0;
            for b in &bytes {
                v = v * 256 + u128::from(*b);
            }
            assert_eq!(s(&st, "dec"), v.to_string(), "len {len}");
        } else {
            assert!(s(&st, "dec").bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

#[tokio::test]
async fn random_id_prefix_goes_on_every_encoding_but_id() {
    let h = random().await;
    let cfg = h.config(
        "random_id",
        &[
            ("byte_length", Value::Number(8.0)),
            ("prefix", Value::string("web-")),
        ],
    );
    let st = h.create("random_id", &cfg).await;
    let id = s(&st, "id");
    assert!(!id.starts_with("web-"));
    assert_eq!(s(&st, "b64_url"), format!("web-{id}"));
    for a in ["b64_std", "hex", "dec"] {
        assert!(s(&st, a).starts_with("web-"), "{a}");
    }
    let bytes = URL_SAFE_NO_PAD.decode(&id).unwrap();
    assert_eq!(s(&st, "hex"), format!("web-{}", hex::encode(&bytes)));
}

#[tokio::test]
async fn random_id_import() {
    let h = random().await;
    // 0x0102ff as base64url is "AQL_".
    let st = h.provider.import("random_id", "AQL_").await.unwrap();
    assert_eq!(n(&st, "byte_length"), 3.0);
    assert_eq!(s(&st, "id"), "AQL_");
    assert_eq!(s(&st, "hex"), "0102ff");
    assert_eq!(s(&st, "dec"), "66303");
    assert_eq!(s(&st, "b64_std"), "AQL/");
    assert_eq!(get(&st, "prefix"), Value::Null);

    let st = h.provider.import("random_id", "my,pre,AQL_").await.unwrap();
    assert_eq!(s(&st, "prefix"), "my,pre");
    assert_eq!(s(&st, "id"), "AQL_");
    assert_eq!(s(&st, "b64_url"), "my,preAQL_");
    assert_eq!(s(&st, "hex"), "my,pre0102ff");

    for bad in ["not base64!", "", "p,"] {
        let e = h.provider.import("random_id", bad).await.unwrap_err();
        assert_eq!(e.summary, "import random id error", "{bad:?}");
    }
    // The imported state plans no change against a matching config.
    let cfg = h.config("random_id", &[("byte_length", Value::Number(3.0))]);
    let st = h.provider.import("random_id", "AQL_").await.unwrap();
    let plan = h.plan("random_id", Some(&st), &cfg).await.unwrap();
    assert_eq!(plan.planned, st);
}

#[tokio::test]
async fn random_id_validation() {
    let h = random().await;
    for (len, ok) in [(0.0, false), (-1.0, false), (1.0, true), (2.5, false)] {
        let cfg = h.config("random_id", &[("byte_length", Value::Number(len))]);
        let errs = h.validate("random_id", &cfg);
        assert_eq!(errs.is_empty(), ok, "byte_length {len}: {errs:?}");
        if !ok {
            assert_eq!(errs[0].attribute, Some(attr_path("byte_length")));
        }
    }
    let cfg = h.config(
        "random_id",
        &[("byte_length", Value::Unknown(Type::Number))],
    );
    assert!(h.validate("random_id", &cfg).is_empty());
}

fn count_in(s: &str, set: &str) -> usize {
    s.chars().filter(|c| set.contains(*c)).count()
}

#[tokio::test]
async fn random_string_meets_length_charset_and_minimums() {
    let h = random().await;
    struct Case {
        pairs: Vec<(&'static str, Value)>,
        length: usize,
        allowed: String,
        mins: [(usize, &'static str); 4],
    }
    let b = Value::Bool;
    let num = |x: f64| Value::Number(x);
    let all = format!("{LOWER}{UPPER}{DIGITS}{SPECIAL}");
    let cases = [
        Case {
            pairs: vec![("length", num(16.0))],
            length: 16,
            allowed: all.clone(),
            mins: [(0, LOWER), (0, UPPER), (0, DIGITS), (0, SPECIAL)],
        },
        Case {
            pairs: vec![
                ("length", num(12.0)),
                ("special", b(false)),
                ("upper", b(false)),
            ],
            length: 12,
            allowed: format!("{LOWER}{DIGITS}"),
            mins: [(0, LOWER), (0, UPPER), (0, DIGITS), (0, SPECIAL)],
        },
        Case {
            pairs: vec![
                ("length", num(10.0)),
                ("min_upper", num(3.0)),
                ("min_numeric", num(4.0)),
                ("min_special", num(2.0)),
                ("min_lower", num(1.0)),
            ],
            length: 10,
            allowed: all.clone(),
            mins: [(1, LOWER), (3, UPPER), (4, DIGITS), (2, SPECIAL)],
        },
        Case {
            pairs: vec![
                ("length", num(20.0)),
                ("override_special", Value::string("_%@")),
                ("min_special", num(5.0)),
                ("numeric", b(false)),
            ],
            length: 20,
            allowed: format!("{LOWER}{UPPER}_%@"),
            mins: [(0, LOWER), (0, UPPER), (0, DIGITS), (5, "_%@")],
        },
        Case {
            // Only the minimum classes, nothing else enabled.
            pairs: vec![
                ("length", num(6.0)),
                ("special", b(false)),
                ("upper", b(false)),
                ("lower", b(false)),
                ("numeric", b(false)),
                ("min_numeric", num(6.0)),
            ],
            length: 6,
            allowed: DIGITS.to_owned(),
            mins: [(0, LOWER), (0, UPPER), (6, DIGITS), (0, SPECIAL)],
        },
        Case {
            // Non-ASCII special characters count as one character each.
            pairs: vec![
                ("length", num(8.0)),
                ("override_special", Value::string("é€")),
                ("min_special", num(8.0)),
            ],
            length: 8,
            allowed: "é€".to_owned(),
            mins: [(0, LOWER), (0, UPPER), (0, DIGITS), (8, "é€")],
        },
    ];
    for (i, c) in cases.iter().enumerate() {
        for ty in ["random_string", "random_password"] {
            let cfg = h.config(ty, &c.pairs);
            for _ in 0..20 {
                let st = h.create(ty, &cfg).await;
                let r = s(&st, "result");
                assert_eq!(r.chars().count(), c.length, "case {i}: {r}");
                assert!(
                    r.chars().all(|ch| c.allowed.contains(ch)),
                    "case {i}: {r} outside {}",
                    c.allowed
                );
                for (min, set) in c.mins {
                    assert!(
                        count_in(&r, set) >= min,
                        "case {i}: {r} needs {min} of {set}"
                    );
                }
                let id = s(&st, "id");
                if ty == "random_password" {
                    assert_eq!(id, "none");
                } else {
                    assert_eq!(id, r);
                }
            }
        }
    }
}

#[tokio::test]
async fn random_strings_differ_between_creates() {
    let h = random().await;
    let cfg = h.config("random_string", &[("length", Value::Number(24.0))]);
    let a = s(&h.create("random_string", &cfg).await, "result");
    let b = s(&h.create("random_string", &cfg).await, "result");
    assert_ne!(a, b);
}

#[tokio::test]
async fn password_result_is_sensitive_in_the_schema() {
    let h = random().await;
    let pw = h.resource_schema("random_password");
    assert!(pw.attributes["result"].sensitive);
    assert!(!pw.attributes.contains_key("bcrypt_hash"));
    let st = h.resource_schema("random_string");
    assert!(!st.attributes["result"].sensitive);
    for a in [
        "length",
        "special",
        "min_upper",
        "override_special",
        "keepers",
    ] {
        assert!(pw.attributes[a].force_new, "{a} forces replacement");
    }
}

#[tokio::test]
async fn changed_length_replaces_the_string() {
    let h = random().await;
    let st = h
        .create(
            "random_string",
            &h.config("random_string", &[("length", Value::Number(8.0))]),
        )
        .await;
    let cfg = h.config("random_string", &[("length", Value::Number(9.0))]);
    let plan = h.plan("random_string", Some(&st), &cfg).await.unwrap();
    assert!(!get(&plan.planned, "result").is_known());
    assert!(!get(&plan.planned, "id").is_known());
    let new = h
        .apply("random_string", Some(&st), Some(&plan.planned), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s(&new, "result").len(), 9);
}

#[tokio::test]
async fn random_string_and_password_import() {
    let h = random().await;
    let st = h.provider.import("random_string", "héllo!").await.unwrap();
    assert_eq!(s(&st, "result"), "héllo!");
    assert_eq!(s(&st, "id"), "héllo!");
    assert_eq!(n(&st, "length"), 6.0);
    assert_eq!(get(&st, "special"), Value::Bool(true));
    assert_eq!(get(&st, "min_numeric"), Value::Number(0.0));

    let st = h
        .provider
        .import("random_password", "s3cret")
        .await
        .unwrap();
    assert_eq!(s(&st, "result"), "s3cret");
    assert_eq!(s(&st, "id"), "none");
    assert_eq!(n(&st, "length"), 6.0);
    // Matching configuration: no change.
    let cfg = h.config("random_password", &[("length", Value::Number(6.0))]);
    let plan = h.plan("random_password", Some(&st), &cfg).await.unwrap();
    assert_eq!(plan.planned, st);
}

#[tokio::test]
async fn random_string_validation() {
    let h = random().await;
    let num = |x: f64| Value::Number(x);
    let cases: Vec<(Pairs, Expect)> = vec![
        (vec![("length", num(8.0))], None),
        (
            vec![
                ("length", num(3.0)),
                ("min_upper", num(2.0)),
                ("min_lower", num(2.0)),
            ],
            Some((
                "length",
                "at least sum of min_upper + min_lower + min_numeric + min_special, got: 3",
            )),
        ),
        (
            vec![("length", num(0.0))],
            Some(("length", "must be at least 1, got: 0")),
        ),
        (
            vec![("length", num(4.0)), ("min_special", num(-1.0))],
            Some(("min_special", "must be at least 0, got: -1")),
        ),
        (
            vec![
                ("length", num(4.0)),
                ("special", Value::Bool(false)),
                ("upper", Value::Bool(false)),
                ("lower", Value::Bool(false)),
                ("numeric", Value::Bool(false)),
            ],
            Some((
                "special",
                "at least one of special, upper, lower or numeric",
            )),
        ),
        // Unknown values are not judged yet.
        (
            vec![
                ("length", num(3.0)),
                ("min_upper", Value::Unknown(Type::Number)),
                ("min_lower", num(2.0)),
            ],
            None,
        ),
        (vec![("length", Value::Unknown(Type::Number))], None),
        (vec![("length", num(1.5))], Some(("length", "whole number"))),
    ];
    for (pairs, want) in cases {
        for ty in ["random_string", "random_password"] {
            let errs = h.validate(ty, &h.config(ty, &pairs));
            match want {
                None => assert!(errs.is_empty(), "{pairs:?}: {errs:?}"),
                Some((attr, msg)) => {
                    assert_eq!(errs.len(), 1, "{pairs:?}: {errs:?}");
                    assert_eq!(errs[0].attribute, Some(attr_path(attr)));
                    assert!(errs[0].detail.contains(msg), "{}", errs[0].detail);
                }
            }
        }
    }
}

#[tokio::test]
async fn random_integer_stays_in_range() {
    let h = random().await;
    for (min, max) in [(1.0, 3.0), (-10.0, -5.0), (7.0, 7.0), (0.0, 1e12)] {
        let cfg = h.config(
            "random_integer",
            &[("min", Value::Number(min)), ("max", Value::Number(max))],
        );
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..40 {
            let st = h.create("random_integer", &cfg).await;
            let r = n(&st, "result");
            assert!(
                r >= min && r <= max && r.fract() == 0.0,
                "{r} in {min}..={max}"
            );
            assert_eq!(s(&st, "id"), format!("{}", r as i64));
            seen.insert(r as i64);
        }
        if max - min == 2.0 {
            assert_eq!(seen.len(), 3, "40 draws cover 1..=3: {seen:?}");
        }
    }
}

#[tokio::test]
async fn seeded_integer_and_shuffle_are_deterministic() {
    let h = random().await;
    let int = |seed: &str| {
        h.config(
            "random_integer",
            &[
                ("min", Value::Number(0.0)),
                ("max", Value::Number(1e9)),
                ("seed", Value::string(seed)),
            ],
        )
    };
    let a = n(&h.create("random_integer", &int("alpha")).await, "result");
    let a2 = n(&h.create("random_integer", &int("alpha")).await, "result");
    let b = n(&h.create("random_integer", &int("beta")).await, "result");
    assert_eq!(a, a2);
    assert_ne!(a, b);

    let input: Vec<String> = (0..20).map(|i| format!("item{i}")).collect();
    let refs: Vec<&str> = input.iter().map(String::as_str).collect();
    let sh = |seed: &str| {
        h.config(
            "random_shuffle",
            &[("input", slist(&refs)), ("seed", Value::string(seed))],
        )
    };
    let x = get(&h.create("random_shuffle", &sh("one")).await, "result");
    let x2 = get(&h.create("random_shuffle", &sh("one")).await, "result");
    let y = get(&h.create("random_shuffle", &sh("two")).await, "result");
    assert_eq!(x, x2);
    assert_ne!(x, y);
}

#[tokio::test]
async fn random_integer_validation() {
    let h = random().await;
    let cfg = h.config(
        "random_integer",
        &[("min", Value::Number(5.0)), ("max", Value::Number(1.0))],
    );
    let errs = h.validate("random_integer", &cfg);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].attribute, Some(attr_path("min")));
    assert!(errs[0].detail.contains("smaller than or equal to maximum"));
    let cfg = h.config(
        "random_integer",
        &[
            ("min", Value::Number(5.0)),
            ("max", Value::Unknown(Type::Number)),
        ],
    );
    assert!(h.validate("random_integer", &cfg).is_empty());
    // Apply refuses too (a configuration that skipped validation).
    let cfg = h.config(
        "random_integer",
        &[("min", Value::Number(5.0)), ("max", Value::Number(1.0))],
    );
    let plan = h.plan("random_integer", None, &cfg).await.unwrap();
    assert!(
        h.apply("random_integer", None, Some(&plan.planned), &cfg)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn random_integer_import() {
    let h = random().await;
    let st = h.provider.import("random_integer", "5,1,10").await.unwrap();
    assert_eq!(
        (n(&st, "result"), n(&st, "min"), n(&st, "max")),
        (5.0, 1.0, 10.0)
    );
    assert_eq!(s(&st, "id"), "5");
    assert_eq!(get(&st, "seed"), Value::Null);
    let st = h
        .provider
        .import("random_integer", "-3,-5,0,my seed")
        .await
        .unwrap();
    assert_eq!(n(&st, "result"), -3.0);
    assert_eq!(s(&st, "seed"), "my seed");
    for bad in ["5", "5,1", "x,1,10", "1.5,1,10", "20,1,10", "5,10,1"] {
        let e = h.provider.import("random_integer", bad).await.unwrap_err();
        assert_eq!(e.summary, "import random integer error", "{bad}");
    }
}

#[tokio::test]
async fn random_pet_names_are_built_from_the_word_lists() {
    let h = random().await;
    let cases: Vec<(Pairs, &str, Option<&str>, usize)> = vec![
        (vec![], "-", None, 2),
        (vec![("length", Value::Number(1.0))], "-", None, 1),
        (
            vec![
                ("length", Value::Number(4.0)),
                ("separator", Value::string("_")),
                ("prefix", Value::string("dev")),
            ],
            "_",
            Some("dev"),
            4,
        ),
        (
            vec![
                ("length", Value::Number(3.0)),
                ("separator", Value::string(".")),
            ],
            ".",
            None,
            3,
        ),
    ];
    for (pairs, sep, prefix, len) in cases {
        let cfg = h.config("random_pet", &pairs);
        for _ in 0..10 {
            let id = s(&h.create("random_pet", &cfg).await, "id");
            let mut words: Vec<&str> = id.split(sep).collect();
            if let Some(p) = prefix {
                assert_eq!(words.remove(0), p, "{id}");
            }
            assert_eq!(words.len(), len, "{id}");
            let name = words.pop().unwrap();
            assert!(NAMES.contains(&name), "{name}");
            if len >= 2 {
                let adj = words.pop().unwrap();
                assert!(ADJECTIVES.contains(&adj), "{adj}");
            }
            assert!(words.iter().all(|w| ADVERBS.contains(w)), "{id}");
        }
    }
    let errs = h.validate(
        "random_pet",
        &h.config("random_pet", &[("length", Value::Number(0.0))]),
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].attribute, Some(attr_path("length")));
}

#[tokio::test]
async fn random_uuid_create_and_import() {
    let h = random().await;
    let st = h.create("random_uuid", &h.config("random_uuid", &[])).await;
    let u = s(&st, "result");
    assert_eq!(s(&st, "id"), u);
    let parsed = uuid::Uuid::parse_str(&u).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(u, u.to_lowercase());

    let id = "6f1d2a3b-0c4e-4f5a-8b6c-7d8e9f0a1b2c";
    let st = h.provider.import("random_uuid", id).await.unwrap();
    assert_eq!(s(&st, "result"), id);
    assert_eq!(s(&st, "id"), id);
    assert_eq!(get(&st, "keepers"), Value::Null);
    for bad in ["nope", "6f1d2a3b0c4e4f5a8b6c7d8e9f0a1b2c", ""] {
        assert!(
            h.provider.import("random_uuid", bad).await.is_err(),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn random_shuffle_permutes_and_counts() {
    let h = random().await;
    let input = ["a", "b", "c", "d", "e"];
    let mut sorted_in: Vec<String> = input.iter().map(|x| x.to_string()).collect();
    sorted_in.sort();
    let strings = |v: Value| -> Vec<String> {
        v.as_seq()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    // Full permutation.
    let st = h
        .create(
            "random_shuffle",
            &h.config("random_shuffle", &[("input", slist(&input))]),
        )
        .await;
    assert_eq!(s(&st, "id"), "-");
    let mut r = strings(get(&st, "result"));
    r.sort();
    assert_eq!(r, sorted_in);
    // Fewer results: distinct elements of the input.
    let st = h
        .create(
            "random_shuffle",
            &h.config(
                "random_shuffle",
                &[
                    ("input", slist(&input)),
                    ("result_count", Value::Number(3.0)),
                ],
            ),
        )
        .await;
    let r = strings(get(&st, "result"));
    assert_eq!(r.len(), 3);
    let set: std::collections::BTreeSet<_> = r.iter().collect();
    assert_eq!(set.len(), 3);
    assert!(r.iter().all(|x| input.contains(&x.as_str())));
    // More results than input: whole permutations one after another.
    let st = h
        .create(
            "random_shuffle",
            &h.config(
                "random_shuffle",
                &[
                    ("input", slist(&input)),
                    ("result_count", Value::Number(12.0)),
                ],
            ),
        )
        .await;
    let r = strings(get(&st, "result"));
    assert_eq!(r.len(), 12);
    for chunk in r.chunks(5).take(2) {
        let mut c = chunk.to_vec();
        c.sort();
        assert_eq!(c, sorted_in);
    }
    // Empty input.
    let st = h
        .create(
            "random_shuffle",
            &h.config(
                "random_shuffle",
                &[("input", slist(&[])), ("result_count", Value::Number(3.0))],
            ),
        )
        .await;
    assert_eq!(get(&st, "result"), Value::List(vec![]));
    // Negative count is invalid.
    let errs = h.validate(
        "random_shuffle",
        &h.config(
            "random_shuffle",
            &[
                ("input", slist(&input)),
                ("result_count", Value::Number(-1.0)),
            ],
        ),
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].attribute, Some(attr_path("result_count")));
}

#[tokio::test]
async fn unknown_types_are_errors() {
    let h = random().await;
    let cfg = Value::Object(Default::default());
    assert!(plan_raw(&h, "random_bytes_x", &cfg).await.is_err());
    assert!(h.provider.read("random_nope", &cfg).await.is_err());
    assert!(h.provider.read_data("random_id", &cfg).await.is_err());
    assert!(h.provider.import("random_pet", "x").await.is_err());
    assert!(!h.validate("random_nope", &cfg).is_empty());
}

async fn plan_raw(
    h: &Harness,
    ty: &str,
    cfg: &Value,
) -> Result<gantry_iac::provider::PlanResponse, gantry_iac::provider::ProviderError> {
    h.provider
        .plan(gantry_iac::provider::PlanRequest {
            type_name: ty,
            prior: None,
            config: cfg,
            proposed: cfg,
        })
        .await
}
