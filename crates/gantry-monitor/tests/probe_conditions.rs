//! Conditions: every placeholder and operator, `len`/`has`/`pat`/`any`,
//! result lines, parse errors with columns, condition errors reported at
//! their position in gantry.yml, and no panic on any input.

use std::time::Duration;

use gantry_monitor::probe::condition::{Condition, Observation, glob};
use gantry_monitor::probe::from_config;
use proptest::prelude::*;

fn obs() -> Observation {
    Observation {
        status: Some(503),
        response_time: Duration::from_millis(120),
        body: Some(
            r#"{"data":{"status":"ok","n":3},"items":[{"id":7},{"id":8}],"name":"all ok here"}"#
                .into(),
        ),
        cert_expiry_ms: Some(72 * 3_600_000),
        connected: true,
        dns_rcode: Some("NOERROR".into()),
        ip: Some("127.0.0.1".into()),
    }
}

fn eval(text: &str, o: &Observation) -> (bool, String) {
    Condition::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .evaluate(o)
}

#[test]
fn status_and_ordering_operators() {
    let o = obs();
    assert_eq!(
        eval("[STATUS] == 200", &o),
        (false, "[STATUS] (503) == 200".into())
    );
    assert_eq!(
        eval("[STATUS] == 503", &o),
        (true, "[STATUS] == 503".into())
    );
    assert!(eval("[STATUS] != 200", &o).0);
    assert!(!eval("[STATUS] < 300", &o).0);
    assert!(eval("[STATUS] <= 503", &o).0);
    assert!(eval("[STATUS] >= 500", &o).0);
    assert!(!eval("[STATUS] > 503", &o).0);
    assert!(eval("[STATUS]==503", &o).0, "no spaces needed");
    let none = Observation::default();
    assert_eq!(
        eval("[STATUS] == 200", &none),
        (false, "[STATUS] (n/a) == 200".into())
    );
    assert!(
        !eval(
            "[STATUS] != 200",
            &Observation {
                status: Some(200),
                ..obs()
            }
        )
        .0
    );
}

#[test]
fn response_time_and_certificate_expiration_take_durations() {
    let o = obs();
    assert!(eval("[RESPONSE_TIME] < 300", &o).0);
    assert!(eval("[RESPONSE_TIME] < 1s", &o).0);
    assert_eq!(
        eval("[RESPONSE_TIME] < 100", &o),
        (false, "[RESPONSE_TIME] (120) < 100".into())
    );
    assert!(eval("[CERTIFICATE_EXPIRATION] > 48h", &o).0);
    assert!(!eval("[CERTIFICATE_EXPIRATION] > 7d", &o).0);
    assert!(eval("[CERTIFICATE_EXPIRATION] > 1000", &o).0);
    let no_cert = Observation {
        cert_expiry_ms: None,
        ..obs()
    };
    assert!(!eval("[CERTIFICATE_EXPIRATION] > 48h", &no_cert).0);
    let expired = Observation {
        cert_expiry_ms: Some(-5_000),
        ..obs()
    };
    assert!(!eval("[CERTIFICATE_EXPIRATION] > 0", &expired).0);
}

#[test]
fn body_paths_len_has() {
    let o = obs();
    assert!(eval("[BODY].data.status == ok", &o).0);
    assert!(eval("[BODY].data.n == 3", &o).0);
    assert!(eval("[BODY].data.n > 2", &o).0);
    assert!(eval("[BODY].items[1].id == 8", &o).0);
    assert_eq!(
        eval("[BODY].items[5].id == 8", &o),
        (false, "[BODY].items[5].id (n/a) == 8".into())
    );
    assert_eq!(
        eval("[BODY].data.status == down", &o),
        (false, "[BODY].data.status (ok) == down".into())
    );
    assert!(eval("len([BODY].items) == 2", &o).0);
    assert!(eval("len([BODY].items) > 0", &o).0);
    assert!(eval("len([BODY].data) == 2", &o).0);
    assert!(eval("len([BODY].name) == 11", &o).0);
    assert!(!eval("len([BODY].missing) > 0", &o).0);
    assert!(eval("has([BODY].data.status) == true", &o).0);
    assert!(eval("has([BODY].nope) == false", &o).0);
    assert!(!eval("has([BODY].nope) == true", &o).0);
    // Objects compare as compact JSON.
    assert!(eval(r#"[BODY].items[0] == {"id":7}"#, &o).0);
    let text = Observation {
        body: Some("ok".into()),
        ..obs()
    };
    assert!(eval("[BODY] == ok", &text).0);
    assert!(eval("len([BODY]) == 2", &text).0);
    // A path into a body that is not JSON does not resolve.
    assert!(!eval("[BODY].a == ok", &text).0);
    assert!(eval("has([BODY].a) == false", &text).0);
}

#[test]
fn patterns_and_any() {
    let o = obs();
    assert!(eval("[BODY].name == pat(*ok*)", &o).0);
    assert!(!eval("[BODY].name == pat(ok*)", &o).0);
    assert!(eval("[BODY].name != pat(ok*)", &o).0);
    assert!(eval("[STATUS] == any(200, 503)", &o).0);
    assert_eq!(
        eval("[STATUS] == any(200, 201)", &o),
        (false, "[STATUS] (503) == any(200, 201)".into())
    );
    assert!(eval("[IP] == pat(127.0.0.*)", &o).0);
    assert!(glob("a*c", "abbbc"));
}

#[test]
fn connected_rcode_ip() {
    let o = obs();
    assert!(eval("[CONNECTED] == true", &o).0);
    assert_eq!(
        eval("[CONNECTED] == false", &o),
        (false, "[CONNECTED] (true) == false".into())
    );
    assert!(eval("[DNS_RCODE] == NOERROR", &o).0);
    assert!(!eval("[DNS_RCODE] == NXDOMAIN", &o).0);
    assert!(eval("[IP] == 127.0.0.1", &o).0);
    assert!(!eval("[IP] == 1.2.3.4", &o).0);
}

fn err(text: &str) -> (usize, String) {
    let e = Condition::parse(text).expect_err(text);
    (e.col, e.message)
}

#[test]
fn parse_errors_point_at_the_column() {
    assert_eq!(
        err("[STATUS] = 200"),
        (
            10,
            "expected an operator (==, !=, <, <=, >, >=) after the placeholder".into()
        )
    );
    let (col, msg) = err("[STATUSS] == 200");
    assert_eq!(col, 1);
    assert!(msg.starts_with("unknown placeholder `[STATUSS]`"), "{msg}");
    assert_eq!(err("[STATUS] == ").0, 12);
    assert_eq!(
        err("[STATUS] < fast"),
        (12, "expected a number after `<`".into())
    );
    assert_eq!(
        err("[RESPONSE_TIME] < soon"),
        (
            19,
            "expected a number of milliseconds or a duration like `48h` after `<`".into()
        )
    );
    assert_eq!(err("len([BODY].items > 0").0, 18);
    assert_eq!(
        err("[STATUS].code == 1"),
        (9, "only `[BODY]` takes a path, not `[STATUS]`".into())
    );
    assert_eq!(err("[BODY].items[x] == 1").0, 13);
    assert_eq!(err("status == 200").0, 1);
    assert_eq!(err("[BODY] == pat(*ok*").0, 19);
    assert_eq!(err("[STATUS] < any(1, 2)").0, 12);
    assert_eq!(err("[CONNECTED] == yes").0, 16);
    assert_eq!(err("has([BODY].x) == 1").0, 18);
    assert_eq!(err("len([STATUS]) > 1").0, 1);
    assert_eq!(err("[IP] > 1").0, 6);
    assert_eq!(err("[STATUS] == any(1,,2)").0, 13);
    // Columns count characters, not bytes.
    assert_eq!(err("[BODY].é = x").0, 10);
}

#[test]
fn condition_errors_are_reported_in_gantry_yml() {
    let text = "version: 1
monitors:
  - name: web
    url: http://127.0.0.1:1/
    conditions:
      - \"[STATUS] = 200\"
      - len([BODY].items) >> 0
      - \"[DNS_RCODE] == NOERROR\"
";
    let config = gantry_config::load_str("gantry.yml", text).expect("shape is valid");
    let diags = from_config(&config).expect_err("conditions are invalid");
    let rendered: Vec<String> = diags.iter().map(|d| d.render(text)).collect();
    let all = rendered.join("\n");
    assert_eq!(diags.len(), 3, "{all}");
    assert_eq!(
        diags[0].message,
        "invalid condition in `monitors[0].conditions[0]`: expected an operator (==, !=, <, <=, >, >=) after the placeholder"
    );
    // `"` at column 9, the condition at 10, the `=` at column 10 + 9.
    assert_eq!(diags[0].location(), "gantry.yml:6:19");
    // Unquoted: the condition starts at column 9; `>` (the second) at 9 + 19.
    assert_eq!(diags[1].location(), "gantry.yml:7:28");
    assert!(
        diags[1].message.ends_with("expected a number after `>`"),
        "{}",
        diags[1].message
    );
    assert_eq!(
        diags[2].message,
        "invalid condition in `monitors[0].conditions[2]`: `[DNS_RCODE]` is not available for http monitors"
    );
    assert!(all.contains("^"), "{all}");
}

#[test]
fn an_unparsable_url_is_reported_at_the_monitor() {
    let text = "version: 1
monitors:
  - name: web
    url: http://exa mple.com/
";
    let config = gantry_config::load_str("gantry.yml", text).unwrap();
    let diags = from_config(&config).unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].location(), "gantry.yml:3:5");
    assert_eq!(
        diags[0].message,
        "invalid `monitors[0].url` `http://exa mple.com/`: invalid international domain name"
    );
}

#[test]
fn valid_conditions_build_monitors() {
    let text = "version: 1
monitors:
  - name: web
    url: http://127.0.0.1:1/
    failure-threshold: 1
    labels: {team: core}
    conditions:
      - \"[STATUS] == 200\"
      - \"[BODY].ok == true\"
  - name: db
    url: tcp://127.0.0.1:5432
";
    let config = gantry_config::load_str("gantry.yml", text).unwrap();
    let monitors = from_config(&config).unwrap();
    assert_eq!(monitors.len(), 2);
    assert_eq!(monitors[0].conditions.len(), 2);
    assert_eq!(monitors[0].failure_threshold, 1);
    assert_eq!(monitors[0].success_threshold, 2);
    assert_eq!(monitors[0].labels["team"], "core");
    assert_eq!(monitors[1].condition_texts, vec!["[CONNECTED] == true"]);
    assert_eq!(monitors[1].interval, Duration::from_secs(60));
    assert_eq!(monitors[1].timeout, Duration::from_secs(10));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_strings_never_panic(s in "\\PC{0,40}") {
        if let Ok(c) = Condition::parse(&s) {
            let _ = c.evaluate(&obs());
        }
    }

    #[test]
    fn condition_shaped_strings_never_panic(
        left in prop::sample::select(vec![
            "[STATUS]", "[BODY]", "[BODY].a[0].b", "len([BODY]", "has([BODY].x)",
            "[CERTIFICATE_EXPIRATION]", "[RESPONSE_TIME]", "[IP]", "[", "len(", "",
        ]),
        op in prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">=", "=", "", "=>"]),
        right in "[ -~]{0,12}",
    ) {
        let s = format!("{left} {op} {right}");
        match Condition::parse(&s) {
            Ok(c) => { let _ = c.evaluate(&obs()); }
            Err(e) => prop_assert!(e.col >= 1 && e.col <= s.chars().count() + 1, "{s}: {e}"),
        }
    }
}
