//! The commune's summary over all devices, the same object as the tablet's `summary --json`,
//! with breakdowns by device and by officer.

use super::{Db, DbError};
use chrono::NaiveDate;
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::report::counts_json;
use hailong_core::summary::Counts;
use serde_json::{Value, json};

/// One group of a breakdown.
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub key: Option<String>,
    pub label: Option<String>,
    pub counts: Counts,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub scale: Scale,
    pub counts: Counts,
    pub by_device: Vec<Breakdown>,
    pub by_officer: Vec<Breakdown>,
}

fn add(counts: &mut Counts, outcome: &str, repeat: bool, n: u64) {
    if let Some(outcome) = Outcome::parse(outcome) {
        counts.add_outcome(outcome, repeat, n);
    }
}

impl Db {
    pub fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, DbError> {
        let (from, to) = DateRange { from, to }.text_bounds();
        let mut counts = Counts::default();
        let mut five = false;
        let mut stmt = self.conn.prepare_cached(
            "SELECT outcome, repeat_dossier, max(scale), count(*) FROM ratings
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY outcome, repeat_dossier",
        )?;
        let mut rows = stmt.query([&from, &to])?;
        while let Some(row) = rows.next()? {
            let outcome: String = row.get(0)?;
            five |= row.get::<_, i64>(2)? == 5;
            add(&mut counts, &outcome, row.get(1)?, row.get(3)?);
        }
        let mut by_device = self.breakdown(
            "SELECT r.device_id, max(d.counter), r.outcome, r.repeat_dossier, count(*)
             FROM ratings r JOIN devices d ON d.id = r.device_id
             WHERE r.local_date BETWEEN ?1 AND ?2 GROUP BY r.device_id, r.outcome, r.repeat_dossier
             ORDER BY r.device_id",
            &from,
            &to,
        )?;
        let by_officer = self.breakdown(
            "SELECT officer, officer, outcome, repeat_dossier, count(*) FROM ratings
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY officer, outcome, repeat_dossier
             ORDER BY officer",
            &from,
            &to,
        )?;
        self.add_misuse(&from, &to, &mut counts, &mut by_device)?;
        Ok(Summary {
            scale: if five { Scale::Five } else { Scale::Three },
            counts,
            by_device,
            by_officer,
        })
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
            "SELECT substr(local_date, 1, 7), outcome, repeat_dossier, count(*) FROM ratings
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
        by_device: &mut Vec<Breakdown>,
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
                None => by_device.push(Breakdown {
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

    fn breakdown(&self, sql: &str, from: &str, to: &str) -> Result<Vec<Breakdown>, DbError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query([from, to])?;
        let mut out: Vec<Breakdown> = Vec::new();
        while let Some(row) = rows.next()? {
            let key: Option<String> = row.get(0)?;
            if out.last().is_none_or(|b| b.key != key) {
                out.push(Breakdown {
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

impl Summary {
    pub fn to_json(&self) -> Value {
        let mut object = counts_json(&self.counts, self.scale);
        let group = |rows: &[Breakdown], key: &str, label: &str| -> Value {
            rows.iter()
                .map(|b| {
                    let mut o = counts_json(&b.counts, self.scale);
                    o.insert(key.into(), json!(b.key));
                    if key != label {
                        o.insert(label.into(), json!(b.label));
                    }
                    Value::Object(o)
                })
                .collect()
        };
        object.insert(
            "by_device".into(),
            group(&self.by_device, "device_id", "counter"),
        );
        object.insert(
            "by_officer".into(),
            group(&self.by_officer, "officer", "officer"),
        );
        Value::Object(object)
    }
}
