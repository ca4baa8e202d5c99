//! `hailong demo` and `hailong summary` at scale: fills 1,000,000 demo ratings, then times the
//! summary query (median of 9). Run: `cargo bench --bench summary` (HAILONG_BENCH_COUNT to change N).

use hailong::demo::{self, DemoPlan};
use hailong::paths::DataDir;
use hailong::store::Store;
use hailong_core::period::DateRange;
use std::time::Instant;

fn main() {
    let count = std::env::var("HAILONG_BENCH_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000u64);
    std::fs::create_dir_all("target").unwrap();
    let dir = tempfile::tempdir_in("target").unwrap();
    let data = DataDir::new(dir.path());
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T17:00:00+07:00").unwrap();

    let start = Instant::now();
    demo::fill(
        &data,
        DemoPlan {
            count,
            days: 90,
            seed: 1,
        },
        now,
    )
    .unwrap();
    println!(
        "demo --count {count} --days 90     {:>9.2} s (goal: under 10 s for 1,000,000)",
        start.elapsed().as_secs_f64()
    );

    let store = Store::open(&data.database()).unwrap();
    for (name, range) in [
        ("all time", DateRange::all()),
        ("this month", DateRange::month_of(now.date_naive())),
    ] {
        let mut times: Vec<f64> = (0..9)
            .map(|_| {
                let start = Instant::now();
                let counts = store.summary(range).unwrap();
                std::hint::black_box(counts);
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "summary query, {name:<10}         {:>9.2} ms median (goal: under 100 ms)",
            times[4]
        );
    }
}
