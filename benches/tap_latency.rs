//! Tap-to-durable latency: `Store::record` (one IMMEDIATE transaction, WAL, synchronous=FULL)
//! beside a bare rusqlite insert+commit with the same pragmas on the same disk.
//! Run: `cargo bench --bench tap_latency` (HAILONG_BENCH_DIR picks the disk; default: target/).

use hailong::store::{NewRating, Store};
use hailong_core::level::Level;
use hailong_core::rating::Outcome;
use std::time::{Duration, Instant};

const TAPS: usize = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.50), percentile(&samples, 0.99));
    println!(
        "{name:<28} p50 {:>8.3} ms   p99 {:>8.3} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    (p50, p99)
}

fn main() {
    let base = std::env::var_os("HAILONG_BENCH_DIR")
        .map_or_else(|| std::path::PathBuf::from("target"), Into::into);
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();

    let bare = rusqlite::Connection::open(dir.path().join("bare.db")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch(
        "CREATE TABLE t (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, level TEXT NOT NULL)",
    )
    .unwrap();
    let mut store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00+07:00").unwrap();
    // Alternate the two so that both see the same disk weather.
    let mut bare_samples = Vec::with_capacity(TAPS);
    let mut store_samples = Vec::with_capacity(TAPS);
    for i in 0..TAPS {
        let start = Instant::now();
        bare.execute("BEGIN IMMEDIATE", []).unwrap();
        bare.prepare_cached("INSERT INTO t (id, level) VALUES (?1, 'satisfied')")
            .unwrap()
            .execute([i.to_string()])
            .unwrap();
        bare.execute("COMMIT", []).unwrap();
        bare_samples.push(start.elapsed());

        let tap = NewRating {
            at,
            scale: hailong_core::level::Scale::Three,
            outcome: Outcome::Rated(Level::Satisfied),
            dossier: None,
            procedure: None,
            officer: None,
            finished: true,
        };
        let start = Instant::now();
        store.record(&tap).unwrap();
        store_samples.push(start.elapsed());
    }

    println!("{TAPS} taps each, on {}", base.display());
    let (bare50, bare99) = report("bare rusqlite insert+commit", bare_samples);
    let (tap50, tap99) = report("Store::record (a tap)", store_samples);
    println!(
        "ratio tap/bare              p50 {:>8.2}x     p99 {:>8.2}x   (goal: at most 2x)",
        tap50.as_secs_f64() / bare50.as_secs_f64(),
        tap99.as_secs_f64() / bare99.as_secs_f64()
    );
}
