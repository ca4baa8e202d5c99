//! The server's database as a report source: every tablet's ratings, each with its counter,
//! and the breakdown by device.

use super::{Db, DbError};
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::{Entry, Group, sort_groups};
use hailong_report::{Source, SourceError};
use rusqlite::{OptionalExtension, params};

impl Db {
    /// The unit's name printed on reports; empty until `hailong-server unit` sets it.
    pub fn unit_name(&self) -> Result<String, DbError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'unit_name'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_unit_name(&mut self, name: &str) -> Result<(), DbError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES ('unit_name', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [name.trim()],
        )?;
        Ok(())
    }
}

/// Dates as `local_date` text, clamped to four-digit years so that text order is date order.
pub(super) fn bounds(range: DateRange) -> (String, String) {
    let first = chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(range.from);
    let last = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(range.to);
    (
        range.from.clamp(first, last).to_string(),
        range.to.clamp(first, last).to_string(),
    )
}

impl Source for Db {
    /// Five levels if any rating of the commune was given on the five-level scale.
    fn scale(&self) -> Result<Scale, SourceError> {
        let five = self
            .conn
            .prepare_cached("SELECT 1 FROM ratings WHERE scale = 5 LIMIT 1")?
            .exists([])?;
        Ok(if five { Scale::Five } else { Scale::Three })
    }

    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError> {
        let (from, to) = bounds(range);
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM ratings WHERE local_date BETWEEN ?1 AND ?2")?
            .query_row(params![from, to], |r| r.get(0))?)
    }

    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError> {
        let (from, to) = bounds(range);
        let mut stmt = self.conn.prepare(
            "SELECT id, created_at, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_name, officer, counter, repeat_dossier
             FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY local_date, created_at",
        )?;
        let mut rows = stmt.query(params![from, to])?;
        let mut entry = Entry::default();
        while let Some(row) = rows.next()? {
            let outcome: String = row.get(2)?;
            let reasons: String = row.get(3)?;
            entry.id = row.get(0)?;
            entry.at = row.get(1)?;
            entry.level = Outcome::parse(&outcome).and_then(Outcome::level);
            entry.reasons = Reason::split(&reasons).unwrap_or_default();
            entry.comment = row.get(4)?;
            entry.dossier = row.get(5)?;
            entry.procedure_code = row.get(6)?;
            entry.procedure_name = row.get(7)?;
            entry.field_name = row.get(8)?;
            entry.officer = row.get(9)?;
            entry.counter = row.get(10)?;
            entry.repeat_dossier = row.get(11)?;
            if !each(&entry) {
                break;
            }
        }
        Ok(())
    }

    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError> {
        let (from, to) = bounds(range);
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(local_date, 1, 7), count(*) FROM misuse
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY 1 ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn by_device(&self, range: DateRange) -> Result<Vec<Group>, SourceError> {
        let mut groups: Vec<Group> = self
            .summary(range.from, range.to)?
            .by_device
            .into_iter()
            .map(|b| Group {
                key: b.key,
                label: b.label,
                counts: b.counts,
            })
            .collect();
        sort_groups(&mut groups);
        Ok(groups)
    }
}
