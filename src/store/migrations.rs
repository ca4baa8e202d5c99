//! Schema migrations, applied in order in one transaction; progress in `PRAGMA user_version`.
//! Never reorder or remove an entry: append.

use rusqlite::{Connection, TransactionBehavior};

const MIGRATIONS: &[&str] = &[
    // 1: ratings, misuse presses, officers, procedures, meta (e.g. demo data).
    "CREATE TABLE ratings (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT NOT NULL UNIQUE,
        recorded_at    TEXT NOT NULL,
        local_date     TEXT NOT NULL,
        outcome        TEXT NOT NULL,
        reasons        TEXT NOT NULL DEFAULT '',
        comment        TEXT,
        dossier        TEXT,
        procedure_code TEXT,
        procedure_name TEXT,
        field_code     TEXT,
        field_name     TEXT,
        officer_id     INTEGER,
        officer_name   TEXT,
        repeat_dossier INTEGER NOT NULL DEFAULT 0,
        finished       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX ratings_by_day ON ratings(local_date, outcome, repeat_dossier);
    CREATE INDEX ratings_by_dossier ON ratings(dossier) WHERE dossier IS NOT NULL;
    CREATE INDEX ratings_unfinished ON ratings(finished) WHERE finished = 0;
    CREATE TABLE misuse (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        recorded_at TEXT NOT NULL,
        local_date  TEXT NOT NULL
    );
    CREATE INDEX misuse_by_day ON misuse(local_date);
    CREATE TABLE officers (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        name       TEXT NOT NULL,
        pin_hash   TEXT NOT NULL,
        active     INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE procedures (
        code       TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        field_name TEXT NOT NULL,
        field_code TEXT NOT NULL,
        search     TEXT NOT NULL
    );
    -- Counts per day, kept by triggers in the tap's own transaction: summaries read these.
    CREATE TABLE daily_counts (
        local_date     TEXT NOT NULL,
        outcome        TEXT NOT NULL,
        repeat_dossier INTEGER NOT NULL,
        n              INTEGER NOT NULL,
        PRIMARY KEY (local_date, outcome, repeat_dossier)
    ) WITHOUT ROWID;
    CREATE TRIGGER ratings_count_insert AFTER INSERT ON ratings BEGIN
        INSERT INTO daily_counts (local_date, outcome, repeat_dossier, n)
        VALUES (NEW.local_date, NEW.outcome, NEW.repeat_dossier, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER ratings_count_delete AFTER DELETE ON ratings BEGIN
        UPDATE daily_counts SET n = n - 1 WHERE local_date = OLD.local_date
            AND outcome = OLD.outcome AND repeat_dossier = OLD.repeat_dossier;
    END;
    CREATE TRIGGER ratings_count_update AFTER UPDATE OF local_date, outcome, repeat_dossier ON ratings BEGIN
        UPDATE daily_counts SET n = n - 1 WHERE local_date = OLD.local_date
            AND outcome = OLD.outcome AND repeat_dossier = OLD.repeat_dossier;
        INSERT INTO daily_counts (local_date, outcome, repeat_dossier, n)
        VALUES (NEW.local_date, NEW.outcome, NEW.repeat_dossier, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // 2: the outbox to the commune server: each rating's scale, and whether it was sent.
    "ALTER TABLE ratings ADD COLUMN scale INTEGER;
    -- 0 waiting to be sent, 1 the server has it, 2 the server rejected it (kept, not resent).
    ALTER TABLE ratings ADD COLUMN sync_state INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE ratings ADD COLUMN sync_error TEXT;
    CREATE INDEX ratings_outbox ON ratings(seq) WHERE sync_state = 0 AND finished = 1;",
    // 3: the ratings the server refused, listed for the administrator.
    "CREATE INDEX ratings_rejected ON ratings(seq) WHERE sync_state = 2;",
    // 4: misuse presses go to the commune server too.
    "ALTER TABLE misuse ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX misuse_outbox ON misuse(seq) WHERE sent = 0;",
    // 5: the commune server's receipt for each rating it took (per device, in the order it took
    // them). A server restored from a backup says through which receipt it still holds them;
    // those above are sent again.
    "ALTER TABLE ratings ADD COLUMN server_receipt INTEGER;
    CREATE INDEX ratings_receipt ON ratings(server_receipt) WHERE server_receipt IS NOT NULL;",
    // 6: a citizen may choose again before the rating is finished; the level first tapped is
    // kept for audit.
    "ALTER TABLE ratings ADD COLUMN first_outcome TEXT;",
    // 7: the counter each rating was given at, as it was named then: renaming a counter
    // relabels neither the ratings still to be sent nor the reports of earlier ones.
    "ALTER TABLE ratings ADD COLUMN counter TEXT;",
];

/// Brings the schema up to date.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()
}

/// The schema version this build writes.
pub fn latest() -> usize {
    MIGRATIONS.len()
}
