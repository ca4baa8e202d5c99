//! The commune's summary over all devices (its JSON is the API's, in `api.rs`),
//! with breakdowns by device and by officer; the totals and the monthly trend the dashboard
//! shows, read from the daily counts.

use super::{Db, DbError};
use chrono::NaiveDate;
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::report::Group;
use hailong_core::summary::Counts;

#[derive(Debug, Clone)]
pub struct Summary {
    pub scale: Scale,
    pub counts: Counts,
    pub by_device: Vec<Group>,
    pub by_officer: Vec<Group>,
}

fn add(counts: &mut Counts, outcome: &str, repeat: bool, n: u64) {
    if let Some(outcome) = Outcome::parse(outcome) {
        counts.add_outcome(outcome, repeat, n);
    }
}

/// A period's figures read from the daily counts alone, however many ratings there are.
#[derive(Debug, Clone)]
pub struct Totals {
    pub scale: Scale,
    pub counts: Counts,
    /// Dossiers armed by an officer and rated (repeats aside): with `counts.unrated`, the
    /// response rate.
    pub rated_dossiers: u64,
    /// Per device, by id.
    pub by_device: Vec<Group>,
}

impl Db {
    /// The counts from `from` to `to`, in all and per device, from `daily_counts`.
    pub fn totals(&self, from: NaiveDate, to: NaiveDate) -> Result<Totals, DbError> {
        let (from, to) = DateRange { from, to }.text_bounds();
        let mut totals = Totals {
            scale: Scale::Three,
            counts: Counts::default(),
            rated_dossiers: 0,
            by_device: Vec::new(),
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.device_id, d.counter, c.outcome, c.repeat_dossier, c.scale,
                 c.with_dossier, sum(c.n)
             FROM daily_counts c JOIN devices d ON d.id = c.device_id
             WHERE c.local_date BETWEEN ?1 AND ?2
             GROUP BY c.device_id, c.outcome, c.repeat_dossier, c.scale, c.with_dossier
             ORDER BY c.device_id",
        )?;
        let mut rows = stmt.query([&from, &to])?;
        while let Some(row) = rows.next()? {
            let device: String = row.get(0)?;
            if totals.by_device.last().and_then(|b| b.key.as_deref()) != Some(device.as_str()) {
                totals.by_device.push(Group {
                    key: Some(device),
                    label: row.get(1)?,
                    counts: Counts::default(),
                });
            }
            let Some(outcome) = Outcome::parse(&row.get::<_, String>(2)?) else {
                continue;
            };
            let (repeat, n): (bool, u64) = (row.get(3)?, row.get(6)?);
            if row.get::<_, i64>(4)? == 5 {
                totals.scale = Scale::Five;
            }
            if row.get(5)? && !repeat && outcome.level().is_some() {
                totals.rated_dossiers += n;
            }
            totals.counts.add_outcome(outcome, repeat, n);
            if let Some(device) = totals.by_device.last_mut() {
                device.counts.add_outcome(outcome, repeat, n);
            }
        }
        self.add_misuse(&from, &to, &mut totals.counts, &mut totals.by_device)?;
        Ok(totals)
    }

    /// The summary API's object: the totals, and the counts per officer (read from the
    /// ratings themselves).
    pub fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, DbError> {
        let totals = self.totals(from, to)?;
        let (from, to) = DateRange { from, to }.text_bounds();
        let by_officer = self.breakdown(
            "SELECT officer, officer, outcome, repeat_dossier, count(*) FROM ratings
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY officer, outcome, repeat_dossier
             ORDER BY officer",
            &from,
            &to,
        )?;
        Ok(Summary {
            scale: totals.scale,
            counts: totals.counts,
            by_device: totals.by_device,
            by_officer,
        })
    }

    /// Whether any rating of the commune was given on the five-level scale.
    pub fn any_five_level(&self) -> Result<bool, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM daily_counts WHERE scale = 5 LIMIT 1")?
            .exists([])?)
    }

    /// Counted levels per month (`2026-03`) from `from` to `to`, oldest first; a month with no
    /// ratings is absent.
    pub fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, Counts)>, DbError> {
        let (from, to) = DateRange { from, to }.text_bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(local_date, 1, 7), outcome, repeat_dossier, sum(n) FROM daily_counts
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3 ORDER BY 1",
        )?;
        let mut rows = stmt.query([&from, &to])?;
        let mut months: Vec<(String, Counts)> = Vec::new();
        while let Some(row) = rows.next()? {
            let month: String = row.get(0)?;
            if months.last().is_none_or(|(m, _)| *m != month) {
                months.push((month, Counts::default()));
            }
            if let Some((_, counts)) = months.last_mut() {
                let outcome: String = row.get(1)?;
                add(counts, &outcome, row.get(2)?, row.get(3)?);
            }
        }
        Ok(months)
    }

    /// Misuse presses in the period, in total and per device (a device may have only those).
    fn add_misuse(
        &self,
        from: &str,
        to: &str,
        counts: &mut Counts,
        by_device: &mut Vec<Group>,
    ) -> Result<(), DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.device_id, max(d.counter), count(*) FROM misuse m
             JOIN devices d ON d.id = m.device_id
             WHERE m.local_date BETWEEN ?1 AND ?2 GROUP BY m.device_id",
        )?;
        let mut rows = stmt.query([from, to])?;
        while let Some(row) = rows.next()? {
            let device: String = row.get(0)?;
            let n: u64 = row.get(2)?;
            counts.misuse += n;
            match by_device
                .iter_mut()
                .find(|b| b.key.as_deref() == Some(device.as_str()))
            {
                Some(b) => b.counts.misuse += n,
                None => by_device.push(Group {
                    key: Some(device),
                    label: row.get(1)?,
                    counts: Counts {
                        misuse: n,
                        ..Counts::default()
                    },
                }),
            }
        }
        by_device.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(())
    }

    fn breakdown(&self, sql: &str, from: &str, to: &str) -> Result<Vec<Group>, DbError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query([from, to])?;
        let mut out: Vec<Group> = Vec::new();
        while let Some(row) = rows.next()? {
            let key: Option<String> = row.get(0)?;
            if out.last().is_none_or(|b| b.key != key) {
                out.push(Group {
                    key: key.clone(),
                    label: row.get(1)?,
                    counts: Counts::default(),
                });
            }
            if let Some(last) = out.last_mut() {
                let outcome: String = row.get(2)?;
                add(&mut last.counts, &outcome, row.get(3)?, row.get(4)?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating, rating_with};
    use chrono::Utc;
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
        let totals = db.totals(day, day).unwrap();
        assert_eq!(totals.counts.total(), 3, "{totals:?}");
        assert_eq!(
            (totals.counts.unrated, totals.counts.repeat_dossier),
            (1, 1)
        );
        assert_eq!(totals.rated_dossiers, 1, "only the dossier's first rating");
        assert_eq!(totals.scale, Scale::Five);
        assert_eq!(totals.by_device.len(), 2);
        let months = db
            .monthly(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), day)
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
        // As a schema-5 server left it: no daily counts.
        db.conn
            .execute_batch(
                "DROP TABLE daily_counts; ALTER TABLE ratings DROP COLUMN receipt;
                 ALTER TABLE devices DROP COLUMN receipts; DROP TABLE alert_queue;
                 DROP TABLE notifications; DROP TABLE report_schedule;
                 DROP TABLE group_counts; DROP INDEX ratings_negatives;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        assert_eq!(kept(&db), recounted(&db));
        assert_eq!(kept(&db).iter().map(|r| r.6).sum::<i64>(), 3);
    }
}
