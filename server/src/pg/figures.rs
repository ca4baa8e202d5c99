//! The commune's (or province's) figures on PostgreSQL: the rows `figures` adds up, read
//! from the daily and group counts and the misuse presses, and the negatives' pages.

use super::{Pg, PgError};
use crate::db::{NegativeQuery, NegativesPage};
use crate::figures::{
    self, Breakdowns, DailyRow, GroupRow, MisuseRow, MonthRow, OfficerMonthRow, PageParts, Summary,
    Totals,
};
use chrono::NaiveDate;
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::{Appraisal, Heading, Negative, Report};
use hailong_core::summary::Counts;
use tokio_postgres::Row;

/// A range's ends within the years PostgreSQL's dates and SQLite's text dates both hold.
pub(super) fn bounds(range: DateRange) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(range.from);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(range.to);
    (range.from.clamp(first, last), range.to.clamp(first, last))
}

/// A count as `figures` takes it.
fn count(row: &Row, i: usize) -> u64 {
    u64::try_from(row.get::<_, i64>(i)).unwrap_or(0)
}

/// The negatives of a period ($1 to $2) that pass the filters: an officer ($3), a field ($4),
/// a reason code ($5), a device ($6), each NULL for all.
const NEGATIVE_FILTERS: &str =
    "outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier
     AND local_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR officer = $3)
     AND ($4::text IS NULL OR field_name = $4)
     AND ($5::text IS NULL OR strpos(' ' || reasons || ' ', ' ' || $5 || ' ') > 0)
     AND ($6::text IS NULL OR device_id = $6)";

impl Pg {
    /// The counts from `from` to `to`, in all and per device, from `daily_counts`: of every
    /// device, or of `device` alone.
    pub async fn totals(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Totals, PgError> {
        let (from, to) = bounds(DateRange { from, to });
        let client = self.pool.get().await?;
        let (daily, misuse) = futures_util::future::try_join(
            client.query(
                // Added up before the devices' names are joined: a province's year is
                // hundreds of thousands of daily rows, hashed once, then a few hundred sorted.
                "SELECT c.device_id, d.counter, c.outcome, c.repeat_dossier, c.scale,
                     c.with_dossier, c.n
                 FROM (SELECT device_id, outcome, repeat_dossier, scale, with_dossier,
                           sum(n)::int8 AS n
                       FROM daily_counts
                       WHERE local_date BETWEEN $1 AND $2
                           AND ($3::text IS NULL OR device_id = $3)
                       GROUP BY 1, 2, 3, 4, 5) c
                 JOIN devices d ON d.id = c.device_id
                 ORDER BY c.device_id",
                &[&from, &to, &device],
            ),
            client.query(
                "SELECT m.device_id, max(d.counter), count(*) FROM misuse m
                 JOIN devices d ON d.id = m.device_id
                 WHERE m.local_date BETWEEN $1 AND $2
                     AND ($3::text IS NULL OR m.device_id = $3)
                 GROUP BY m.device_id",
                &[&from, &to, &device],
            ),
        )
        .await?;
        let daily = daily
            .iter()
            .map(|r| DailyRow {
                device: r.get(0),
                counter: r.get(1),
                outcome: r.get(2),
                repeat: r.get(3),
                scale: i64::from(r.get::<_, i16>(4)),
                with_dossier: r.get(5),
                n: count(r, 6),
            })
            .collect();
        let misuse = misuse
            .iter()
            .map(|r| MisuseRow {
                device: r.get(0),
                counter: r.get(1),
                n: count(r, 2),
            })
            .collect();
        Ok(figures::totals(daily, misuse))
    }

    /// The summary API's figures: the totals, and the counts per officer, by name.
    pub async fn summary(&self, from: NaiveDate, to: NaiveDate) -> Result<Summary, PgError> {
        let totals = self.totals(from, to, None).await?;
        let range = bounds(DateRange { from, to });
        Ok(figures::summary(
            totals,
            self.group_rows("officer", range, None).await?,
        ))
    }

    /// Whether any rating was given on the five-level scale.
    pub async fn any_five_level(&self) -> Result<bool, PgError> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT 1 FROM daily_counts WHERE scale = 5 LIMIT 1", &[])
            .await?;
        Ok(row.is_some())
    }

    /// Counted levels per month (`2026-03`) from `from` to `to`, oldest first, of every
    /// device or of `device`.
    pub async fn monthly(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        device: Option<&str>,
    ) -> Result<Vec<(String, Counts)>, PgError> {
        let (from, to) = bounds(DateRange { from, to });
        let client = self.pool.get().await?;
        let rows = client
            .query(
                // Per day, made months here: grouping on the date is cheaper than on its
                // formatted month.
                "SELECT local_date, outcome, repeat_dossier, sum(n)::int8
                 FROM daily_counts WHERE local_date BETWEEN $1 AND $2
                     AND ($3::text IS NULL OR device_id = $3)
                 GROUP BY 1, 2, 3 ORDER BY 1",
                &[&from, &to, &device],
            )
            .await?;
        Ok(figures::months(
            rows.iter()
                .map(|r| MonthRow {
                    month: r.get::<_, NaiveDate>(0).format("%Y-%m").to_string(),
                    outcome: r.get(1),
                    repeat: r.get(2),
                    n: count(r, 3),
                })
                .collect(),
        ))
    }

    async fn group_rows(
        &self,
        dimension: &str,
        (from, to): (NaiveDate, NaiveDate),
        device: Option<&str>,
    ) -> Result<Vec<GroupRow>, PgError> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT has_key, key, label, outcome, repeat_dossier, sum(n)::int8,
                     min(local_date)::text
                 FROM group_counts WHERE dimension = $1 AND local_date BETWEEN $2 AND $3
                     AND ($4::text IS NULL OR device_id = $4)
                 GROUP BY has_key, key, label, outcome, repeat_dossier",
                &[&dimension, &from, &to, &device],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| GroupRow {
                key: r.get::<_, bool>(0).then(|| r.get(1)),
                label: r.get(2),
                outcome: r.get(3),
                repeat: r.get(4),
                n: count(r, 5),
                first_day: r.get(6),
            })
            .collect())
    }

    /// Misuse presses in `range`, per month (`2026-03`), of every device or of `device`.
    pub async fn misuse_by_month(
        &self,
        range: DateRange,
        device: Option<&str>,
    ) -> Result<Vec<(String, u64)>, PgError> {
        let (from, to) = bounds(range);
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT to_char(local_date, 'YYYY-MM'), count(*) FROM misuse
                 WHERE local_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR device_id = $3)
                 GROUP BY 1 ORDER BY 1",
                &[&from, &to, &device],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), count(r, 1))).collect())
    }

    /// The report of `heading`'s period as the officers' or the fields' pages show it
    /// (`breakdowns`), of every device or of `device`.
    pub async fn page_report(
        &self,
        heading: Heading,
        device: Option<&str>,
        breakdowns: Breakdowns,
    ) -> Result<Report, PgError> {
        let range = heading.period.range();
        let dates = bounds(range);
        let groups = async |dimension, shown| {
            if breakdowns != shown {
                return Ok(Vec::new());
            }
            Ok::<_, PgError>(figures::groups(
                self.group_rows(dimension, dates, device).await?,
            ))
        };
        let parts = PageParts {
            totals: self.totals(range.from, range.to, device).await?,
            months: self.monthly(range.from, range.to, device).await?,
            misuse_by_month: self.misuse_by_month(range, device).await?,
            by_field: groups("field", Breakdowns::Fields).await?,
            by_procedure: groups("procedure", Breakdowns::Fields).await?,
            by_officer: groups("officer", Breakdowns::Officers).await?,
            appraisals: match breakdowns {
                Breakdowns::Officers => self.appraisals(dates, device).await?,
                Breakdowns::Fields => Vec::new(),
            },
            five_levels: self.any_five_level().await?,
            devices_are_communes: self.any_commune().await?,
        };
        Ok(figures::page_report(heading, parts))
    }

    /// Each officer month by month, from `group_counts`; the reasons of their negatives
    /// counted by officer and reasons.
    async fn appraisals(
        &self,
        (from, to): (NaiveDate, NaiveDate),
        device: Option<&str>,
    ) -> Result<Vec<Appraisal>, PgError> {
        let client = self.pool.get().await?;
        let (months, reasons) = futures_util::future::try_join(
            client.query(
                "SELECT has_key, key, to_char(local_date, 'YYYY-MM'), outcome, repeat_dossier,
                     with_dossier, sum(n)::int8
                 FROM group_counts WHERE dimension = 'officer' AND local_date BETWEEN $1 AND $2
                     AND ($3::text IS NULL OR device_id = $3)
                 GROUP BY 1, 2, 3, 4, 5, 6",
                &[&from, &to, &device],
            ),
            client.query(
                "SELECT officer, reasons, count(*) FROM ratings
                 WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier
                     AND local_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR device_id = $3)
                 GROUP BY 1, 2",
                &[&from, &to, &device],
            ),
        )
        .await?;
        let months = months
            .iter()
            .map(|r| OfficerMonthRow {
                officer: r.get::<_, bool>(0).then(|| r.get(1)),
                month: r.get(2),
                outcome: r.get(3),
                repeat: r.get(4),
                with_dossier: r.get(5),
                n: count(r, 6),
            })
            .collect();
        let reasons = reasons
            .iter()
            .map(|r| (r.get(0), r.get(1), count(r, 2)))
            .collect();
        Ok(figures::appraisals(months, reasons))
    }

    /// A page of the negatives of `range` that pass `query`'s filters, newest first, and how
    /// many pass them in all.
    pub async fn negatives_page(
        &self,
        range: DateRange,
        query: &NegativeQuery,
    ) -> Result<NegativesPage, PgError> {
        let (from, to) = bounds(range);
        let reason = query.reason.map(|r| r.code());
        let client = self.pool.get().await?;
        let filters = NEGATIVE_FILTERS;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let total_sql = format!("SELECT count(*) FROM ratings WHERE {filters}");
        let rows_sql = format!(
            "SELECT created_at, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_name, officer, counter,
                 (SELECT d.counter FROM devices d
                  WHERE d.id = ratings.device_id AND d.unit_code IS NOT NULL)
             FROM ratings WHERE {filters}
             ORDER BY local_date DESC, created_at DESC LIMIT $7 OFFSET $8"
        );
        let keys_sql = "SELECT DISTINCT key FROM group_counts
             WHERE dimension = $1 AND has_key AND local_date BETWEEN $2 AND $3
                 AND ($4::text IS NULL OR device_id = $4)
             ORDER BY key";
        let device = &query.device;
        let (total, rows, officers, fields) = futures_util::future::try_join4(
            client.query_one(
                &total_sql,
                &[&from, &to, &query.officer, &query.field, &reason, device],
            ),
            client.query(
                &rows_sql,
                &[
                    &from,
                    &to,
                    &query.officer,
                    &query.field,
                    &reason,
                    device,
                    &limit,
                    &offset,
                ],
            ),
            client.query(keys_sql, &[&"officer", &from, &to, device]),
            client.query(keys_sql, &[&"field", &from, &to, device]),
        )
        .await?;
        let negatives = rows
            .iter()
            .filter_map(|r| {
                let level = Outcome::parse(r.get(1)).and_then(Outcome::level)?;
                Some(Negative {
                    at: r.get(0),
                    level,
                    reasons: Reason::split(r.get(2)).unwrap_or_default(),
                    comment: r.get(3),
                    dossier: r.get(4),
                    procedure_code: r.get(5),
                    procedure_name: r.get(6),
                    field_name: r.get(7),
                    officer: r.get(8),
                    counter: r.get(9),
                    commune: r.get(10),
                })
            })
            .collect();
        Ok(NegativesPage {
            total: count(&total, 0),
            rows: negatives,
            officers: officers.iter().map(|r| r.get(0)).collect(),
            fields: fields.iter().map(|r| r.get(0)).collect(),
        })
    }
}
