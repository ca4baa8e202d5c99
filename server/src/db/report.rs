//! The server's database as a report source: every tablet's ratings, each with its counter,
//! and the breakdown by device.

use super::{Db, DbError};
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_core::report::{Entry, Group, Letterhead, sort_groups};
use hailong_report::{Source, SourceError, sqlite};
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

    /// What reports print around the figures: the body above the unit, the place, the
    /// signers. Kept as JSON; unset or unreadable, nothing beyond the defaults.
    pub fn letterhead(&self) -> Result<Letterhead, DbError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'letterhead'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    pub fn set_letterhead(&mut self, letterhead: &Letterhead) -> Result<(), DbError> {
        let json = serde_json::to_string(letterhead).unwrap_or_default();
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES ('letterhead', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json],
        )?;
        Ok(())
    }
}

impl Source for Db {
    /// Five levels if any rating of the commune was given on the five-level scale.
    fn scale(&self) -> Result<Scale, SourceError> {
        Ok(if self.any_five_level()? {
            Scale::Five
        } else {
            Scale::Three
        })
    }

    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError> {
        Ok(sqlite::entry_count(&self.conn, range)?)
    }

    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError> {
        let (from, to) = range.text_bounds();
        Ok(sqlite::for_each_entry(
            &self.conn,
            "SELECT id, created_at, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_name, officer, counter, repeat_dossier
             FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY local_date, created_at",
            params![from, to],
            each,
        )?)
    }

    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError> {
        Ok(Db::misuse_by_month(self, range, None)?)
    }

    fn by_device(&self, range: DateRange) -> Result<Vec<Group>, SourceError> {
        Ok(device_groups(
            self.totals(range.from, range.to, None)?.by_device,
        ))
    }

    fn devices_are_communes(&self) -> Result<bool, SourceError> {
        Ok(self.any_commune()?)
    }
}

impl Db {
    /// Whether a commune's server is paired here: this is a province's server.
    pub fn any_commune(&self) -> Result<bool, DbError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM devices WHERE unit_code IS NOT NULL LIMIT 1")?
            .exists([])?)
    }
}

/// The totals' devices as a report's breakdown, in its order.
pub(super) fn device_groups(mut groups: Vec<Group>) -> Vec<Group> {
    sort_groups(&mut groups);
    groups
}
