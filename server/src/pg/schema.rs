//! The PostgreSQL schema, as migrations applied in order (their number is kept in
//! `schema_migrations`). Native types where SQLite has text: dates, times, booleans, UUIDs.
//! A rating's own time stays as the tablet said it (RFC 3339 with its offset), as on SQLite.
//!
//! Ratings are partitioned by their id: a UUIDv7 begins with the milliseconds of its making,
//! so a range of ids is a range of time, and the primary key on the id alone keeps each id
//! once across every partition. A partition per year from 2024 to 2040, and one on either
//! side for ids from a clock far off (or not v7): all made here, so nothing is created while
//! ratings are being written.

use chrono::{NaiveDate, TimeZone, Utc};

/// First and last years with a partition of their own.
const YEARS: std::ops::RangeInclusive<i32> = 2024..=2040;

const FIRST: &str = "
    CREATE TABLE devices (
        id               text PRIMARY KEY,
        name             text NOT NULL,
        counter          text NOT NULL,
        token_hash       text NOT NULL UNIQUE,
        paired_at        timestamptz NOT NULL,
        last_seen        timestamptz,
        ratings_received bigint NOT NULL DEFAULT 0,
        clock_skew_secs  bigint,
        revoked          boolean NOT NULL DEFAULT false,
        queued           bigint,
        receipts         bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE ratings (
        id             uuid NOT NULL,
        device_id      text NOT NULL REFERENCES devices (id),
        received_at    timestamptz NOT NULL,
        created_at     text NOT NULL,
        local_date     date NOT NULL,
        seq            bigint NOT NULL,
        scale          smallint NOT NULL,
        outcome        text NOT NULL,
        reasons        text NOT NULL DEFAULT '',
        comment        text,
        dossier        text,
        procedure_code text,
        procedure_name text,
        field_code     text,
        field_name     text,
        officer        text,
        officer_id     bigint,
        counter        text,
        repeat_dossier boolean NOT NULL,
        clock_skew     boolean NOT NULL,
        -- SHA-256 of the rating's canonical content: same id and same hash is a duplicate.
        fingerprint    text NOT NULL,
        receipt        bigint,
        PRIMARY KEY (id)
    ) PARTITION BY RANGE (id);
    CREATE INDEX ratings_by_date ON ratings (local_date, outcome, repeat_dossier, scale);
    CREATE INDEX ratings_negatives ON ratings (local_date, created_at)
        WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier;
    -- Dossiers with a rating with a level: the repeat rule probes this one index, not every
    -- partition's.
    CREATE TABLE rated_dossiers (
        dossier text PRIMARY KEY
    );
    CREATE TABLE conflicts (
        rating_id   uuid NOT NULL,
        device_id   text NOT NULL,
        received_at timestamptz NOT NULL,
        content     text NOT NULL
    );
    CREATE TABLE misuse (
        id          text PRIMARY KEY,
        device_id   text NOT NULL REFERENCES devices (id),
        created_at  text NOT NULL,
        local_date  date NOT NULL,
        received_at timestamptz NOT NULL
    );
    CREATE INDEX misuse_by_date ON misuse (local_date, device_id);
    CREATE TABLE alert_queue (
        rating_id uuid PRIMARY KEY,
        queued_at timestamptz NOT NULL
    );
    -- Counts kept by the writer in each group's own transaction: every figure is read from
    -- these, not from the ratings.
    CREATE TABLE daily_counts (
        local_date     date NOT NULL,
        device_id      text NOT NULL,
        outcome        text NOT NULL,
        repeat_dossier boolean NOT NULL,
        scale          smallint NOT NULL,
        with_dossier   boolean NOT NULL,
        n              bigint NOT NULL,
        PRIMARY KEY (local_date, device_id, outcome, repeat_dossier, scale, with_dossier)
    );
    CREATE TABLE group_counts (
        dimension      text NOT NULL,
        local_date     date NOT NULL,
        has_key        boolean NOT NULL,
        key            text NOT NULL,
        label          text NOT NULL,
        outcome        text NOT NULL,
        repeat_dossier boolean NOT NULL,
        with_dossier   boolean NOT NULL,
        n              bigint NOT NULL,
        PRIMARY KEY (dimension, local_date, has_key, key, label, outcome, repeat_dossier,
            with_dossier)
    );
";

/// 2: who calls (pairing codes, admin tokens), the dashboard's users and sessions, the
/// server's settings, and the alerts' and reports' queue, as on SQLite.
const SECOND: &str = "
    CREATE TABLE pairing_codes (
        code_hash  text PRIMARY KEY,
        counter    text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz
    );
    CREATE TABLE admin_tokens (
        token_hash text PRIMARY KEY,
        name       text NOT NULL,
        created_at timestamptz NOT NULL
    );
    CREATE TABLE users (
        name          text PRIMARY KEY,
        password_hash text NOT NULL,
        created_at    timestamptz NOT NULL
    );
    CREATE TABLE sessions (
        token_hash text PRIMARY KEY,
        user_name  text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
    );
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
    CREATE TABLE settings (
        key   text PRIMARY KEY,
        value text NOT NULL
    );
    CREATE TABLE notifications (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel    text NOT NULL,
        kind       text NOT NULL,
        content    text NOT NULL,
        created_at timestamptz NOT NULL,
        due_at     timestamptz NOT NULL,
        attempts   integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at    timestamptz
    );
    CREATE INDEX notifications_unsent ON notifications (due_at) WHERE sent_at IS NULL;
    CREATE TABLE report_schedule (
        period    text PRIMARY KEY,
        queued_at timestamptz NOT NULL
    );
";

/// 3: the province tier, as SQLite's 10: communes paired by their unit code, the tablet a
/// forwarded rating came from, and the upstream outbox (a province forwards on to a national
/// tier the same way).
const THIRD: &str = "
    ALTER TABLE pairing_codes ADD COLUMN unit_code text;
    ALTER TABLE devices ADD COLUMN unit_code text;
    ALTER TABLE ratings ADD COLUMN tablet_id text;
    CREATE TABLE upstream_outbox (
        seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rating_id uuid,
        misuse_id text
    );
    INSERT INTO upstream_outbox (rating_id) SELECT id FROM ratings ORDER BY received_at, id;
    INSERT INTO upstream_outbox (misuse_id) SELECT id FROM misuse ORDER BY received_at, id;
";

/// 4: group counts per device too, as SQLite's 11, so that a province's dashboard shows each
/// commune's own pages (counted again from the ratings), with indexes that read one commune's
/// counts and negatives without the others'.
const FOURTH: &str = "
    DROP TABLE group_counts;
    CREATE TABLE group_counts (
        dimension      text NOT NULL,
        local_date     date NOT NULL,
        device_id      text NOT NULL,
        has_key        boolean NOT NULL,
        key            text NOT NULL,
        label          text NOT NULL,
        outcome        text NOT NULL,
        repeat_dossier boolean NOT NULL,
        with_dossier   boolean NOT NULL,
        n              bigint NOT NULL,
        PRIMARY KEY (dimension, local_date, device_id, has_key, key, label, outcome,
            repeat_dossier, with_dossier)
    );
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
    CREATE INDEX group_counts_of_device ON group_counts (device_id, dimension, local_date);
    CREATE INDEX daily_counts_of_device ON daily_counts (device_id, local_date);
    -- Whether any rating was given on the five-level scale, without reading every day's.
    CREATE INDEX daily_counts_five_levels ON daily_counts (local_date) WHERE scale = 5;
    CREATE INDEX misuse_of_device ON misuse (device_id, local_date);
    CREATE INDEX ratings_negatives_of_device ON ratings (device_id, local_date, created_at)
        WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier;
";

/// 5: the device a pairing code made, as SQLite's 12.
const FIFTH: &str = "ALTER TABLE pairing_codes ADD COLUMN device_id text;";

/// 6: the version of each device's program, as SQLite's 13.
const SIXTH: &str = "ALTER TABLE devices ADD COLUMN app_version text;";

/// 7: the alert queue in its order, as SQLite's 14.
const SEVENTH: &str = "CREATE INDEX alert_queue_in_order ON alert_queue (queued_at, rating_id);";

/// 8: the date index holds the date alone, as SQLite's 15: every count comes from the counts
/// tables; a report's entries and a period's count read the rows themselves.
const EIGHTH: &str = "
    DROP INDEX ratings_by_date;
    CREATE INDEX ratings_by_date ON ratings (local_date);
";

/// 9: the upstream outbox holds entries only once this server forwards upward, as SQLite's 16:
/// pairing puts everything held there (`set_upstream`).
const NINTH: &str = "
    DELETE FROM upstream_outbox
        WHERE NOT EXISTS (SELECT 1 FROM settings WHERE key = 'upstream');
";

/// 10: a commune's dossiers are its own (`ingest`): those only its forwarded ratings rated are
/// no longer among the rated dossiers a tablet's rating is a repeat of. And the ratings' device
/// is no longer checked row by row by a foreign key: the writer looks every batch's device up
/// (locking it) before it writes, and devices are never deleted.
const TENTH: &str = "
    DELETE FROM rated_dossiers WHERE dossier NOT IN (
        SELECT r.dossier FROM ratings r JOIN devices d ON d.id = r.device_id
        WHERE d.unit_code IS NULL AND r.dossier IS NOT NULL AND r.outcome <> 'not_rated');
    ALTER TABLE ratings DROP CONSTRAINT ratings_device_id_fkey;
    ALTER TABLE daily_counts SET (fillfactor = 50);
    ALTER TABLE group_counts SET (fillfactor = 50);
";

/// Every migration, in order.
pub fn migrations() -> Vec<String> {
    vec![
        format!("{FIRST}{}", partitions()),
        SECOND.to_owned(),
        THIRD.to_owned(),
        FOURTH.to_owned(),
        FIFTH.to_owned(),
        SIXTH.to_owned(),
        SEVENTH.to_owned(),
        EIGHTH.to_owned(),
        NINTH.to_owned(),
        TENTH.to_owned(),
    ]
}

/// The smallest UUID made at the start of `year`, as PostgreSQL reads a uuid.
fn first_id_of(year: i32) -> String {
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("1 January exists");
    let ms = Utc.from_utc_datetime(&start).timestamp_millis();
    let hex = format!("{ms:012x}");
    format!("{}-{}-0000-0000-000000000000", &hex[..8], &hex[8..])
}

fn partitions() -> String {
    let mut sql = format!(
        "CREATE TABLE ratings_before PARTITION OF ratings FOR VALUES FROM (MINVALUE) TO ('{}');\n",
        first_id_of(*YEARS.start())
    );
    for year in YEARS {
        sql += &format!(
            "CREATE TABLE ratings_{year} PARTITION OF ratings FOR VALUES FROM ('{}') TO ('{}');\n",
            first_id_of(year),
            first_id_of(year + 1)
        );
    }
    sql += &format!(
        "CREATE TABLE ratings_after PARTITION OF ratings FOR VALUES FROM ('{}') TO (MAXVALUE);\n",
        first_id_of(YEARS.end() + 1)
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_begins_with_the_ids_made_in_its_first_millisecond() {
        // 2026-01-01T00:00:00Z is 1,767,225,600,000 ms: 0x019b_76da_a800, written as a uuid.
        assert_eq!(first_id_of(2026), "019b76da-a800-0000-0000-000000000000");
        let made = uuid::Uuid::parse_str("019b76da-a800-7000-8000-000000000000").unwrap();
        let (secs, _) = made.get_timestamp().unwrap().to_unix();
        assert_eq!(secs, 1_767_225_600);
    }
}
