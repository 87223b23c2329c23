//! The head: appends across chunk boundaries, Prometheus's append errors,
//! and label selection checked against a brute-force filter.

use gantry_monitor::labels::{Labels, MatchOp, Matcher};
use gantry_monitor::tsdb::head::{AppendError, Head, SAMPLES_PER_CHUNK};
use proptest::prelude::*;

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::new(pairs.iter().map(|(k, v)| (*k, *v)))
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

#[test]
fn samples_span_chunks_and_ranges_cut_exactly() {
    let mut h = Head::new();
    let up = l(&[("__name__", "up"), ("job", "api")]);
    let n = SAMPLES_PER_CHUNK as i64 * 3 + 7;
    for i in 0..n {
        h.append_labels(&up, i * 15_000, (i % 7) as f64).unwrap();
    }
    let r = h.select_refs(&[m(MatchOp::Equal, "__name__", "up")])[0];
    let all = h.samples(r, i64::MIN, i64::MAX);
    assert_eq!(all.len() as i64, n);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, s)| *s == (i as i64 * 15_000, (i % 7) as f64))
    );
    // A window that starts inside one closed chunk and ends inside the open one.
    let part = h.samples(r, 100 * 15_000, 365 * 15_000);
    assert_eq!(part.first().unwrap().0, 100 * 15_000);
    assert_eq!(part.last().unwrap().0, 365 * 15_000);
    assert_eq!(part.len(), 266);
    assert_eq!(h.sample_count() as i64, n);
    assert!(
        h.chunk_bytes() < n as usize * 3,
        "{} bytes for {n} samples",
        h.chunk_bytes()
    );
}

/// A head that keeps closed chunks on disk answers exactly as one that
/// keeps them in memory, across buffered and written segment bytes,
/// truncation (straddling chunks re-encoded) and segment deletion; and the
/// directory is cleared when a head starts.
#[test]
fn chunks_kept_on_disk_read_back_exactly_and_old_segments_go() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("chunks_head");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stale"), b"from an earlier run").unwrap();
    let mut disk = Head::with_spill(&dir);
    assert!(
        !dir.join("stale").exists(),
        "the directory is cleared at start"
    );
    let mut mem = Head::new();
    let series: Vec<Labels> = (0..300)
        .map(|i| l(&[("__name__", "x"), ("i", &i.to_string())]))
        .collect();
    let n = SAMPLES_PER_CHUNK as i64 * 12 + 5;
    for k in 0..n {
        for (i, s) in series.iter().enumerate() {
            // Values that compress badly, so segments fill past the buffer.
            let v = ((k * 7919 + i as i64 * 104_729) % 1_000_003) as f64 / 7.0;
            disk.append_labels(s, k * 15_000, v).unwrap();
            mem.append_labels(s, k * 15_000, v).unwrap();
        }
    }
    let same = |disk: &Head, mem: &Head| {
        for s in &series {
            let matcher = [m(MatchOp::Equal, "i", s.get("i").unwrap())];
            let (rd, rm) = (disk.select_refs(&matcher), mem.select_refs(&matcher));
            assert_eq!(rd.len(), rm.len(), "{s}");
            let (Some(&rd), Some(&rm)) = (rd.first(), rm.first()) else {
                continue;
            };
            for (lo, hi) in [
                (i64::MIN, i64::MAX),
                (1_000_000, 9_000_000),
                (5_555_000, 5_600_000),
            ] {
                assert_eq!(
                    disk.samples(rd, lo, hi),
                    mem.samples(rm, lo, hi),
                    "{s} {lo}..{hi}"
                );
            }
        }
        assert_eq!(disk.chunk_bytes(), mem.chunk_bytes());
    };
    same(&disk, &mem);
    let files = |dir: &std::path::Path| std::fs::read_dir(dir).unwrap().count();
    assert!(files(&dir) >= 1);
    let size: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(size > 1 << 20, "closed chunks were written: {size} bytes");
    // Cut in the middle of a chunk: the straddling chunk is re-encoded.
    let cut = (SAMPLES_PER_CHUNK as i64 * 5 + 17) * 15_000;
    disk.truncate(cut);
    mem.truncate(cut);
    same(&disk, &mem);
    // Truncating past everything written so far deletes the old segments.
    let before = files(&dir);
    disk.truncate(n * 15_000);
    mem.truncate(n * 15_000);
    same(&disk, &mem);
    assert!(
        files(&dir) < before + 1,
        "{} files after, {before} before",
        files(&dir)
    );
    disk.truncate(n * 15_000 + 1);
    assert_eq!(files(&dir), 1, "only the current segment is left");
}

#[test]
fn out_of_order_and_duplicates_are_refused_like_prometheus() {
    let mut h = Head::new();
    let s = l(&[("__name__", "x")]);
    h.append_labels(&s, 1000, 1.0).unwrap();
    h.append_labels(&s, 2000, 2.0).unwrap();
    // The same sample again is fine and stores nothing.
    h.append_labels(&s, 2000, 2.0).unwrap();
    assert_eq!(
        h.append_labels(&s, 2000, 3.0).unwrap_err(),
        AppendError::Duplicate {
            series: "x{}".into(),
            t: 2000
        }
    );
    assert_eq!(
        h.append_labels(&s, 1500, 3.0).unwrap_err().to_string(),
        "out of order sample for x{}: timestamp 1500 is before 2000"
    );
    let r = h.select_refs(&[m(MatchOp::Equal, "__name__", "x")])[0];
    assert_eq!(h.samples(r, 0, 10_000), vec![(1000, 1.0), (2000, 2.0)]);
    assert_eq!(
        h.append(99, 1, 1.0).unwrap_err(),
        AppendError::UnknownSeries(99)
    );
}

#[test]
fn matchers_follow_prometheus_semantics() {
    let mut h = Head::new();
    for (name, job, env) in [
        ("up", "api", "prod"),
        ("up", "web", ""),
        ("up", "db", "dev"),
        ("down", "api", "prod"),
    ] {
        h.append_labels(
            &l(&[("__name__", name), ("job", job), ("env", env)]),
            0,
            1.0,
        )
        .unwrap();
    }
    let jobs = |ms: &[Matcher]| -> Vec<String> {
        h.select_refs(ms)
            .into_iter()
            .map(|r| h.labels(r).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        jobs(&[m(MatchOp::Equal, "__name__", "up")]),
        vec![
            r#"up{env="dev", job="db"}"#,
            r#"up{env="prod", job="api"}"#,
            r#"up{job="web"}"#
        ]
    );
    // env="" selects series without env.
    assert_eq!(
        jobs(&[m(MatchOp::Equal, "env", "")]),
        vec![r#"up{job="web"}"#]
    );
    assert_eq!(
        jobs(&[
            m(MatchOp::NotEqual, "env", ""),
            m(MatchOp::Equal, "job", "api")
        ])
        .len(),
        2
    );
    // Regexes are anchored: "ap" does not match "api".
    assert!(jobs(&[m(MatchOp::Regex, "job", "ap")]).is_empty());
    assert_eq!(
        jobs(&[
            m(MatchOp::Regex, "job", "ap.*|db"),
            m(MatchOp::Equal, "__name__", "up")
        ])
        .len(),
        2
    );
    // !~ keeps series without the label.
    assert_eq!(
        jobs(&[m(MatchOp::NotRegex, "env", "prod|dev")]),
        vec![r#"up{job="web"}"#]
    );
    assert_eq!(
        jobs(&[m(MatchOp::Equal, "nosuch", "x")]),
        Vec::<String>::new()
    );
    assert_eq!(h.label_names(), vec!["__name__", "env", "job"]);
    assert_eq!(h.label_values("job"), vec!["api", "db", "web"]);
}

fn arb_labels() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[abc]", "[xyz]{0,2}"), 0..4)
}

fn arb_matcher() -> impl Strategy<Value = Matcher> {
    (
        prop_oneof![
            Just(MatchOp::Equal),
            Just(MatchOp::NotEqual),
            Just(MatchOp::Regex),
            Just(MatchOp::NotRegex)
        ],
        "[abcd]",
        prop_oneof![
            "[xyz]{0,2}",
            Just("x.*".to_string()),
            Just(".*".to_string()),
            Just("y|".to_string())
        ],
    )
        .prop_map(|(op, n, v)| Matcher::new(op, n, v).unwrap())
}

proptest! {
    #[test]
    fn select_equals_brute_force(
        series in prop::collection::vec(arb_labels(), 0..30),
        matchers in prop::collection::vec(arb_matcher(), 0..4),
    ) {
        let mut h = Head::new();
        let mut all = Vec::new();
        for s in &series {
            let labels = Labels::new(s.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            h.get_or_create(&labels).unwrap();
            if !all.contains(&labels) {
                all.push(labels);
            }
        }
        let mut want: Vec<Labels> = all
            .into_iter()
            .filter(|ls| matchers.iter().all(|m| m.matches_labels(ls)))
            .collect();
        want.sort();
        let got: Vec<Labels> = h.select_refs(&matchers).into_iter().map(|r| h.labels(r).unwrap().clone()).collect();
        prop_assert_eq!(got, want);
    }
}
