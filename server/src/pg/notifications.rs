//! The notifier's storage on PostgreSQL: the negatives waiting for their alert, the messages
//! waiting to be sent with their attempts, the periods whose report was queued, as
//! `db/notifications.rs` keeps them on SQLite.

use super::{Pg, PgError};
use crate::db::{Notification, QueueState};
use chrono::{DateTime, Utc};
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::Entry;
use tokio_postgres::Row;

/// A rating's columns as an entry reads them, in `entry`'s order.
pub(super) const ENTRY_COLUMNS: &str = "r.id::text, r.created_at, r.outcome, r.reasons,
    r.comment, r.dossier, r.procedure_code, r.procedure_name, r.field_name, r.officer,
    r.counter, r.repeat_dossier";

/// A row of [`ENTRY_COLUMNS`] as an entry.
pub(super) fn entry(row: &Row) -> Entry {
    Entry {
        id: row.get(0),
        at: row.get(1),
        level: Outcome::parse(row.get(2)).and_then(Outcome::level),
        reasons: Reason::split(row.get(3)).unwrap_or_default(),
        comment: row.get(4),
        dossier: row.get(5),
        procedure_code: row.get(6),
        procedure_name: row.get(7),
        field_name: row.get(8),
        officer: row.get(9),
        counter: row.get(10),
        repeat_dossier: row.get(11),
    }
}

/// Messages to queue: (channel, kind, content).
type Messages<'a> = &'a [(String, String, String)];

async fn queue(
    tx: &tokio_postgres::Transaction<'_>,
    messages: Messages<'_>,
    now: DateTime<Utc>,
) -> Result<(), PgError> {
    for (channel, kind, content) in messages {
        tx.execute(
            "INSERT INTO notifications (channel, kind, content, created_at, due_at)
             VALUES ($1, $2, $3, $4, $4)",
            &[channel, kind, content, &now],
        )
        .await?;
    }
    Ok(())
}

impl Pg {
    /// Where alerts and reports go, as JSON; `None` if nothing is set.
    pub async fn notify_settings(&self) -> Result<Option<String>, PgError> {
        self.setting("notify").await
    }

    pub async fn set_notify_settings(&self, json: &str) -> Result<(), PgError> {
        self.set_setting("notify", json).await
    }

    /// The negative ratings waiting for their alert, oldest first, at most `limit`.
    pub async fn queued_alerts(&self, limit: usize) -> Result<Vec<Entry>, PgError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!(
                    // The oldest `limit` through the queue's index, then in the order taken.
                    "SELECT {ENTRY_COLUMNS} FROM (SELECT rating_id, queued_at FROM alert_queue
                         ORDER BY queued_at, rating_id LIMIT $1) q
                     JOIN ratings r ON r.id = q.rating_id
                     ORDER BY q.queued_at, r.created_at"
                ),
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        Ok(rows.iter().map(entry).collect())
    }

    /// In one transaction: the alerts of `taken` leave the queue, and `messages` are queued.
    pub async fn take_alerts(
        &self,
        taken: &[String],
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), PgError> {
        let ids: Vec<uuid::Uuid> = taken.iter().filter_map(|id| id.parse().ok()).collect();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM alert_queue WHERE rating_id = ANY($1)", &[&ids])
            .await?;
        queue(&tx, messages, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Empties the alerts' queue in one statement, reading no rating (alerts are off).
    pub async fn drop_alerts(&self) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        client.execute("DELETE FROM alert_queue", &[]).await?;
        Ok(())
    }

    /// Whether the report of `period` (`2026-10`, `2026-Q3`) was queued already.
    pub async fn report_queued(&self, period: &str) -> Result<bool, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT 1 FROM report_schedule WHERE period = $1",
                &[&period],
            )
            .await?;
        Ok(row.is_some())
    }

    /// In one transaction: `period` is marked as queued, and `messages` are queued.
    pub async fn queue_report(
        &self,
        period: &str,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), PgError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO report_schedule (period, queued_at) VALUES ($1, $2)
             ON CONFLICT (period) DO NOTHING",
            &[&period, &now],
        )
        .await?;
        queue(&tx, messages, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues `messages` to be sent now (a test message).
    pub async fn queue_messages(
        &self,
        messages: Messages<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), PgError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        queue(&tx, messages, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The messages due at `now`, oldest first.
    pub async fn due_notifications(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<Notification>, PgError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id, channel, kind, content, attempts FROM notifications
                 WHERE sent_at IS NULL AND due_at <= $1 ORDER BY id",
                &[&now],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Notification {
                id: r.get(0),
                channel: r.get(1),
                kind: r.get(2),
                content: r.get(3),
                attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
            })
            .collect())
    }

    /// When the next unsent message is due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT min(due_at) FROM notifications WHERE sent_at IS NULL",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    /// The receiver has message `id`: it is never sent again.
    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE notifications SET sent_at = $2, attempts = attempts + 1,
                     last_error = NULL
                 WHERE id = $1",
                &[&id, &now],
            )
            .await?;
        Ok(())
    }

    /// Message `id` could not be sent: why, and when to try again.
    pub async fn mark_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), PgError> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE notifications SET attempts = attempts + 1, last_error = $2, due_at = $3
                 WHERE id = $1",
                &[&id, &error, &retry_at],
            )
            .await?;
        Ok(())
    }

    /// How the queue stands: waiting, sent, the last sending, the oldest failure.
    pub async fn queue_state(&self) -> Result<QueueState, PgError> {
        let client = self.pool.get().await?;
        let counts = client
            .query_one(
                "SELECT count(*) FILTER (WHERE sent_at IS NULL), count(sent_at), max(sent_at)
                 FROM notifications",
                &[],
            )
            .await?;
        let failing = client
            .query_opt(
                "SELECT channel, attempts, last_error, due_at FROM notifications
                 WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT 1",
                &[],
            )
            .await?;
        let stamp = crate::db::stamp;
        Ok(QueueState {
            waiting: u64::try_from(counts.get::<_, i64>(0)).unwrap_or(0),
            sent: u64::try_from(counts.get::<_, i64>(1)).unwrap_or(0),
            last_sent_at: counts.get::<_, Option<DateTime<Utc>>>(2).map(stamp),
            failing: failing.map(|r| {
                (
                    r.get(0),
                    u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
                    r.get(2),
                    stamp(r.get(3)),
                )
            }),
        })
    }
}
