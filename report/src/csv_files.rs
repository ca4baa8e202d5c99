//! The two CSV files: one row per entry, and the summary with one row per group. UTF-8 with a
//! byte-order mark, so that Excel shows Vietnamese right. Text a citizen, an officer or a
//! catalogue wrote goes through [`csv_cell`], so that no cell runs as a formula. README.md
//! documents the columns.

use crate::{ExportError, Progress, Source, tally};
use hailong_core::escape::csv_cell;
use hailong_core::report::{Group, Heading, Report};
use hailong_core::summary::{Counts, format_tenths};
use std::io::Write;

/// The columns of the one-row-per-entry CSV.
pub const RATING_COLUMNS: [&str; 14] = [
    "id",
    "recorded_at",
    "outcome",
    "satisfied",
    "reasons",
    "comment",
    "dossier",
    "procedure_code",
    "procedure_name",
    "field_name",
    "officer",
    "counter",
    "repeat_dossier",
    "counted",
];

const BOM: &[u8] = "\u{feff}".as_bytes();

pub fn ratings(
    source: &dyn Source,
    heading: Heading,
    out: &mut impl Write,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    out.write_all(BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(RATING_COLUMNS)
        .map_err(std::io::Error::from)?;
    let mut failure = None;
    let report = tally(
        source,
        heading,
        &mut |e| {
            let level = e.level;
            let reasons: Vec<&str> = e.reasons.iter().map(|r| r.code()).collect();
            let flag = |b: bool| if b { "1" } else { "0" };
            fn text(t: &Option<String>) -> std::borrow::Cow<'_, str> {
                csv_cell(t.as_deref().unwrap_or(""))
            }
            let record = [
                csv_cell(&e.id),
                csv_cell(&e.at),
                e.outcome().code().into(),
                level.map_or("", |l| flag(l.is_satisfied())).into(),
                reasons.join(" ").into(),
                text(&e.comment),
                text(&e.dossier),
                text(&e.procedure_code),
                text(&e.procedure_name),
                text(&e.field_name),
                text(&e.officer),
                text(&e.counter),
                flag(e.repeat_dossier).into(),
                flag(e.counted()).into(),
            ];
            match writer.write_record(record.iter().map(|cell| cell.as_bytes())) {
                Ok(()) => true,
                Err(err) => {
                    failure = Some(err);
                    false
                }
            }
        },
        progress,
    )?;
    if let Some(err) = failure {
        return Err(std::io::Error::from(err).into());
    }
    writer.flush()?;
    Ok(report)
}

/// The summary CSV: a `total` row, then one row per month, field, procedure, officer and
/// device.
pub fn summary(report: &Report, out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(BOM)?;
    let mut writer = csv::Writer::from_writer(out);
    let levels = report.scale.levels();
    let mut header = vec![
        "group".to_owned(),
        "key".into(),
        "label".into(),
        "total".into(),
    ];
    header.extend(levels.iter().map(|l| l.code().to_owned()));
    header.extend(levels.iter().map(|l| format!("share_{}", l.code())));
    header.extend(["satisfied_pct", "unrated", "repeat_dossier", "misuse"].map(str::to_owned));
    writer.write_record(&header)?;
    let mut row = |group: &str, key: Option<&str>, label: Option<&str>, c: &Counts| {
        let shares = c.shares_tenths(report.scale).unwrap_or_default();
        let mut record = vec![
            group.to_owned(),
            csv_cell(key.unwrap_or("")).into_owned(),
            csv_cell(label.unwrap_or("")).into_owned(),
            c.total().to_string(),
        ];
        record.extend(levels.iter().map(|&l| c.count(l).to_string()));
        record.extend(levels.iter().map(|&l| {
            shares
                .iter()
                .find(|(s, _)| *s == l)
                .map_or(String::new(), |(_, t)| format_tenths(*t))
        }));
        record.push(c.satisfied_tenths().map_or(String::new(), format_tenths));
        record.extend([c.unrated, c.repeat_dossier, c.misuse].map(|n| n.to_string()));
        writer.write_record(&record)
    };
    row("total", None, None, &report.counts)?;
    for (name, groups) in report.breakdowns() {
        let group = name.trim_start_matches("by_");
        for Group { key, label, counts } in groups {
            row(group, key.as_deref(), label.as_deref(), counts)?;
        }
    }
    writer.flush()?;
    Ok(())
}
