//! Tap-to-durable latency: `Store::record` (one IMMEDIATE transaction, WAL, synchronous=FULL)
//! beside a bare rusqlite insert+commit with the same pragmas on the same disk. Then the voice:
//! from a screen's request to the audio output being handed the prompt's samples (the audio
//! thread's queue, its wake-up, decoding or the cache), beside a bare hand-off of a timestamp
//! to another thread through the same kind of channel.
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

/// Prints the p50 and p99 of `measured` against `baseline`.
fn ratio(name: &str, measured: (Duration, Duration), baseline: (Duration, Duration), goal: &str) {
    println!(
        "ratio {name:<22} p50 {:>8.2}x     p99 {:>8.2}x   (goal: {goal})",
        measured.0.as_secs_f64() / baseline.0.as_secs_f64(),
        measured.1.as_secs_f64() / baseline.1.as_secs_f64()
    );
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
            counter: "Quầy 1",
            finished: true,
        };
        let start = Instant::now();
        store.record(&tap).unwrap();
        store_samples.push(start.elapsed());
    }

    println!("{TAPS} taps each, on {}", base.display());
    let (bare50, bare99) = report("bare rusqlite insert+commit", bare_samples);
    let (tap50, tap99) = report("Store::record (a tap)", store_samples);
    ratio("tap/bare", (tap50, tap99), (bare50, bare99), "at most 2x");
    voice();
}

const PROMPTS: usize = 200;

/// Hands the time each prompt reaches the output back to the bench.
struct Stamp(std::sync::mpsc::Sender<Instant>);

impl hailong::voice::Output for Stamp {
    fn play(&mut self, _: &[std::sync::Arc<hailong::voice::Clip>], _: f32) {
        let _ = self.0.send(Instant::now());
    }
}

fn voice() {
    use hailong::settings::Lang;
    use hailong::voice::{Output, Prompt, Speaker, Voice};
    let (stamps, reached) = std::sync::mpsc::channel();
    let speaker = Speaker::start_with(
        Box::new(move || Ok(Box::new(Stamp(stamps.clone())) as Box<dyn Output>)),
        80,
    );
    // The baseline: a thread that stamps whatever it receives through a bounded channel.
    let (to_bare, bare_queue) = std::sync::mpsc::sync_channel::<Instant>(4);
    let (bare_stamps, bare_reached) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while bare_queue.recv().is_ok() {
            let _ = bare_stamps.send(Instant::now());
        }
    });
    let levels = Level::ALL;
    let mut first = Vec::new();
    let mut voice_samples = Vec::with_capacity(PROMPTS);
    let mut bare_samples = Vec::with_capacity(PROMPTS);
    for i in 0..PROMPTS {
        let start = Instant::now();
        to_bare.send(start).unwrap();
        bare_samples.push(bare_reached.recv().unwrap() - start);

        let prompts = [Prompt::Level(levels[i % levels.len()]), Prompt::Thanks];
        let start = Instant::now();
        speaker.say(Lang::Vi, &prompts);
        let took = reached.recv().unwrap() - start;
        // The first time each level is said it is decoded; later it comes from the cache.
        if i < levels.len() {
            first.push(took);
        } else {
            voice_samples.push(took);
        }
    }
    println!("{PROMPTS} prompts (a face's name, then the thanks)");
    first.sort();
    println!(
        "voice, first time (decode)   max {:>8.3} ms",
        first.last().unwrap().as_secs_f64() * 1e3
    );
    let (bare50, bare99) = report("bare thread hand-off", bare_samples);
    let (voice50, voice99) = report("voice request to output", voice_samples);
    ratio(
        "voice/bare",
        (voice50, voice99),
        (bare50, bare99),
        "start within 150 ms",
    );
}
