//! The commune's figures on SQLite: the rows `figures` adds up, read from the daily and
//! group counts and the misuse presses.

use super::{Db, DbError};
use crate::figures::{self, DailyRow, GroupRow, MisuseRow, MonthRow, Summary, Totals};
use chrono::NaiveDate;
use hailong_core::period::DateRange;
use hailong_core::summary::Counts;
use rusqlite::params;

impl Db {
    /// The counts from `from` to `to`, in all and per device, from `daily_counts`: of every
    /// device, or of `device` alone.
    pub fn totals(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Totals, DbError> {
        let (from, to) = DateRange { from, to }.text_bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.device_id, d.counter, c.outcome, c.repeat_dossier, c.scale,
                 c.with_dossier, sum(c.n)
             FROM daily_counts c JOIN devices d ON d.id = c.device_id
             WHERE c.local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR c.device_id = ?3)
             GROUP BY c.device_id, c.outcome, c.repeat_dossier, c.scale, c.with_dossier
             ORDER BY c.device_id",
        )?;
        let daily = stmt
            .query_map(params![from, to, device], |r| {
                Ok(DailyRow {
                    device: r.get(0)?,
                    counter: r.get(1)?,
                    outcome: r.get(2)?,
                    repeat: r.get(3)?,
                    scale: r.get(4)?,
                    with_dossier: r.get(5)?,
                    n: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.device_id, max(d.counter), count(*) FROM misuse m
             JOIN devices d ON d.id = m.device_id
             WHERE m.local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR m.device_id = ?3)
             GROUP BY m.device_id",
        )?;
        let misuse = stmt
            .query_map(params![from, to, device], |r| {
                Ok(MisuseRow {
                    device: r.get(0)?,
                    counter: r.get(1)?,
                    n: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(figures::totals(daily, misuse))
    }

    /// The summary API's figures: the totals, and the counts per officer, by name.
    pub fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, DbError> {
        let totals = self.totals(from, to, None)?;
        let (from, to) = DateRange { from, to }.text_bounds();
        Ok(figures::summary(
            totals,
            self.group_rows("officer", &from, &to, None)?,
        ))
    }

    /// Whether any rating of the commune was given on the five-level scale.
    pub fn any_five_level(&self) -> Result<bool, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM daily_counts WHERE scale = 5 LIMIT 1")?
            .exists([])?)
    }

    /// Counted levels per month (`2026-03`) from `from` to `to`, oldest first, of every
    /// device or of `device`; a month with no ratings is absent.
    pub fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Vec<(String, Counts)>, DbError> {
        let (from, to) = DateRange { from, to }.text_bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(local_date, 1, 7), outcome, repeat_dossier, sum(n) FROM daily_counts
             WHERE local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR device_id = ?3)
             GROUP BY 1, 2, 3 ORDER BY 1",
        )?;
        let rows = stmt
            .query_map(params![from, to, device], |r| {
                Ok(MonthRow {
                    month: r.get(0)?,
                    outcome: r.get(1)?,
                    repeat: r.get(2)?,
                    n: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(figures::months(rows))
    }

    /// One breakdown's rows (officer, field, procedure) from `group_counts`, of every device
    /// or of `device`.
    pub(super) fn group_rows(
        &self,
        dimension: &str,
        from: &str,
        to: &str,
        device: Option<&str>,
    ) -> Result<Vec<GroupRow>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT has_key, key, label, outcome, repeat_dossier, sum(n), min(local_date)
             FROM group_counts WHERE dimension = ?1 AND local_date BETWEEN ?2 AND ?3
                 AND (?4 IS NULL OR device_id = ?4)
             GROUP BY has_key, key, label, outcome, repeat_dossier",
        )?;
        let rows = stmt.query_map(params![dimension, from, to, device], |r| {
            Ok(GroupRow {
                key: r.get::<_, bool>(0)?.then(|| r.get(1)).transpose()?,
                label: r.get(2)?,
                outcome: r.get(3)?,
                repeat: r.get(4)?,
                n: r.get(5)?,
                first_day: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating, rating_with};
    use chrono::Utc;
    use hailong_core::level::Scale;
    use serde_json::json;

    type DayCount = (String, String, String, bool, u8, bool, i64);

    /// Counts per day, device, outcome, repeat flag, scale and dossier, as `sql` gives them.
    fn day_counts(db: &Db, sql: &str) -> Vec<DayCount> {
        let mut stmt = db.conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| {
                let key = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok((key.0, key.1, key.2, key.3, r.get(4)?, r.get(5)?, r.get(6)?))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The ratings counted again.
    fn recounted(db: &Db) -> Vec<DayCount> {
        day_counts(
            db,
            "SELECT local_date, device_id, outcome, repeat_dossier, scale, dossier IS NOT NULL,
                 count(*)
             FROM ratings GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6",
        )
    }

    /// What the writer kept.
    fn kept(db: &Db) -> Vec<DayCount> {
        day_counts(
            db,
            "SELECT local_date, device_id, outcome, repeat_dossier, scale, with_dossier, n
             FROM daily_counts ORDER BY 1, 2, 3, 4, 5, 6",
        )
    }

    #[test]
    fn the_daily_counts_are_the_ratings_counted_again_whatever_came_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let (one, two) = (paired(&mut db, "Quầy 1"), paired(&mut db, "Quầy 2"));
        let dossier = "000.17.22.H56-210531-0001";
        let first = batch(
            &one,
            vec![
                rating(1, dossier),
                rating(2, dossier), // a repeat of the same dossier
                rating_with(3, json!({ "level": "unsatisfied", "reasons": ["late"] })),
                rating_with(4, json!({ "level": "not_rated", "dossier_code": dossier })),
                rating_with(5, json!({ "created_at": "2026-10-02T16:00:00+07:00" })),
            ],
        );
        db.ingest(&[&first], Utc::now()).unwrap();
        // Sent again, and a changed copy: neither is counted again.
        let again = batch(
            &two,
            vec![
                rating(1, dossier),
                rating_with(3, json!({ "level": "satisfied" })),
                rating_with(6, json!({ "scale": 5, "level": "neutral" })),
            ],
        );
        db.ingest(&[&again], Utc::now()).unwrap();
        assert_eq!(kept(&db), recounted(&db));
        assert_eq!(kept(&db).iter().map(|r| r.6).sum::<i64>(), 6);

        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let totals = db.totals(day, day, None).unwrap();
        assert_eq!(totals.counts.total(), 3, "{totals:?}");
        assert_eq!(
            (totals.counts.unrated, totals.counts.repeat_dossier),
            (1, 1)
        );
        assert_eq!(totals.rated_dossiers, 1, "only the dossier's first rating");
        assert_eq!(totals.scale, Scale::Five);
        assert_eq!(totals.by_device.len(), 2);
        // Each tablet's own: what it was first to send.
        let own = db.totals(day, day, Some(&two)).unwrap();
        assert_eq!(own.counts.total(), 1, "{own:?}");
        assert_eq!((own.counts.unrated, own.counts.repeat_dossier), (0, 0));
        assert_eq!(own.by_device.len(), 1);
        let own = db.totals(day, day, Some(&one)).unwrap();
        assert_eq!(own.counts.total(), 2, "{own:?}");
        assert_eq!((own.counts.unrated, own.counts.repeat_dossier), (1, 1));
        assert_eq!(own.rated_dossiers, 1);
        let months = db
            .monthly(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), day, None)
            .unwrap();
        let per_month: Vec<(&str, u64)> = months
            .iter()
            .map(|(m, c)| (m.as_str(), c.total()))
            .collect();
        assert_eq!(per_month, [("2026-10", 1), ("2026-11", 3)]);
    }

    #[test]
    fn an_older_database_gets_its_daily_counts_from_its_ratings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.db");
        let mut db = Db::open(&path).unwrap();
        let one = paired(&mut db, "Quầy 1");
        let dossier = "000.17.22.H56-210531-0001";
        let items = vec![
            rating(1, dossier),
            rating(2, dossier),
            rating_with(3, json!({})),
        ];
        db.ingest(&[&batch(&one, items)], Utc::now()).unwrap();
        let groups = |db: &Db| -> Vec<(String, String, String, String, i64)> {
            let mut stmt = db
                .conn
                .prepare(
                    "SELECT dimension, local_date, device_id, key || '|' || label || '|' ||
                         outcome || repeat_dossier || with_dossier, n
                     FROM group_counts ORDER BY 1, 2, 3, 4",
                )
                .unwrap();
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        };
        let written = groups(&db);
        assert_eq!(written.len(), 9, "{written:?}");
        // As a schema-5 server left it: no daily counts.
        db.conn
            .execute_batch(
                "DROP TABLE daily_counts; ALTER TABLE ratings DROP COLUMN receipt;
                 ALTER TABLE devices DROP COLUMN receipts; DROP TABLE alert_queue;
                 DROP TABLE notifications; DROP TABLE report_schedule;
                 DROP TABLE group_counts; DROP INDEX ratings_negatives;
                 DROP TABLE upstream_outbox; ALTER TABLE ratings DROP COLUMN tablet_id;
                 ALTER TABLE devices DROP COLUMN unit_code;
                 ALTER TABLE pairing_codes DROP COLUMN unit_code;
                 ALTER TABLE pairing_codes DROP COLUMN device_id;
                 ALTER TABLE devices DROP COLUMN app_version; DROP TABLE rated_dossiers;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        assert_eq!(kept(&db), recounted(&db));
        assert_eq!(kept(&db).iter().map(|r| r.6).sum::<i64>(), 3);
        // The group counts, per device, as the writer keeps them.
        assert_eq!(groups(&db), written);
    }
}
