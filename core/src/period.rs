//! Report periods: today, this month, this quarter, or any range of local dates.

use chrono::{Datelike, NaiveDate};

/// An inclusive range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the start date {from} is after the end date {to}")]
pub struct ReversedRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DateRange, ReversedRange> {
        if from > to {
            return Err(ReversedRange { from, to });
        }
        Ok(DateRange { from, to })
    }

    /// Every date there is: for "no --from / --to".
    pub fn all() -> DateRange {
        DateRange {
            from: NaiveDate::MIN,
            to: NaiveDate::MAX,
        }
    }

    pub fn day(date: NaiveDate) -> DateRange {
        DateRange {
            from: date,
            to: date,
        }
    }

    pub fn month_of(date: NaiveDate) -> DateRange {
        let from = date.with_day(1).unwrap_or(date);
        DateRange {
            from,
            to: last_day_before(first_of_month_after(from, 1)),
        }
    }

    pub fn quarter_of(date: NaiveDate) -> DateRange {
        let first_month = (quarter(date) - 1) * 3 + 1;
        let from = NaiveDate::from_ymd_opt(date.year(), first_month, 1).unwrap_or(date);
        DateRange {
            from,
            to: last_day_before(first_of_month_after(from, 3)),
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// The quarter (1..=4) a date falls in, as in "Quý IV năm 2026".
pub fn quarter(date: NaiveDate) -> u32 {
    (date.month() - 1) / 3 + 1
}

fn first_of_month_after(first: NaiveDate, months: u32) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

fn last_day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_and_quarter_cover_whole_calendar_periods() {
        assert_eq!(
            DateRange::month_of(d(2024, 2, 17)),
            DateRange {
                from: d(2024, 2, 1),
                to: d(2024, 2, 29)
            }
        );
        assert_eq!(
            DateRange::quarter_of(d(2026, 11, 23)),
            DateRange {
                from: d(2026, 10, 1),
                to: d(2026, 12, 31)
            }
        );
        assert_eq!(
            DateRange::quarter_of(d(2026, 1, 1)),
            DateRange {
                from: d(2026, 1, 1),
                to: d(2026, 3, 31)
            }
        );
        assert_eq!(quarter(d(2026, 6, 30)), 2);
    }

    #[test]
    fn a_reversed_range_is_refused() {
        assert!(DateRange::new(d(2026, 2, 1), d(2026, 1, 1)).is_err());
        assert!(
            DateRange::new(d(2026, 1, 1), d(2026, 1, 1))
                .unwrap()
                .contains(d(2026, 1, 1))
        );
    }
}
