//! What the dashboard's pages of a period read: the report of the officers' and the fields'
//! pages from the counts the writer keeps (`daily_counts`, `group_counts`), and the negatives'
//! page a filtered page at a time through their own index. A year of 1,000,000 ratings is a few
//! tens of thousands of rows to add up, not a million entries to count; the figures are the
//! report files' own (tested against the one pass the files make).

use super::{Db, DbError};
use crate::figures::{self, Breakdowns, OfficerMonthRow, PageParts};
use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::{Appraisal, Heading, Negative, Report};
use rusqlite::params;

/// The negatives of a period (?1 to ?2) that pass the filters: an officer (?3), a field (?4),
/// a reason code (?5), a device (?6), each NULL for all.
const NEGATIVE_FILTERS: &str =
    "outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier
     AND local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR officer = ?3)
     AND (?4 IS NULL OR field_name = ?4)
     AND (?5 IS NULL OR instr(' ' || reasons || ' ', ' ' || ?5 || ' ') > 0)
     AND (?6 IS NULL OR device_id = ?6)";

/// The negative ratings of a period (?1 to ?2), of a device (?3, NULL for all), counted by
/// officer and reasons.
const OFFICER_REASONS: &str = "SELECT officer, reasons, count(*) FROM ratings
     WHERE outcome IN ('unsatisfied', 'very_unsatisfied') AND NOT repeat_dossier
         AND local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR device_id = ?3)
     GROUP BY 1, 2";

/// The negatives' page asked for: its filters (`None`: all) and which page.
#[derive(Debug, Clone, Default)]
pub struct NegativeQuery {
    /// One device's (a commune's server, on a province's).
    pub device: Option<String>,
    pub officer: Option<String>,
    pub field: Option<String>,
    pub reason: Option<Reason>,
    /// From 0.
    pub offset: u64,
    pub limit: u64,
}

/// A page of the period's negatives, newest first.
#[derive(Debug, Clone)]
pub struct NegativesPage {
    /// The negatives that pass the filters, in all.
    pub total: u64,
    pub rows: Vec<Negative>,
    /// The officers and fields of the period, for the filters' lists.
    pub officers: Vec<String>,
    pub fields: Vec<String>,
}

impl Db {
    /// The report of `heading`'s period as the officers' and fields' pages show it, of every
    /// device or of `device`: the counts, months, breakdowns and each officer's appraisal; no
    /// list of negatives.
    pub fn page_report(
        &self,
        heading: Heading,
        device: Option<&str>,
        breakdowns: Breakdowns,
    ) -> Result<Report, DbError> {
        let range = heading.period.range();
        let (from, to) = range.text_bounds();
        let groups = |dimension, shown| -> Result<_, DbError> {
            if breakdowns != shown {
                return Ok(Vec::new());
            }
            Ok(figures::groups(
                self.group_rows(dimension, &from, &to, device)?,
            ))
        };
        let parts = PageParts {
            totals: self.totals(range.from, range.to, device)?,
            months: self.monthly(range.from, range.to, device)?,
            misuse_by_month: self.misuse_by_month(range, device)?,
            by_field: groups("field", Breakdowns::Fields)?,
            by_procedure: groups("procedure", Breakdowns::Fields)?,
            by_officer: groups("officer", Breakdowns::Officers)?,
            appraisals: match breakdowns {
                Breakdowns::Officers => self.appraisals(&from, &to, device)?,
                Breakdowns::Fields => Vec::new(),
            },
            five_levels: self.any_five_level()?,
            devices_are_communes: self.any_commune()?,
        };
        Ok(figures::page_report(heading, parts))
    }

    /// Misuse presses in `range`, per month (`2026-03`), of every device or of `device`.
    pub(super) fn misuse_by_month(
        &self,
        range: DateRange,
        device: Option<&str>,
    ) -> Result<Vec<(String, u64)>, DbError> {
        let (from, to) = range.text_bounds();
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(local_date, 1, 7), count(*) FROM misuse
             WHERE local_date BETWEEN ?1 AND ?2 AND (?3 IS NULL OR device_id = ?3)
             GROUP BY 1 ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![from, to, device], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Each officer month by month, from `group_counts`; the reasons of their negatives from
    /// the negatives' index.
    fn appraisals(
        &self,
        from: &str,
        to: &str,
        device: Option<&str>,
    ) -> Result<Vec<Appraisal>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT has_key, key, substr(local_date, 1, 7), outcome, repeat_dossier,
                 with_dossier, sum(n)
             FROM group_counts WHERE dimension = 'officer' AND local_date BETWEEN ?1 AND ?2
                 AND (?3 IS NULL OR device_id = ?3)
             GROUP BY 1, 2, 3, 4, 5, 6",
        )?;
        let rows = stmt
            .query_map(params![from, to, device], |r| {
                Ok(OfficerMonthRow {
                    officer: r.get::<_, bool>(0)?.then(|| r.get(1)).transpose()?,
                    month: r.get(2)?,
                    outcome: r.get(3)?,
                    repeat: r.get(4)?,
                    with_dossier: r.get(5)?,
                    n: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare_cached(OFFICER_REASONS)?;
        let reasons = stmt
            .query_map(params![from, to, device], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(figures::appraisals(rows, reasons))
    }

    /// A page of the negatives of `range` that pass `query`'s filters, newest first, and how
    /// many pass them in all.
    pub fn negatives_page(
        &self,
        range: DateRange,
        query: &NegativeQuery,
    ) -> Result<NegativesPage, DbError> {
        let (from, to) = range.text_bounds();
        let filters = NEGATIVE_FILTERS;
        let reason = query.reason.map(|r| r.code());
        let total: u64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM ratings WHERE {filters}"))?
            .query_row(
                params![from, to, query.officer, query.field, reason, query.device],
                |r| r.get(0),
            )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT created_at, outcome, reasons, comment, dossier, procedure_code,
                 procedure_name, field_name, officer, counter,
                 (SELECT d.counter FROM devices d
                  WHERE d.id = ratings.device_id AND d.unit_code IS NOT NULL)
             FROM ratings WHERE {filters}
             ORDER BY local_date DESC, created_at DESC LIMIT ?7 OFFSET ?8"
        ))?;
        let mut rows = stmt.query(params![
            from,
            to,
            query.officer,
            query.field,
            reason,
            query.device,
            i64::try_from(query.limit).unwrap_or(i64::MAX),
            i64::try_from(query.offset).unwrap_or(i64::MAX),
        ])?;
        let mut negatives = Vec::new();
        while let Some(row) = rows.next()? {
            let Some(level) = Outcome::parse(&row.get::<_, String>(1)?).and_then(Outcome::level)
            else {
                continue;
            };
            negatives.push(Negative {
                at: row.get(0)?,
                level,
                reasons: Reason::split(&row.get::<_, String>(2)?).unwrap_or_default(),
                comment: row.get(3)?,
                dossier: row.get(4)?,
                procedure_code: row.get(5)?,
                procedure_name: row.get(6)?,
                field_name: row.get(7)?,
                officer: row.get(8)?,
                counter: row.get(9)?,
                commune: row.get(10)?,
            });
        }
        Ok(NegativesPage {
            total,
            rows: negatives,
            officers: self.keys("officer", &from, &to, query.device.as_deref())?,
            fields: self.keys("field", &from, &to, query.device.as_deref())?,
        })
    }

    /// The officers (fields) with ratings in the period, of every device or of `device`,
    /// sorted.
    fn keys(
        &self,
        dimension: &str,
        from: &str,
        to: &str,
        device: Option<&str>,
    ) -> Result<Vec<String>, DbError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT key FROM group_counts
             WHERE dimension = ?1 AND has_key AND local_date BETWEEN ?2 AND ?3
                 AND (?4 IS NULL OR device_id = ?4)
             ORDER BY key",
        )?;
        let rows = stmt.query_map(params![dimension, from, to, device], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating_with};
    use chrono::Utc;
    use hailong_core::period::ReportPeriod;
    use hailong_core::report::Letterhead;
    use serde_json::json;

    fn heading(period: ReportPeriod) -> Heading {
        Heading {
            unit: "UBND xã Tân Phú".into(),
            period,
            made_at: "2026-12-01T08:00:00+07:00".into(),
            letterhead: Letterhead::default(),
        }
    }

    /// Ratings of two months and two tablets: officers, walk-ups, fields, procedures (one
    /// renamed), an unrated dossier, a repeat, both negative levels with reasons.
    fn fixture(db: &mut Db) {
        let (one, two) = (paired(db, "Quầy 1"), paired(db, "Quầy 2"));
        let mut n = 0;
        let mut items = |device: &str, list: Vec<serde_json::Value>| {
            let ratings = list
                .into_iter()
                .map(|fields| {
                    n += 1;
                    rating_with(n, fields)
                })
                .collect();
            db.ingest(&[&batch(device, ratings)], Utc::now()).unwrap();
        };
        let at = |day: &str| format!("2026-{day}T09:00:00+07:00");
        let lan = |day: &str, level: &str, dossier: Option<&str>, name: &str| {
            json!({"created_at": at(day), "level": level, "officer": "Nguyễn Thị Lan",
                   "field_name": "Hộ tịch", "procedure_code": "1.001193",
                   "procedure_name": name, "dossier_code": dossier,
                   "reasons": if level == "unsatisfied" { json!(["late", "long_wait"]) } else { json!([]) }})
        };
        items(
            &one,
            vec![
                lan(
                    "10-02",
                    "satisfied",
                    Some("000.00.14.H56-261002-0001"),
                    "Đăng ký khai sinh",
                ),
                lan(
                    "10-03",
                    "unsatisfied",
                    Some("000.00.14.H56-261003-0001"),
                    "Đăng ký khai sinh",
                ),
                lan(
                    "10-03",
                    "satisfied",
                    Some("000.00.14.H56-261003-0001"),
                    "Đăng ký khai sinh",
                ),
                lan(
                    "11-05",
                    "not_rated",
                    Some("000.00.14.H56-261105-0001"),
                    "Khai sinh (tên mới)",
                ),
                lan("11-06", "very_satisfied", None, "Khai sinh (tên mới)"),
                json!({"created_at": at("11-07"), "level": "unsatisfied", "reasons": ["other"]}),
            ],
        );
        items(
            &two,
            vec![
                json!({"created_at": at("11-08"), "level": "very_satisfied",
                       "officer": "Trần Văn Hùng", "field_name": "Chứng thực",
                       "procedure_code": "2.000815", "dossier_code": "000.00.14.H56-261108-0002"}),
                json!({"created_at": at("11-09"), "scale": 5, "level": "very_unsatisfied",
                       "reasons": ["attitude", "late"], "officer": "Trần Văn Hùng"}),
            ],
        );
    }

    /// A filtered list's count and the officers' reasons read the negatives' index alone,
    /// never the ratings: a year's page stays fast however many ratings there are.
    #[test]
    fn the_negatives_are_counted_from_their_own_index_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("server.db")).unwrap();
        let count = format!("SELECT count(*) FROM ratings WHERE {NEGATIVE_FILTERS}");
        let none: Option<String> = None;
        let all: [&dyn rusqlite::ToSql; 6] =
            [&"2026-01-01", &"2026-12-31", &none, &none, &none, &none];
        for (sql, bound) in [(count.as_str(), 6), (OFFICER_REASONS, 3)] {
            let mut stmt = db
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let plan: Vec<String> = stmt
                .query_map(&all[..bound], |r| r.get(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            // The reasons are then grouped apart, never by reading a rating.
            assert_eq!(
                plan[0],
                "SEARCH ratings USING COVERING INDEX ratings_negatives (local_date>? AND local_date<?)",
                "{sql}"
            );
            assert!(
                plan[1..] == [] as [&str; 0] || plan[1..] == ["USE TEMP B-TREE FOR GROUP BY"],
                "{plan:?}"
            );
        }
    }

    /// Issue 15: the pages' counts are the files' counts, whatever the period.
    #[test]
    fn the_pages_read_the_figures_of_the_one_pass_the_files_make() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        fixture(&mut db);
        for period in [
            ReportPeriod::Year(2026),
            ReportPeriod::Quarter {
                year: 2026,
                quarter: 4,
            },
            ReportPeriod::Month {
                year: 2026,
                month: 11,
            },
            ReportPeriod::Month {
                year: 2026,
                month: 3,
            },
        ] {
            let files = hailong_report::report(&db, heading(period)).unwrap();
            // Each page reads its own breakdowns; with the other page's, the files' report.
            let officers = db
                .page_report(heading(period), None, Breakdowns::Officers)
                .unwrap();
            let fields = db
                .page_report(heading(period), None, Breakdowns::Fields)
                .unwrap();
            assert!(officers.by_field.is_empty() && officers.by_procedure.is_empty());
            assert!(fields.by_officer.is_empty() && fields.appraisals.is_empty());
            let both = Report {
                negatives: files.negatives.clone(),
                by_field: fields.by_field,
                by_procedure: fields.by_procedure,
                ..officers
            };
            assert_eq!(both, files, "{period:?}");
        }
        let year = ReportPeriod::Year(2026).range();
        let files = hailong_report::report(&db, heading(ReportPeriod::Year(2026))).unwrap();
        // The fixture is what it says: every rating taken, every kind of group there.
        assert_eq!(files.counts.total(), 6);
        assert_eq!((files.counts.unrated, files.counts.repeat_dossier), (1, 1));
        assert_eq!(files.by_officer.len(), 3, "two officers and the walk-up");
        assert_eq!(
            files.by_procedure[0].label.as_deref(),
            Some("Đăng ký khai sinh")
        );
        assert_eq!(
            files.appraisals[0].reasons,
            [(Reason::Late, 1), (Reason::LongWait, 1)]
        );
        let all = |query: NegativeQuery| db.negatives_page(year, &query).unwrap();
        let every = all(NegativeQuery {
            limit: 50,
            ..NegativeQuery::default()
        });
        let mut newest_first = files.negatives.clone();
        newest_first.reverse();
        assert_eq!(every.total, 3);
        assert_eq!(every.rows, newest_first);
        assert_eq!(every.officers, ["Nguyễn Thị Lan", "Trần Văn Hùng"]);
        assert_eq!(every.fields, ["Chứng thực", "Hộ tịch"]);
        let late = all(NegativeQuery {
            reason: Some(Reason::Late),
            limit: 50,
            ..NegativeQuery::default()
        });
        assert_eq!(late.total, 2);
        let lan_late = all(NegativeQuery {
            reason: Some(Reason::Late),
            officer: Some("Nguyễn Thị Lan".into()),
            limit: 50,
            ..NegativeQuery::default()
        });
        assert_eq!(lan_late.total, 1);
        assert_eq!(lan_late.rows[0].reasons, [Reason::Late, Reason::LongWait]);
        let second = all(NegativeQuery {
            offset: 1,
            limit: 1,
            ..NegativeQuery::default()
        });
        assert_eq!((second.total, second.rows.len()), (3, 1));
        assert_eq!(second.rows[0], newest_first[1]);

        // Each tablet's own pages (a commune's, on a province's server): theirs alone, and the
        // two add up to the whole.
        let ids: Vec<String> = db
            .conn
            .prepare("SELECT id FROM devices ORDER BY counter")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let whole = heading(ReportPeriod::Year(2026));
        let own: Vec<Report> = ids
            .iter()
            .map(|id| {
                db.page_report(whole.clone(), Some(id), Breakdowns::Officers)
                    .unwrap()
            })
            .collect();
        let mut added = own[0].counts.clone();
        added.merge(&own[1].counts);
        assert_eq!(added, files.counts);
        assert_eq!(own[1].counts.total(), 2);
        let officers = |r: &Report| -> Vec<Option<String>> {
            r.by_officer.iter().map(|g| g.key.clone()).collect()
        };
        assert_eq!(officers(&own[1]), [Some("Trần Văn Hùng".to_owned())]);
        assert_eq!(own[1].appraisals.len(), 1);
        let theirs = all(NegativeQuery {
            device: Some(ids[1].clone()),
            limit: 50,
            ..NegativeQuery::default()
        });
        assert_eq!(theirs.total, 1);
        assert_eq!(theirs.rows[0].officer.as_deref(), Some("Trần Văn Hùng"));
        assert_eq!(
            (theirs.officers, theirs.fields),
            (
                vec!["Trần Văn Hùng".to_owned()],
                vec!["Chứng thực".to_owned()]
            )
        );
    }
}
