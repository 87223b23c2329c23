//! Relabeling rules: each action on a realistic target label set, the
//! validation errors Prometheus gives, and order of application.

use std::collections::BTreeMap;

use gantry_monitor::relabel::{RelabelConfig, Rule, compile, process};

fn target() -> BTreeMap<String, String> {
    [
        ("__address__", "10.0.0.7:9100"),
        ("__meta_ec2_tag_Name", "web-1"),
        ("__meta_ec2_tag_Env", "Prod"),
        ("__metrics_path__", "/metrics"),
        ("job", "node"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn cfg(action: &str, f: impl FnOnce(&mut RelabelConfig)) -> RelabelConfig {
    let mut c = RelabelConfig {
        action: Some(action.to_string()),
        ..Default::default()
    };
    f(&mut c);
    c
}

fn src(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|s| s.to_string()).collect()
}

fn run(configs: &[RelabelConfig]) -> Option<BTreeMap<String, String>> {
    process(&compile(configs).unwrap(), target())
}

#[test]
fn replace_with_groups_defaults_and_deletion() {
    let out = run(&[
        cfg("replace", |c| {
            c.source_labels = src(&["__address__"]);
            c.regex = Some("([^:]+):\\d+".into());
            c.target_label = Some("instance".into());
        }),
        // Default regex (.*) and replacement $1 copy the joined value.
        cfg("replace", |c| {
            c.source_labels = src(&["job", "__meta_ec2_tag_Name"]);
            c.target_label = Some("combo".into());
        }),
        // An empty result deletes the target.
        cfg("replace", |c| {
            c.source_labels = src(&["nosuch"]);
            c.target_label = Some("job".into());
        }),
        // No match leaves everything as it was.
        cfg("replace", |c| {
            c.source_labels = src(&["__address__"]);
            c.regex = Some("nomatch".into());
            c.target_label = Some("instance".into());
            c.replacement = Some("x".into());
        }),
        // Target label names may use groups too.
        cfg("replace", |c| {
            c.source_labels = src(&["__meta_ec2_tag_Env"]);
            c.regex = Some("(.*)".into());
            c.target_label = Some("env_${1}".into());
            c.replacement = Some("yes".into());
        }),
    ])
    .unwrap();
    assert_eq!(out["instance"], "10.0.0.7");
    assert_eq!(out["combo"], "node;web-1");
    assert!(!out.contains_key("job"));
    assert_eq!(out["env_Prod"], "yes");
}

#[test]
fn keep_drop_and_equal_variants() {
    let keep = |re: &str| {
        run(&[cfg("keep", |c| {
            c.source_labels = src(&["__meta_ec2_tag_Env"]);
            c.regex = Some(re.into());
        })])
    };
    assert!(keep("Prod").is_some());
    // Anchored: a partial match is no match.
    assert!(keep("Pro").is_none());
    assert!(run(&[cfg("drop", |c| c.source_labels = src(&["job"]))]).is_none());
    let mut t = target();
    t.insert("port".into(), "9100".into());
    let rules = compile(&[cfg("keepequal", |c| {
        c.source_labels = src(&["port"]);
        c.target_label = Some("__meta_port".into());
    })])
    .unwrap();
    assert!(process(&rules, t.clone()).is_none());
    t.insert("__meta_port".into(), "9100".into());
    assert!(process(&rules, t).is_some());
}

#[test]
fn label_map_drop_keep_case_and_hashmod() {
    let out = run(&[
        cfg("labelmap", |c| c.regex = Some("__meta_ec2_tag_(.+)".into())),
        cfg("lowercase", |c| {
            c.source_labels = src(&["Env"]);
            c.target_label = Some("env".into());
        }),
        cfg("hashmod", |c| {
            c.source_labels = src(&["__address__"]);
            c.target_label = Some("__tmp_hash".into());
            c.modulus = Some(8);
        }),
        cfg("labeldrop", |c| c.regex = Some("Env|Name".into())),
    ])
    .unwrap();
    assert_eq!(out["env"], "prod");
    assert!(!out.contains_key("Env") && !out.contains_key("Name"));
    // The label map copies; the sources stay.
    assert_eq!(out["__meta_ec2_tag_Name"], "web-1");
    let h: u64 = out["__tmp_hash"].parse().unwrap();
    assert!(h < 8);
    // md5("10.0.0.7:9100"): the last 8 bytes as a big-endian integer, mod 8.
    // Stable across runs and processes, so sharding agrees with Prometheus's rule.
    let again = run(&[cfg("hashmod", |c| {
        c.source_labels = src(&["__address__"]);
        c.target_label = Some("__tmp_hash".into());
        c.modulus = Some(8);
    })])
    .unwrap();
    assert_eq!(again["__tmp_hash"], out["__tmp_hash"]);
    let kept = run(&[cfg("labelkeep", |c| c.regex = Some("__.*".into()))]).unwrap();
    assert!(kept.keys().all(|k| k.starts_with("__")));
}

#[test]
fn hashmod_matches_the_md5_rule() {
    // md5("a") = 0cc175b9c0f1b6a831c399e269772661; last 8 bytes 31c399e269772661.
    let mut t = BTreeMap::new();
    t.insert("x".to_string(), "a".to_string());
    let rules = compile(&[cfg("hashmod", |c| {
        c.source_labels = src(&["x"]);
        c.target_label = Some("h".into());
        c.modulus = Some(1000);
    })])
    .unwrap();
    let out = process(&rules, t).unwrap();
    assert_eq!(out["h"], (0x31c399e269772661u64 % 1000).to_string());
}

#[test]
fn invalid_rules_are_refused_with_prometheus_wording() {
    let cases = [
        (
            cfg("replace", |_| {}),
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            cfg("hashmod", |c| c.target_label = Some("h".into())),
            "relabel configuration for hashmod requires non-zero modulus",
        ),
        (
            cfg("labeldrop", |c| c.target_label = Some("x".into())),
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            cfg("replace", |c| c.target_label = Some("1bad".into())),
            "\"1bad\" is invalid 'target_label' for replace action",
        ),
        (
            cfg("frobnicate", |_| {}),
            "unknown relabel action \"frobnicate\"",
        ),
        (
            cfg("keep", |c| c.regex = Some("(".into())),
            "invalid regex \"(\"",
        ),
        (
            cfg("keep", |c| c.source_labels = src(&["bad-name"])),
            "\"bad-name\" is not a valid label name",
        ),
    ];
    for (c, want) in cases {
        let got = Rule::new(&c).unwrap_err().to_string();
        assert!(got.starts_with(want), "got {got:?}, want {want:?}");
    }
    let (i, _) = compile(&[cfg("keep", |_| {}), cfg("replace", |_| {})]).unwrap_err();
    assert_eq!(i, 1);
}
