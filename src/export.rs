//! Reports from this tablet alone, with no network: `hailong-report`'s files, read from the
//! tablet's store. Used by `hailong export` and the administrator's "Xuất báo cáo" screen.

use crate::settings::Settings;
use crate::store::Store;
use chrono::{DateTime, FixedOffset};
use hailong_core::level::Scale;
use hailong_core::period::{DateRange, ReportPeriod};
use hailong_core::report::{Entry, Heading};
use hailong_report::{Source, SourceError};

/// The tablet's store as a report source; every entry carries this tablet's counter.
pub struct TabletSource<'a> {
    pub store: &'a Store,
    pub settings: &'a Settings,
}

impl Source for TabletSource<'_> {
    fn scale(&self) -> Result<Scale, SourceError> {
        Ok(self.settings.scale)
    }

    fn entry_count(&self, range: DateRange) -> Result<u64, SourceError> {
        Ok(self.store.entry_count(range)?)
    }

    fn for_each_entry(
        &self,
        range: DateRange,
        each: &mut dyn FnMut(&Entry) -> bool,
    ) -> Result<(), SourceError> {
        Ok(self
            .store
            .for_each_entry(range, &self.settings.counter_name, each)?)
    }

    fn misuse_by_month(&self, range: DateRange) -> Result<Vec<(String, u64)>, SourceError> {
        Ok(self.store.misuse_by_month(range)?)
    }
}

/// The heading of a report made on this tablet now.
pub fn heading(settings: &Settings, period: ReportPeriod, now: DateTime<FixedOffset>) -> Heading {
    Heading {
        unit: settings.unit_name.clone(),
        period,
        made_at: now.to_rfc3339(),
    }
}
