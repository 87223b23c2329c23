//! The WAL and the store built on it: replay after reopen, repair of a
//! torn or corrupted tail, checkpoints, and a `kill -9` during ingest.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use gantry_monitor::labels::{Labels, MatchOp, Matcher};
use gantry_monitor::tsdb::Queryable;
use gantry_monitor::tsdb::db::Db;

fn series(i: usize) -> Labels {
    Labels::new([
        ("__name__", "load".to_string()),
        ("instance", format!("host-{i}")),
    ])
}

fn all(db: &Db) -> Vec<(String, Vec<(i64, f64)>)> {
    let m = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    db.head()
        .select(&[m], i64::MIN, i64::MAX)
        .into_iter()
        .map(|s| (s.labels.to_string(), s.samples))
        .collect()
}

fn segments(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn reopen_replays_everything_committed() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut db, stats) = Db::open(tmp.path()).unwrap();
        assert_eq!(stats.records, 0);
        for round in 0..5 {
            let batch: Vec<_> = (0..50)
                .map(|i| (series(i), round * 1000, (i * round as usize) as f64))
                .collect();
            let out = db.append(&batch).unwrap();
            assert_eq!(out.appended, 50);
            db.commit().unwrap();
        }
        // Refused samples are reported and not logged.
        let out = db
            .append(&[(series(0), 0, 9.0), (series(0), 4000, 5.0)])
            .unwrap();
        assert_eq!((out.appended, out.rejected_count), (0, 2));
        db.commit().unwrap();
    }
    let (db, stats) = Db::open(tmp.path()).unwrap();
    // One series record, five sample records; refused samples log nothing.
    assert_eq!(stats.records, 6);
    assert_eq!(stats.repaired, None);
    let got = all(&db);
    assert_eq!(got.len(), 50);
    let host7 = got
        .iter()
        .find(|(l, _)| l == r#"load{instance="host-7"}"#)
        .unwrap();
    assert_eq!(
        host7.1,
        vec![
            (0, 0.0),
            (1000, 7.0),
            (2000, 14.0),
            (3000, 21.0),
            (4000, 28.0)
        ]
    );
    // A new series after a restart gets an id that does not collide.
    drop(db);
    let (mut db, _) = Db::open(tmp.path()).unwrap();
    db.append(&[(series(99), 5000, 1.0), (series(1), 5000, 2.0)])
        .unwrap();
    db.commit().unwrap();
    drop(db);
    let (db, _) = Db::open(tmp.path()).unwrap();
    let got = all(&db);
    assert_eq!(got.len(), 51);
    assert_eq!(
        got.iter()
            .find(|(l, _)| l == r#"load{instance="host-1"}"#)
            .unwrap()
            .1
            .len(),
        6
    );
    assert_eq!(
        got.iter()
            .find(|(l, _)| l == r#"load{instance="host-99"}"#)
            .unwrap()
            .1,
        vec![(5000, 1.0)]
    );
}

#[test]
fn series_appended_as_label_pairs_join_existing_ones_and_replay() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut db, _) = Db::open(tmp.path()).unwrap();
        db.append(&[(series(1), 1000, 1.0)]).unwrap();
        db.commit().unwrap();
        let one: &[(&str, &str)] = &[("__name__", "load"), ("instance", "host-1")];
        let two: &[(&str, &str)] = &[("__name__", "load"), ("instance", "host-2")];
        let out = db
            .append_series([
                (one, &[(2000, 2.0), (3000, 3.0)][..]),
                (two, &[(2000, 20.0)][..]),
                // Refused: older than host-1's newest sample.
                (one, &[(1500, 9.0)][..]),
            ])
            .unwrap();
        assert_eq!(
            (out.appended, out.new_series, out.rejected_count),
            (3, 1, 1)
        );
        assert_eq!(db.head().series_count(), 2);
        db.commit().unwrap();
    }
    let (db, stats) = Db::open(tmp.path()).unwrap();
    // Series(host-1), samples, series(host-2), samples.
    assert_eq!(stats.records, 4);
    assert_eq!(
        all(&db),
        vec![
            (
                r#"load{instance="host-1"}"#.to_string(),
                vec![(1000, 1.0), (2000, 2.0), (3000, 3.0)]
            ),
            (r#"load{instance="host-2"}"#.to_string(), vec![(2000, 20.0)]),
        ]
    );
}

#[test]
fn torn_and_corrupt_tails_are_cut_and_earlier_records_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let seg;
    {
        let (mut db, _) = Db::open(tmp.path()).unwrap();
        for round in 0..3 {
            db.append(&[(series(1), round, round as f64)]).unwrap();
            db.commit().unwrap();
        }
        seg = tmp
            .path()
            .join("wal")
            .join(segments(tmp.path()).last().unwrap());
    }
    // Torn write: the last record loses its final bytes.
    let len = fs::metadata(&seg).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 3)
        .unwrap();
    let (db, stats) = Db::open(tmp.path()).unwrap();
    let (s, offset, later) = stats.repaired.expect("repair reported");
    assert_eq!(later, 0);
    assert_eq!(
        seg.file_name().unwrap().to_string_lossy(),
        format!("{s:08}")
    );
    assert!(offset < len - 3);
    assert_eq!(all(&db)[0].1, vec![(0, 0.0), (1, 1.0)]);
    drop(db);

    // A flipped byte in the middle of a record: the checksum catches it.
    let (mut db, _) = Db::open(tmp.path()).unwrap();
    db.append(&[(series(1), 10, 10.0)]).unwrap();
    db.commit().unwrap();
    db.append(&[(series(1), 11, 11.0)]).unwrap();
    db.commit().unwrap();
    let last = tmp
        .path()
        .join("wal")
        .join(segments(tmp.path()).last().unwrap());
    drop(db);
    let mut bytes = fs::read(&last).unwrap();
    let n = bytes.len();
    bytes[n - 4] ^= 0x40;
    fs::write(&last, bytes).unwrap();
    let (db, stats) = Db::open(tmp.path()).unwrap();
    assert!(stats.repaired.is_some());
    assert_eq!(all(&db)[0].1, vec![(0, 0.0), (1, 1.0), (10, 10.0)]);
}

#[test]
fn checkpoint_keeps_recent_samples_and_drops_old_segments() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut db, _) = Db::open(tmp.path()).unwrap();
        for t in 0..10 {
            db.append(&[
                (series(1), t * 100, t as f64),
                (series(2), t * 100, -(t as f64)),
            ])
            .unwrap();
            db.commit().unwrap();
        }
        db.checkpoint(500).unwrap();
        db.append(&[(series(3), 2000, 3.0)]).unwrap();
        db.commit().unwrap();
    }
    let names = segments(tmp.path());
    assert!(
        names.iter().any(|n| n.starts_with("checkpoint.")),
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| !n.starts_with("checkpoint."))
            .count(),
        1,
        "{names:?}"
    );
    let (db, stats) = Db::open(tmp.path()).unwrap();
    assert!(stats.checkpoint.is_some());
    let got = all(&db);
    assert_eq!(got.len(), 3);
    let s1 = &got
        .iter()
        .find(|(l, _)| l == r#"load{instance="host-1"}"#)
        .unwrap()
        .1;
    assert_eq!(s1.first(), Some(&(500, 5.0)));
    assert_eq!(s1.len(), 5);
}

/// Run as a child by `kill_9_during_ingest_loses_nothing_acknowledged`:
/// appends batches forever, printing each batch number after its commit.
#[test]
fn ingest_child() {
    let Ok(dir) = std::env::var("GANTRY_WAL_CHILD_DIR") else {
        return;
    };
    let (mut db, _) = Db::open(Path::new(&dir)).unwrap();
    for batch in 0i64.. {
        let samples: Vec<_> = (0..200)
            .map(|i| (series(i), batch * 1000, (batch * 7 + i as i64) as f64))
            .collect();
        db.append(&samples).unwrap();
        db.commit().unwrap();
        println!("{batch}");
    }
}

#[test]
fn kill_9_during_ingest_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "ingest_child", "--nocapture", "--test-threads=1"])
        .env("GANTRY_WAL_CHILD_DIR", tmp.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = -1i64;
    // Wait for a good number of committed batches, then kill mid-stream.
    while acked < 150 {
        let line = lines.next().expect("child output").unwrap();
        if let Ok(n) = line.trim().parse::<i64>() {
            acked = n;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (db, _) = Db::open(tmp.path()).unwrap();
    let got = all(&db);
    assert_eq!(got.len(), 200);
    for (labels, samples) in &got {
        let i: i64 = labels
            .trim_end_matches("\"}")
            .rsplit('-')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            samples.len() as i64 > acked,
            "{labels}: {} samples, {acked} acknowledged",
            samples.len()
        );
        for (b, (t, v)) in samples.iter().enumerate() {
            assert_eq!(
                (*t, *v),
                (b as i64 * 1000, (b as i64 * 7 + i) as f64),
                "{labels}"
            );
        }
    }
}
