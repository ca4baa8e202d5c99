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
    // 8: where each rating stands with the server, in tables of their own. Marking a rating
    // sent appends a narrow row instead of rewriting the rating's and moving it between two
    // indexes: that was half the tablet's time sending a backlog. `outbox` holds the finished
    // ratings waiting to be sent (filled by triggers, so no path can forget it), `sent` those
    // the server holds with its receipt (none for one taken before receipts existed),
    // `rejected` those it refused with its code. The highest receipt goes to `meta`.
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY);
    CREATE TABLE sent (seq INTEGER PRIMARY KEY, receipt INTEGER);
    CREATE TABLE rejected (seq INTEGER PRIMARY KEY, error TEXT NOT NULL);
    INSERT INTO outbox SELECT seq FROM ratings WHERE sync_state = 0 AND finished = 1;
    INSERT INTO sent SELECT seq, server_receipt FROM ratings WHERE sync_state = 1;
    INSERT INTO rejected SELECT seq, coalesce(sync_error, '') FROM ratings WHERE sync_state = 2;
    INSERT INTO meta (key, value)
        SELECT 'acked_through', m FROM (SELECT max(server_receipt) AS m FROM ratings)
        WHERE m IS NOT NULL;
    DROP INDEX ratings_outbox;
    DROP INDEX ratings_rejected;
    DROP INDEX ratings_receipt;
    ALTER TABLE ratings DROP COLUMN sync_state;
    ALTER TABLE ratings DROP COLUMN sync_error;
    ALTER TABLE ratings DROP COLUMN server_receipt;
    CREATE TRIGGER ratings_outbox_insert AFTER INSERT ON ratings WHEN NEW.finished = 1 BEGIN
        INSERT INTO outbox (seq) VALUES (NEW.seq);
    END;
    CREATE TRIGGER ratings_outbox_finish AFTER UPDATE OF finished ON ratings
        WHEN NEW.finished = 1 AND OLD.finished = 0 BEGIN
        INSERT INTO outbox (seq) VALUES (NEW.seq);
    END;
    CREATE TRIGGER ratings_outbox_delete AFTER DELETE ON ratings BEGIN
        DELETE FROM outbox WHERE seq = OLD.seq;
        DELETE FROM sent WHERE seq = OLD.seq;
        DELETE FROM rejected WHERE seq = OLD.seq;
    END;",
];

/// Brings the schema up to date.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    apply_through(conn, MIGRATIONS.len())
}

/// Brings the schema up to version `target` (an older one, in tests).
fn apply_through(conn: &mut Connection, target: usize) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target).skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()
}

/// The schema version this build writes.
pub fn latest() -> usize {
    MIGRATIONS.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tablet's file from before version 8, with a rating waiting, one sent before receipts
    /// existed, two sent with receipts, one refused and one not finished.
    fn version_7(path: &std::path::Path) -> Connection {
        let mut conn = Connection::open(path).unwrap();
        apply_through(&mut conn, 7).unwrap();
        let rows = [
            (1, 1, 1, None, None),
            (2, 1, 1, Some(7), None),
            (3, 1, 2, None, Some("bad_reason")),
            (4, 1, 0, None, None),
            (5, 1, 1, Some(8), None),
            (6, 0, 0, None, None),
        ];
        for (seq, finished, state, receipt, error) in rows {
            conn.execute(
                "INSERT INTO ratings (seq, id, recorded_at, local_date, outcome, finished,
                     sync_state, server_receipt, sync_error)
                 VALUES (?1, 'r' || ?1, '2026-11-23T09:00:00+07:00', '2026-11-23', 'satisfied',
                     ?2, ?3, ?4, ?5)",
                rusqlite::params![seq, finished, state, receipt, error],
            )
            .unwrap();
        }
        conn
    }

    fn seqs(conn: &Connection, sql: &str) -> Vec<i64> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn version_8_keeps_where_every_rating_stood_with_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hailong.db");
        let mut conn = version_7(&path);
        apply(&mut conn).unwrap();
        assert_eq!(seqs(&conn, "SELECT seq FROM outbox ORDER BY seq"), [4]);
        let sent: Vec<(i64, Option<i64>)> = conn
            .prepare("SELECT seq, receipt FROM sent ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sent, [(1, None), (2, Some(7)), (5, Some(8))]);
        let refused: (i64, String) = conn
            .query_row("SELECT seq, error FROM rejected", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(refused, (3, "bad_reason".to_owned()));
        let acked: String = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'acked_through'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(acked, "8");
        let columns = seqs(
            &conn,
            "SELECT count(*) FROM pragma_table_info('ratings')
             WHERE name IN ('sync_state', 'sync_error', 'server_receipt')",
        );
        assert_eq!(columns, [0], "the old columns are gone");

        // The triggers keep the outbox from now on: finishing the open one queues it, and a
        // rating stored finished is queued at once; one stored open is not.
        conn.execute("UPDATE ratings SET finished = 1 WHERE seq = 6", [])
            .unwrap();
        conn.execute(
            "INSERT INTO ratings (seq, id, recorded_at, local_date, outcome, finished)
             VALUES (7, 'r7', '2026-11-23T10:00:00+07:00', '2026-11-23', 'satisfied', 1),
                    (8, 'r8', '2026-11-23T10:01:00+07:00', '2026-11-23', 'unsatisfied', 0)",
            [],
        )
        .unwrap();
        assert_eq!(
            seqs(&conn, "SELECT seq FROM outbox ORDER BY seq"),
            [4, 6, 7]
        );
        // Finishing twice queues nothing twice.
        conn.execute("UPDATE ratings SET finished = 1 WHERE seq = 6", [])
            .unwrap();
        assert_eq!(seqs(&conn, "SELECT count(*) FROM outbox"), [3]);
    }
}
