//! The notifier's storage: the negative ratings waiting for their alert, the messages waiting
//! to be sent with their attempts, and the periods whose report was queued. What to send and
//! when is decided in `notify`; this only keeps it, so that nothing is lost across a restart
//! and nothing acknowledged is sent again.

use super::{Db, DbError};
use chrono::{DateTime, SecondsFormat, Utc};
use hailong_core::report::Entry;
use hailong_report::sqlite;
use rusqlite::{OptionalExtension, params};

/// A message waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    /// `smtp` or `webhook`.
    pub channel: String,
    /// `alert`, `report` or `test`.
    pub kind: String,
    /// What the channel sends, as JSON (see `notify::Message`).
    pub content: String,
    pub attempts: u32,
}

/// How the queue stands, for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueState {
    /// Messages not sent yet.
    pub waiting: u64,
    pub sent: u64,
    pub last_sent_at: Option<String>,
    /// The oldest message still failing: its channel, attempts, last error and next try.
    pub failing: Option<(String, u32, String, String)>,
}

/// Times in the queue: UTC, to the millisecond, so that text order is time order.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Db {
    /// Where alerts and reports go, as JSON; `None` if nothing is set.
    pub fn notify_settings(&self) -> Result<Option<String>, DbError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = 'notify'", [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    pub fn set_notify_settings(&mut self, json: &str) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES ('notify', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json],
        )?;
        Ok(())
    }

    /// The negative ratings waiting for their alert, oldest first, at most `limit`: their ids
    /// and what an alert says of each.
    pub fn queued_alerts(&self, limit: usize) -> Result<Vec<Entry>, DbError> {
        let mut found = Vec::new();
        sqlite::for_each_entry(
            &self.conn,
            // The oldest `limit` through the queue's index, then those in the order taken.
            "SELECT r.id, r.created_at, r.outcome, r.reasons, r.comment, r.dossier,
                 r.procedure_code, r.procedure_name, r.field_name, r.officer, r.counter,
                 r.repeat_dossier
             FROM (SELECT rating_id, queued_at FROM alert_queue
                   ORDER BY queued_at, rating_id LIMIT ?1) q
             JOIN ratings r ON r.id = q.rating_id
             ORDER BY q.queued_at, r.created_at",
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
            &mut |entry| {
                found.push(entry.clone());
                true
            },
        )?;
        Ok(found)
    }

    /// In one transaction: the alerts of `taken` leave the queue, and `messages` (channel,
    /// kind, content) are queued to be sent now.
    pub fn take_alerts(
        &mut self,
        taken: &[String],
        messages: &[(String, String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let tx = self.conn.transaction()?;
        {
            let mut forget = tx.prepare_cached("DELETE FROM alert_queue WHERE rating_id = ?1")?;
            for id in taken {
                forget.execute([id])?;
            }
            queue(&tx, messages, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Empties the alerts' queue in one statement, reading no rating (alerts are off).
    pub fn drop_alerts(&mut self) -> Result<(), DbError> {
        self.conn.execute("DELETE FROM alert_queue", [])?;
        Ok(())
    }

    /// Whether the report of `period` (`2026-10`, `2026-Q3`) was queued already.
    pub fn report_queued(&self, period: &str) -> Result<bool, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM report_schedule WHERE period = ?1",
                [period],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// In one transaction: `period` is marked as queued, and `messages` are queued.
    pub fn queue_report(
        &mut self,
        period: &str,
        messages: &[(String, String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO report_schedule (period, queued_at) VALUES (?1, ?2)
             ON CONFLICT (period) DO NOTHING",
            params![period, stamp(now)],
        )?;
        queue(&tx, messages, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Queues `messages` to be sent now (a test message).
    pub fn queue_messages(
        &mut self,
        messages: &[(String, String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let tx = self.conn.transaction()?;
        queue(&tx, messages, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The messages due at `now`, oldest first.
    pub fn due_notifications(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, channel, kind, content, attempts FROM notifications
             WHERE sent_at IS NULL AND due_at <= ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([stamp(now)], |r| {
            Ok(Notification {
                id: r.get(0)?,
                channel: r.get(1)?,
                kind: r.get(2)?,
                content: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When the next unsent message is due.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>, DbError> {
        let due: Option<String> = self.conn.query_row(
            "SELECT min(due_at) FROM notifications WHERE sent_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(due
            .and_then(|d| DateTime::parse_from_rfc3339(&d).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    /// The receiver has message `id`: it is never sent again.
    pub fn mark_sent(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE notifications SET sent_at = ?2, attempts = attempts + 1, last_error = NULL
             WHERE id = ?1",
            params![id, stamp(now)],
        )?;
        Ok(())
    }

    /// Message `id` could not be sent: why, and when to try again.
    pub fn mark_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        self.conn.execute(
            "UPDATE notifications SET attempts = attempts + 1, last_error = ?2, due_at = ?3
             WHERE id = ?1",
            params![id, error, stamp(retry_at)],
        )?;
        Ok(())
    }

    /// How the queue stands: waiting, sent, the last sending, the oldest failure.
    pub fn queue_state(&self) -> Result<QueueState, DbError> {
        let (waiting, sent, last_sent_at) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE sent_at IS NULL), count(sent_at), max(sent_at)
             FROM notifications",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let failing = self
            .conn
            .query_row(
                "SELECT channel, attempts, last_error, due_at FROM notifications
                 WHERE sent_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(QueueState {
            waiting,
            sent,
            last_sent_at,
            failing,
        })
    }
}

fn queue(
    tx: &rusqlite::Transaction<'_>,
    messages: &[(String, String, String)],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO notifications (channel, kind, content, created_at, due_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    for (channel, kind, content) in messages {
        insert.execute(params![channel, kind, content, stamp(now)])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating_with};
    use serde_json::json;

    #[test]
    fn the_alert_queue_is_taken_oldest_first_reading_only_what_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        db.set_notify_settings(crate::db::testing::ALERTING)
            .unwrap();
        let device = paired(&mut db, "Quầy 1");
        // Two batches at different times; within each, ratings tapped in another order than
        // their ids.
        let negatives = |from: u32| -> Vec<_> {
            (from..from + 150)
                .map(|n| {
                    let minute = 59 - (n % 60);
                    rating_with(
                        n,
                        json!({"level": "unsatisfied",
                               "created_at": format!("2026-11-23T09:{minute:02}:00+07:00")}),
                    )
                })
                .collect()
        };
        let early = Utc::now() - chrono::Duration::minutes(5);
        db.ingest(&[&batch(&device, negatives(1))], early).unwrap();
        db.ingest(&[&batch(&device, negatives(1000))], Utc::now())
            .unwrap();

        let mut taken = Vec::new();
        loop {
            let queued = db.queued_alerts(100).unwrap();
            if queued.is_empty() {
                break;
            }
            assert!(queued.len() <= 100);
            let ids: Vec<String> = queued.iter().map(|e| e.id.clone()).collect();
            db.take_alerts(&ids, &[], Utc::now()).unwrap();
            taken.push(queued);
        }
        let all: Vec<&Entry> = taken.iter().flatten().collect();
        assert_eq!(all.len(), 300, "each once");
        let early = |e: &Entry| e.id.as_str() < "01936f6e-8b7a-7c41-9a57-000000001000";
        assert!(
            all[..150].iter().all(|e| early(e)) && !all[150..].iter().any(|e| early(e)),
            "the batch queued first goes first"
        );
        for round in &taken {
            for pair in round.windows(2) {
                if early(&pair[0]) == early(&pair[1]) {
                    assert!(pair[0].at <= pair[1].at, "in the order tapped");
                }
            }
        }

        // The oldest are read through the queue's index, not by sorting the whole queue.
        let plan: Vec<String> = db
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT rating_id, queued_at FROM alert_queue
                 ORDER BY queued_at, rating_id LIMIT 100",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter().any(|p| p.contains("alert_queue_in_order")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
    }
}
