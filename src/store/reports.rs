//! Reading summaries back: counts for a period, broken down by officer or by field, and the
//! entries reports are made from.

use super::ratings::{RATING_COLUMNS, rating_from_row};
use super::{Store, StoreError};
use hailong_core::period::DateRange;
use hailong_core::rating::{Outcome, Rating};
use hailong_core::report::{Entry, Group};
use hailong_core::summary::Counts;
use hailong_report::sqlite;
use rusqlite::params;

/// How to split a summary into rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Officer,
    Field,
    Procedure,
}

impl Breakdown {
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Breakdown::Officer => ("officer_id", "officer_name"),
            Breakdown::Field => ("field_code", "field_name"),
            Breakdown::Procedure => ("procedure_code", "procedure_name"),
        }
    }
}

impl Store {
    /// Counts for the dates in `range` (local dates at the tablet).
    pub fn summary(&self, range: DateRange) -> Result<Counts, StoreError> {
        let (from, to) = range.text_bounds();
        let mut counts = Counts::default();
        let mut stmt = self.conn.prepare_cached(
            "SELECT outcome, repeat_dossier, sum(n) FROM daily_counts
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY outcome, repeat_dossier",
        )?;
        let mut rows = stmt.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            let outcome: String = row.get(0)?;
            add(&mut counts, &outcome, row.get(1)?, row.get(2)?);
        }
        counts.misuse = self
            .conn
            .prepare_cached("SELECT count(*) FROM misuse WHERE local_date BETWEEN ?1 AND ?2")?
            .query_row(params![from, to], |r| r.get(0))?;
        Ok(counts)
    }

    /// Dossiers armed by an officer and rated, in `range`: with `Counts::unrated`, the response rate.
    pub fn rated_dossiers(&self, range: DateRange) -> Result<u64, StoreError> {
        let (from, to) = range.text_bounds();
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM ratings WHERE local_date BETWEEN ?1 AND ?2
                 AND dossier IS NOT NULL AND outcome <> 'not_rated' AND repeat_dossier = 0",
            )?
            .query_row(params![from, to], |r| r.get(0))?)
    }

    /// Counts per officer, field or procedure, largest first.
    pub fn breakdown(&self, range: DateRange, by: Breakdown) -> Result<Vec<Group>, StoreError> {
        let (from, to) = range.text_bounds();
        let (key, label) = by.columns();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT CAST({key} AS TEXT), max({label}), outcome, repeat_dossier, count(*) FROM ratings
             WHERE local_date BETWEEN ?1 AND ?2 GROUP BY {key}, outcome, repeat_dossier ORDER BY {key}"
        ))?;
        let mut out: Vec<Group> = Vec::new();
        let mut rows = stmt.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            let key: Option<String> = row.get(0)?;
            let label: Option<String> = row.get(1)?;
            let outcome: String = row.get(2)?;
            if out.last().is_none_or(|last| last.key != key) {
                out.push(Group {
                    key,
                    label: None,
                    counts: Counts::default(),
                });
            }
            if let Some(entry) = out.last_mut() {
                entry.label = entry.label.take().or(label);
                add(&mut entry.counts, &outcome, row.get(3)?, row.get(4)?);
            }
        }
        out.sort_by(|a, b| {
            b.counts
                .total()
                .cmp(&a.counts.total())
                .then_with(|| a.label.cmp(&b.label))
        });
        Ok(out)
    }

    /// Calls `each` for every rating in `range`, in tablet order.
    pub fn for_each_rating(
        &self,
        range: DateRange,
        mut each: impl FnMut(&Rating),
    ) -> Result<usize, StoreError> {
        let (from, to) = range.text_bounds();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RATING_COLUMNS} FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY seq"
        ))?;
        let mut rows = stmt.query(params![from, to])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            each(&rating_from_row(row)?);
            n += 1;
        }
        Ok(n)
    }

    /// Ratings and unrated dossiers in `range`, as report entries, in tablet order, until
    /// `each` returns false. Each with the counter it was given at (`counter`, this tablet's now,
    /// for ratings stored before the tablet kept it).
    pub fn for_each_entry(
        &self,
        range: DateRange,
        counter: &str,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), StoreError> {
        let (from, to) = range.text_bounds();
        Ok(sqlite::for_each_entry(
            &self.conn,
            "SELECT id, recorded_at, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_name, officer_name, coalesce(counter, nullif(?3, '')),
                 repeat_dossier
             FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY seq",
            params![from, to, counter],
            each,
        )?)
    }

    /// Ratings and unrated dossiers in `range`: what `for_each_entry` gives.
    pub fn entry_count(&self, range: DateRange) -> Result<u64, StoreError> {
        Ok(sqlite::entry_count(&self.conn, range)?)
    }

    /// Misuse presses in `range`, per month (`2026-03`).
    pub fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, StoreError> {
        Ok(sqlite::misuse_by_month(&self.conn, range)?)
    }

    /// Whether any rating (other than demo data) is stored.
    pub fn rating_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))?)
    }
}

fn add(counts: &mut Counts, outcome: &str, repeat: bool, n: u64) {
    match Outcome::parse(outcome) {
        Some(outcome) => counts.add_outcome(outcome, repeat, n),
        None => tracing::warn!(outcome, "unknown outcome in the database"),
    }
}
