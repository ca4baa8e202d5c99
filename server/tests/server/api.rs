//! The real server on a loopback port with a real SQLite file: pairing, batch semantics, every
//! error status, the summary, and the binary's clean stop on SIGTERM.

use crate::http::http;
use crate::process::ServerProcess;
use crate::running::RunningServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;

/// The server on its own database in a temporary folder (removed after the server stops).
pub(crate) struct Server {
    pub running: RunningServer,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let running = RunningServer::start(&dir.path().join("server.db"));
        Server { running, _dir: dir }
    }

    /// Kills it (a crash) and starts it again on the same port and data.
    pub(crate) fn restart(self) -> Server {
        let Server { running, _dir } = self;
        Server {
            running: running.restart(),
            _dir,
        }
    }

    /// Kills it where it stands, as a crash would.
    pub(crate) fn kill(&mut self) {
        self.running.kill();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url)
    }

    pub(crate) fn cli(&self, args: &[&str]) -> String {
        self.running.command(args)
    }

    pub(crate) fn pairing_code(&self, counter: &str) -> String {
        self.running.pairing_code(counter)
    }

    pub(crate) fn admin_token(&self) -> String {
        self.running.last_line(&["admin-token"])
    }

    pub(crate) fn pair(&self, code: &str) -> (StatusCode, Value) {
        self.pair_as(code, "Máy tính bảng quầy 1")
    }

    /// Pairs with `code` as a device called `name`.
    pub(crate) fn pair_as(&self, code: &str, name: &str) -> (StatusCode, Value) {
        let response = http()
            .post(self.url("/api/v1/devices/pair"))
            .json(&json!({"code": code, "device_name": name}))
            .send()
            .unwrap();
        (response.status(), response.json().unwrap_or(Value::Null))
    }

    /// A paired device's token.
    pub(crate) fn device(&self, counter: &str) -> String {
        let (status, body) = self.pair(&self.pairing_code(counter));
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn send(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let response = http()
            .post(self.url("/api/v1/ratings/batch"))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap();
        (response.status(), response.json().unwrap_or(Value::Null))
    }

    pub(crate) fn statuses(&self, token: &str, ratings: Vec<Value>) -> Vec<String> {
        let (status, body) = self.send(token, &json!({ "ratings": ratings }));
        assert_eq!(status, StatusCode::OK, "{body}");
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .collect()
    }

    /// `GET path` with a bearer token.
    pub(crate) fn get(&self, path: &str, token: &str) -> reqwest::blocking::Response {
        http()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    /// The one value `query` gives on this server's database, SQLite or PostgreSQL (write it
    /// in SQL both read).
    pub(crate) fn sql<T: Cell>(&self, query: &str) -> T {
        value(&self.running, query)
    }

    /// Runs a statement on this server's database, SQLite or PostgreSQL.
    pub(crate) fn execute(&self, statement: &str) {
        match &self.running.postgres {
            None => {
                rusqlite::Connection::open(&self.running.db)
                    .unwrap()
                    .execute(statement, [])
                    .unwrap();
            }
            Some(url) => {
                pg_run(url, statement);
            }
        }
    }

    /// Stops this server and starts the real binary on the same database, for what only a
    /// process shows (SIGTERM, SIGKILL).
    pub(crate) fn into_process(self) -> (ServerProcess, tempfile::TempDir) {
        let Server { mut running, _dir } = self;
        running.stop();
        let process = ServerProcess::start(
            std::path::Path::new(env!("CARGO_BIN_EXE_hailong-server")),
            &running.db,
        );
        (process, _dir)
    }
}

/// The one value `query` gives on `server`'s database, SQLite or PostgreSQL (write it in SQL
/// both read).
pub(crate) fn value<T: Cell>(server: &RunningServer, query: &str) -> T {
    match &server.postgres {
        None => sql(&server.db, query),
        Some(url) => pg_sql(url, query),
    }
}

/// A value a test reads from either backend.
pub(crate) trait Cell: rusqlite::types::FromSql {
    /// From PostgreSQL's JSON of it (a boolean reads as 1 or 0, as SQLite keeps it).
    fn from_json(value: Value) -> Self;
}

impl Cell for i64 {
    fn from_json(value: Value) -> i64 {
        match value {
            Value::Bool(b) => i64::from(b),
            Value::Number(n) => n.as_i64().expect("an integer"),
            other => panic!("not an integer: {other}"),
        }
    }
}

impl Cell for String {
    fn from_json(value: Value) -> String {
        match value {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

/// Runs `work` with a connection to the PostgreSQL database at `url`.
fn with_pg<T>(url: &str, work: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        work(&client).await
    })
}

/// The one value `query` gives on the PostgreSQL database at `url`.
pub(crate) fn pg_sql<T: Cell>(url: &str, query: &str) -> T {
    let json: String = with_pg(url, async |client| {
        let row = client
            .query_one(
                &format!("SELECT row_to_json(q)::text FROM ({query}) AS q"),
                &[],
            )
            .await
            .unwrap();
        row.get(0)
    });
    let object: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
    T::from_json(object.into_iter().next().expect("a column").1)
}

fn pg_run(url: &str, statement: &str) {
    with_pg(url, async |client| {
        client.execute(statement, &[]).await.unwrap();
    });
}

/// The one value `query` gives on the database `db`.
pub(crate) fn sql<T: rusqlite::types::FromSql>(db: &std::path::Path, query: &str) -> T {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(query, [], |r| r.get(0))
        .unwrap()
}

/// One time for every rating of a test run, so a resend is identical.
pub(crate) fn created_at() -> &'static str {
    static AT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AT.get_or_init(|| chrono::Local::now().fixed_offset().to_rfc3339())
}

pub(crate) fn rating(id: &str, level: &str) -> Value {
    json!({"id": id, "created_at": created_at(),
           "seq": 1, "scale": 3, "level": level, "reasons": [], "comment": null,
           "dossier_code": null, "procedure_code": "1.001193",
           "officer": "Nguyễn Văn A", "counter": "Quầy 1"})
}

pub(crate) fn id(n: u32) -> String {
    format!("01936f6e-8b7a-7c41-9a57-{n:012x}")
}

#[test]
pub(crate) fn pairing_succeeds_once_and_refuses_reuse_expiry_and_wrong_codes_then_rate_limits() {
    let server = Server::start();
    assert_eq!(
        http().get(server.url("/healthz")).send().unwrap().status(),
        StatusCode::OK
    );
    let code = server.pairing_code("Quầy 1");
    assert!(
        code.len() >= 8 && !code.contains(['0', 'O', '1', 'I']),
        "{code}"
    );
    let (status, body) = server.pair(&code.to_lowercase());
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["token"].as_str().unwrap().len() >= 40);
    let stored: String = server.sql("SELECT token_hash FROM devices");
    assert!(
        !stored.contains(body["token"].as_str().unwrap()),
        "only a hash is kept"
    );
    // The answer lost, the tablet sends the code again: the same device, a new token, and
    // the first one no longer works.
    let (status, again) = server.pair(&code);
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["device_id"], body["device_id"]);
    let (first, second) = (
        body["token"].as_str().unwrap(),
        again["token"].as_str().unwrap(),
    );
    assert_ne!(first, second);
    let one = json!({"ratings": [rating(&id(1), "satisfied")]});
    assert_eq!(server.send(first, &one).0, StatusCode::UNAUTHORIZED);
    assert_eq!(server.send(second, &one).0, StatusCode::OK);
    let devices: i64 = server.sql("SELECT count(*) FROM devices");
    assert_eq!(devices, 1);
    // Another device with the same code: used.
    assert_eq!(server.pair_as(&code, "Máy khác").0, StatusCode::GONE);

    let expired = server.pairing_code("Quầy 2");
    server.execute(
        "UPDATE pairing_codes SET expires_at = '2020-01-01T00:00:00+00:00' WHERE used_at IS NULL",
    );
    assert_eq!(server.pair(&expired).0, StatusCode::GONE);

    // Two refusals so far; three wrong codes reach the limit of five.
    for _ in 0..3 {
        assert_eq!(server.pair("WRONGCODE2").0, StatusCode::UNAUTHORIZED);
    }
    let good = server.pairing_code("Quầy 3");
    let (status, body) = server.pair(&good);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"].is_string());
}

#[test]
pub(crate) fn a_passs_batches_are_written_in_their_order_whichever_arrives_first() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let part = |n: u32, part: u32| {
        let mut rating = rating(&id(n), "satisfied");
        rating["seq"] = json!(n);
        rating["dossier_code"] = json!("000.00.14.H56-200203-0119");
        json!({"ratings": [rating], "order": {"pass": 77, "part": part}})
    };
    let (first, second) = std::thread::scope(|s| {
        // Part 1 arrives first: it waits, checked, for part 0.
        let (url, later, token) = (server.url("/api/v1/ratings/batch"), part(2, 1), &token);
        let second = s.spawn(move || {
            let response = http().post(url).bearer_auth(token).json(&later).send();
            let response = response.unwrap();
            (response.status(), response.json::<Value>().unwrap())
        });
        while !server
            .running
            .log
            .recv()
            .unwrap()
            .contains("a batch waits for the one before it")
        {}
        (server.send(token, &part(1, 0)), second.join().unwrap())
    });
    for (status, body) in [&first, &second] {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["in_order"], true);
    }
    assert_eq!(first.1["results"][0]["receipt"], 1);
    assert_eq!(second.1["results"][0]["receipt"], 2);
    let repeat: String = server.sql("SELECT CAST(id AS TEXT) FROM ratings WHERE repeat_dossier");
    assert_eq!(
        repeat,
        id(2),
        "the dossier's first rating in the tablet's order counts, the later one is its repeat"
    );
    // Part 1 again: it was written already, so it is out of order (409), and nothing changes.
    let (status, body) = server.send(&token, &part(3, 1));
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].is_string());
    let held: i64 = server.sql("SELECT count(*) FROM ratings");
    assert_eq!(held, 2);
    // An unreadable place is refused whole; a new pass starts at its part 0.
    let mut bad = part(3, 0);
    bad["order"] = json!({"pass": "seventy-seven", "part": 0});
    assert_eq!(server.send(&token, &bad).0, StatusCode::BAD_REQUEST);
    let mut next_pass = part(3, 0);
    next_pass["order"]["pass"] = json!(78);
    assert_eq!(server.send(&token, &next_pass).0, StatusCode::OK);
}

#[test]
pub(crate) fn a_batch_accepts_dedupes_logs_conflicts_rejects_and_flags_repeats_and_skew() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    assert_eq!(
        server.statuses(
            &token,
            vec![
                rating(&id(1), "very_satisfied"),
                rating(&id(2), "satisfied")
            ]
        ),
        ["accepted", "accepted"]
    );
    // A resend is a duplicate; the same id with other content is a conflict, the first stands.
    let mut changed = rating(&id(2), "unsatisfied");
    changed["reasons"] = json!(["late"]);
    let mut bad_reason = rating(&id(4), "unsatisfied");
    bad_reason["reasons"] = json!(["rude"]);
    let results = server.statuses(
        &token,
        vec![
            rating(&id(1), "very_satisfied"),
            changed,
            rating(&id(3), "happy"),
            bad_reason,
            json!({"level": "satisfied"}),
            json!("not an object"),
            rating(&id(5), "satisfied"),
        ],
    );
    assert_eq!(
        results,
        [
            "duplicate",
            "conflict",
            "rejected",
            "rejected",
            "rejected",
            "rejected",
            "accepted"
        ]
    );
    let (_, body) = server.send(&token, &json!({"ratings": [rating(&id(3), "happy")]}));
    assert_eq!(body["results"][0]["error"], "bad_level");
    assert_eq!(body["results"][0]["id"], id(3));
    assert_eq!(server.sql::<i64>("SELECT count(*) FROM ratings"), 3);
    assert_eq!(
        server.sql::<String>(
            "SELECT outcome FROM ratings
             WHERE CAST(id AS TEXT) = '01936f6e-8b7a-7c41-9a57-000000000002'"
        ),
        "satisfied"
    );
    assert_eq!(server.sql::<i64>("SELECT count(*) FROM conflicts"), 1);

    // The same dossier from another counter's tablet: kept, flagged, not counted.
    let other = server.device("Quầy 2");
    let mut first = rating(&id(6), "satisfied");
    first["dossier_code"] = json!("000.00.14.H56-200203-0118");
    let mut second = rating(&id(7), "unsatisfied");
    second["dossier_code"] = json!("000.00.14.h56-200203-0118");
    assert_eq!(server.statuses(&token, vec![first]), ["accepted"]);
    assert_eq!(server.statuses(&other, vec![second]), ["accepted"]);
    assert_eq!(
        server.sql::<i64>(
            "SELECT repeat_dossier FROM ratings WHERE CAST(id AS TEXT) LIKE '%000000000007'"
        ),
        1
    );

    // A tablet whose clock is years behind, as its batch's `sent_at` shows: the rating is kept
    // and flagged, and the tablet's skew is its clock's.
    let mut skewed = rating(&id(8), "very_satisfied");
    skewed["created_at"] = json!("2020-01-01T09:00:00+07:00");
    let batch = json!({"ratings": [skewed], "sent_at": "2020-01-01T09:00:05+07:00"});
    let (status, body) = server.send(&token, &batch);
    assert_eq!(
        (status, &body["results"][0]["status"]),
        (StatusCode::OK, &json!("accepted"))
    );
    assert_eq!(
        server.sql::<i64>(
            "SELECT clock_skew FROM ratings WHERE CAST(id AS TEXT) LIKE '%000000000008'"
        ),
        1
    );
    let skew_of = |rating: &str| {
        server.sql::<i64>(&format!(
            "SELECT clock_skew_secs FROM devices
             WHERE id = (SELECT device_id FROM ratings WHERE CAST(id AS TEXT) LIKE '%{rating}')"
        ))
    };
    assert!(skew_of("000000000008") < -5 * 365 * 86_400);
    assert_eq!(
        server.sql::<i64>(
            "SELECT clock_skew FROM ratings WHERE CAST(id AS TEXT) LIKE '%000000000001'"
        ),
        0
    );

    // Misuse presses ride along: kept once each, a malformed one dropped, all acknowledged.
    let presses = json!([
        {"id": id(20), "created_at": created_at()},
        {"id": id(21), "created_at": created_at()},
        {"id": "not-a-uuid", "created_at": created_at()},
    ]);
    for _ in 0..2 {
        let (status, body) = server.send(&other, &json!({"ratings": [], "misuse": presses}));
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["misuse_received"], 3);
        assert_eq!(body["results"], json!([]));
    }
    assert_eq!(server.sql::<i64>("SELECT count(*) FROM misuse"), 2);

    let admin = server.admin_token();
    let summary: Value = server
        .get("/api/v1/summary?from=2026-01-01&to=2099-12-31", &admin)
        .json()
        .unwrap();
    assert_eq!(summary["total"], 4, "{summary}");
    assert_eq!(summary["repeat_dossier"], 1);
    assert_eq!(summary["misuse"], 2);
    assert_eq!(summary["levels"]["very_satisfied"], 1);
    let devices = summary["by_device"].as_array().unwrap();
    let totals: Vec<(&str, u64)> = devices
        .iter()
        .map(|d| (d["counter"].as_str().unwrap(), d["total"].as_u64().unwrap()))
        .collect();
    assert!(
        totals.contains(&("Quầy 1", 4)) && totals.contains(&("Quầy 2", 0)),
        "{totals:?}"
    );
    let misuse: Vec<(&str, u64)> = devices
        .iter()
        .map(|d| {
            (
                d["counter"].as_str().unwrap(),
                d["misuse"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        misuse.contains(&("Quầy 1", 0)) && misuse.contains(&("Quầy 2", 2)),
        "{misuse:?}"
    );
    assert_eq!(summary["by_officer"][0]["officer"], "Nguyễn Văn A");
    // With no dates the summary is of all time: the skewed rating of 2020 is in it too.
    let all_time: Value = server.get("/api/v1/summary", &admin).json().unwrap();
    assert_eq!(all_time["total"], 5, "{all_time}");
    assert_eq!(all_time["levels"]["very_satisfied"], 2);

    // A backlog: a rating made three hours ago, sent by a tablet whose clock is right. Its age
    // is not clock skew: not flagged, and the tablet's skew is about zero.
    let mut old = rating(&id(9), "satisfied");
    let three_hours_ago = chrono::Local::now() - chrono::Duration::hours(3);
    old["created_at"] = json!(three_hours_ago.fixed_offset().to_rfc3339());
    let now = chrono::Local::now().fixed_offset().to_rfc3339();
    let (status, _) = server.send(&token, &json!({"ratings": [old], "sent_at": now}));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.sql::<i64>(
            "SELECT clock_skew FROM ratings WHERE CAST(id AS TEXT) LIKE '%000000000009'"
        ),
        0
    );
    assert!(
        skew_of("000000000009").abs() <= 5,
        "{}",
        skew_of("000000000009")
    );
    let skew_before = skew_of("000000000009");

    // A `sent_at` that is not a time is ignored: the batch is taken, the rating is not
    // flagged, and the tablet's last known skew stands.
    let unclear = rating(&id(10), "satisfied");
    let batch = json!({"ratings": [unclear], "sent_at": "yesterday"});
    let (status, body) = server.send(&token, &batch);
    assert_eq!(
        (status, &body["results"][0]["status"]),
        (StatusCode::OK, &json!("accepted"))
    );
    assert_eq!(
        server.sql::<i64>(
            "SELECT clock_skew FROM ratings WHERE CAST(id AS TEXT) LIKE '%00000000000a'"
        ),
        0
    );
    assert_eq!(skew_of("00000000000a"), skew_before);

    // A rating dated an hour ahead of the server is flagged, even from a right clock.
    let mut ahead = rating(&id(11), "satisfied");
    let in_an_hour = chrono::Local::now() + chrono::Duration::hours(1);
    ahead["created_at"] = json!(in_an_hour.fixed_offset().to_rfc3339());
    let now = chrono::Local::now().fixed_offset().to_rfc3339();
    let (status, _) = server.send(&token, &json!({"ratings": [ahead], "sent_at": now}));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server.sql::<i64>(
            "SELECT clock_skew FROM ratings WHERE CAST(id AS TEXT) LIKE '%00000000000b'"
        ),
        1
    );
}

#[test]
pub(crate) fn every_error_has_its_status_and_a_json_message() {
    let server = Server::start();
    // Command-line bad input: a pairing code that would never or always expire.
    for ttl in ["0m", "5x", "31d"] {
        let out = Command::new(env!("CARGO_BIN_EXE_hailong-server"))
            .args(["pair", "--counter", "Quầy 1", "--ttl", ttl, "--db"])
            .arg(&server.running.db)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--ttl {ttl}");
    }
    // HTTPS with a certificate but no key is a usage error; unreadable or mismatched files
    // stop the server before it listens, naming the file.
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hailong-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&server.running.db)
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(serve(&["--tls-cert", "cert.pem"]).status.code(), Some(2));
    let missing = serve(&["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "k.pem"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/cert.pem"));
    let not_pem = server.running.db.with_extension("txt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    let empty = serve(&["--tls-cert", not_pem, "--tls-key", not_pem]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("holds no certificate"));
    let token = server.device("Quầy 1");
    let admin = server.admin_token();
    let post = |token: Option<&str>, body: reqwest::blocking::Body| {
        let mut request = http()
            .post(server.url("/api/v1/ratings/batch"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().unwrap();
        let status = response.status();
        let body: Value = response.json().unwrap();
        assert!(body["error"].is_string(), "{status}: {body}");
        status
    };
    assert_eq!(
        post(Some(&token), "{not json".into()),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(Some(&token), r#"{"ratings": 5}"#.into()),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(None, r#"{"ratings": []}"#.into()),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some("hd_unknown"), r#"{"ratings": []}"#.into()),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some(&admin), r#"{"ratings": []}"#.into()),
        StatusCode::FORBIDDEN
    );
    let big = format!(
        r#"{{"ratings": [], "padding": "{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    assert_eq!(
        post(Some(&token), big.into()),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let many: Vec<Value> = (0..501).map(|n| rating(&id(n), "satisfied")).collect();
    let many = serde_json::to_string(&json!({ "ratings": many })).unwrap();
    assert_eq!(
        post(Some(&token), many.into()),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let presses: Vec<Value> = (0..1001)
        .map(|n| json!({"id": id(n), "created_at": created_at()}))
        .collect();
    let presses = serde_json::to_string(&json!({"ratings": [], "misuse": presses})).unwrap();
    assert_eq!(
        post(Some(&token), presses.into()),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(server.sql::<i64>("SELECT count(*) FROM ratings"), 0);
    assert_eq!(server.sql::<i64>("SELECT count(*) FROM misuse"), 0);

    let summary = |token: &str, query: &str| {
        server
            .get(&format!("/api/v1/summary{query}"), token)
            .status()
    };
    assert_eq!(summary(&token, ""), StatusCode::FORBIDDEN);
    assert_eq!(summary(&admin, "?from=2026-13-01"), StatusCode::BAD_REQUEST);
    assert_eq!(
        summary(&admin, "?from=2026-02-01&to=2026-01-01"),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(summary(&admin, ""), StatusCode::OK);

    // A revoked device is turned away at once.
    let device_id: String = server.sql("SELECT id FROM devices");
    server.cli(&["revoke", &device_id]);
    assert_eq!(
        post(Some(&token), r#"{"ratings": []}"#.into()),
        StatusCode::UNAUTHORIZED
    );
    assert!(server.cli(&["devices"]).contains("revoked"));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let server = Server::start();
    let token = server.device("Quầy 1");
    let (mut process, _dir) = server.into_process();
    let answer: Value = http()
        .post(format!("{}/api/v1/ratings/batch", process.url))
        .bearer_auth(&token)
        .json(&json!({ "ratings": [rating(&id(1), "satisfied")] }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["results"][0]["status"], "accepted", "{answer}");
    let log = process.stop();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
    assert_eq!(sql::<i64>(&process.db, "SELECT count(*) FROM ratings"), 1);
}

#[test]
pub(crate) fn exports_give_the_summarys_figures_in_every_format_and_refuse_bad_requests() {
    let server = Server::start();
    let device = server.device("Quầy 1");
    let mut negative = rating(&id(3), "unsatisfied");
    negative["reasons"] = json!(["late"]);
    let ratings = vec![
        rating(&id(1), "very_satisfied"),
        rating(&id(2), "satisfied"),
        negative,
    ];
    assert_eq!(server.statuses(&device, ratings), ["accepted"; 3]);
    server.cli(&["unit", "UBND xã Tân Phú"]);
    let admin = server.admin_token();
    let get = |query: &str, token: &str| server.get(&format!("/api/v1/export{query}"), token);
    let summary: Value = server.get("/api/v1/summary", &admin).json().unwrap();

    let response = get("?format=json", &admin);
    assert_eq!(response.status(), StatusCode::OK);
    let json: Value = response.json().unwrap();
    for key in [
        "total",
        "levels",
        "levels_pct",
        "satisfied_pct",
        "unrated",
        "repeat_dossier",
        "misuse",
    ] {
        assert_eq!(json[key], summary[key], "{key}");
    }
    assert_eq!(json["unit"], "UBND xã Tân Phú");
    assert_eq!(json["by_device"][0]["label"], "Quầy 1");
    assert_eq!(json["negatives"][0]["reasons"], json!(["late"]));

    let year = &created_at()[..4];
    let response = get(&format!("?format=xlsx&period={year}"), &admin);
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"hailong-{year}.xlsx\"")
    );
    let bytes = response.bytes().unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    let text = |s: &str| Some(calamine::Data::String(s.into()));
    assert_eq!(sheet.get_value((9, 4)), Some(&calamine::Data::Float(3.0)));
    assert_eq!(sheet.get_value((0, 0)).cloned(), text("UBND XÃ TÂN PHÚ"));
    let devices = book.worksheet_range("Theo quầy").unwrap();
    assert_eq!(devices.get_value((10, 1)).cloned(), text("Quầy 1"));

    // The letterhead: the body above the unit, the place, the signers.
    server.cli(&[
        "unit",
        "UBND xã Tân Phú",
        "--superior",
        "UBND tỉnh Thanh Hóa",
        "--place",
        "Tân Phú",
        "--signer",
        "Người lập biểu",
        "--signer",
        "Chủ tịch",
    ]);
    let bytes = get(&format!("?format=xlsx&period={year}"), &admin)
        .bytes()
        .unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(
        sheet.get_value((0, 0)).cloned(),
        text("UBND TỈNH THANH HÓA")
    );
    assert_eq!(sheet.get_value((1, 0)).cloned(), text("UBND XÃ TÂN PHÚ"));
    let cells: Vec<String> = sheet.used_cells().map(|(_, _, v)| v.to_string()).collect();
    for wanted in [
        "NGƯỜI LẬP BIỂU",
        "CHỦ TỊCH",
        "(Ký, ghi rõ họ tên)",
        "Nơi nhận:",
    ] {
        assert!(cells.iter().any(|c| c == wanted), "{wanted} in {cells:?}");
    }
    assert!(
        cells.iter().any(|c| c.starts_with("Tân Phú, ngày ")),
        "the place and date line in {cells:?}"
    );
    // An empty --superior takes the body above away; the signers set stay.
    server.cli(&["unit", "UBND xã Tân Phú", "--superior", ""]);
    let bytes = get(&format!("?format=xlsx&period={year}"), &admin)
        .bytes()
        .unwrap();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(sheet.get_value((0, 0)).cloned(), text("UBND XÃ TÂN PHÚ"));
    assert!(
        sheet.used_cells().any(|(_, _, v)| *v == "CHỦ TỊCH"),
        "the signers set before stay"
    );

    // The command line writes the same summary CSV the API sends.
    let out = server.running.db.with_file_name("summary.csv");
    server.cli(&[
        "export",
        "--format",
        "summary-csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    let file = std::fs::read_to_string(&out).unwrap();
    let sent = get("?format=summary-csv", &admin).text().unwrap();
    assert_eq!(file, sent);
    // Each CSV is named for what it holds; the one for people is for Vietnamese settings.
    for (format, name) in [
        ("csv", "ratings"),
        ("summary-csv", "summary"),
        ("csv-excel", "ratings-excel"),
        ("summary-csv-excel", "summary-excel"),
    ] {
        let response = get(&format!("?format={format}&period={year}"), &admin);
        assert_eq!(
            response.headers()["content-disposition"],
            format!("attachment; filename=\"hailong-{year}-{name}.csv\"").as_str()
        );
        if format == "summary-csv-excel" {
            let text = response.text().unwrap();
            assert!(
                text.lines()
                    .nth(1)
                    .unwrap()
                    .starts_with("Tổng cộng;;3;1;1;1;33,4;33,3;33,3;66,7;"),
                "{text}"
            );
            // A procedure code alone stays text in the spreadsheet.
            assert!(
                text.contains("Thủ tục hành chính;\"=\"\"1.001193\"\"\";"),
                "{text}"
            );
        }
    }
    assert!(
        file.lines().nth(1).unwrap().starts_with("total,,,3,1,1,1,"),
        "{file}"
    );

    // The PDF report, for the office to sign: named for its period, real text inside.
    let response = get(&format!("?format=pdf&period={year}"), &admin);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"hailong-{year}.pdf\"").as_str()
    );
    let pdf = response.bytes().unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF file");

    for (query, status) in [
        ("?format=docx", StatusCode::BAD_REQUEST),
        ("", StatusCode::BAD_REQUEST),
        ("?format=csv&period=2026-13", StatusCode::BAD_REQUEST),
        (
            "?format=csv&from=2026-02-01&to=2026-01-01",
            StatusCode::BAD_REQUEST,
        ),
        (
            "?format=csv&period=2026&from=2026-01-01",
            StatusCode::BAD_REQUEST,
        ),
        ("?format=csv&lang=fr", StatusCode::BAD_REQUEST),
    ] {
        let response = get(query, &admin);
        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().unwrap();
        assert!(body["error"].is_string(), "{query}: {body}");
    }
    assert_eq!(get("?format=csv", &device).status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get("?format=csv", "nonsense").status(),
        StatusCode::UNAUTHORIZED
    );
}
