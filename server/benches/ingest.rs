//! Server ingest over loopback: 16 concurrent clients sending batches of 100 and of 500 to the
//! real `hailong-server`, beside raw rusqlite inserting the same rows in one process with the
//! same pragmas. `cargo bench -p hailong-server --bench ingest`. With `-- --backups`, also a
//! backup of a 1,000,000-rating database beside a plain file copy, and ingest while backups run.
//!
//! Clients and server share this machine's cores, so the HTTP figure includes building and
//! parsing the JSON on both sides.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/process.rs"]
mod process;

use http::http;
use process::ServerProcess;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

const CLIENTS: usize = 16;
const RATINGS: usize = 160_000;

fn rating(client: usize, n: usize, created_at: &str) -> Value {
    let level = [
        "very_satisfied",
        "satisfied",
        "very_satisfied",
        "unsatisfied",
    ][n % 4];
    let reasons: Vec<&str> = if level == "unsatisfied" {
        vec!["long_wait"]
    } else {
        vec![]
    };
    json!({"id": format!("01936f6e-8b7a-7c41-{client:04x}-{n:012x}"), "created_at": created_at,
           "seq": n, "scale": 3, "level": level, "reasons": reasons, "comment": null,
           "dossier_code": format!("000.00.14.H56-261123-{:05}", (client * RATINGS + n) % 100_000),
           "procedure_code": "1.001193", "officer": "Nguyễn Văn A", "counter": "Quầy 1"})
}

/// A running server with `CLIENTS` paired devices.
struct Fleet {
    server: ServerProcess,
    tokens: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Fleet {
    fn start() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let server = ServerProcess::start(
            Path::new(env!("CARGO_BIN_EXE_hailong-server")),
            &dir.path().join("server.db"),
        );
        let tokens = (0..CLIENTS)
            .map(|i| {
                let code = server.pairing_code(&format!("Quầy {i}"));
                let answer: Value = http()
                    .post(format!("{}/api/v1/devices/pair", server.url))
                    .json(&json!({"code": code, "device_name": "bench"}))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                answer["token"].as_str().unwrap().to_owned()
            })
            .collect();
        Fleet {
            server,
            tokens,
            _dir: dir,
        }
    }

    /// Request bodies for `count` ratings per client, numbered from `first`, `batch` a request.
    fn bodies(first: usize, count: usize, batch: usize, created_at: &str) -> Vec<Vec<String>> {
        (0..CLIENTS)
            .map(|c| {
                (first..first + count)
                    .collect::<Vec<_>>()
                    .chunks(batch)
                    .map(|ns| {
                        let ratings: Vec<Value> =
                            ns.iter().map(|&n| rating(c, n, created_at)).collect();
                        serde_json::to_string(&json!({ "ratings": ratings })).unwrap()
                    })
                    .collect()
            })
            .collect()
    }

    /// Sends every client's bodies at once; the ratings per second.
    fn send(&self, bodies: Vec<Vec<String>>) -> f64 {
        let ratings: usize = bodies
            .iter()
            .flatten()
            .map(|b| b.matches("\"id\"").count())
            .sum();
        let url = &self.server.url;
        let started = Instant::now();
        std::thread::scope(|scope| {
            for (token, bodies) in self.tokens.iter().zip(bodies) {
                scope.spawn(move || {
                    let client = http();
                    for body in bodies {
                        let response = client
                            .post(format!("{url}/api/v1/ratings/batch"))
                            .bearer_auth(token)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .unwrap();
                        assert!(response.status().is_success(), "{}", response.status());
                    }
                });
            }
        });
        ratings as f64 / started.elapsed().as_secs_f64()
    }

    fn stored(&self) -> usize {
        let stored: i64 = rusqlite::Connection::open(&self.server.db)
            .unwrap()
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
            .unwrap();
        stored as usize
    }

    /// `hailong-server backup` of this server's database to `out`; its wall time in seconds.
    fn backup(&self, out: &Path) -> f64 {
        backup(&self.server.db, out)
    }
}

/// `hailong-server backup --db DB --out OUT`; its wall time in seconds.
fn backup(db: &Path, out: &Path) -> f64 {
    let started = Instant::now();
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_hailong-server"))
        .args(["backup", "--db"])
        .arg(db)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    started.elapsed().as_secs_f64()
}

/// Ratings per second through the real server with `batch` ratings per request.
fn over_http(batch: usize, created_at: &str) -> f64 {
    let fleet = Fleet::start();
    // Bodies are built before the clock starts: the figure is the server's.
    let rate = fleet.send(Fleet::bodies(0, RATINGS / CLIENTS, batch, created_at));
    assert_eq!(fleet.stored(), RATINGS, "every rating stored once");
    rate
}

/// A backup of a 1,000,000-rating database, timed beside a plain copy of the same file; then
/// ingest of 160,000 more with no backup, and with backups made one after another meanwhile.
fn backups(created_at: &str) {
    const FILLED: usize = 1_000_000;
    let fleet = Fleet::start();
    fleet.send(Fleet::bodies(0, FILLED / CLIENTS, 500, created_at));
    assert_eq!(fleet.stored(), FILLED);
    let out = fleet.server.db.with_file_name("backup.db");
    let backed_up = fleet.backup(&out);
    let size = std::fs::metadata(&out).unwrap().len();
    let copy = fleet.server.db.with_file_name("copy.db");
    let started = Instant::now();
    std::fs::copy(&fleet.server.db, &copy).unwrap();
    std::fs::File::open(&copy).unwrap().sync_all().unwrap();
    let copied = started.elapsed().as_secs_f64();
    println!(
        "backup of {FILLED} ratings ({:.0} MB): {backed_up:.2} s, checked | plain file copy {copied:.2} s | ratio {:.2}",
        size as f64 / 1e6,
        backed_up / copied
    );

    let per_client = RATINGS / CLIENTS;
    let quiet = fleet.send(Fleet::bodies(FILLED, per_client, 500, created_at));
    let busy = std::sync::atomic::AtomicBool::new(true);
    let (during, made) = std::thread::scope(|scope| {
        let (db, out, busy) = (&fleet.server.db, &out, &busy);
        let backups = scope.spawn(move || {
            let mut made = 0;
            while busy.load(std::sync::atomic::Ordering::Relaxed) {
                backup(db, out);
                made += 1;
            }
            made
        });
        let rate = fleet.send(Fleet::bodies(
            FILLED + per_client,
            per_client,
            500,
            created_at,
        ));
        busy.store(false, std::sync::atomic::Ordering::Relaxed);
        (rate, backups.join().unwrap())
    });
    assert_eq!(fleet.stored(), FILLED + 2 * RATINGS);
    println!(
        "ingest at batch 500 over it: {quiet:.0} ratings/s alone | {during:.0} ratings/s with {made} backups made meanwhile | ratio {:.2}",
        during / quiet
    );
}

/// Ratings per second inserting the same rows with rusqlite, `batch` per transaction.
fn raw_rusqlite(batch: usize, created_at: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE ratings (id TEXT PRIMARY KEY, device_id TEXT NOT NULL, received_at TEXT NOT NULL,
             created_at TEXT NOT NULL, local_date TEXT NOT NULL, seq INTEGER NOT NULL,
             scale INTEGER NOT NULL, outcome TEXT NOT NULL, reasons TEXT NOT NULL, comment TEXT,
             dossier TEXT, procedure_code TEXT, procedure_name TEXT, field_code TEXT,
             field_name TEXT, officer TEXT, officer_id INTEGER, counter TEXT,
             repeat_dossier INTEGER NOT NULL, clock_skew INTEGER NOT NULL, fingerprint TEXT NOT NULL)
             WITHOUT ROWID;
         CREATE INDEX ratings_by_date ON ratings (local_date, outcome);
         CREATE INDEX ratings_rated_dossier ON ratings (dossier, outcome)
             WHERE dossier IS NOT NULL AND outcome <> 'not_rated';",
    )
    .unwrap();
    let rows: Vec<Value> = (0..RATINGS)
        .map(|n| rating(n % CLIENTS, n, created_at))
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(batch) {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO ratings VALUES (?1, 'device', ?2, ?2, '2026-11-23', ?3, 3, ?4, '', NULL,
                     ?5, '1.001193', NULL, NULL, NULL, 'Nguyễn Văn A', NULL, 'Quầy 1', 0, 0, ?6)",
                )
                .unwrap();
            for r in chunk {
                insert
                    .execute(rusqlite::params![
                        r["id"].as_str(),
                        created_at,
                        r["seq"].as_i64(),
                        r["level"].as_str(),
                        r["dossier_code"].as_str(),
                        format!("{:064x}", r["seq"].as_u64().unwrap_or_default()),
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    RATINGS as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let created_at = chrono::Local::now().fixed_offset().to_rfc3339();
    println!("{RATINGS} ratings, {CLIENTS} concurrent clients over loopback");
    for batch in [100, 500] {
        let raw = raw_rusqlite(batch, &created_at);
        let http = over_http(batch, &created_at);
        println!(
            "batch {batch:>3}: server {http:>9.0} ratings/s | raw rusqlite {raw:>9.0} ratings/s | ratio {:.2}",
            http / raw
        );
    }
    if std::env::args().any(|a| a == "--backups") {
        backups(&created_at);
    }
}
