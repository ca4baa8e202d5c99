//! Small facts about this tablet kept beside the ratings: the demo mark and the PIN pad's lock.

use super::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// The PIN pad's wrong attempts in a row and, if locked, until when (survives a restart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinLock {
    pub failures: u32,
    pub locked_until: Option<DateTime<FixedOffset>>,
}

impl Store {
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Marks this database as holding synthetic demo data.
    pub fn mark_demo(&mut self) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', '1')",
            [],
        )?;
        Ok(())
    }

    /// Whether the ratings here are synthetic demo data.
    pub fn is_demo(&self) -> Result<bool, StoreError> {
        Ok(self.meta("demo")?.as_deref() == Some("1"))
    }

    /// The PIN pad's lock as last saved; unreadable values count as no lock.
    pub fn pin_lock(&self) -> Result<PinLock, StoreError> {
        Ok(PinLock {
            failures: self
                .meta("pin_failures")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            locked_until: self
                .meta("pin_locked_until")?
                .and_then(|v| DateTime::parse_from_rfc3339(&v).ok()),
        })
    }

    pub fn save_pin_lock(&mut self, lock: &PinLock) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('pin_failures', ?1)",
            [lock.failures.to_string()],
        )?;
        match lock.locked_until {
            Some(until) => tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('pin_locked_until', ?1)",
                params![until.to_rfc3339()],
            )?,
            None => tx.execute("DELETE FROM meta WHERE key = 'pin_locked_until'", [])?,
        };
        tx.commit()?;
        Ok(())
    }
}
