//! Small facts about this tablet kept beside the ratings: the demo mark, the PIN pad's lock
//! and how the last sends to the commune server went.

use super::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The PIN pad's wrong attempts in a row and, if locked, until when (survives a restart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinLock {
    pub failures: u32,
    pub locked_until: Option<DateTime<FixedOffset>>,
}

/// How sending to the commune server last went (survives a restart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRecord {
    /// The end of the last pass that emptied the outbox.
    pub last_success: Option<DateTime<FixedOffset>>,
    /// The `SyncError` code of the last pass, if it failed.
    pub last_error: Option<String>,
}

/// The value kept under `key`, read on `conn` (inside a caller's transaction, if any).
pub(super) fn read(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Sets (`Some`) or removes (`None`) the value under `key` on `conn`, inside the caller's
/// transaction.
pub(super) fn write(conn: &Connection, key: &str, value: Option<&str>) -> Result<(), StoreError> {
    match value {
        Some(v) => conn
            .prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?
            .execute(params![key, v])?,
        None => conn
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?
            .execute([key])?,
    };
    Ok(())
}

impl Store {
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        read(&self.conn, key)
    }

    /// A time kept under `key`; an unreadable one counts as none.
    fn meta_time(&self, key: &str) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        Ok(self
            .meta(key)?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok()))
    }

    /// Sets (`Some`) or removes (`None`) each key, all in one transaction.
    fn save_meta(&mut self, values: &[(&str, Option<String>)]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in values {
            write(&tx, key, value.as_deref())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks this database as holding synthetic demo data.
    pub fn mark_demo(&mut self) -> Result<(), StoreError> {
        self.save_meta(&[("demo", Some("1".to_owned()))])
    }

    /// Whether the ratings here are synthetic demo data.
    pub fn is_demo(&self) -> Result<bool, StoreError> {
        Ok(self.meta("demo")?.as_deref() == Some("1"))
    }

    /// The PIN pad's lock as last saved; unreadable values count as no lock.
    /// The wrong-PIN count and lock of one name (`key` is the officer's id, 0 for the
    /// administrator) or of the whole pad (`key` "pad").
    pub fn pin_lock(&self, key: &str) -> Result<PinLock, StoreError> {
        Ok(PinLock {
            failures: self
                .meta(&format!("pin_failures:{key}"))?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            locked_until: self.meta_time(&format!("pin_locked_until:{key}"))?,
        })
    }

    pub fn save_pin_lock(&mut self, key: &str, lock: &PinLock) -> Result<(), StoreError> {
        self.save_meta(&[
            (
                &format!("pin_failures:{key}"),
                Some(lock.failures.to_string()),
            ),
            (
                &format!("pin_locked_until:{key}"),
                lock.locked_until.map(|t| t.to_rfc3339()),
            ),
        ])
    }

    /// The officer whose shift it is and the day it began, kept so a restart within the day
    /// keeps the shift.
    pub fn shift(&self) -> Result<Option<(i64, chrono::NaiveDate)>, StoreError> {
        let officer = self.meta("shift_officer")?.and_then(|v| v.parse().ok());
        let date = self.meta("shift_date")?.and_then(|v| v.parse().ok());
        Ok(officer.zip(date))
    }

    pub fn save_shift(
        &mut self,
        shift: Option<(i64, chrono::NaiveDate)>,
    ) -> Result<(), StoreError> {
        self.save_meta(&[
            ("shift_officer", shift.map(|(id, _)| id.to_string())),
            ("shift_date", shift.map(|(_, date)| date.to_string())),
        ])
    }

    pub fn sync_record(&self) -> Result<SyncRecord, StoreError> {
        Ok(SyncRecord {
            last_success: self.meta_time("sync_last_success")?,
            last_error: self.meta("sync_last_error")?,
        })
    }

    pub fn save_sync_record(&mut self, record: &SyncRecord) -> Result<(), StoreError> {
        self.save_meta(&[
            (
                "sync_last_success",
                record.last_success.map(|t| t.to_rfc3339()),
            ),
            ("sync_last_error", record.last_error.clone()),
        ])
    }
}
