//! Taking in batches on PostgreSQL: the rules of `ingest` over one transaction, asked in at
//! most two pipelined round trips (the devices, locked, and the settings; then the tablets'
//! rated dossiers and, when asked, the held ids) and written in bulk (the ratings by binary
//! COPY, everything else by one statement over arrays), several tablets' batches committed
//! together before any is answered.

use super::{Pg, PgError};
use crate::ingest::{self, Held, Incoming, Known, Stored, Wanted, Writes};
use chrono::{DateTime, NaiveDate, Utc};
use std::pin::pin;
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

impl Pg {
    /// Stores batches from one or more tablets, with their misuse presses (each id once), in a
    /// single transaction; returns, for each batch, one result per rating, in order.
    pub async fn ingest(
        &self,
        batches: &[&Incoming],
        now: DateTime<Utc>,
    ) -> Result<Vec<Stored>, PgError> {
        let mut client = self.pool.get().await?;
        let ask = self.held_ids.ask();
        match ingest_on(&mut client, batches, now, ask).await {
            Err(e) if !ask && e.is_unique_violation() => {
                // An id of the group is held already: taken again, asking which.
                self.held_ids.missed();
                ingest_on(&mut client, batches, now, true).await
            }
            stored => stored,
        }
    }
}

/// One try at storing a group in one transaction, looking up its held ids or not (`ask`).
async fn ingest_on(
    client: &mut deadpool_postgres::Object,
    batches: &[&Incoming],
    now: DateTime<Utc>,
    ask: bool,
) -> Result<Vec<Stored>, PgError> {
    let tx = client.transaction().await?;
    let known = look_up(&tx, &ingest::wanted(batches, ask)).await?;
    let (stored, writes) = ingest::decide(batches, known, now);
    write(&tx, &writes, now).await?;
    tx.commit().await?;
    Ok(stored)
}

/// A wire id, checked as a UUID when the batch was parsed.
fn uuid(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or(Uuid::nil())
}

/// A count or receipt as PostgreSQL keeps it (a signed 64-bit integer).
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn look_up(tx: &Transaction<'_>, wanted: &Wanted<'_>) -> Result<Known, PgError> {
    let devices: Vec<&str> = wanted.devices.iter().copied().collect();
    // Issued together, they travel in one round trip, run in order. The devices' rows are
    // locked, so a second server on the same database numbers their receipts after this one.
    // The link upward is read after the lock that pairing upward takes alone (`set_upstream`).
    let (_, settings, receipts) = futures_util::future::try_join3(
        tx.execute(
            "SELECT pg_advisory_xact_lock_shared($1)",
            &[&super::upstream::FORWARDING_LOCK],
        ),
        tx.query(
            "SELECT key, value FROM settings WHERE key IN ('upstream', 'notify')",
            &[],
        ),
        tx.query(
            "SELECT id, receipts, unit_code IS NOT NULL FROM devices WHERE id = ANY($1)
             FOR UPDATE",
            &[&devices],
        ),
    )
    .await?;
    let mut known = Known::default();
    for row in settings {
        match row.get::<_, &str>(0) {
            "upstream" => known.forwarding = true,
            _ => known.notify_settings = Some(row.get(1)),
        }
    }
    for row in receipts {
        let given: i64 = row.get(1);
        known
            .receipts
            .insert(row.get(0), u64::try_from(given).unwrap_or(0));
        if row.get::<_, bool>(2) {
            known.communes.insert(row.get(0));
        }
    }
    if let Some(missing) = devices.iter().find(|d| !known.receipts.contains_key(**d)) {
        return Err(PgError::NoSuchDevice((*missing).to_owned()));
    }
    // Only tablets' dossiers: a commune decided its own repeats.
    let dossiers = wanted.tablets_dossiers(|device| known.communes.contains(device));
    let ids: Vec<Uuid> = wanted.ids.iter().map(|id| uuid(id)).collect();
    let first = ids.iter().min().copied().unwrap_or_default();
    let last = ids.iter().max().copied().unwrap_or_default();
    let rated = async {
        if dossiers.is_empty() {
            return Ok(Vec::new());
        }
        tx.query(
            "SELECT dossier FROM rated_dossiers WHERE dossier = ANY($1)",
            &[&dossiers],
        )
        .await
    };
    let held = async {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // The range lets PostgreSQL skip the partitions no wanted id can be in.
        tx.query(
            "SELECT id, fingerprint, receipt FROM ratings
             WHERE id = ANY($1) AND id BETWEEN $2 AND $3",
            &[&ids, &first, &last],
        )
        .await
    };
    let (rated, held) = futures_util::future::try_join(rated, held).await?;
    known.rated_dossiers = rated.iter().map(|row| row.get(0)).collect();
    for row in held {
        let id: Uuid = row.get(0);
        let receipt: Option<i64> = row.get(2);
        let held = Held {
            fingerprint: row.get(1),
            receipt: receipt.and_then(|n| u64::try_from(n).ok()),
        };
        known.held.insert(id.to_string(), held);
    }
    Ok(known)
}

/// The ratings' columns, in COPY order, with their types.
const RATING_COLUMNS: &str = "id, device_id, received_at, created_at, local_date, seq, scale,
    outcome, reasons, comment, dossier, procedure_code, procedure_name, field_code, field_name,
    officer, officer_id, counter, repeat_dossier, clock_skew, fingerprint, receipt, tablet_id";
const RATING_TYPES: &[Type] = &[
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

async fn write(
    tx: &Transaction<'_>,
    writes: &Writes<'_>,
    now: DateTime<Utc>,
) -> Result<(), PgError> {
    if !writes.ratings.is_empty() {
        copy_ratings(tx, writes, now).await?;
    }
    // What follows is independent: issued together, pipelined on the one connection.
    futures_util::future::try_join5(
        rated_dossiers(tx, writes),
        conflicts_and_alerts(tx, writes, now),
        counts(tx, writes),
        misuse(tx, writes, now),
        devices_seen(tx, writes, now),
    )
    .await?;
    Ok(())
}

async fn copy_ratings(
    tx: &Transaction<'_>,
    writes: &Writes<'_>,
    now: DateTime<Utc>,
) -> Result<(), PgError> {
    let sink = tx
        .copy_in(&format!(
            "COPY ratings ({RATING_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, RATING_TYPES));
    for new in &writes.ratings {
        let (prepared, taken) = (new.prepared, new.taken);
        let rating = &prepared.rating;
        let w = &rating.wire;
        let local_date: NaiveDate = rating.created_at.date_naive();
        let row: [&(dyn ToSql + Sync); 23] = [
            &uuid(&w.id),
            &new.device,
            &now,
            &prepared.created_at,
            &local_date,
            &w.seq,
            &i16::from(rating.scale.number()),
            &rating.outcome.code(),
            &prepared.reasons,
            &w.comment,
            &w.dossier_code,
            &w.procedure_code,
            &w.procedure_name,
            &w.field_code,
            &w.field_name,
            &w.officer,
            &w.officer_id,
            &w.counter,
            &taken.repeat,
            &taken.skewed,
            &prepared.fingerprint,
            &int(taken.receipt),
            &w.tablet,
        ];
        writer.as_mut().write(&row).await?;
    }
    writer.finish().await?;
    if !writes.forward {
        return Ok(());
    }
    // Into the upstream outbox, in the order taken.
    let ids: Vec<Uuid> = writes
        .ratings
        .iter()
        .map(|new| uuid(&new.prepared.rating.wire.id))
        .collect();
    tx.execute(
        "INSERT INTO upstream_outbox (rating_id)
         SELECT id FROM unnest($1::uuid[]) WITH ORDINALITY AS t (id, n) ORDER BY n",
        &[&ids],
    )
    .await?;
    Ok(())
}

/// Dossiers a tablet rated for the first time.
async fn rated_dossiers(tx: &Transaction<'_>, writes: &Writes<'_>) -> Result<u64, PgError> {
    if writes.rated_dossiers.is_empty() {
        return Ok(0);
    }
    Ok(tx
        .execute(
            "INSERT INTO rated_dossiers (dossier) SELECT unnest($1::text[])
             ON CONFLICT DO NOTHING",
            &[&writes.rated_dossiers],
        )
        .await?)
}

async fn conflicts_and_alerts(
    tx: &Transaction<'_>,
    writes: &Writes<'_>,
    now: DateTime<Utc>,
) -> Result<u64, PgError> {
    let mut done = 0;
    if !writes.conflicts.is_empty() {
        let ids: Vec<Uuid> = writes
            .conflicts
            .iter()
            .map(|(_, p)| uuid(&p.rating.wire.id))
            .collect();
        let devices: Vec<&str> = writes.conflicts.iter().map(|(d, _)| *d).collect();
        let contents: Vec<&str> = writes
            .conflicts
            .iter()
            .map(|(_, p)| p.content.as_str())
            .collect();
        done += tx
            .execute(
                "INSERT INTO conflicts (rating_id, device_id, received_at, content)
                 SELECT id, device, $4, content
                 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c (id, device, content)",
                &[&ids, &devices, &contents, &now],
            )
            .await?;
    }
    if !writes.alerts.is_empty() {
        let ids: Vec<Uuid> = writes.alerts.iter().map(|id| uuid(id)).collect();
        done += tx
            .execute(
                "INSERT INTO alert_queue (rating_id, queued_at) SELECT unnest($1::uuid[]), $2",
                &[&ids, &now],
            )
            .await?;
    }
    Ok(done)
}

/// The group's counts added in two upserts; each key is once in them.
async fn counts(tx: &Transaction<'_>, writes: &Writes<'_>) -> Result<u64, PgError> {
    let daily = &writes.counts.daily;
    let groups = &writes.counts.groups;
    if daily.is_empty() {
        return Ok(0);
    }
    let date = |d: &str| d.parse::<NaiveDate>().unwrap_or_default();
    let dates: Vec<NaiveDate> = daily.keys().map(|k| date(k.0)).collect();
    let devices: Vec<&str> = daily.keys().map(|k| k.1).collect();
    let outcomes: Vec<&str> = daily.keys().map(|k| k.2).collect();
    let repeats: Vec<bool> = daily.keys().map(|k| k.3).collect();
    let scales: Vec<i16> = daily.keys().map(|k| i16::from(k.4)).collect();
    let dossiers: Vec<bool> = daily.keys().map(|k| k.5).collect();
    let ns: Vec<i64> = daily.values().map(|&n| int(n)).collect();
    let daily_params: [&(dyn ToSql + Sync); 7] = [
        &dates, &devices, &outcomes, &repeats, &scales, &dossiers, &ns,
    ];
    let daily = tx.execute(
        "INSERT INTO daily_counts AS d
             (local_date, device_id, outcome, repeat_dossier, scale, with_dossier, n)
         SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::bool[], $5::int2[],
             $6::bool[], $7::int8[])
         ON CONFLICT (local_date, device_id, outcome, repeat_dossier, scale, with_dossier)
         DO UPDATE SET n = d.n + excluded.n",
        &daily_params,
    );
    let dimensions: Vec<&str> = groups.keys().map(|k| k.0).collect();
    let gdates: Vec<NaiveDate> = groups.keys().map(|k| date(k.1)).collect();
    let gdevices: Vec<&str> = groups.keys().map(|k| k.2).collect();
    let has_keys: Vec<bool> = groups.keys().map(|k| k.3).collect();
    let keys: Vec<&str> = groups.keys().map(|k| k.4).collect();
    let labels: Vec<&str> = groups.keys().map(|k| k.5).collect();
    let goutcomes: Vec<&str> = groups.keys().map(|k| k.6).collect();
    let grepeats: Vec<bool> = groups.keys().map(|k| k.7).collect();
    let gdossiers: Vec<bool> = groups.keys().map(|k| k.8).collect();
    let gns: Vec<i64> = groups.values().map(|&n| int(n)).collect();
    let group_params: [&(dyn ToSql + Sync); 10] = [
        &dimensions,
        &gdates,
        &gdevices,
        &has_keys,
        &keys,
        &labels,
        &goutcomes,
        &grepeats,
        &gdossiers,
        &gns,
    ];
    let groups = tx.execute(
        "INSERT INTO group_counts AS g (dimension, local_date, device_id, has_key, key, label,
             outcome, repeat_dossier, with_dossier, n)
         SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bool[], $5::text[],
             $6::text[], $7::text[], $8::bool[], $9::bool[], $10::int8[])
         ON CONFLICT (dimension, local_date, device_id, has_key, key, label, outcome,
             repeat_dossier, with_dossier)
         DO UPDATE SET n = g.n + excluded.n",
        &group_params,
    );
    let (daily, groups) = futures_util::future::try_join(daily, groups).await?;
    Ok(daily + groups)
}

async fn misuse(
    tx: &Transaction<'_>,
    writes: &Writes<'_>,
    now: DateTime<Utc>,
) -> Result<u64, PgError> {
    if writes.misuse.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = writes.misuse.iter().map(|(_, m)| m.id.as_str()).collect();
    let devices: Vec<&str> = writes.misuse.iter().map(|(d, _)| *d).collect();
    let times: Vec<String> = writes
        .misuse
        .iter()
        .map(|(_, m)| m.at.to_rfc3339())
        .collect();
    let dates: Vec<NaiveDate> = writes
        .misuse
        .iter()
        .map(|(_, m)| m.at.date_naive())
        .collect();
    let params: [&(dyn ToSql + Sync); 5] = [&ids, &devices, &times, &dates, &now];
    let insert = "INSERT INTO misuse (id, device_id, created_at, local_date, received_at)
        SELECT id, device, at, day, $5
        FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) AS m (id, device, at, day)
        ON CONFLICT (id) DO NOTHING";
    if !writes.forward {
        return Ok(tx.execute(insert, &params).await?);
    }
    let forwarded = format!(
        "WITH new AS ({insert} RETURNING id) INSERT INTO upstream_outbox (misuse_id) SELECT id FROM new"
    );
    Ok(tx.execute(&forwarded, &params).await?)
}

async fn devices_seen(
    tx: &Transaction<'_>,
    writes: &Writes<'_>,
    now: DateTime<Utc>,
) -> Result<u64, PgError> {
    let ids: Vec<&str> = writes.seen.keys().copied().collect();
    let accepted: Vec<i64> = writes.seen.values().map(|s| int(s.accepted)).collect();
    let skews: Vec<Option<i64>> = writes.seen.values().map(|s| s.clock_skew).collect();
    let queued: Vec<Option<i64>> = writes.seen.values().map(|s| s.queued.map(int)).collect();
    let receipts: Vec<i64> = writes.seen.values().map(|s| int(s.receipts)).collect();
    let versions: Vec<Option<&str>> = writes
        .seen
        .values()
        .map(|s| s.app_version.as_ref().map(|v| v.as_str()))
        .collect();
    Ok(tx
        .execute(
            "UPDATE devices AS d SET last_seen = $6,
                 ratings_received = d.ratings_received + s.accepted,
                 clock_skew_secs = coalesce(s.skew, d.clock_skew_secs),
                 queued = coalesce(s.waiting, d.queued), receipts = s.receipts,
                 app_version = coalesce(s.version, d.app_version)
             FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $7::text[])
                 AS s (id, accepted, skew, waiting, receipts, version)
             WHERE d.id = s.id",
            &[&ids, &accepted, &skews, &queued, &receipts, &now, &versions],
        )
        .await?)
}
