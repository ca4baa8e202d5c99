//! Report periods: a day, a month, a quarter, a year, or any range of local dates, with the
//! names formal reports give them.

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

    /// The range as `YYYY-MM-DD` text for a `local_date` column, clamped to four-digit years
    /// so that text order is date order (`NaiveDate::MAX` is written `+262142-12-31`).
    pub fn text_bounds(&self) -> (String, String) {
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(self.from);
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(self.to);
        (
            self.from.clamp(first, last).to_string(),
            self.to.clamp(first, last).to_string(),
        )
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A period a report is filed for: a month, a quarter, a year, or any range of dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPeriod {
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year(i32),
    Range(DateRange),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a period: write 2026, 2026-Q1 or 2026-03")]
pub struct BadPeriod(pub String);

impl std::str::FromStr for ReportPeriod {
    type Err = BadPeriod;

    /// `2026`, `2026-Q1` (or `q1`), `2026-03`.
    fn from_str(s: &str) -> Result<ReportPeriod, BadPeriod> {
        let bad = || BadPeriod(s.to_owned());
        let text = s.trim();
        let year = |y: &str| {
            (y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
                .then(|| y.parse::<i32>().ok())
                .flatten()
                .filter(|&y| y >= 1)
        };
        let period = match text.split_once('-') {
            None => ReportPeriod::Year(year(text).ok_or_else(bad)?),
            Some((y, rest)) => {
                let year = year(y).ok_or_else(bad)?;
                if let Some(q) = rest.strip_prefix(['Q', 'q']) {
                    let quarter = q.parse().ok().filter(|q| (1..=4).contains(q));
                    ReportPeriod::Quarter {
                        year,
                        quarter: quarter.filter(|_| q.len() == 1).ok_or_else(bad)?,
                    }
                } else {
                    let month = rest.parse().ok().filter(|m| (1..=12).contains(m));
                    ReportPeriod::Month {
                        year,
                        month: month.filter(|_| rest.len() == 2).ok_or_else(bad)?,
                    }
                }
            }
        };
        Ok(period)
    }
}

impl ReportPeriod {
    /// The month, quarter or year that holds `date`.
    pub fn month_of(date: NaiveDate) -> ReportPeriod {
        ReportPeriod::Month {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn quarter_of(date: NaiveDate) -> ReportPeriod {
        ReportPeriod::Quarter {
            year: date.year(),
            quarter: quarter(date),
        }
    }

    /// The period of the same kind `by` months, quarters or years later (earlier if negative);
    /// a range of dates stays as it is.
    pub fn step(self, by: i32) -> ReportPeriod {
        match self {
            ReportPeriod::Month { year, month } => {
                let index = year * 12 + month as i32 - 1 + by;
                ReportPeriod::Month {
                    year: index.div_euclid(12),
                    month: index.rem_euclid(12) as u32 + 1,
                }
            }
            ReportPeriod::Quarter { year, quarter } => {
                let index = year * 4 + quarter as i32 - 1 + by;
                ReportPeriod::Quarter {
                    year: index.div_euclid(4),
                    quarter: index.rem_euclid(4) as u32 + 1,
                }
            }
            ReportPeriod::Year(year) => ReportPeriod::Year(year + by),
            range @ ReportPeriod::Range(_) => range,
        }
    }

    /// The dates the period covers.
    pub fn range(&self) -> DateRange {
        let first = |year, month| NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
        match *self {
            ReportPeriod::Month { year, month } => DateRange::month_of(first(year, month)),
            ReportPeriod::Quarter { year, quarter } => {
                DateRange::quarter_of(first(year, (quarter - 1) * 3 + 1))
            }
            ReportPeriod::Year(year) => DateRange {
                from: first(year, 1),
                to: NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
            },
            ReportPeriod::Range(range) => range,
        }
    }

    /// The machine form: `2026-03`, `2026-Q1`, `2026`, or `2026-01-05_2026-02-04`.
    pub fn code(&self) -> String {
        match self {
            ReportPeriod::Month { year, month } => format!("{year:04}-{month:02}"),
            ReportPeriod::Quarter { year, quarter } => format!("{year:04}-Q{quarter}"),
            ReportPeriod::Year(year) => format!("{year:04}"),
            ReportPeriod::Range(r) if *r == DateRange::all() => "all".to_owned(),
            ReportPeriod::Range(r) => format!("{}_{}", r.from, r.to),
        }
    }

    /// As a formal report names it: "Quý I năm 2026", "Tháng 3 năm 2026", "Năm 2026",
    /// "Từ ngày 05/01/2026 đến ngày 04/02/2026".
    pub fn label_vi(&self) -> String {
        match self {
            ReportPeriod::Month { year, month } => format!("Tháng {month} năm {year}"),
            ReportPeriod::Quarter { year, quarter } => {
                format!("Quý {} năm {year}", roman(*quarter))
            }
            ReportPeriod::Year(year) => format!("Năm {year}"),
            ReportPeriod::Range(r) if *r == DateRange::all() => "Toàn bộ thời gian".to_owned(),
            ReportPeriod::Range(r) => format!(
                "Từ ngày {} đến ngày {}",
                r.from.format("%d/%m/%Y"),
                r.to.format("%d/%m/%Y")
            ),
        }
    }

    /// The same in English: "Q1 2026", "March 2026", "2026", "5 Jan 2026 to 4 Feb 2026".
    pub fn label_en(&self) -> String {
        match self {
            ReportPeriod::Month { year, month } => {
                let first = NaiveDate::from_ymd_opt(*year, *month, 1).unwrap_or_default();
                format!("{} {year}", first.format("%B"))
            }
            ReportPeriod::Quarter { year, quarter } => format!("Q{quarter} {year}"),
            ReportPeriod::Year(year) => year.to_string(),
            ReportPeriod::Range(r) if *r == DateRange::all() => "All time".to_owned(),
            ReportPeriod::Range(r) => format!(
                "{} to {}",
                r.from.format("%-d %b %Y"),
                r.to.format("%-d %b %Y")
            ),
        }
    }
}

/// I to IV, as quarters are written in Vietnamese reports.
fn roman(quarter: u32) -> &'static str {
    match quarter {
        1 => "I",
        2 => "II",
        3 => "III",
        _ => "IV",
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
    fn report_periods_parse_cover_their_dates_and_read_as_reports_name_them() {
        let q1: ReportPeriod = "2026-Q1".parse().unwrap();
        assert_eq!(
            q1,
            ReportPeriod::Quarter {
                year: 2026,
                quarter: 1
            }
        );
        assert_eq!(
            q1.range(),
            DateRange {
                from: d(2026, 1, 1),
                to: d(2026, 3, 31)
            }
        );
        assert_eq!(q1.label_vi(), "Quý I năm 2026");
        assert_eq!(q1.label_en(), "Q1 2026");
        assert_eq!(
            "2026-q4".parse::<ReportPeriod>().unwrap().label_vi(),
            "Quý IV năm 2026"
        );
        let feb: ReportPeriod = "2024-02".parse().unwrap();
        assert_eq!(
            feb.range(),
            DateRange {
                from: d(2024, 2, 1),
                to: d(2024, 2, 29)
            }
        );
        assert_eq!(feb.label_vi(), "Tháng 2 năm 2024");
        assert_eq!(feb.label_en(), "February 2024");
        assert_eq!(feb.code(), "2024-02");
        let year: ReportPeriod = "2026".parse().unwrap();
        assert_eq!(
            year.range(),
            DateRange {
                from: d(2026, 1, 1),
                to: d(2026, 12, 31)
            }
        );
        assert_eq!(year.label_vi(), "Năm 2026");
        let range = ReportPeriod::Range(DateRange::new(d(2026, 1, 5), d(2026, 2, 4)).unwrap());
        assert_eq!(range.label_vi(), "Từ ngày 05/01/2026 đến ngày 04/02/2026");
        assert_eq!(range.code(), "2026-01-05_2026-02-04");
        for bad in [
            "",
            "26",
            "2026-13",
            "2026-Q5",
            "2026-Q",
            "2026-3",
            "2026-03-01",
            "Q1-2026",
            "abcd",
        ] {
            assert!(bad.parse::<ReportPeriod>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_bounds_keep_date_order_for_all_time() {
        let (from, to) = DateRange::all().text_bounds();
        assert_eq!((from.as_str(), to.as_str()), ("0001-01-01", "9999-12-31"));
        assert!(from.as_str() < "2026-11-23" && "2026-11-23" < to.as_str());
        let q1 = ReportPeriod::Quarter {
            year: 2026,
            quarter: 1,
        }
        .range()
        .text_bounds();
        assert_eq!(q1, ("2026-01-01".to_owned(), "2026-03-31".to_owned()));
    }

    #[test]
    fn periods_step_across_year_ends() {
        let dec = ReportPeriod::Month {
            year: 2026,
            month: 12,
        };
        assert_eq!(
            dec.step(1),
            ReportPeriod::Month {
                year: 2027,
                month: 1
            }
        );
        assert_eq!(
            dec.step(-12),
            ReportPeriod::Month {
                year: 2025,
                month: 12
            }
        );
        let q1 = ReportPeriod::Quarter {
            year: 2026,
            quarter: 1,
        };
        assert_eq!(
            q1.step(-1),
            ReportPeriod::Quarter {
                year: 2025,
                quarter: 4
            }
        );
        assert_eq!(
            q1.step(7),
            ReportPeriod::Quarter {
                year: 2027,
                quarter: 4
            }
        );
        assert_eq!(ReportPeriod::Year(2026).step(-1), ReportPeriod::Year(2025));
        let all = ReportPeriod::Range(DateRange::all());
        assert_eq!(all.step(1), all);
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
