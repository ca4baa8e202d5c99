//! The outbox to the commune server: finished ratings the server does not have yet, oldest
//! first, in their wire form; and what the server answered for each.

use super::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use hailong_core::level::Scale;
use hailong_core::rating::Outcome;
use hailong_core::wire::{ItemResult, Status, WireMisuse, WireRating};
use rusqlite::{TransactionBehavior, params};

/// How the outbox stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Finished ratings waiting to be sent.
    pub queued: u64,
    /// Ratings the server refused: kept here, shown to the administrator, not resent.
    pub rejected: u64,
}

/// A rating the server refused, kept on the tablet for the administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRating {
    pub id: String,
    pub recorded_at: Option<DateTime<FixedOffset>>,
    pub outcome: String,
    pub dossier: Option<String>,
    /// The server's reject code (`hailong_core::wire` codes).
    pub error: String,
}

const SENT: i64 = 1;
const REJECTED: i64 = 2;

/// Ratings a restored server no longer has: those it gave a receipt above `after`, up to
/// `through` (the highest the tablet told it of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resend {
    pub after: u64,
    pub through: u64,
}

/// A receipt as SQLite keeps it (a server never gives one past `i64::MAX`).
fn receipt_value(receipt: u64) -> i64 {
    i64::try_from(receipt).unwrap_or(i64::MAX)
}

impl Store {
    /// Up to `limit` finished ratings not yet sent, oldest first. Ratings stored before the
    /// scale was kept per rating take `scale` (or the 5-level scale if their level needs it).
    pub fn outbox(
        &self,
        limit: usize,
        scale: Scale,
        counter: &str,
    ) -> Result<Vec<WireRating>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recorded_at, seq, scale, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_code, field_name, officer_name, officer_id
             FROM ratings WHERE sync_state = 0 AND finished = 1 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            let outcome: String = r.get(4)?;
            let stored_scale: Option<u8> = r.get(3)?;
            let needs_five = Outcome::parse(&outcome)
                .and_then(Outcome::level)
                .is_some_and(|l| !Scale::Three.contains(l));
            let scale = match stored_scale {
                Some(n) => n,
                None if needs_five => Scale::Five.number(),
                None => scale.number(),
            };
            let reasons: String = r.get(5)?;
            Ok(WireRating {
                id: r.get(0)?,
                created_at: r.get(1)?,
                seq: r.get(2)?,
                scale,
                level: outcome,
                reasons: reasons.split_whitespace().map(str::to_owned).collect(),
                comment: r.get(6)?,
                dossier_code: r.get(7)?,
                procedure_code: r.get(8)?,
                procedure_name: r.get(9)?,
                field_code: r.get(10)?,
                field_name: r.get(11)?,
                officer: r.get(12)?,
                officer_id: r.get(13)?,
                counter: Some(counter.to_owned()).filter(|c| !c.is_empty()),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the server's answers in one transaction: accepted, duplicate and conflict mean
    /// the server has the rating (kept with its receipt); rejected ones stay here with the
    /// reason and are not resent. With `resend`, first puts back in the outbox the ratings a
    /// restored server no longer has.
    pub fn record_sync(
        &mut self,
        results: &[ItemResult],
        resend: Option<Resend>,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(Resend { after, through }) = resend {
            let requeued = tx.execute(
                "UPDATE ratings SET sync_state = 0, server_receipt = NULL
                 WHERE server_receipt > ?1 AND server_receipt <= ?2 AND sync_state = 1",
                params![receipt_value(after), receipt_value(through)],
            )?;
            tracing::warn!(
                after,
                through,
                requeued,
                "the server no longer has ratings it took: sending them again"
            );
        }
        {
            let mut mark = tx.prepare_cached(
                "UPDATE ratings SET sync_state = ?2, sync_error = ?3, server_receipt = ?4
                 WHERE id = ?1 AND sync_state = 0",
            )?;
            for result in results {
                let (state, error) = match result.status {
                    Status::Accepted | Status::Duplicate | Status::Conflict => (SENT, None),
                    Status::Rejected => (REJECTED, result.error.as_deref()),
                };
                let receipt = result.receipt.map(receipt_value);
                mark.execute(params![result.id, state, error, receipt])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The highest receipt of the ratings the server has said it holds (none before the first).
    pub fn acked_through(&self) -> Result<Option<u64>, StoreError> {
        let highest: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(server_receipt) FROM ratings WHERE server_receipt IS NOT NULL",
            )?
            .query_row([], |r| r.get(0))?;
        Ok(highest.and_then(|n| u64::try_from(n).ok()))
    }

    /// Up to `limit` misuse presses the server does not have yet, oldest first.
    pub fn misuse_outbox(&self, limit: usize) -> Result<Vec<WireMisuse>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recorded_at FROM misuse WHERE sent = 0 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(WireMisuse {
                id: r.get(0)?,
                created_at: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks misuse presses the server answered for as sent.
    pub fn record_misuse_sent(&mut self, sent: &[WireMisuse]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut mark = tx.prepare_cached("UPDATE misuse SET sent = 1 WHERE id = ?1")?;
            for press in sent {
                mark.execute([&press.id])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Counted through the outbox's and the rejected ratings' own indexes, never a full scan.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let count = |sql: &str| -> Result<u64, StoreError> {
            Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
        };
        Ok(OutboxCounts {
            queued: count("SELECT count(*) FROM ratings WHERE sync_state = 0 AND finished = 1")?,
            rejected: count("SELECT count(*) FROM ratings WHERE sync_state = 2")?,
        })
    }

    /// The latest ratings the server refused, newest first, with its reason.
    pub fn rejected(&self, limit: usize) -> Result<Vec<RejectedRating>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, recorded_at, outcome, dossier, sync_error FROM ratings
             WHERE sync_state = 2 ORDER BY seq DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            let recorded_at: String = r.get(1)?;
            Ok(RejectedRating {
                id: r.get(0)?,
                recorded_at: DateTime::parse_from_rfc3339(&recorded_at).ok(),
                outcome: r.get(2)?,
                dossier: r.get(3)?,
                error: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
