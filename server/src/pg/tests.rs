//! The PostgreSQL backend against a private PostgreSQL (started per test): the same batches
//! taken on SQLite and on PostgreSQL give the same answers and leave the same counts; the
//! schema is migrated once and a newer one is refused; ids from far-off clocks have a place.

use super::*;
use crate::db::Db;
use crate::db::testing::{batch, paired, rating, rating_with};
use crate::ingest::{Incoming, Ingested, Stored};
use chrono::{DateTime, Utc};
use hailong_core::batch::CheckedMisuse;
use hailong_testing::PrivatePostgres;
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn now() -> DateTime<Utc> {
    "2026-11-23T02:20:00Z".parse().unwrap()
}

/// Puts the SQLite database's devices in PostgreSQL too, with the same ids.
async fn copy_devices(sqlite: &std::path::Path, pg: &Pg) {
    let conn = rusqlite::Connection::open(sqlite).unwrap();
    let mut devices = conn
        .prepare("SELECT id, name, counter, token_hash, unit_code FROM devices")
        .unwrap();
    let rows = devices
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .unwrap();
    let client = pg.pool.get().await.unwrap();
    for row in rows {
        let (id, name, counter, token, unit_code) = row.unwrap();
        client
            .execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code)
                 VALUES ($1, $2, $3, $4, now(), $5) ON CONFLICT DO NOTHING",
                &[&id, &name, &counter, &token, &unit_code],
            )
            .await
            .unwrap();
    }
}

/// What a batch was answered, to compare.
fn answers(stored: &[Stored]) -> Vec<String> {
    stored
        .iter()
        .map(|s| format!("{:?} resend_after={:?}", s.results, s.resend_after))
        .collect()
}

fn misuse(id: &str) -> CheckedMisuse {
    CheckedMisuse {
        id: id.to_owned(),
        at: "2026-11-23T09:16:00+07:00".parse().unwrap(),
    }
}

/// Rows of a query, each as text, sorted: SQLite's and PostgreSQL's alike.
fn sqlite_rows(path: &std::path::Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    let columns = statement.column_count();
    let mut rows: Vec<String> = statement
        .query_map([], |r| {
            Ok((0..columns)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "null".to_owned(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.sort();
    rows
}

async fn pg_rows(pg: &Pg, sql: &str) -> Vec<String> {
    let client = pg.pool.get().await.unwrap();
    // Every column read as text, booleans as SQLite keeps them.
    let sql = format!("SELECT row_to_json(q)::text FROM ({sql}) AS q");
    let mut rows: Vec<String> = client
        .query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let value: serde_json::Value = serde_json::from_str(r.get(0)).unwrap();
            value
                .as_object()
                .unwrap()
                .values()
                .map(|v| match v {
                    serde_json::Value::Null => "null".to_owned(),
                    serde_json::Value::Bool(b) => u8::from(*b).to_string(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn the_same_batches_get_the_same_answers_and_leave_the_same_counts_as_on_sqlite() {
    let postgres = PrivatePostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut db = Db::open(&path).unwrap();
    let one = paired(&mut db, "Quầy 1");
    let two = paired(&mut db, "Quầy 2");
    let rt = runtime();
    let pg = rt.block_on(Pg::connect(&postgres.url())).unwrap();
    rt.block_on(copy_devices(&path, &pg));
    db.set_notify_settings(crate::db::testing::ALERTING)
        .unwrap();
    rt.block_on(pg.set_notify_settings(crate::db::testing::ALERTING))
        .unwrap();

    let dossier = "000.17.22.H56-261123-0001";
    let unhappy = |n, dossier: Option<&str>| {
        rating_with(
            n,
            json!({"dossier_code": dossier, "level": "unsatisfied", "reasons": ["long_wait"],
                   "officer": "Lan", "field_name": "Hộ tịch", "procedure_code": "1.000894",
                   "procedure_name": "Đăng ký khai sinh"}),
        )
    };
    // A group of two tablets: a dossier rated, then again (a repeat) on both; a negative
    // with no dossier; a misuse press.
    let mut a = batch(
        &one,
        vec![
            rating(1, dossier),
            unhappy(2, Some(dossier)),
            unhappy(3, None),
        ],
    );
    a.queued = Some(4);
    a.clock_skew = Some(-700);
    a.app_version = hailong_core::wire::AppVersion::parse("0.1.0");
    let mut b = batch(&two, vec![unhappy(4, Some(dossier))]);
    b.misuse = vec![misuse("01936f6e-8b7a-7c41-9a57-100000000001")];
    // Then: a resend, a changed rating, a rejected one, a dossier left unrated, and a tablet
    // that holds receipts this server never gave (restored from a backup).
    let mut c = batch(
        &one,
        vec![
            rating(1, dossier),
            rating_with(2, json!({"dossier_code": dossier, "level": "satisfied"})),
            Ingested::Rejected {
                id: "not-a-uuid".into(),
                error: "bad_id".into(),
            },
            rating_with(
                6,
                json!({"dossier_code": "000.17.22.H56-261123-0002", "level": "not_rated"}),
            ),
        ],
    );
    c.acked_through = Some(10);
    // The press again and a new one.
    let mut d = batch(&two, vec![]);
    d.misuse = vec![
        misuse("01936f6e-8b7a-7c41-9a57-100000000001"),
        misuse("01936f6e-8b7a-7c41-9a57-100000000002"),
    ];
    let groups: [Vec<&Incoming>; 3] = [vec![&a, &b], vec![&c], vec![&d]];
    for group in &groups {
        let on_sqlite = db.ingest(group, now()).unwrap();
        let on_pg = rt.block_on(pg.ingest(group, now())).unwrap();
        assert_eq!(answers(&on_pg), answers(&on_sqlite));
    }
    // PostgreSQL took the resend (c) without looking its ids up, met the held one in the
    // ratings' index, and took it again looking them up, as the group after it (d) did.
    assert_eq!(
        pg.held_ids
            .asking
            .load(std::sync::atomic::Ordering::Relaxed),
        crate::ingest::ASK_AFTER_A_MISS - 1
    );
    let first = db.ingest(&groups[0], now()).unwrap();
    assert!(answers(&first)[0].contains("Duplicate"), "{first:?}");

    let same = |sqlite: &str, pg_sql: &str| {
        let left = sqlite_rows(&path, sqlite);
        let right = rt.block_on(pg_rows(&pg, pg_sql));
        assert!(!left.is_empty(), "{sqlite}");
        assert_eq!(right, left, "{pg_sql}");
    };
    let daily =
        "SELECT local_date::text, device_id, outcome, repeat_dossier, scale, with_dossier, n
                 FROM daily_counts";
    same(&daily.replace("::text", ""), daily);
    let groups = "SELECT dimension, local_date::text, has_key, key, label, outcome,
                      repeat_dossier, with_dossier, n FROM group_counts";
    same(&groups.replace("::text", ""), groups);
    let ratings = "SELECT id::text, device_id, local_date::text, outcome, reasons, dossier,
                       repeat_dossier, clock_skew, receipt, fingerprint FROM ratings";
    same(&ratings.replace("::text", ""), ratings);
    same(
        "SELECT rating_id, device_id, content FROM conflicts",
        "SELECT rating_id::text, device_id, content FROM conflicts",
    );
    same(
        "SELECT rating_id FROM alert_queue",
        "SELECT rating_id::text FROM alert_queue",
    );
    same(
        "SELECT id, device_id, local_date FROM misuse",
        "SELECT id, device_id, local_date::text FROM misuse",
    );
    same(
        "SELECT id, ratings_received, clock_skew_secs, queued, receipts, app_version FROM devices",
        "SELECT id, ratings_received, clock_skew_secs, queued, receipts, app_version FROM devices",
    );
    // The version a tablet said stays when its later batches (c) do not say one.
    let versions = sqlite_rows(
        &path,
        "SELECT counter, coalesce(app_version, '-') FROM devices",
    );
    assert!(
        versions.contains(&"Quầy 1|0.1.0".to_owned()),
        "{versions:?}"
    );
    assert!(versions.contains(&"Quầy 2|-".to_owned()), "{versions:?}");

    // Nothing waits to go upward until this server is paired upward. Pairing puts every entry
    // held there, in the order taken; what comes later follows; pairing again adds nothing.
    // Each entry with its place (rows are compared sorted).
    let outbox = "SELECT seq - (SELECT min(seq) FROM upstream_outbox),
                      coalesce((SELECT id FROM ratings WHERE rowid = rating_row), misuse_id)
                  FROM upstream_outbox";
    let outbox_pg = "SELECT seq - (SELECT min(seq) FROM upstream_outbox),
                         coalesce(rating_id::text, misuse_id) FROM upstream_outbox";
    assert!(sqlite_rows(&path, outbox).is_empty());
    assert!(rt.block_on(pg_rows(&pg, outbox_pg)).is_empty());
    let upstream = crate::db::testing::province_at("https://hailong.tinh.example");
    db.set_upstream(&upstream).unwrap();
    rt.block_on(pg.set_upstream(&upstream)).unwrap();
    same(outbox, outbox_pg);
    let id = |n: u32| format!("01936f6e-8b7a-7c41-9a57-{n:012}");
    let press = |n: u32| format!("01936f6e-8b7a-7c41-9a57-10000000000{n}");
    // Ratings first (by time received, then tablet, then receipt), then misuse presses.
    let held = [id(1), id(2), id(3), id(4), id(6), press(1), press(2)];
    let ids = |rows: Vec<String>| -> Vec<String> {
        let mut ids: Vec<String> = rows
            .iter()
            .map(|row| row.split_once('|').unwrap().1.to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(sqlite_rows(&path, outbox)), held);
    let presses = sqlite_rows(&path, outbox).split_off(5);
    assert_eq!(
        presses,
        [format!("5|{}", press(1)), format!("6|{}", press(2))]
    );
    let later = batch(&one, vec![rating(7, "000.17.22.H56-261123-0003")]);
    db.ingest(&[&later], now()).unwrap();
    rt.block_on(pg.ingest(&[&later], now())).unwrap();
    db.set_upstream(&upstream).unwrap();
    rt.block_on(pg.set_upstream(&upstream)).unwrap();
    same(outbox, outbox_pg);
    let rows = sqlite_rows(&path, outbox);
    assert_eq!(rows.len(), held.len() + 1);
    assert!(
        rows.contains(&format!("{}|{}", held.len(), id(7))),
        "{rows:?}"
    );

    // A commune's dossiers are its own: a tablet's rating of one the commune rated repeats
    // nothing; the tablet's second does.
    let code = db
        .new_pairing_code(
            "Xã Tân Lập",
            Some("26734"),
            std::time::Duration::from_secs(3600),
            now(),
        )
        .unwrap();
    let xa = db.pair(&code, "Xã Tân Lập", now()).unwrap().unwrap().0;
    rt.block_on(copy_devices(&path, &pg));
    let theirs = "000.17.22.H56-261123-0004";
    let from_commune = batch(&xa, vec![rating(8, theirs)]);
    let from_tablet = batch(&one, vec![rating(9, theirs), rating(10, theirs)]);
    for group in [[&from_commune], [&from_tablet]] {
        let on_sqlite = db.ingest(&group, now()).unwrap();
        let on_pg = rt.block_on(pg.ingest(&group, now())).unwrap();
        assert_eq!(answers(&on_pg), answers(&on_sqlite));
    }
    let repeats = format!("SELECT seq, repeat_dossier FROM ratings WHERE dossier = '{theirs}'");
    assert_eq!(
        sqlite_rows(&path, &repeats),
        ["10|1", "8|0", "9|0"],
        "sorted as text"
    );
    same(&repeats, &repeats);
    drop(postgres);
}

#[test]
fn the_schema_is_made_once_a_newer_one_is_refused_and_every_id_has_a_partition() {
    let postgres = PrivatePostgres::start().unwrap();
    let url = postgres.create_database("province").unwrap();
    let rt = runtime();
    let pg = rt.block_on(Pg::connect(&url)).unwrap();
    let again = rt.block_on(Pg::connect(&url)).unwrap();
    let versions = rt.block_on(pg_rows(
        &again,
        "SELECT to_char(version, 'FM00') FROM schema_migrations",
    ));
    assert_eq!(
        versions,
        ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"],
        "migrated once"
    );

    // Ids from a clock in 1970, in the partitions' years, and past 2040 are all kept.
    rt.block_on(async {
        let client = pg.pool.get().await.unwrap();
        client
            .execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at)
                 VALUES ('d', 'd', 'Quầy 1', 'h', now())",
                &[],
            )
            .await
            .unwrap();
    });
    let ids = [
        "00000000-0001-7000-8000-000000000000",
        "01936f6e-8b7a-7c41-9a57-000000000001",
        "ffffffff-ffff-7fff-bfff-ffffffffffff",
    ];
    let items = ids
        .iter()
        .map(|id| rating_with(0, json!({ "id": id })))
        .collect();
    let stored = rt
        .block_on(pg.ingest(&[&batch("d", items)], now()))
        .unwrap();
    assert!(
        answers(&stored)[0].matches("Accepted").count() == 3,
        "{stored:?}"
    );
    let places = rt.block_on(pg_rows(&pg, "SELECT tableoid::regclass::text FROM ratings"));
    assert_eq!(places, ["ratings_2024", "ratings_after", "ratings_before"]);

    // A device this database does not know fails the batch, and nothing of it is kept.
    let unknown = rt.block_on(pg.ingest(
        &[&batch(
            "nobody",
            vec![rating(9, "000.17.22.H56-261123-0009")],
        )],
        now(),
    ));
    assert!(matches!(unknown, Err(PgError::NoSuchDevice(d)) if d == "nobody"));

    rt.block_on(async {
        let client = pg.pool.get().await.unwrap();
        client
            .execute("INSERT INTO schema_migrations (version) VALUES (99)", &[])
            .await
            .unwrap();
    });
    let newer = rt.block_on(Pg::connect(&url));
    assert!(
        matches!(newer, Err(PgError::Newer(99, 10))),
        "{:?}",
        newer.err()
    );
}

#[test]
fn migration_10_forgets_the_dossiers_only_communes_rated_and_keeps_every_rating() {
    let postgres = PrivatePostgres::start().unwrap();
    let url = postgres.create_database("province").unwrap();
    let rt = runtime();
    let before = rt.block_on(Pg::connect_upto(&url, 9)).unwrap();
    rt.block_on(async {
        let client = before.pool.get().await.unwrap();
        client
            .batch_execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code) VALUES
                     ('quay', 'Quầy 1', 'Quầy 1', 'h1', now(), NULL),
                     ('xa', 'Xã Tân Lập', 'Xã Tân Lập', 'h2', now(), '26734');
                 INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq,
                     scale, outcome, dossier, repeat_dossier, clock_skew, fingerprint)
                 SELECT id::uuid, device, now(), '2026-11-23T09:15:02+07:00', '2026-11-23', 1,
                     3, outcome, dossier, false, false, 'f'
                 FROM (VALUES
                     ('01936f6e-8b7a-7c41-9a57-000000000001', 'quay', 'satisfied', 'A'),
                     ('01936f6e-8b7a-7c41-9a57-000000000002', 'xa', 'satisfied', 'A'),
                     ('01936f6e-8b7a-7c41-9a57-000000000003', 'xa', 'unsatisfied', 'B'),
                     ('01936f6e-8b7a-7c41-9a57-000000000004', 'quay', 'not_rated', 'C'))
                     AS r (id, device, outcome, dossier);
                 INSERT INTO rated_dossiers VALUES ('A'), ('B');",
            )
            .await
            .unwrap();
    });
    let pg = rt.block_on(Pg::connect(&url)).unwrap();
    assert_eq!(
        rt.block_on(pg_rows(&pg, "SELECT dossier FROM rated_dossiers")),
        ["A"],
        "B was rated only by the commune"
    );
    assert_eq!(
        rt.block_on(pg_rows(&pg, "SELECT count(*) FROM ratings")),
        ["4"]
    );
    let foreign_keys = "SELECT conname FROM pg_constraint
                        WHERE conrelid = 'ratings'::regclass AND contype = 'f'";
    assert!(rt.block_on(pg_rows(&pg, foreign_keys)).is_empty());
}

#[test]
fn postgresql_killed_and_restarted_while_batches_stream_in_keeps_each_rating_exactly_once() {
    let postgres = PrivatePostgres::start().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg = rt.block_on(Pg::connect(&postgres.url())).unwrap();
    rt.block_on(async {
        let client = pg.pool.get().await.unwrap();
        client
            .execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at)
                 VALUES ('xa', 'Xã', 'Quầy 1', 'h', now())",
                &[],
            )
            .await
            .unwrap();
    });
    const BATCHES: u32 = 40;
    const SIZE: u32 = 50;
    let (progress, mut answered) = tokio::sync::mpsc::unbounded_channel();
    let sender = {
        let pg = pg.clone();
        rt.spawn(async move {
            let writer = PgWriter::start(pg, Vec::new());
            let mut failures = 0;
            let mut statuses = Vec::new();
            for b in 0..BATCHES {
                // Sent again, whole, until an answer comes: as a commune server does.
                let stored = loop {
                    let items = (0..SIZE)
                        .map(|i| rating_with(b * SIZE + i + 1, json!({})))
                        .collect();
                    match writer.store(batch("xa", items)).await {
                        Some(Ok(stored)) => break stored,
                        _ => {
                            failures += 1;
                            assert!(failures < 1_000_000, "PostgreSQL never came back");
                            tokio::task::yield_now().await;
                        }
                    }
                };
                statuses.extend(stored.results.into_iter().map(|r| r.status));
                let _ = progress.send(b);
            }
            (statuses, failures)
        })
    };
    // Once a quarter of the batches are in, kill PostgreSQL as a power cut would, and start
    // it again while the rest stream in.
    while rt
        .block_on(answered.recv())
        .is_some_and(|b| b < BATCHES / 4)
    {}
    postgres.restart().unwrap();
    let (statuses, failures) = rt.block_on(sender).unwrap();
    assert!(failures > 0, "the restart was seen by the sender");
    assert_eq!(statuses.len(), (BATCHES * SIZE) as usize);
    use hailong_core::wire::Status::{Accepted, Duplicate};
    assert!(statuses.iter().all(|s| matches!(s, Accepted | Duplicate)));
    let total = (BATCHES * SIZE).to_string();
    let held = rt.block_on(pg_rows(
        &pg,
        "SELECT count(*) AS n, count(DISTINCT receipt) AS r FROM ratings",
    ));
    assert_eq!(
        held,
        [format!("{total}|{total}")],
        "each once, with its own receipt"
    );
    let device = rt.block_on(pg_rows(
        &pg,
        "SELECT ratings_received, receipts FROM devices",
    ));
    assert_eq!(device, [format!("{total}|{total}")]);
    let counted = rt.block_on(pg_rows(&pg, "SELECT sum(n) FROM daily_counts"));
    assert_eq!(counted, [total], "counted once each");
}

/// Either backend, for running the same calls on both.
enum Backend {
    Sqlite(Db),
    Postgres(Pg),
}

impl Backend {
    async fn new_code(&mut self, counter: &str, ttl_secs: u64, now: DateTime<Utc>) -> String {
        let ttl = std::time::Duration::from_secs(ttl_secs);
        match self {
            Backend::Sqlite(db) => db.new_pairing_code(counter, None, ttl, now).unwrap(),
            Backend::Postgres(pg) => pg.new_pairing_code(counter, None, ttl, now).await.unwrap(),
        }
    }
    async fn pair(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), crate::pairing::PairError> {
        self.pair_as(code, " Máy 1 ", now).await
    }
    async fn pair_as(
        &mut self,
        code: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), crate::pairing::PairError> {
        match self {
            Backend::Sqlite(db) => db.pair(code, name, now).unwrap(),
            Backend::Postgres(pg) => pg.pair(code, name, now).await.unwrap(),
        }
    }
    async fn admin_token(&mut self) -> String {
        match self {
            Backend::Sqlite(db) => db.new_admin_token("an", now()).unwrap(),
            Backend::Postgres(pg) => pg.new_admin_token("an", now()).await.unwrap(),
        }
    }
    async fn caller(&self, token: &str) -> Option<crate::db::Caller> {
        match self {
            Backend::Sqlite(db) => db.caller(token).unwrap(),
            Backend::Postgres(pg) => pg.caller(token).await.unwrap(),
        }
    }
    async fn revoke(&mut self, id: &str) -> String {
        let result = match self {
            Backend::Sqlite(db) => db.revoke(id).map_err(|e| e.to_string()),
            Backend::Postgres(pg) => pg.revoke(id).await.map_err(|e| e.to_string()),
        };
        format!("{result:?}")
    }
    async fn devices(&self) -> Vec<String> {
        let devices = match self {
            Backend::Sqlite(db) => db.devices().unwrap(),
            Backend::Postgres(pg) => pg.devices().await.unwrap(),
        };
        devices
            .iter()
            .map(|d| {
                format!(
                    "{} {} revoked={} received={} conflicts={} seen={}",
                    d.name,
                    d.counter,
                    d.revoked,
                    d.ratings_received,
                    d.conflicts,
                    d.last_seen.is_some()
                )
            })
            .collect()
    }
    async fn set_user(&mut self, name: &str, hash: &str) -> bool {
        match self {
            Backend::Sqlite(db) => db.set_user(name, hash, now()).unwrap(),
            Backend::Postgres(pg) => pg.set_user(name, hash, now()).await.unwrap(),
        }
    }
    async fn password_hash(&self, name: &str) -> Option<String> {
        match self {
            Backend::Sqlite(db) => db.password_hash(name).unwrap(),
            Backend::Postgres(pg) => pg.password_hash(name).await.unwrap(),
        }
    }
    async fn new_session(&mut self, name: &str) -> String {
        match self {
            Backend::Sqlite(db) => db.new_session(name, now()).unwrap(),
            Backend::Postgres(pg) => pg.new_session(name, now()).await.unwrap(),
        }
    }
    async fn session_user(&self, token: &str, at: DateTime<Utc>) -> Option<String> {
        match self {
            Backend::Sqlite(db) => db.session_user(token, at).unwrap(),
            Backend::Postgres(pg) => pg.session_user(token, at).await.unwrap(),
        }
    }
    async fn end_session(&mut self, token: &str) {
        match self {
            Backend::Sqlite(db) => db.end_session(token).unwrap(),
            Backend::Postgres(pg) => pg.end_session(token).await.unwrap(),
        }
    }
    async fn unit(&mut self, set: Option<&str>) -> String {
        match (self, set) {
            (Backend::Sqlite(db), Some(name)) => db.set_unit_name(name).unwrap(),
            (Backend::Postgres(pg), Some(name)) => pg.set_unit_name(name).await.unwrap(),
            (Backend::Sqlite(db), None) => return db.unit_name().unwrap(),
            (Backend::Postgres(pg), None) => return pg.unit_name().await.unwrap(),
        }
        String::new()
    }
    async fn letterhead(&mut self, set: Option<&hailong_core::report::Letterhead>) -> String {
        match (self, set) {
            (Backend::Sqlite(db), Some(l)) => db.set_letterhead(l).unwrap(),
            (Backend::Postgres(pg), Some(l)) => pg.set_letterhead(l).await.unwrap(),
            (Backend::Sqlite(db), None) => return format!("{:?}", db.letterhead().unwrap()),
            (Backend::Postgres(pg), None) => {
                return format!("{:?}", pg.letterhead().await.unwrap());
            }
        }
        String::new()
    }
}

/// Pairing, callers, devices, users, sessions and settings, as a journal of what was seen;
/// ids and tokens, which differ from run to run, are left out.
async fn journal(backend: &mut Backend) -> Vec<String> {
    use crate::db::Caller;
    let mut seen = Vec::new();
    let code = backend.new_code(" Quầy 1 ", 3600, now()).await;
    let typed = code.to_lowercase().replace('-', " - ");
    let (id, lost) = backend.pair(&typed, now()).await.unwrap();
    seen.push(format!(
        "another device: {:?}",
        backend.pair_as(&code, "Máy 2", now()).await
    ));
    // The first answer lost: the same device again, a new token, the lost one refused.
    let (again, token) = backend.pair(&code, now()).await.unwrap();
    assert_eq!(again, id);
    seen.push(format!("lost token: {:?}", backend.caller(&lost).await));
    seen.push(format!(
        "unknown: {:?}",
        backend.pair("AAAA-BBBB", now()).await
    ));
    let short = backend.new_code("Quầy 2", 60, now()).await;
    let late = now() + chrono::Duration::seconds(60);
    seen.push(format!("expired: {:?}", backend.pair(&short, late).await));
    match backend.caller(&token).await {
        Some(Caller::Device { id: found, counter }) => {
            assert_eq!(found, id);
            seen.push(format!("device at {counter}"));
        }
        other => seen.push(format!("not the device: {other:?}")),
    }
    let admin = backend.admin_token().await;
    seen.push(format!("admin: {:?}", backend.caller(&admin).await));
    seen.push(format!("forged: {:?}", backend.caller("hd_forged").await));
    seen.extend(backend.devices().await);
    seen.push(format!("revoke: {}", backend.revoke(&id).await));
    seen.push(format!("revoked: {:?}", backend.caller(&token).await));
    seen.push(format!("revoke nobody: {}", backend.revoke("nobody").await));
    seen.extend(backend.devices().await);

    seen.push(format!(
        "new user: {}",
        backend.set_user("lan", "$argon2id$one").await
    ));
    seen.push(format!("hash: {:?}", backend.password_hash("lan").await));
    seen.push(format!("no user: {:?}", backend.password_hash("mai").await));
    let session = backend.new_session("lan").await;
    seen.push(format!(
        "session: {:?}",
        backend.session_user(&session, now()).await
    ));
    let expiry = now() + chrono::Duration::hours(crate::db::SESSION_HOURS);
    seen.push(format!(
        "at expiry: {:?}",
        backend.session_user(&session, expiry).await
    ));
    let other = backend.new_session("lan").await;
    backend.end_session(&other).await;
    seen.push(format!(
        "signed out: {:?}",
        backend.session_user(&other, now()).await
    ));
    seen.push(format!(
        "same user: {}",
        backend.set_user("lan", "$argon2id$two").await
    ));
    seen.push(format!(
        "new password ends it: {:?}",
        backend.session_user(&session, now()).await
    ));

    seen.push(format!("unit: {:?}", backend.unit(None).await));
    backend.unit(Some("  UBND xã Tân Lập ")).await;
    seen.push(format!("unit: {:?}", backend.unit(None).await));
    seen.push(backend.letterhead(None).await);
    let letterhead = hailong_core::report::Letterhead {
        place: Some("Tân Lập".into()),
        ..Default::default()
    };
    backend.letterhead(Some(&letterhead)).await;
    seen.push(backend.letterhead(None).await);
    seen
}

#[test]
fn devices_callers_users_sessions_and_settings_behave_the_same_on_both_backends() {
    let postgres = PrivatePostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime();
    let mut sqlite = Backend::Sqlite(Db::open(&dir.path().join("server.db")).unwrap());
    let mut pg = Backend::Postgres(rt.block_on(Pg::connect(&postgres.url())).unwrap());
    let on_sqlite = rt.block_on(journal(&mut sqlite));
    let on_pg = rt.block_on(journal(&mut pg));
    assert_eq!(on_pg, on_sqlite);
    let expected = [
        "another device: Err(Used)",
        "lost token: None",
        "unknown: Err(Unknown)",
        "expired: Err(Expired)",
        "device at Quầy 1",
        "admin: Some(Admin)",
        "forged: None",
        "Máy 1 Quầy 1 revoked=false received=0 conflicts=0 seen=false",
        "revoke: Ok(())",
        "revoked: None",
        "revoke nobody: Err(\"no device nobody\")",
        "Máy 1 Quầy 1 revoked=true received=0 conflicts=0 seen=false",
        "new user: true",
        "hash: Some(\"$argon2id$one\")",
        "no user: None",
        "session: Some(\"lan\")",
        "at expiry: None",
        "signed out: None",
        "same user: false",
        "new password ends it: None",
        "unit: \"\"",
        "unit: \"UBND xã Tân Lập\"",
    ];
    assert_eq!(on_sqlite[..expected.len()], expected);
    assert!(on_sqlite.last().unwrap().contains("Tân Lập"));
}

#[test]
fn every_figure_and_page_of_negatives_is_the_same_on_both_backends() {
    use crate::db::NegativeQuery;
    use crate::figures::Breakdowns;
    use hailong_core::period::{DateRange, ReportPeriod};
    use hailong_core::reason::Reason;
    use hailong_core::report::{Heading, Letterhead};
    let postgres = PrivatePostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut db = Db::open(&path).unwrap();
    let one = paired(&mut db, "Quầy 1");
    let two = paired(&mut db, "Quầy 2");
    // The second a commune's server, as on a province's: its negatives say so.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE devices SET unit_code = '000.17.22.H56' WHERE id = ?1",
            [&two],
        )
        .unwrap();
    let rt = runtime();
    let pg = rt.block_on(Pg::connect(&postgres.url())).unwrap();
    rt.block_on(copy_devices(&path, &pg));

    let lan = "Nguyễn Thị Lan";
    let hung = "Trần Văn Hùng";
    let item = |n: u32, fields: serde_json::Value| rating_with(n, fields);
    let mut first = batch(
        &one,
        vec![
            item(
                1,
                json!({"officer": lan, "field_name": "Hộ tịch", "procedure_code": "1.000894",
                "procedure_name": "Đăng ký khai sinh", "dossier_code": "000.17.22.H56-261001-0001",
                "created_at": "2026-10-02T08:00:00+07:00"}),
            ),
            item(
                2,
                json!({"officer": lan, "field_name": "Hộ tịch", "level": "unsatisfied",
                "reasons": ["late", "long_wait"], "comment": "Chờ lâu",
                "created_at": "2026-10-03T09:00:00+07:00"}),
            ),
            item(
                3,
                json!({"officer": hung, "field_name": "Chứng thực", "level": "unsatisfied",
                "reasons": ["late"], "dossier_code": "000.17.22.H56-261101-0002",
                "procedure_code": "2.000815", "procedure_name": "Chứng thực bản sao",
                "created_at": "2026-11-05T10:00:00+07:00"}),
            ),
            // The same dossier again: a repeat, counted apart, not a negative on the page.
            item(
                4,
                json!({"officer": hung, "field_name": "Chứng thực", "level": "unsatisfied",
                "reasons": ["attitude"], "dossier_code": "000.17.22.H56-261101-0002",
                "created_at": "2026-11-05T10:05:00+07:00"}),
            ),
            item(
                5,
                json!({"level": "not_rated", "officer": lan,
                "dossier_code": "000.17.22.H56-261101-0003",
                "created_at": "2026-11-06T10:00:00+07:00"}),
            ),
        ],
    );
    first.misuse = vec![misuse("01936f6e-8b7a-7c41-9a57-100000000001")];
    let second = batch(
        &two,
        vec![
            item(
                6,
                json!({"scale": 5, "level": "very_unsatisfied", "reasons": ["unclear_guidance"],
                "created_at": "2026-11-23T09:00:00+07:00"}),
            ),
            item(
                7,
                json!({"officer": lan, "level": "very_satisfied",
                "created_at": "2026-11-24T09:00:00+07:00"}),
            ),
        ],
    );
    for group in [vec![&first], vec![&second]] {
        db.ingest(&group, now()).unwrap();
        rt.block_on(pg.ingest(&group, now())).unwrap();
    }

    let year = ReportPeriod::Year(2026).range();
    let november = ReportPeriod::Month {
        year: 2026,
        month: 11,
    };
    let same = |what: &str, sqlite: String, postgres: String| {
        assert_eq!(postgres, sqlite, "{what}");
    };
    // Every device's figures, and each one's own.
    let scopes = [None, Some(one.as_str()), Some(two.as_str())];
    for device in scopes {
        same(
            &format!("totals of {device:?}"),
            format!("{:?}", db.totals(year.from, year.to, device).unwrap()),
            format!(
                "{:?}",
                rt.block_on(pg.totals(year.from, year.to, device)).unwrap()
            ),
        );
    }
    same(
        "summary",
        format!("{:?}", db.summary(year.from, year.to).unwrap()),
        format!("{:?}", rt.block_on(pg.summary(year.from, year.to)).unwrap()),
    );
    let all = DateRange::all();
    for device in scopes {
        same(
            &format!("months of all time of {device:?}"),
            format!("{:?}", db.monthly(all.from, all.to, device).unwrap()),
            format!(
                "{:?}",
                rt.block_on(pg.monthly(all.from, all.to, device)).unwrap()
            ),
        );
    }
    for (period, device) in [
        (ReportPeriod::Year(2026), None),
        (november, None),
        (ReportPeriod::Range(all), None),
        (ReportPeriod::Year(2026), Some(one.as_str())),
        (november, Some(two.as_str())),
    ] {
        let heading = Heading {
            unit: "UBND xã Tân Phú".into(),
            period,
            made_at: "2026-12-01T08:00:00+07:00".into(),
            letterhead: Letterhead::default(),
        };
        for breakdowns in [Breakdowns::Officers, Breakdowns::Fields] {
            same(
                &format!("pages' report of {device:?}, {breakdowns:?}"),
                format!(
                    "{:?}",
                    db.page_report(heading.clone(), device, breakdowns).unwrap()
                ),
                format!(
                    "{:?}",
                    rt.block_on(pg.page_report(heading.clone(), device, breakdowns))
                        .unwrap()
                ),
            );
        }
    }
    let queries = [
        NegativeQuery {
            limit: 50,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            limit: 1,
            offset: 1,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            reason: Some(Reason::Late),
            officer: Some(lan.into()),
            limit: 50,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            field: Some("Chứng thực".into()),
            limit: 50,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            limit: 50,
            offset: 50,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            device: Some(one.clone()),
            reason: Some(Reason::Late),
            limit: 50,
            ..NegativeQuery::default()
        },
        NegativeQuery {
            device: Some(two.clone()),
            limit: 50,
            ..NegativeQuery::default()
        },
    ];
    for query in &queries {
        same(
            &format!("negatives {query:?}"),
            format!("{:?}", db.negatives_page(year, query).unwrap()),
            format!("{:?}", rt.block_on(pg.negatives_page(year, query)).unwrap()),
        );
    }
    // The fixture is what it says.
    let every = db.negatives_page(year, &queries[0]).unwrap();
    assert_eq!(every.total, 3, "{every:?}");
    assert_eq!(every.officers, [lan, hung]);
    let communes: Vec<Option<&str>> = every.rows.iter().map(|n| n.commune.as_deref()).collect();
    assert_eq!(
        communes,
        [Some("Quầy 2"), None, None],
        "the commune's, newest"
    );
    let theirs = db.negatives_page(year, &queries[6]).unwrap();
    assert_eq!((theirs.total, theirs.officers.len()), (1, 1), "{theirs:?}");
    let totals = db.totals(year.from, year.to, None).unwrap();
    assert_eq!(
        (
            totals.counts.repeat_dossier,
            totals.counts.unrated,
            totals.counts.misuse
        ),
        (1, 1, 1)
    );
    assert!(rt.block_on(pg.any_five_level()).unwrap());
}

#[test]
fn the_notifier_queue_and_the_report_files_read_the_same_from_both_backends() {
    use crate::notify::{Notifier, NotifyStore};
    use hailong_core::period::ReportPeriod;
    let postgres = PrivatePostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let mut db = Db::open(&path).unwrap();
    let one = paired(&mut db, "Quầy 1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pg = rt.block_on(Pg::connect(&postgres.url())).unwrap();
    rt.block_on(copy_devices(&path, &pg));
    db.set_notify_settings(crate::db::testing::ALERTING)
        .unwrap();
    rt.block_on(pg.set_notify_settings(crate::db::testing::ALERTING))
        .unwrap();
    let negative = |n: u32, at: &str| {
        rating_with(
            n,
            json!({"level": "unsatisfied", "reasons": ["long_wait"], "officer": "Lan",
                   "created_at": at}),
        )
    };
    let items = || {
        vec![
            negative(1, "2026-10-30T09:00:00+07:00"),
            negative(2, "2026-11-02T09:00:00+07:00"),
            rating_with(3, json!({"created_at": "2026-11-03T09:00:00+07:00"})),
        ]
    };
    db.ingest(&[&batch(&one, items())], now()).unwrap();
    rt.block_on(pg.ingest(&[&batch(&one, items())], now()))
        .unwrap();
    let blocking = super::Blocking::new(pg.clone(), rt.handle().clone());

    // The report files read from each: the same report, negatives listed in order.
    for period in [
        ReportPeriod::Month {
            year: 2026,
            month: 11,
        },
        ReportPeriod::Year(2026),
    ] {
        let heading = crate::state::heading("UBND xã A".into(), Default::default(), period);
        let from_sqlite = hailong_report::report(&db, heading.clone()).unwrap();
        let from_pg = hailong_report::report(&blocking, heading).unwrap();
        assert_eq!(from_pg, from_sqlite, "{period:?}");
    }

    // The queue, step by step, on both.
    let journal = |store: &mut dyn NotifyStore| {
        let mut seen = Vec::new();
        let queued = store.queued_alerts(10).unwrap();
        seen.push(format!(
            "{:?}",
            queued.iter().map(|e| &e.at).collect::<Vec<_>>()
        ));
        let ids: Vec<String> = queued.iter().map(|e| e.id.clone()).take(1).collect();
        let message = [("webhook".to_owned(), "alert".to_owned(), "{}".to_owned())];
        store.take_alerts(&ids, &message, now()).unwrap();
        seen.push(format!("left: {}", store.queued_alerts(10).unwrap().len()));
        seen.push(format!(
            "queued: {}",
            store.report_queued("2026-10").unwrap()
        ));
        let report = [("smtp".to_owned(), "report".to_owned(), "{}".to_owned())];
        store.queue_report("2026-10", &report, now()).unwrap();
        store.queue_report("2026-10", &[], now()).unwrap();
        seen.push(format!(
            "queued: {}",
            store.report_queued("2026-10").unwrap()
        ));
        let due = store.due_notifications(now()).unwrap();
        seen.push(format!(
            "due: {:?}",
            due.iter()
                .map(|d| (&d.kind, d.attempts))
                .collect::<Vec<_>>()
        ));
        let retry = now() + chrono::Duration::minutes(5);
        store.mark_failed(due[0].id, "refused", retry).unwrap();
        store.mark_sent(due[1].id, now()).unwrap();
        seen.push(format!("next: {:?}", store.next_due().unwrap()));
        seen.push(format!(
            "due now: {}",
            store.due_notifications(now()).unwrap().len()
        ));
        let later = store.due_notifications(retry).unwrap();
        seen.push(format!(
            "due later: {:?}",
            later.iter().map(|d| d.attempts).collect::<Vec<_>>()
        ));
        seen
    };
    let mut sqlite_store = Db::open(&path).unwrap();
    let mut pg_store = blocking.clone();
    let on_sqlite = journal(&mut sqlite_store);
    let on_pg = journal(&mut pg_store);
    assert_eq!(on_pg, on_sqlite);
    assert_eq!(on_sqlite[1], "left: 1");
    assert_eq!(on_sqlite[4], "due: [(\"alert\", 0), (\"report\", 0)]");
    assert_eq!(on_sqlite[7], "due later: [1]");
    let state = format!("{:?}", db.queue_state().unwrap());
    assert_eq!(
        format!("{:?}", rt.block_on(pg.queue_state()).unwrap()),
        state
    );

    // The notifier itself on PostgreSQL: with alerts turned off, the last alert leaves the
    // queue and nothing is sent.
    rt.block_on(pg.set_notify_settings(r#"{"alerts": false}"#))
        .unwrap();
    let mut notifier = Notifier::new(Box::new(blocking.clone()));
    let round = notifier.round(chrono::Local::now()).unwrap();
    assert_eq!((round.alerted, round.sent), (0, 0));
    assert!(rt.block_on(pg.queued_alerts(10)).unwrap().is_empty());
}

#[test]
fn an_unreachable_database_is_said_once_with_its_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://hailong@127.0.0.1:{port}/hailong");
    let error = runtime()
        .block_on(Pg::connect(&url))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("Connection refused"), "{error}");
    assert_eq!(error.matches("error connecting").count(), 1, "{error}");
    let bad = runtime().block_on(Pg::connect("mysql://x")).err().unwrap();
    assert!(matches!(bad, PgError::Url(_)), "{bad}");
}

#[test]
fn serving_postgresql_with_scheduled_backups_is_refused_with_the_reason() {
    let postgres = PrivatePostgres::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let served = rt.block_on(async {
        let storage = crate::Storage::postgres(&postgres.url(), dir.path())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = crate::Config {
            backups: Some(crate::backups::Schedule {
                dir: dir.path().join("backups"),
                every: std::time::Duration::from_secs(3600),
                keep: 3,
            }),
            ..crate::Config::default()
        };
        crate::run(listener, storage, config, std::future::pending()).await
    });
    let refused = served.err().unwrap();
    assert!(matches!(refused, crate::ServeError::BackupsOnPostgres));
    assert!(refused.to_string().contains("pg_dump"), "{refused}");
}

#[test]
fn tls_to_the_database_checks_its_certificate_and_a_plain_url_stays_plain() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = crate::db::testing::certificate_authority(dir.path(), "tinh");
    let (other_ca, _, _) = crate::db::testing::certificate_authority(dir.path(), "other");
    let postgres = PrivatePostgres::start_with_tls(
        &std::fs::read_to_string(&cert).unwrap(),
        &std::fs::read_to_string(&key).unwrap(),
    )
    .unwrap();
    let url = postgres.url();
    let rt = runtime();
    let encrypted = |pg: &Pg| -> bool {
        rt.block_on(async {
            let client = pg.pool.get().await.unwrap();
            client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap()
                .get(0)
        })
    };
    let root = |ca: &std::path::Path| ca.to_str().unwrap().replace('/', "%2F");

    // Checked against the province's own CA: encrypted, and the schema made through it.
    let pg = rt
        .block_on(Pg::connect(&format!(
            "{url}?sslmode=verify-full&sslrootcert={}",
            root(&ca)
        )))
        .unwrap();
    assert!(encrypted(&pg));
    // A server whose certificate another CA signed, or one only the system would have to
    // vouch for, is refused, whatever the mode says.
    for refused in [
        format!("{url}?sslmode=verify-full&sslrootcert={}", root(&other_ca)),
        format!("{url}?sslmode=require"),
    ] {
        let error = rt
            .block_on(Pg::connect(&refused))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.to_lowercase().contains("certificate"),
            "{refused}: {error}"
        );
    }
    // No sslmode: plain, as before (a database on the same machine).
    let plain = rt.block_on(Pg::connect(&url)).unwrap();
    assert!(!encrypted(&plain));
}
