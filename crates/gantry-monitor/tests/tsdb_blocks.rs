//! Blocks: cutting the head, reading across the head/block boundary,
//! reopening, compaction, retention by time and size, and damaged blocks.

use gantry_monitor::labels::{Labels, MatchOp, Matcher};
use gantry_monitor::tsdb::Queryable;
use gantry_monitor::tsdb::db::{Db, DbOptions};
use gantry_monitor::tsdb::head::AppendError;

fn opts() -> DbOptions {
    DbOptions {
        block_range: 1_000,
        max_block_range: 9_000,
        retention: None,
        retention_bytes: None,
    }
}

fn series(i: usize) -> Labels {
    Labels::new([("__name__", "m".to_string()), ("i", i.to_string())])
}

/// Appends samples every 100 ms from `from` to `to` (exclusive) for 5 series.
fn fill(db: &mut Db, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let batch: Vec<_> = (0..5)
            .map(|i| (series(i), t, (t / 100 + i as i64) as f64))
            .collect();
        let out = db.append(&batch).unwrap();
        assert_eq!(out.rejected_count, 0, "{:?}", out.rejected);
        t += 100;
    }
    db.commit().unwrap();
}

fn all(db: &Db) -> Vec<(String, Vec<(i64, f64)>)> {
    let m = Matcher::new(MatchOp::Equal, "__name__", "m").unwrap();
    db.select(&[m], i64::MIN, i64::MAX)
        .into_iter()
        .map(|s| (s.labels.to_string(), s.samples))
        .collect()
}

fn expected(from: i64, to: i64) -> Vec<(String, Vec<(i64, f64)>)> {
    (0..5)
        .map(|i| {
            let samples = (from / 100..to / 100)
                .map(|k| (k * 100, (k + i as i64) as f64))
                .collect();
            (series(i).to_string(), samples)
        })
        .collect()
}

#[test]
fn head_is_cut_into_blocks_and_reads_stay_whole_across_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut db, _) = Db::open_with(tmp.path(), opts()).unwrap();
        fill(&mut db, 0, 4_000);
        let done = db.maintain().unwrap();
        // 0..3_900 spans 3.9 ranges: ranges [0,1000) and [1000,2000) are cut;
        // the head keeps at most 1.5 ranges.
        let cut: Vec<(i64, i64)> = done.cut.iter().map(|m| (m.min_time, m.max_time)).collect();
        assert_eq!(cut, vec![(0, 1_000), (1_000, 2_000), (2_000, 3_000)]);
        assert_eq!(done.cut[0].stats.num_series, 5);
        assert_eq!(done.cut[0].stats.num_samples, 50);
        assert_eq!(db.head().min_valid(), 3_000);
        assert_eq!(all(&db), expected(0, 4_000));
        // Samples before the head's range are in blocks and refused now.
        let out = db.append(&[(series(0), 2_500, 1.0)]).unwrap();
        assert!(
            matches!(out.rejected[0], AppendError::OutOfBounds { .. }),
            "{:?}",
            out.rejected
        );
        fill(&mut db, 4_000, 4_500);
    }
    let (db, _) = Db::open_with(tmp.path(), opts()).unwrap();
    // The three cut blocks filled the 3× window [0, 3000) and were merged.
    let ranges: Vec<(i64, i64)> = db.blocks().map(|m| (m.min_time, m.max_time)).collect();
    assert_eq!(ranges, vec![(0, 3_000)]);
    assert_eq!(all(&db), expected(0, 4_500));
    assert_eq!(db.label_values("i"), vec!["0", "1", "2", "3", "4"]);
    assert_eq!(db.label_names(), vec!["__name__", "i"]);
    // A range read that starts in a block and ends in the head.
    let m = Matcher::new(MatchOp::Equal, "i", "3").unwrap();
    let part = db.select(&[m], 2_950, 3_150);
    assert_eq!(part[0].samples, vec![(3_000, 33.0), (3_100, 34.0)]);
}

#[test]
fn compaction_merges_complete_windows_and_keeps_every_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut db, _) = Db::open_with(tmp.path(), opts()).unwrap();
    fill(&mut db, 0, 8_000);
    let done = db.maintain().unwrap();
    let ranges: Vec<(i64, i64)> = db.blocks().map(|m| (m.min_time, m.max_time)).collect();
    // [0,3000) and [3000,6000) are complete 3× windows; [6000,7000) is not.
    assert_eq!(ranges, vec![(0, 3_000), (3_000, 6_000), (6_000, 7_000)]);
    assert_eq!(done.compacted.len(), 2);
    assert_eq!(done.compacted[0].compaction.level, 2);
    assert_eq!(done.compacted[0].compaction.sources.len(), 3);
    assert_eq!(all(&db), expected(0, 8_000));
    // Only the live blocks are on disk.
    let dirs = std::fs::read_dir(tmp.path().join("blocks"))
        .unwrap()
        .count();
    assert_eq!(dirs, 3);
}

#[test]
fn retention_by_time_and_size_deletes_old_blocks_only() {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = opts();
    o.max_block_range = 1_000; // no compaction, to count blocks simply
    o.retention = Some(3_000);
    let (mut db, _) = Db::open_with(tmp.path(), o).unwrap();
    fill(&mut db, 0, 7_000);
    let done = db.maintain().unwrap();
    // Newest sample 6_900: blocks ending at or before 3_900 go.
    assert_eq!(done.deleted.len(), 3);
    let ranges: Vec<(i64, i64)> = db.blocks().map(|m| (m.min_time, m.max_time)).collect();
    assert_eq!(ranges, vec![(3_000, 4_000), (4_000, 5_000), (5_000, 6_000)]);
    assert_eq!(all(&db), expected(3_000, 7_000));
    drop(db);

    let mut o = opts();
    o.max_block_range = 1_000;
    o.retention_bytes = Some(1);
    let (mut db, _) = Db::open_with(tmp.path(), o).unwrap();
    let done = db.maintain().unwrap();
    assert_eq!(done.deleted.len(), 3);
    assert_eq!(db.blocks().count(), 0);
    // The head is not subject to block retention.
    assert_eq!(all(&db), expected(6_000, 7_000));
}

#[test]
fn a_damaged_block_index_is_reported_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let (mut db, _) = Db::open_with(tmp.path(), opts()).unwrap();
        fill(&mut db, 0, 2_000);
        db.maintain().unwrap();
    }
    let block = std::fs::read_dir(tmp.path().join("blocks"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let index = block.join("index");
    let mut bytes = std::fs::read(&index).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&index, bytes).unwrap();
    let err = Db::open_with(tmp.path(), opts()).unwrap_err().to_string();
    assert!(
        err.contains("index") && err.contains("checksum mismatch"),
        "{err}"
    );
}

/// A block range holding many chunks: the head's whole chunks are copied
/// into the block as they are, the chunks straddling its edges are cut at
/// them, and every sample reads back once, from blocks and head alike.
#[test]
fn whole_head_chunks_are_copied_into_blocks_and_edges_cut_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        block_range: 100_000,
        max_block_range: 900_000,
        retention: None,
        retention_bytes: None,
    };
    let (mut db, _) = Db::open_with(tmp.path(), opts).unwrap();
    // 100 ms apart: 1,000 samples per range, about 8 chunks of 120.
    fill(&mut db, 0, 400_000);
    let done = db.maintain().unwrap();
    let cut: Vec<(i64, i64, u64, u64)> = done
        .cut
        .iter()
        .map(|m| {
            (
                m.min_time,
                m.max_time,
                m.stats.num_samples,
                m.stats.num_series,
            )
        })
        .collect();
    assert_eq!(
        cut,
        vec![
            (0, 100_000, 5 * 1_000, 5),
            (100_000, 200_000, 5 * 1_000, 5),
            (200_000, 300_000, 5 * 1_000, 5)
        ]
    );
    assert!(
        done.cut[1].stats.num_chunks >= 5 * 9,
        "{:?}",
        done.cut[1].stats
    );
    assert_eq!(all(&db), expected(0, 400_000));
    drop(db);
    let (db, _) = Db::open_with(tmp.path(), opts).unwrap();
    assert_eq!(all(&db), expected(0, 400_000));
}
