use gantry_monitor::labels::{Labels, Matcher};
use gantry_monitor::promql::Engine;
use gantry_monitor::tsdb::{Queryable, Series};
struct Mem(Vec<Series>);
impl Queryable for Mem {
    fn select(&self, m: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
        self.0
            .iter()
            .filter(|s| m.iter().all(|x| x.matches_labels(&s.labels)))
            .map(|s| Series {
                labels: s.labels.clone(),
                samples: s
                    .samples
                    .iter()
                    .copied()
                    .filter(|(t, _)| *t >= mint && *t <= maxt)
                    .collect(),
            })
            .collect()
    }
}
fn main() {
    let n = 5000;
    let pts = 960;
    let series: Vec<Series> = (0..n)
        .map(|i| Series {
            labels: Labels::new([
                ("__name__".to_string(), "bench_requests_total".to_string()),
                ("job".into(), format!("job{}", i % 10)),
                ("instance".into(), format!("host{}:9100", i % 500)),
                ("i".into(), format!("{i}")),
            ]),
            samples: (0..pts)
                .map(|k| (k as i64 * 15000, (k * (i % 7 + 1)) as f64))
                .collect(),
        })
        .collect();
    let db = Mem(series);
    let e = Engine::default();
    let end = (pts as i64 - 1) * 15000;
    let start = end - 3600_000;
    let mut times = vec![];
    for _ in 0..7 {
        let t = std::time::Instant::now();
        let r = e
            .range_query(
                &db,
                "sum by (job) (rate(bench_requests_total[5m]))",
                start,
                end,
                60_000,
            )
            .unwrap();
        assert_eq!(r.len(), 10);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("median {:.1} ms", times[3]);
    let mut times = vec![];
    for _ in 0..7 {
        let t = std::time::Instant::now();
        let r = e
            .range_query(&db, "bench_requests_total", start, end, 60_000)
            .unwrap();
        assert_eq!(r.len(), 5000);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("plain median {:.1} ms", times[3]);
}
