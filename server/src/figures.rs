//! What every figure is made of, in one place: the rows a backend reads from the counts the
//! writer keeps (`daily_counts`, `group_counts`) and from the misuse presses, added up here
//! into the dashboard's totals, its monthly trend, the breakdowns and each officer's
//! appraisal. No I/O: SQLite and PostgreSQL only read rows, so both give the same figures.

use hailong_core::level::Scale;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::{
    Appraisal, Figures, Group, Heading, ReasonCounts, Report, sort_appraisals, sort_groups,
};
use hailong_core::summary::Counts;
use std::collections::BTreeMap;

/// The daily counts of one device, outcome, repeat flag, scale and dossier flag, summed over
/// a period; ordered by device.
#[derive(Debug, Clone)]
pub struct DailyRow {
    pub device: String,
    pub counter: String,
    pub outcome: String,
    pub repeat: bool,
    pub scale: i64,
    pub with_dossier: bool,
    pub n: u64,
}

/// Misuse presses of one device over a period.
#[derive(Debug, Clone)]
pub struct MisuseRow {
    pub device: String,
    pub counter: String,
    pub n: u64,
}

/// The counts of one month (`2026-03`), outcome and repeat flag; ordered by month.
#[derive(Debug, Clone)]
pub struct MonthRow {
    pub month: String,
    pub outcome: String,
    pub repeat: bool,
    pub n: u64,
}

/// The counts of one officer, field or procedure (`None`: given without one), label,
/// outcome and repeat flag, with the first day the label was given.
#[derive(Debug, Clone)]
pub struct GroupRow {
    pub key: Option<String>,
    pub label: String,
    pub outcome: String,
    pub repeat: bool,
    pub n: u64,
    pub first_day: String,
}

/// The counts of one officer in one month, by outcome, repeat and dossier flags.
#[derive(Debug, Clone)]
pub struct OfficerMonthRow {
    pub officer: Option<String>,
    pub month: String,
    pub outcome: String,
    pub repeat: bool,
    pub with_dossier: bool,
    pub n: u64,
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
    /// Rated dossiers per device (by id), for each one's response rate.
    pub rated_by_device: BTreeMap<String, u64>,
}

/// The summary API's figures: the totals, and the counts per officer.
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

/// The totals of a period, in all and per device (a device may have only misuse presses).
pub fn totals(daily: Vec<DailyRow>, misuse: Vec<MisuseRow>) -> Totals {
    let mut totals = Totals {
        scale: Scale::Three,
        counts: Counts::default(),
        rated_dossiers: 0,
        by_device: Vec::new(),
        rated_by_device: BTreeMap::new(),
    };
    for row in daily {
        if totals.by_device.last().and_then(|b| b.key.as_deref()) != Some(row.device.as_str()) {
            totals.by_device.push(Group {
                key: Some(row.device.clone()),
                label: Some(row.counter),
                counts: Counts::default(),
            });
        }
        let Some(outcome) = Outcome::parse(&row.outcome) else {
            continue;
        };
        if row.scale == 5 {
            totals.scale = Scale::Five;
        }
        if row.with_dossier && !row.repeat && outcome.level().is_some() {
            totals.rated_dossiers += row.n;
            *totals
                .rated_by_device
                .entry(row.device.clone())
                .or_default() += row.n;
        }
        totals.counts.add_outcome(outcome, row.repeat, row.n);
        if let Some(device) = totals.by_device.last_mut() {
            device.counts.add_outcome(outcome, row.repeat, row.n);
        }
    }
    for row in misuse {
        totals.counts.misuse += row.n;
        match totals
            .by_device
            .iter_mut()
            .find(|b| b.key.as_deref() == Some(row.device.as_str()))
        {
            Some(b) => b.counts.misuse += row.n,
            None => totals.by_device.push(Group {
                key: Some(row.device),
                label: Some(row.counter),
                counts: Counts {
                    misuse: row.n,
                    ..Counts::default()
                },
            }),
        }
    }
    totals.by_device.sort_by(|a, b| a.key.cmp(&b.key));
    totals
}

/// The summary API's figures: the totals, and the officers (`officers`: the officer rows of
/// the group counts) by name, the walk-ups first.
pub fn summary(totals: Totals, officers: Vec<GroupRow>) -> Summary {
    let mut by_officer = groups(officers);
    by_officer.sort_by(|a, b| a.key.cmp(&b.key));
    Summary {
        scale: totals.scale,
        counts: totals.counts,
        by_device: totals.by_device,
        by_officer,
    }
}

/// Counted levels per month, oldest first; a month with no ratings is absent.
pub fn months(rows: Vec<MonthRow>) -> Vec<(String, Counts)> {
    let mut months: Vec<(String, Counts)> = Vec::new();
    for row in rows {
        if months.last().is_none_or(|(m, _)| *m != row.month) {
            months.push((row.month.clone(), Counts::default()));
        }
        if let Some((_, counts)) = months.last_mut() {
            add(counts, &row.outcome, row.repeat, row.n);
        }
    }
    months
}

/// One breakdown in the report's order. A group's label is the earliest given in the
/// period, as the one pass over the entries takes it.
pub fn groups(rows: Vec<GroupRow>) -> Vec<Group> {
    /// (counts, (first day given, label))
    type Adding = (Counts, Option<(String, String)>);
    let mut groups: BTreeMap<Option<String>, Adding> = BTreeMap::new();
    for row in rows {
        let group = groups.entry(row.key).or_default();
        add(&mut group.0, &row.outcome, row.repeat, row.n);
        if !row.label.is_empty()
            && group
                .1
                .as_ref()
                .is_none_or(|l| (&row.first_day, &row.label) < (&l.0, &l.1))
        {
            group.1 = Some((row.first_day, row.label));
        }
    }
    let mut list: Vec<Group> = groups
        .into_iter()
        .map(|(key, (counts, label))| Group {
            key,
            label: label.map(|(_, label)| label),
            counts,
        })
        .collect();
    sort_groups(&mut list);
    list
}

/// Each officer month by month, with the reasons of their negatives (`reasons`: an officer,
/// reason codes, and how many negatives gave them).
pub fn appraisals(
    rows: Vec<OfficerMonthRow>,
    reasons: Vec<(Option<String>, String, u64)>,
) -> Vec<Appraisal> {
    type Officer = (Figures, BTreeMap<String, Figures>, ReasonCounts);
    let mut officers: BTreeMap<Option<String>, Officer> = BTreeMap::new();
    for row in rows {
        let Some(outcome) = Outcome::parse(&row.outcome) else {
            continue;
        };
        let officer = officers
            .entry(row.officer)
            .or_insert_with(|| (Figures::default(), BTreeMap::new(), ReasonCounts::default()));
        for figures in [&mut officer.0, officer.1.entry(row.month).or_default()] {
            figures.counts.add_outcome(outcome, row.repeat, row.n);
            if row.with_dossier && !row.repeat && outcome.level().is_some() {
                figures.rated_dossiers += row.n;
            }
        }
    }
    for (officer, given, n) in reasons {
        if let Some((_, _, counts)) = officers.get_mut(&officer) {
            counts.add_times(&Reason::split(&given).unwrap_or_default(), n);
        }
    }
    let mut list: Vec<Appraisal> = officers
        .into_iter()
        .map(|(officer, (whole, months, reasons))| Appraisal {
            officer,
            whole,
            months: months.into_iter().collect(),
            reasons: reasons.by_count(),
        })
        .collect();
    sort_appraisals(&mut list);
    list
}

/// Which breakdowns a page shows: the officers' with their appraisals, or the fields' and
/// procedures'. A page's report leaves the others empty, unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdowns {
    Officers,
    Fields,
}

/// What a report of the pages is made of, as read.
pub struct PageParts {
    pub totals: Totals,
    pub months: Vec<(String, Counts)>,
    pub misuse_by_month: Vec<(String, u64)>,
    pub by_field: Vec<Group>,
    pub by_procedure: Vec<Group>,
    pub by_officer: Vec<Group>,
    pub appraisals: Vec<Appraisal>,
    /// Whether any rating of the commune was given on five levels.
    pub five_levels: bool,
    /// The devices are communes' servers (a province's server).
    pub devices_are_communes: bool,
}

/// The report of `heading`'s period as the officers' and fields' pages show it: the
/// counts, months, breakdowns and each officer's appraisal; no list of negatives.
pub fn page_report(heading: Heading, parts: PageParts) -> Report {
    let mut by_month: Vec<Group> = parts
        .months
        .into_iter()
        .map(|(month, counts)| Group {
            key: Some(month.clone()),
            label: Some(month),
            counts,
        })
        .collect();
    for (month, n) in parts.misuse_by_month {
        match by_month
            .iter_mut()
            .find(|g| g.key.as_deref() == Some(&month))
        {
            Some(g) => g.counts.misuse += n,
            None => by_month.push(Group {
                key: Some(month.clone()),
                label: Some(month),
                counts: Counts {
                    misuse: n,
                    ..Counts::default()
                },
            }),
        }
    }
    by_month.sort_by(|a, b| a.key.cmp(&b.key));
    let mut by_device = parts.totals.by_device;
    sort_groups(&mut by_device);
    Report {
        scale: if parts.five_levels {
            Scale::Five
        } else {
            Scale::Three
        },
        counts: parts.totals.counts,
        rated_dossiers: parts.totals.rated_dossiers,
        by_month,
        by_field: parts.by_field,
        by_procedure: parts.by_procedure,
        by_officer: parts.by_officer,
        by_device,
        devices_are_communes: parts.devices_are_communes,
        negatives: Vec::new(),
        appraisals: parts.appraisals,
        heading,
    }
}
