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
        .prepare("SELECT id, name, counter, token_hash FROM devices")
        .unwrap();
    let rows = devices
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    let client = pg.pool.get().await.unwrap();
    for row in rows {
        let (id, name, counter, token) = row.unwrap();
        client
            .execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at)
                 VALUES ($1, $2, $3, $4, now())",
                &[&id, &name, &counter, &token],
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
        "SELECT id, ratings_received, clock_skew_secs, queued, receipts FROM devices",
        "SELECT id, ratings_received, clock_skew_secs, queued, receipts FROM devices",
    );
    drop(postgres);
}

#[test]
fn the_schema_is_made_once_a_newer_one_is_refused_and_every_id_has_a_partition() {
    let postgres = PrivatePostgres::start().unwrap();
    let url = postgres.create_database("province").unwrap();
    let rt = runtime();
    let pg = rt.block_on(Pg::connect(&url)).unwrap();
    let again = rt.block_on(Pg::connect(&url)).unwrap();
    let versions = rt.block_on(pg_rows(&again, "SELECT version FROM schema_migrations"));
    assert_eq!(versions, ["1"], "migrated once");

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
        matches!(newer, Err(PgError::Newer(99, 1))),
        "{:?}",
        newer.err()
    );
}

#[test]
fn postgresql_killed_and_restarted_while_batches_stream_in_keeps_each_rating_exactly_once() {
    let mut postgres = PrivatePostgres::start().unwrap();
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
            let writer = PgWriter::start(pg);
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
