//! Property tests of the XOR chunk encoding: any increasing series round
//! trips exactly (bit-for-bit values, NaN payloads included), a chunk
//! re-opened from bytes appends as if it had never been stored, and no
//! byte string makes the decoder panic.

use gantry_monitor::tsdb::chunk::{XorChunk, iter_bytes};
use proptest::prelude::*;

fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
    let start = prop_oneof![
        Just(0i64),
        -1_000_000i64..1_000_000,
        Just(1_700_000_000_000)
    ];
    let gaps = prop::collection::vec(
        prop_oneof![
            Just(15_000i64),
            14_990i64..15_010,
            1i64..100,
            1i64..10_000_000,
            1i64..(1 << 40)
        ],
        0..300,
    );
    let values = prop::collection::vec(
        prop_oneof![
            Just(0.0f64),
            any::<f64>(),
            (0u32..1000).prop_map(|v| v as f64),
            (0u64..u64::MAX).prop_map(f64::from_bits),
            Just(f64::NAN),
            Just(f64::INFINITY),
        ],
        300,
    );
    (start, gaps, values).prop_map(|(start, gaps, values)| {
        let mut t = start;
        let mut out = vec![(t, values[0])];
        for (i, g) in gaps.into_iter().enumerate() {
            t += g;
            out.push((t, values[i + 1]));
        }
        out
    })
}

fn same(a: &[(i64, f64)], b: &[(i64, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1.to_bits() == y.1.to_bits())
}

proptest! {
    // Each case encodes up to 300 samples; 64 cases cover the buckets well.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trips(samples in series()) {
        let mut c = XorChunk::new();
        for &(t, v) in &samples {
            c.append(t, v).unwrap();
        }
        let got: Vec<_> = c.iter().collect();
        prop_assert!(same(&got, &samples));
        let stored = c.to_bytes();
        let it = iter_bytes(&stored).unwrap();
        let got: Vec<_> = it.collect();
        prop_assert!(same(&got, &samples));
    }

    #[test]
    fn reopened_chunk_appends_identically(samples in series(), split in 0usize..300) {
        let split = split.min(samples.len());
        let mut whole = XorChunk::new();
        let mut first = XorChunk::new();
        for &(t, v) in &samples {
            whole.append(t, v).unwrap();
        }
        for &(t, v) in &samples[..split] {
            first.append(t, v).unwrap();
        }
        let mut reopened = XorChunk::from_bytes(&first.to_bytes()).unwrap();
        for &(t, v) in &samples[split..] {
            reopened.append(t, v).unwrap();
        }
        prop_assert_eq!(reopened.to_bytes(), whole.to_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(it) = iter_bytes(&bytes) {
            let n = it.count();
            prop_assert!(n <= u16::MAX as usize);
        }
        let _ = XorChunk::from_bytes(&bytes);
    }
}
