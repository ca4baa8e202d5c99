//! The upstream outbox and settings on PostgreSQL, as `db/upstream.rs` keeps them on SQLite:
//! a province's server forwards on to a national tier the same way a commune's does.

use super::{Pg, PgError};
use crate::upstream::{Outbox, Upstream};
use chrono::{DateTime, Utc};
use hailong_core::reason::Reason;
use hailong_core::wire::{WireMisuse, WireRating};

/// The advisory lock between pairing upward and the writer (an arbitrary number, "HLup").
pub(super) const FORWARDING_LOCK: i64 = 0x484c_7570;

/// What the first pairing upward runs: every entry held goes into the outbox in the order
/// taken (ratings as the writer took them, then misuse presses), as on SQLite.
const PUT_HELD_IN_OUTBOX: &str = "INSERT INTO upstream_outbox (rating_id)
     SELECT id FROM ratings ORDER BY received_at, device_id, receipt, id;
 INSERT INTO upstream_outbox (misuse_id)
     SELECT id FROM misuse ORDER BY received_at, id;";

impl Pg {
    pub async fn upstream(&self) -> Result<Option<Upstream>, PgError> {
        Ok(self
            .setting("upstream")
            .await?
            .and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Keeps the link upward. The first one puts every entry held in the outbox, in the order
    /// taken (until then nothing goes there), in the same transaction. It holds
    /// [`FORWARDING_LOCK`] alone meanwhile, and the writer holds it shared from before it reads
    /// the link until it commits, so each entry is put there once, by one or the other.
    pub async fn set_upstream(&self, upstream: &Upstream) -> Result<(), PgError> {
        let json = serde_json::to_string(upstream).unwrap_or_default();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FORWARDING_LOCK])
            .await?;
        let paired_before = tx
            .query_opt("SELECT 1 FROM settings WHERE key = 'upstream'", &[])
            .await?
            .is_some();
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('upstream', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&json],
        )
        .await?;
        if !paired_before {
            tx.batch_execute(PUT_HELD_IN_OUTBOX).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The oldest `limit` entries waiting for the next tier, and how many wait in all.
    pub async fn outbox(&self, after: i64, limit: usize) -> Result<Outbox, PgError> {
        let client = self.pool.get().await?;
        let waiting: i64 = client
            .query_one(
                // Each in a query of its own: SQLite reads a lone min() or max() from the
                // key's end, but both in one query scan the whole table.
                "SELECT coalesce((SELECT max(seq) FROM upstream_outbox)
                 - (SELECT min(seq) FROM upstream_outbox) + 1, 0)",
                &[],
            )
            .await?
            .get(0);
        let rows = client
            .query(
                "SELECT o.seq, r.id::text, r.created_at, r.seq, r.scale, r.outcome, r.reasons,
                     r.comment, r.dossier, r.procedure_code, r.procedure_name, r.field_code,
                     r.field_name, r.officer, r.officer_id, coalesce(r.counter, d.counter),
                     coalesce(r.tablet_id, r.device_id), r.clock_skew, r.repeat_dossier, m.id,
                 m.created_at
                 FROM upstream_outbox o
                 LEFT JOIN ratings r ON r.id = o.rating_id
                 LEFT JOIN devices d ON d.id = r.device_id
                 LEFT JOIN misuse m ON m.id = o.misuse_id
                 WHERE o.seq > $1 ORDER BY o.seq LIMIT $2",
                &[&after, &i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        let last_sent: Option<String> = client
            .query_opt(
                "SELECT value FROM settings WHERE key = 'upstream_last_sent'",
                &[],
            )
            .await?
            .map(|r| r.get(0));
        let mut outbox = Outbox {
            waiting: u64::try_from(waiting).unwrap_or(0),
            last_sent: last_sent.and_then(|t| t.parse().ok()),
            ..Outbox::default()
        };
        for row in rows {
            if outbox.full() {
                break;
            }
            outbox.through = row.get(0);
            if let Some(id) = row.get::<_, Option<String>>(1) {
                let reasons: String = row.get(6);
                outbox.add_rating(WireRating {
                    id,
                    created_at: row.get(2),
                    seq: row.get(3),
                    scale: u8::try_from(row.get::<_, i16>(4)).unwrap_or(0),
                    level: row.get(5),
                    reasons: Reason::split(&reasons)
                        .unwrap_or_default()
                        .iter()
                        .map(|r| r.code().to_owned())
                        .collect(),
                    comment: row.get(7),
                    dossier_code: row.get(8),
                    procedure_code: row.get(9),
                    procedure_name: row.get(10),
                    field_code: row.get(11),
                    field_name: row.get(12),
                    officer: row.get(13),
                    officer_id: row.get(14),
                    counter: row.get(15),
                    tablet: row.get(16),
                    doubtful_time: row.get(17),
                    repeat_dossier: row.get(18),
                });
            } else if let Some(id) = row.get::<_, Option<String>>(19) {
                outbox.add_misuse(WireMisuse {
                    id,
                    created_at: row.get(20),
                });
            }
        }
        Ok(outbox)
    }

    pub async fn forwarded(&self, through: i64, at: DateTime<Utc>) -> Result<(), PgError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM upstream_outbox WHERE seq <= $1", &[&through])
            .await?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('upstream_last_sent', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&at.to_rfc3339()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
