//! The CSV files, each in two flavours. For programs: one row per entry, and the summary with
//! one row per group; RFC 4180, codes and ISO times, with label columns in the report's
//! language. For people, in a spreadsheet with Vietnamese settings: `;` between fields, decimal
//! commas, dd/mm/yyyy hh:mm times, labels as headers, codes kept as text (so that the procedure
//! 1.001193 is not read as the number 1001193).
//!
//! UTF-8 with a byte-order mark, so that Excel shows Vietnamese right. Text a citizen, an
//! officer or a catalogue wrote goes through [`csv_cell`], so that no cell runs as a formula.
//! README.md documents the columns.

use crate::words::{Lang, month_label};
use crate::{ExportError, Progress, Source, tally};
use hailong_core::escape::csv_cell;
use hailong_core::report::{Entry, Group, Heading, Report};
use hailong_core::summary::{Counts, format_tenths};
use std::borrow::Cow;
use std::io::Write;

/// The columns of the one-row-per-entry CSV for programs.
pub const RATING_COLUMNS: [&str; 16] = [
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
    "outcome_label",
    "reasons_label",
];

const BOM: &[u8] = "\u{feff}".as_bytes();

/// Writes one record per entry while the report is tallied.
fn each_entry(
    source: &dyn Source,
    heading: Heading,
    writer: &mut csv::Writer<&mut dyn Write>,
    record: &dyn for<'e> Fn(&'e Entry) -> Vec<Cow<'e, str>>,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    let mut failure = None;
    let report = tally(
        source,
        heading,
        &mut |e| match writer.write_record(record(e).iter().map(|cell| cell.as_bytes())) {
            Ok(()) => true,
            Err(err) => {
                failure = Some(err);
                false
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

fn text(t: &Option<String>) -> Cow<'_, str> {
    csv_cell(t.as_deref().unwrap_or(""))
}

fn flag(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

pub fn ratings(
    source: &dyn Source,
    heading: Heading,
    lang: Lang,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    let mut writer = start(out, FOR_PROGRAMS)?;
    writer
        .write_record(RATING_COLUMNS)
        .map_err(std::io::Error::from)?;
    each_entry(
        source,
        heading,
        &mut writer,
        &|e| machine_record(e, lang),
        progress,
    )
}

/// One row of the CSV for programs: codes, ISO time, then the labels.
fn machine_record(e: &Entry, lang: Lang) -> Vec<Cow<'_, str>> {
    let reasons = if e.reasons.is_empty() {
        Cow::Borrowed("")
    } else {
        let codes: Vec<&str> = e.reasons.iter().map(|r| r.code()).collect();
        Cow::Owned(codes.join(" "))
    };
    vec![
        csv_cell(&e.id),
        csv_cell(&e.at),
        e.outcome().code().into(),
        e.level.map_or("", |l| flag(l.is_satisfied())).into(),
        reasons,
        text(&e.comment),
        text(&e.dossier),
        text(&e.procedure_code),
        text(&e.procedure_name),
        text(&e.field_name),
        text(&e.officer),
        text(&e.counter),
        flag(e.repeat_dossier).into(),
        flag(e.counted()).into(),
        lang.outcome(e.level).into(),
        reasons_label(e, lang),
    ]
}

fn reasons_label(e: &Entry, lang: Lang) -> Cow<'static, str> {
    match e.reasons.as_slice() {
        [] => Cow::Borrowed(""),
        [one] => Cow::Borrowed(lang.reason(*one)),
        _ => Cow::Owned(lang.reasons(&e.reasons)),
    }
}

/// Between fields: `,` for programs (RFC 4180), `;` for a spreadsheet with Vietnamese settings.
const FOR_PROGRAMS: u8 = b',';
const FOR_PEOPLE: u8 = b';';

/// A CSV file's start: the byte-order mark, then a writer with `delimiter` between fields.
fn start(out: &mut dyn Write, delimiter: u8) -> std::io::Result<csv::Writer<&mut dyn Write>> {
    out.write_all(BOM)?;
    Ok(csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out))
}

/// A code a spreadsheet would read as a number (`1.001193`, `000123`) kept as text: the
/// formula `="1.001193"`, which Excel and LibreOffice show as the code itself. A code is
/// written by a catalogue or a scanner; anything but letters, digits and `.-_/` in it is
/// left to [`csv_cell`] instead.
fn code_as_text(code: &Option<String>) -> String {
    match code.as_deref() {
        Some(c)
            if !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ".-_/".contains(ch)) =>
        {
            format!("=\"{c}\"")
        }
        _ => text(code).into_owned(),
    }
}

/// `2026-03-02T08:05:00+07:00` as `02/03/2026 08:05`, the clock time where it was made.
fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|_| csv_cell(rfc3339).into_owned())
}

/// The one-row-per-entry CSV for people (`csv-excel`).
pub fn ratings_for_excel(
    source: &dyn Source,
    heading: Heading,
    lang: Lang,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    let w = lang.words();
    let mut writer = start(out, FOR_PEOPLE)?;
    writer
        .write_record([
            w.time,
            w.level,
            w.reasons,
            w.comment,
            w.dossier,
            w.procedure_code,
            w.procedure,
            w.field,
            w.officer,
            w.counter,
            w.repeat,
            w.counted,
            w.rating_id,
        ])
        .map_err(std::io::Error::from)?;
    each_entry(
        source,
        heading,
        &mut writer,
        &|e| people_record(e, lang),
        progress,
    )
}

/// One row of the CSV for people: words, local times, codes as text.
fn people_record(e: &Entry, lang: Lang) -> Vec<Cow<'_, str>> {
    let w = lang.words();
    let yes_no = |b: bool| Cow::Borrowed(if b { w.yes } else { w.no });
    vec![
        local_time(&e.at).into(),
        lang.outcome(e.level).into(),
        reasons_label(e, lang),
        text(&e.comment),
        code_as_text(&e.dossier).into(),
        code_as_text(&e.procedure_code).into(),
        text(&e.procedure_name),
        text(&e.field_name),
        text(&e.officer),
        text(&e.counter),
        yes_no(e.repeat_dossier),
        yes_no(e.counted()),
        csv_cell(&e.id),
    ]
}

/// One summary row's cells after its name: the count, each level's count and share,
/// tỷ lệ hài lòng, unrated, repeats, misuse; shares written by `tenths`.
fn summary_cells(report: &Report, c: &Counts, tenths: &dyn Fn(u32) -> String) -> Vec<String> {
    let levels = report.scale.levels();
    let shares = c.shares_tenths(report.scale).unwrap_or_default();
    let mut record = vec![c.total().to_string()];
    record.extend(levels.iter().map(|&l| c.count(l).to_string()));
    record.extend(levels.iter().map(|&l| {
        shares
            .iter()
            .find(|(s, _)| *s == l)
            .map_or(String::new(), |(_, t)| tenths(*t))
    }));
    record.push(c.satisfied_tenths().map_or(String::new(), tenths));
    record.extend([c.unrated, c.repeat_dossier, c.misuse].map(|n| n.to_string()));
    record
}

/// Every row of the summary: the breakdown (`total`, `by_month`…), key, label, counts.
fn summary_rows(report: &Report) -> Vec<(&'static str, Option<&str>, Option<&str>, &Counts)> {
    let mut rows = vec![("total", None, None, &report.counts)];
    for (name, groups) in report.breakdowns() {
        for Group { key, label, counts } in groups {
            rows.push((name, key.as_deref(), label.as_deref(), counts));
        }
    }
    rows
}

/// The summary CSV for programs: a `total` row, then one row per month, field, procedure,
/// officer and device. A row without a key is labelled in the report's language.
pub fn summary(report: &Report, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = start(out, FOR_PROGRAMS)?;
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
    for (name, key, label, counts) in summary_rows(report) {
        let label = match (name, key) {
            ("total", _) => "",
            (_, None) => lang.no_key(name),
            (_, Some(_)) => label.unwrap_or(""),
        };
        let mut record = vec![
            name.trim_start_matches("by_").to_owned(),
            csv_cell(key.unwrap_or("")).into_owned(),
            csv_cell(label).into_owned(),
        ];
        record.extend(summary_cells(report, counts, &|t| format_tenths(t)));
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

/// The summary CSV for people (`summary-csv-excel`): the same rows, named in words, with
/// decimal commas.
pub fn summary_for_excel(report: &Report, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let w = lang.words();
    let mut writer = start(out, FOR_PEOPLE)?;
    let levels = report.scale.levels();
    let mut header = vec![w.breakdown, w.item, w.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    let shares: Vec<String> = levels
        .iter()
        .map(|&l| format!("{} - {}", lang.level(l), w.share))
        .collect();
    header.extend(shares.iter().map(String::as_str));
    header.extend([w.satisfied_pct, w.unrated, w.repeat, w.misuse]);
    writer.write_record(&header)?;
    for (name, key, label, counts) in summary_rows(report) {
        let item = match (name, key, label) {
            ("total", ..) => String::new(),
            ("by_month", Some(month), _) => csv_cell(&month_label(month)).into_owned(),
            (_, None, _) => lang.no_key(name).to_owned(),
            (_, Some(key), Some(label)) if name == "by_procedure" => {
                csv_cell(&format!("{key} - {label}")).into_owned()
            }
            (_, Some(_), Some(label)) => csv_cell(label).into_owned(),
            (_, Some(key), None) => code_as_text(&Some(key.to_owned())),
        };
        let mut record = vec![lang.breakdown(name).to_owned(), item];
        record.extend(summary_cells(report, counts, &|t| lang.tenths(t)));
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}
