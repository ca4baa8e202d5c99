//! The server's SQLite database: devices and their tokens, pairing codes, admin tokens, the
//! ratings of every tablet, and the conflict log. WAL with `synchronous=FULL`: a batch is on
//! disk before the answer that says so.

mod backup;
mod checkpoint;
mod devices;
mod notifications;
mod pages;
mod ratings;
mod report;
mod summary;
#[cfg(test)]
pub mod testing;
mod upstream;
mod users;

pub use crate::figures::{Summary, Totals};
pub use backup::{BackupMade, RestoreError, lock, restore};
pub use devices::{Caller, Device};
pub use notifications::{Notification, QueueState, stamp};
pub use pages::{NegativeQuery, NegativesPage};
pub use users::SESSION_HOURS;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the disk is full")]
    DiskFull,
    #[error("the database is damaged: {0}")]
    Damaged(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("no device {0}")]
    NoSuchDevice(String),
    #[error("cannot start the checkpoint thread: {0}")]
    Thread(std::io::Error),
    #[error("the report could not be made: {0}")]
    Report(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl DbError {
    /// Whether a unique index (or the primary key) refused a row.
    pub(crate) fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if [rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE]
                .contains(&e.extended_code))
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => DbError::DiskFull,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                DbError::Damaged(e.to_string())
            }
            _ => DbError::Sqlite(e),
        }
    }
}

const SCHEMA: &[&str] = &[
    "
    CREATE TABLE devices (
        id               TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        counter          TEXT NOT NULL,
        token_hash       TEXT NOT NULL UNIQUE,
        paired_at        TEXT NOT NULL,
        last_seen        TEXT,
        ratings_received INTEGER NOT NULL DEFAULT 0,
        clock_skew_secs  INTEGER,
        revoked          INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE pairing_codes (
        code_hash  TEXT PRIMARY KEY,
        counter    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at    TEXT
    );
    CREATE TABLE admin_tokens (
        token_hash TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE ratings (
        id             TEXT PRIMARY KEY,
        device_id      TEXT NOT NULL REFERENCES devices(id),
        received_at    TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        local_date     TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        scale          INTEGER NOT NULL,
        outcome        TEXT NOT NULL,
        reasons        TEXT NOT NULL DEFAULT '',
        comment        TEXT,
        dossier        TEXT,
        procedure_code TEXT,
        procedure_name TEXT,
        field_code     TEXT,
        field_name     TEXT,
        officer        TEXT,
        officer_id     INTEGER,
        counter        TEXT,
        repeat_dossier INTEGER NOT NULL DEFAULT 0,
        clock_skew     INTEGER NOT NULL DEFAULT 0,
        -- SHA-256 of the rating's canonical content: same id and same hash is a duplicate.
        fingerprint    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX ratings_by_date ON ratings (local_date, outcome);
    CREATE INDEX ratings_by_dossier ON ratings (dossier) WHERE dossier IS NOT NULL;
    -- Later versions of a rating that differ from the stored one, kept whole.
    CREATE TABLE conflicts (
        rating_id   TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        received_at TEXT NOT NULL,
        content     TEXT NOT NULL
    );
",
    "
    -- 2: the repeat-dossier check reads this index alone, never the rows.
    DROP INDEX ratings_by_dossier;
    CREATE INDEX ratings_rated_dossier ON ratings (dossier, outcome)
        WHERE dossier IS NOT NULL AND outcome <> 'not_rated';
",
    "
    -- 3: presses too soon after a rating, counted as misuse in summaries.
    CREATE TABLE misuse (
        id          TEXT PRIMARY KEY,
        device_id   TEXT NOT NULL REFERENCES devices(id),
        created_at  TEXT NOT NULL,
        local_date  TEXT NOT NULL,
        received_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX misuse_by_date ON misuse (local_date, device_id);
",
    "
    -- 4: the server's own settings, such as the unit's name on reports.
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
",
    "
    -- 5: the web dashboard's users and their sessions (only hashes of passwords and tokens);
    -- what a tablet says is still waiting on it; the date index covers the summary's counts.
    CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_name  TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    ALTER TABLE devices ADD COLUMN queued INTEGER;
    DROP INDEX ratings_by_date;
    CREATE INDEX ratings_by_date ON ratings (local_date, outcome, repeat_dossier, scale);
",
    "
    -- 6: counts per day and tablet, kept by the writer in each batch's own transaction (only
    -- ratings it inserted). Summaries, the dashboard's overview and its trend read these, not
    -- every rating.
    CREATE TABLE daily_counts (
        local_date     TEXT NOT NULL,
        device_id      TEXT NOT NULL,
        outcome        TEXT NOT NULL,
        repeat_dossier INTEGER NOT NULL,
        scale          INTEGER NOT NULL,
        with_dossier   INTEGER NOT NULL,
        n              INTEGER NOT NULL,
        PRIMARY KEY (local_date, device_id, outcome, repeat_dossier, scale, with_dossier)
    ) WITHOUT ROWID;
    INSERT INTO daily_counts
        SELECT local_date, device_id, outcome, repeat_dossier, scale, dossier IS NOT NULL,
            count(*)
        FROM ratings GROUP BY 1, 2, 3, 4, 5, 6;
",
    "
    -- 7: receipts. Each rating taken gets its device's next number, in the order taken; the
    -- device keeps the last one given. Restored from a backup, the server holds a device's
    -- ratings exactly through its `receipts`; a tablet that says it holds higher ones sends
    -- those again (docs/api.md). Ratings taken before this have none.
    ALTER TABLE ratings ADD COLUMN receipt INTEGER;
    ALTER TABLE devices ADD COLUMN receipts INTEGER NOT NULL DEFAULT 0;
",
    "
    -- 8: alerts and scheduled reports. The writer puts each negative rating it inserts in
    -- `alert_queue`, in the batch's own transaction; the notifier turns what is queued into
    -- messages (one per channel, many ratings in one), kept in `notifications` until the mail
    -- server or the webhook says it has them. `report_schedule` holds the periods whose report
    -- was queued, so each is sent once.
    CREATE TABLE alert_queue (
        rating_id TEXT PRIMARY KEY,
        queued_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE notifications (
        id         INTEGER PRIMARY KEY,
        channel    TEXT NOT NULL,
        kind       TEXT NOT NULL,
        content    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        due_at     TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at    TEXT
    );
    CREATE INDEX notifications_unsent ON notifications (due_at) WHERE sent_at IS NULL;
    CREATE TABLE report_schedule (
        period    TEXT PRIMARY KEY,
        queued_at TEXT NOT NULL
    ) WITHOUT ROWID;
",
    "
    -- 9: counts per day and officer, field or procedure, kept by the writer in each batch's
    -- own transaction as `daily_counts` is, so that the dashboard's pages of a year add up
    -- thousands of rows instead of counting a million ratings; and the negative ratings in an
    -- index of their own, with what their page filters on (it covers the count of a filtered
    -- list and the officers' reasons: every column those queries name is in it). `has_key` is 0 for ratings with no
    -- officer (field, procedure); `key` and `label` are then ''.
    CREATE TABLE group_counts (
        dimension      TEXT NOT NULL,
        local_date     TEXT NOT NULL,
        has_key        INTEGER NOT NULL,
        key            TEXT NOT NULL,
        label          TEXT NOT NULL,
        outcome        TEXT NOT NULL,
        repeat_dossier INTEGER NOT NULL,
        with_dossier   INTEGER NOT NULL,
        n              INTEGER NOT NULL,
        PRIMARY KEY (dimension, local_date, has_key, key, label, outcome, repeat_dossier,
            with_dossier)
    ) WITHOUT ROWID;
    INSERT INTO group_counts
        SELECT 'officer', local_date, officer IS NOT NULL, coalesce(officer, ''),
            coalesce(officer, ''), outcome, repeat_dossier, dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8;
    INSERT INTO group_counts
        SELECT 'field', local_date, field_name IS NOT NULL, coalesce(field_name, ''),
            coalesce(field_name, ''), outcome, repeat_dossier, dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8;
    INSERT INTO group_counts
        SELECT 'procedure', local_date, procedure_code IS NOT NULL, coalesce(procedure_code, ''),
            coalesce(procedure_name, ''), outcome, repeat_dossier, dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8;
    CREATE INDEX ratings_negatives ON ratings (local_date, created_at, officer, field_name, reasons,
            outcome, repeat_dossier)
        WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier;
",
    "
    -- 10: the province tier. A device paired with a unit code is a commune's server (on a
    -- province's server), and a rating it forwards keeps the tablet it came from. Every entry
    -- taken (rating, unrated dossier, misuse press) goes in the upstream outbox, in the order
    -- taken, until the province this server forwards to has it; what was taken before this
    -- goes in first.
    ALTER TABLE pairing_codes ADD COLUMN unit_code TEXT;
    ALTER TABLE devices ADD COLUMN unit_code TEXT;
    ALTER TABLE ratings ADD COLUMN tablet_id TEXT;
    CREATE TABLE upstream_outbox (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        rating_id TEXT,
        misuse_id TEXT
    );
    INSERT INTO upstream_outbox (rating_id) SELECT id FROM ratings ORDER BY received_at, id;
    INSERT INTO upstream_outbox (misuse_id) SELECT id FROM misuse ORDER BY received_at, id;
",
    "
    -- 11: group counts per device too, so that a province's dashboard shows each commune's own
    -- officers, fields and procedures (counted again from the ratings, as 9 did); the negatives'
    -- index covers a commune's list too.
    DROP TABLE group_counts;
    CREATE TABLE group_counts (
        dimension      TEXT NOT NULL,
        local_date     TEXT NOT NULL,
        device_id      TEXT NOT NULL,
        has_key        INTEGER NOT NULL,
        key            TEXT NOT NULL,
        label          TEXT NOT NULL,
        outcome        TEXT NOT NULL,
        repeat_dossier INTEGER NOT NULL,
        with_dossier   INTEGER NOT NULL,
        n              INTEGER NOT NULL,
        PRIMARY KEY (dimension, local_date, device_id, has_key, key, label, outcome,
            repeat_dossier, with_dossier)
    ) WITHOUT ROWID;
    INSERT INTO group_counts
        SELECT 'officer', local_date, device_id, officer IS NOT NULL, coalesce(officer, ''),
            coalesce(officer, ''), outcome, repeat_dossier, dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;
    INSERT INTO group_counts
        SELECT 'field', local_date, device_id, field_name IS NOT NULL, coalesce(field_name, ''),
            coalesce(field_name, ''), outcome, repeat_dossier, dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;
    INSERT INTO group_counts
        SELECT 'procedure', local_date, device_id, procedure_code IS NOT NULL,
            coalesce(procedure_code, ''), coalesce(procedure_name, ''), outcome, repeat_dossier,
            dossier IS NOT NULL, count(*)
        FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;
    DROP INDEX ratings_negatives;
    CREATE INDEX ratings_negatives ON ratings (local_date, created_at, officer, field_name, reasons,
            outcome, repeat_dossier, device_id)
        WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier;
",
    "
    -- 12: the device a pairing code made, so that the same device sending the code again
    -- (its answer lost) gets itself back before the code expires.
    ALTER TABLE pairing_codes ADD COLUMN device_id TEXT;
",
    "
    -- 13: the version of each device's program (a tablet's, a commune server's), as its last
    -- batch said: the dashboard's tablets page shows it.
    ALTER TABLE devices ADD COLUMN app_version TEXT;
",
    "
    -- 14: the alert queue in its order, so that the notifier reads its oldest entries only
    -- (it sorted the whole queue for every 200 it took: 60 % of the server's time while a
    -- backlog of a million ratings came in).
    CREATE INDEX alert_queue_in_order ON alert_queue (queued_at, rating_id);
",
    "
    -- 15: the date index holds the date alone. Every count comes from `daily_counts` and
    -- `group_counts` now; what still reads ratings by date (a report's entries, an export, a
    -- period's count) reads the rows themselves. Its three more columns cost a third of the
    -- time of each rating's insert (BENCHMARKS.md, a tablet's backlog).
    DROP INDEX ratings_by_date;
    CREATE INDEX ratings_by_date ON ratings (local_date);
",
    "
    -- 16: the upstream outbox holds entries only once this server forwards upward: pairing
    -- puts everything held there (`set_upstream`). A server never paired upward had kept every
    -- entry there since 10, an insert per rating for nothing.
    DELETE FROM upstream_outbox
        WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = 'upstream');
",
    "
    -- 17: the ratings in a table with a rowid, the id in an index of its own. A rating's row
    -- (a few hundred bytes) was the key's own entry: the ids of several tablets' batches
    -- interleave, so each insert moved rows within pages and split them. Now a row goes at the
    -- table's end and only the id's small entry goes in between (a fifth to a third less time
    -- per insert, BENCHMARKS.md), and the other indexes hold the rowid instead of the id.
    CREATE TABLE ratings_by_rowid (
        id             TEXT PRIMARY KEY NOT NULL,
        device_id      TEXT NOT NULL REFERENCES devices(id),
        received_at    TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        local_date     TEXT NOT NULL,
        seq            INTEGER NOT NULL,
        scale          INTEGER NOT NULL,
        outcome        TEXT NOT NULL,
        reasons        TEXT NOT NULL DEFAULT '',
        comment        TEXT,
        dossier        TEXT,
        procedure_code TEXT,
        procedure_name TEXT,
        field_code     TEXT,
        field_name     TEXT,
        officer        TEXT,
        officer_id     INTEGER,
        counter        TEXT,
        repeat_dossier INTEGER NOT NULL DEFAULT 0,
        clock_skew     INTEGER NOT NULL DEFAULT 0,
        fingerprint    TEXT NOT NULL,
        receipt        INTEGER,
        tablet_id      TEXT
    );
    INSERT INTO ratings_by_rowid SELECT * FROM ratings ORDER BY received_at, device_id, receipt, id;
    DROP TABLE ratings;
    ALTER TABLE ratings_by_rowid RENAME TO ratings;
    CREATE INDEX ratings_rated_dossier ON ratings (dossier, outcome)
        WHERE dossier IS NOT NULL AND outcome <> 'not_rated';
    CREATE INDEX ratings_negatives ON ratings (local_date, created_at, officer, field_name, reasons,
            outcome, repeat_dossier, device_id)
        WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier;
    CREATE INDEX ratings_by_date ON ratings (local_date);
",
    "
    -- 18: the dossiers this server's own tablets rated, in a table of their own (as on
    -- PostgreSQL) instead of an index over every rating's dossier. The repeat rule asks only
    -- for those; a province's index held every commune's dossier too, never read, and
    -- inserting into it took a tenth of a forwarded rating's time (BENCHMARKS.md).
    CREATE TABLE rated_dossiers (
        dossier TEXT PRIMARY KEY NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO rated_dossiers
        SELECT DISTINCT r.dossier FROM ratings r
        WHERE r.dossier IS NOT NULL AND r.outcome <> 'not_rated'
            AND NOT EXISTS (SELECT 1 FROM devices d
                            WHERE d.id = r.device_id AND d.unit_code IS NOT NULL);
    DROP INDEX ratings_rated_dossier;
",
    "
    -- 19: the upstream outbox names a rating by its row: the forwarder reads each straight
    -- from the table instead of finding its id in the id's index first.
    ALTER TABLE upstream_outbox ADD COLUMN rating_row INTEGER;
    UPDATE upstream_outbox
        SET rating_row = (SELECT r.rowid FROM ratings r WHERE r.id = upstream_outbox.rating_id)
        WHERE rating_id IS NOT NULL;
    ALTER TABLE upstream_outbox DROP COLUMN rating_id;
",
];

pub struct Db {
    conn: Connection,
    /// Declared after `conn`, so dropped after it: the writer closes first.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// Whether the writer looks a group's ids up before writing it.
    held_ids: crate::ingest::HeldIds,
}

impl Db {
    /// A read-only connection to the database at `path` (already made by `open`), for work
    /// that reads long, such as a report, without holding up the shared connections.
    pub fn open_reader(path: &Path) -> Result<Db, DbError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Db {
            conn,
            checkpointer: None,
            held_ids: Default::default(),
        })
    }

    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        Db::open_upto(path, SCHEMA.len())
    }

    /// Opens the database at `path` migrated up to schema `version` (tests of a migration
    /// start from the schema before it).
    pub(crate) fn open_upto(path: &Path, version: usize) -> Result<Db, DbError> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in SCHEMA.iter().enumerate().take(version).skip(at) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(Db {
            conn,
            checkpointer: None,
            held_ids: Default::default(),
        })
    }
}
