//! A province's ingest on PostgreSQL: 64 communes sending batches of 500 at once through the
//! group-commit writer (the rules, one lookup round trip, binary COPY, counts upserted in the
//! same transaction), beside a raw baseline in the same bench: binary COPY of the same rows
//! into the same table and indexes, in transactions of the writer's group size, with no rules.
//! Both on a private PostgreSQL this bench starts (fsync on).
//! `cargo bench -p hailong-server --bench province_ingest` (`PROVINCE_RATINGS` to change the
//! 320,000 ratings; `PROVINCE_RUNS` for more runs).

use chrono::Utc;
use hailong_core::wire::WireRating;
use hailong_server::ingest::{Incoming, Ingested, Prepared};
use hailong_server::pg::{Pg, PgWriter};
use hailong_testing::PrivatePostgres;
use serde_json::json;
use std::pin::pin;
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// The allocator the server's binary uses (`src/main.rs`): the servers in this process run as
/// they ship.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COMMUNES: usize = 64;
const BATCH: usize = 500;
/// The writer's group: what the baseline commits at once too.
const GROUP: usize = 16 * BATCH;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Rating `n` of commune `c`, as the commune forwards it: a dossier of its own, a mix of levels,
/// officers, fields and tablets.
fn wire(c: usize, n: usize) -> WireRating {
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
    let field = ["Hộ tịch", "Chứng thực", "Đất đai"][n % 3];
    serde_json::from_value(json!({
        "id": format!("019ab0c0-{:04x}-7c41-9a57-{:012x}", n / 1_000_000, c * 10_000_000 + n),
        "created_at": "2026-11-23T09:15:02+07:00",
        "seq": n, "scale": 3, "level": level, "reasons": reasons,
        "dossier_code": format!("000.{:02}.14.H56-261123-{:05}", c % 100, n % 100_000),
        "procedure_code": "1.001193", "procedure_name": "Đăng ký khai sinh",
        "field_name": field,
        "officer": format!("Cán bộ {}", n % 7), "counter": "Quầy 1",
        "tablet": format!("{c:02}-quay-{}", n % 3)
    }))
    .unwrap()
}

fn batches(per_commune: usize) -> Vec<Vec<Incoming>> {
    (0..COMMUNES)
        .map(|c| {
            (0..per_commune / BATCH)
                .map(|b| Incoming {
                    device_id: format!("xa-{c:02}"),
                    items: (0..BATCH)
                        .map(|i| {
                            let rating = wire(c, b * BATCH + i).check().unwrap();
                            Ingested::Checked(Box::new(Prepared::new(rating)))
                        })
                        .collect(),
                    misuse: vec![],
                    queued: None,
                    clock_skew: Some(0),
                    app_version: None,
                    acked_through: None,
                    order: None,
                })
                .collect()
        })
        .collect()
}

async fn database(postgres: &PrivatePostgres, name: &str) -> tokio_postgres::Client {
    let url = postgres.create_database(name).unwrap();
    Pg::connect(&url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    for c in 0..COMMUNES {
        client
            .execute(
                "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code)
                 VALUES ($1, $1, 'Xã', $1, now(), $2)",
                &[&format!("xa-{c:02}"), &format!("{:05}", 26_000 + c)],
            )
            .await
            .unwrap();
    }
    client
}

async fn held(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM ratings", &[])
        .await
        .unwrap()
        .get(0)
}

/// Ratings per second through the writer, 64 communes at once.
async fn through_the_writer(postgres: &PrivatePostgres, run: usize, total: usize) -> f64 {
    let client = database(postgres, &format!("ingest_{run}")).await;
    let url = postgres.url_of(&format!("ingest_{run}"));
    let writer = Arc::new(PgWriter::start(
        Pg::connect(&url).await.unwrap(),
        Vec::new(),
    ));
    let communes = batches(total / COMMUNES);
    let start = Instant::now();
    let tasks: Vec<_> = communes
        .into_iter()
        .map(|batches| {
            let writer = writer.clone();
            tokio::spawn(async move {
                for batch in batches {
                    writer.store(batch).await.unwrap().unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(held(&client).await as usize, total);
    total as f64 / secs
}

/// Ratings per second by raw binary COPY of the same rows, a group per transaction.
async fn raw_copy(postgres: &PrivatePostgres, run: usize, total: usize) -> f64 {
    let mut client = database(postgres, &format!("copy_{run}")).await;
    // In the order the writer gets them: each commune's first batch, then each one's second,
    // and so on (the communes' ids interleave in the indexes, as they do through the writer);
    // with the same fingerprints as the writer keeps, worked out before the clock starts.
    let per_commune = total / COMMUNES;
    let rows: Vec<(String, WireRating, String)> = (0..per_commune / BATCH)
        .flat_map(|b| (0..COMMUNES).map(move |c| (b, c)))
        .flat_map(|(b, c)| {
            (b * BATCH..(b + 1) * BATCH).map(move |n| {
                let w = wire(c, n);
                let fingerprint = Prepared::new(w.clone().check().unwrap()).fingerprint;
                (format!("xa-{c:02}"), w, fingerprint)
            })
        })
        .collect();
    let types = [
        Type::UUID,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TEXT,
        Type::DATE,
        Type::INT8,
        Type::INT2,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
        Type::BOOL,
        Type::BOOL,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
    ];
    let now = Utc::now();
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let start = Instant::now();
    for (g, group) in rows.chunks(GROUP).enumerate() {
        let tx = client.transaction().await.unwrap();
        let sink = tx
            .copy_in(
                "COPY ratings (id, device_id, received_at, created_at, local_date, seq, scale,
                    outcome, reasons, comment, dossier, procedure_code, procedure_name,
                    field_code, field_name, officer, officer_id, counter, repeat_dossier,
                    clock_skew, fingerprint, receipt, tablet_id) FROM STDIN (FORMAT binary)",
            )
            .await
            .unwrap();
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
        for (i, (device, w, fingerprint)) in group.iter().enumerate() {
            let id = uuid::Uuid::parse_str(&w.id).unwrap();
            let scale = 3i16;
            let reasons = w.reasons.join(",");
            let receipt = (g * GROUP + i) as i64;
            let row: [&(dyn ToSql + Sync); 23] = [
                &id,
                device,
                &now,
                &w.created_at,
                &date,
                &w.seq,
                &scale,
                &w.level,
                &reasons,
                &w.comment,
                &w.dossier_code,
                &w.procedure_code,
                &w.procedure_name,
                &w.field_code,
                &w.field_name,
                &w.officer,
                &w.officer_id,
                &w.counter,
                &false,
                &false,
                fingerprint,
                &receipt,
                &w.tablet,
            ];
            writer.as_mut().write(&row).await.unwrap();
        }
        writer.finish().await.unwrap();
        tx.commit().await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(held(&client).await as usize, total);
    total as f64 / secs
}

fn main() {
    let total = env("PROVINCE_RATINGS", 320_000) / (COMMUNES * BATCH) * (COMMUNES * BATCH);
    let runs = env("PROVINCE_RUNS", 2);
    let postgres = PrivatePostgres::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "province ingest: {COMMUNES} communes, batches of {BATCH}, {total} ratings, PostgreSQL"
    );
    for run in 0..runs {
        let baseline = rt.block_on(raw_copy(&postgres, run, total));
        let ingest = rt.block_on(through_the_writer(&postgres, run, total));
        println!(
            "run {run}: writer {ingest:>9.0} ratings/s   raw COPY {baseline:>9.0} rows/s   ratio {:.2}",
            ingest / baseline
        );
    }
}
