//! A commune's backlog reaching its province: `FORWARD_RATINGS` (default 1,000,000) entries
//! taken by a commune's server before it is paired upward, then forwarded by its forwarding
//! thread (500 a batch, up to `upstream::IN_FLIGHT` at once once the link proved itself, each
//! taken off the outbox once it and those before it were answered). Beside it, the baseline:
//! the same rows sent straight to another province server by as many clients as the forwarder
//! keeps batches in flight (500 a batch, one in flight each), so the ratio is what the outbox
//! and the second hop cost. Both servers in this process on SQLite files, over loopback; each
//! timed phase starts once the disk has written what the one before left. The CPU time of the
//! forwarding (both servers, every thread) is printed beside it: on these two cores, what is
//! left for the province's writer.
//! `cargo bench -p hailong-server --bench forwarding`.

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/running.rs"]
mod running;

use hailong_server::upstream::IN_FLIGHT;
use http::http;
use running::RunningServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The allocator the server's binary uses (`src/main.rs`): the servers in this process run as
/// they ship.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLIENTS: usize = 8;
const BATCH: usize = 500;

fn rating(c: usize, n: usize) -> Value {
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
    json!({"id": format!("019ab0c0-8b7a-7c41-{c:04x}-{n:012x}"),
           "created_at": "2026-11-23T09:15:02+07:00", "seq": n, "scale": 3, "level": level,
           "reasons": reasons, "procedure_code": "1.001193", "officer": "Nguyễn Văn A",
           "counter": "Quầy 1",
           "dossier_code": format!("000.17.22.H56-261123-{:05}", (c * 1_000_000 + n) % 100_000)})
}

fn token(server: &RunningServer, counter: &str) -> String {
    let code = server.pairing_code(counter);
    let answer: Value = http()
        .post(format!("{}/api/v1/devices/pair", server.url))
        .json(&json!({"code": code, "device_name": "bench"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    answer["token"].as_str().unwrap().to_owned()
}

/// Sends `per_client` ratings from each of `clients` devices, `BATCH` a request.
fn fill(server: &RunningServer, clients: usize, per_client: usize) {
    let tokens: Vec<String> = (0..clients)
        .map(|c| token(server, &format!("Quầy {c}")))
        .collect();
    std::thread::scope(|scope| {
        for (c, token) in tokens.iter().enumerate() {
            let url = server.url.clone();
            scope.spawn(move || {
                let client = http();
                for first in (0..per_client).step_by(BATCH) {
                    let ratings: Vec<Value> = (first..(first + BATCH).min(per_client))
                        .map(|n| rating(c, n))
                        .collect();
                    let response = client
                        .post(format!("{url}/api/v1/ratings/batch"))
                        .bearer_auth(token)
                        .json(&json!({ "ratings": ratings }))
                        .send()
                        .unwrap();
                    assert!(response.status().is_success());
                }
            });
        }
    });
}

fn held(server: &RunningServer) -> i64 {
    rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
        .unwrap()
}

/// The ratings the province took, as its writer counts them per device: cheap to ask every
/// few milliseconds, where `count(*)` reads the whole table (at a million rows, it took a
/// core's worth of the time being measured). Asked on one connection kept open: opening one
/// for each look reads the schema again, 2 % of the samples of the time being measured.
fn received(province: &rusqlite::Connection) -> i64 {
    province
        .prepare_cached("SELECT coalesce(sum(ratings_received), 0) FROM devices")
        .unwrap()
        .query_row([], |r| r.get(0))
        .unwrap()
}

/// Waits until the disk has written what the phase before left in the page cache, so that
/// its writeback does not land in the next phase's time (a baseline's million rows took the
/// forwarding from 7 s to 8-9 s).
fn written_out() {
    // SAFETY: sync takes no arguments and only flushes.
    unsafe { libc::sync() };
}

/// CPU seconds this process has used so far, on every thread (those ended too).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn main() {
    let total: usize = std::env::var("FORWARD_RATINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let per_client = total / CLIENTS;
    let total = per_client * CLIENTS;
    let dir = tempfile::tempdir().unwrap();
    let province = RunningServer::start(&dir.path().join("province.db"));
    let commune = RunningServer::start(&dir.path().join("commune.db"));
    commune.command(&["unit", "UBND xã Tân Phú"]);
    let started = Instant::now();
    fill(&commune, CLIENTS, per_client);
    println!(
        "a commune's backlog: {total} ratings from {CLIENTS} tablets taken in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The baseline: the same rows straight to a province, as many batches at once as the
    // forwarder keeps in flight.
    written_out();
    let direct = RunningServer::start(&dir.path().join("direct.db"));
    let started = Instant::now();
    fill(&direct, IN_FLIGHT, total / IN_FLIGHT);
    let baseline = total as f64 / started.elapsed().as_secs_f64();
    drop(direct);
    written_out();

    let code = province.last_line(&[
        "pair",
        "--commune",
        "Xã Tân Phú",
        "--unit-code",
        "000.17.22.H56",
    ]);
    commune.command(&[
        "upstream",
        "pair",
        "--server",
        &province.url,
        "--code",
        &code,
    ]);
    // The forwarder looks for a province every 5 s: timed from its first batch's arrival.
    let watch = rusqlite::Connection::open(&province.db).unwrap();
    while received(&watch) == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let first = received(&watch);
    while received(&watch) < total as i64 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    assert_eq!(
        held(&province),
        total as i64,
        "the province holds each entry once"
    );
    let forwarded = (total as i64 - first) as f64 / secs;
    println!(
        "forwarded to the province in {secs:.1} s: {forwarded:.0} entries/s, {cpu:.1} CPU s \
         ({:.2} cores busy) | straight, {IN_FLIGHT} clients: {baseline:.0} ratings/s | ratio {:.2}",
        cpu / secs,
        forwarded / baseline
    );
}
