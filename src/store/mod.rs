//! The tablet's SQLite store: ratings, misuse presses, officers, the procedure catalogue, and
//! the outbox to the commune server.
//!
//! Every write is one IMMEDIATE transaction on a WAL database with `synchronous=FULL`, so a
//! committed tap survives a kill or a power cut.

mod meta;
mod migrations;
mod officers;
mod outbox;
mod procedures;
mod ratings;
mod reports;

pub use meta::{PinLock, SyncRecord};
pub use officers::Officer;
pub use outbox::{DamagedPart, Delivery, OutboxCounts, Outgoing, RejectedRating, Resend};
pub use ratings::{NewRating, Recorded};
pub use reports::Breakdown;

use crate::paths::aside;
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};

/// What can go wrong with the store, in terms the UI can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the disk is full")]
    DiskFull,
    #[error("the database cannot be written (read-only disk or file)")]
    ReadOnly,
    #[error("the database is damaged: {0}")]
    Damaged(String),
    #[error("the database is in use by another program")]
    Busy,
    #[error("no rating with id {0}")]
    NoSuchRating(String),
    #[error("no officer with id {0}")]
    NoSuchOfficer(i64),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                StoreError::Damaged(e.to_string())
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// A short stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::DiskFull => "disk_full",
            StoreError::ReadOnly => "read_only",
            StoreError::Damaged(_) => "damaged",
            StoreError::Busy => "busy",
            StoreError::NoSuchRating(_) | StoreError::NoSuchOfficer(_) => "not_found",
            StoreError::Sqlite(_) => "database",
        }
    }
}

/// The store, behind one connection.
pub struct Store {
    conn: Connection,
}

/// A damaged database file that was moved aside on open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub moved_to: PathBuf,
    pub reason: String,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut store = Store { conn };
        migrations::apply(&mut store.conn)?;
        Ok(store)
    }

    /// Opens the existing database at `path` for reading only, beside the kiosk's own
    /// connection (WAL lets it read while taps are written): for exports on their own thread.
    pub fn open_reader(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        Ok(Store { conn })
    }

    /// Reads every page's structure (`PRAGMA quick_check`): slow on big files, for start-up.
    pub fn check(&self) -> Result<(), StoreError> {
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Damaged(check));
        }
        Ok(())
    }

    /// Opens and checks the database; a damaged one is moved aside (never deleted) and a new
    /// one made.
    pub fn open_or_quarantine(
        path: &Path,
        now: DateTime<FixedOffset>,
    ) -> Result<(Store, Option<Quarantined>), StoreError> {
        match Store::open(path).and_then(|store| store.check().map(|()| store)) {
            Ok(store) => Ok((store, None)),
            Err(StoreError::Damaged(reason)) => {
                let moved_to = quarantine(path, now).map_err(|e| {
                    StoreError::Damaged(format!("{reason}; moving it aside failed: {e}"))
                })?;
                tracing::error!(reason = %reason, moved_to = %moved_to.display(), "damaged database moved aside");
                Ok((Store::open(path)?, Some(Quarantined { moved_to, reason })))
            }
            Err(other) => Err(other),
        }
    }

    /// Limits the file to its current size, so the next write fails as on a full disk.
    #[doc(hidden)]
    pub fn simulate_full_disk(&self) -> Result<(), StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        self.conn.pragma_update(None, "max_page_count", pages)?;
        Ok(())
    }

    /// Makes this connection refuse writes, as on a read-only disk.
    #[doc(hidden)]
    pub fn simulate_read_only(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "query_only", true)?;
        Ok(())
    }
}

/// Renames the database and its WAL/SHM files to `NAME.damaged-YYYYmmddTHHMMSS`.
fn quarantine(path: &Path, now: DateTime<FixedOffset>) -> std::io::Result<PathBuf> {
    let moved_to = aside(path, now);
    std::fs::rename(path, &moved_to)?;
    for suffix in ["-wal", "-shm"] {
        let side = hailong_report::file::with_suffix(path, suffix);
        if side.exists() {
            std::fs::rename(&side, aside(&side, now))?;
        }
    }
    Ok(moved_to)
}

impl Store {
    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The schema version this build writes.
    pub fn latest_schema_version() -> usize {
        migrations::latest()
    }

    /// A number that changes whenever another connection commits to this database (`PRAGMA
    /// data_version`): a cheap way to notice new ratings written by the kiosk.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

impl Store {
    /// Runs a bulk insert of ratings in one transaction without the per-row count trigger,
    /// then rebuilds the daily counts once. The trigger is restored before commit, so other
    /// connections never see it missing.
    pub(crate) fn bulk_load<E: From<rusqlite::Error>>(
        &mut self,
        load: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let trigger: String =
            tx.query_row("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ratings_count_insert'", [], |r| r.get(0))?;
        tx.execute_batch("DROP TRIGGER ratings_count_insert")?;
        load(&tx)?;
        tx.execute_batch(
            "DELETE FROM daily_counts;
             INSERT INTO daily_counts (local_date, outcome, repeat_dossier, n)
                 SELECT local_date, outcome, repeat_dossier, count(*) FROM ratings GROUP BY 1, 2, 3;",
        )?;
        tx.execute_batch(&trigger)?;
        tx.commit()?;
        Ok(())
    }
}
