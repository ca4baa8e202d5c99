//! The XLSX report as it is printed, signed and filed: "Tổng hợp", "Theo lĩnh vực", "Theo thủ
//! tục", "Theo cán bộ" (and "Theo quầy" on the server), "Không hài lòng" and "Chi tiết". Every
//! sheet opens with the administrative heading ([`layout`]) and prints on A4, one page wide, its
//! table's header on every page, "Trang N/M" in the footer. Numbers are numbers, times and
//! months are dates; wrapped cells get rows tall enough for their text.

mod layout;

use crate::figures::{group_label, procedure_of, summary_rows};
use crate::words::{Lang, Words};
use crate::{ExportError, Progress, Source, tally};
use hailong_core::report::{Entry, Figures, Group, Heading, Report};
use hailong_core::summary::Counts;
use layout::{Page, Styles, Widths, row_height};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::io::Write;

/// Rows a worksheet holds.
const MAX_ROWS: u64 = 1_048_576;
/// Rows above a table: the heading block.
const TABLE_TOP: u32 = layout::HEADING_ROWS;

fn xlsx_error(e: XlsxError) -> ExportError {
    match e {
        XlsxError::IoError(source) => source.into(),
        other => ExportError::Xlsx(other.to_string()),
    }
}

/// Writes the workbook: the details while the entries are read, the summaries after.
pub fn write(
    source: &dyn Source,
    heading: Heading,
    lang: Lang,
    out: &mut (impl Write + Send),
    progress: Progress<'_>,
) -> Result<Report, ExportError> {
    let range = heading.period.range();
    let entries = source.entry_count(range).map_err(ExportError::Source)?;
    if entries + u64::from(TABLE_TOP) + 1 > MAX_ROWS {
        return Err(ExportError::TooManyRows(entries));
    }
    let by_device = !source
        .by_device(range)
        .map_err(ExportError::Source)?
        .is_empty();
    let words = lang.words();
    let styles = Styles::new();
    let mut book = Workbook::new();
    let mut names = vec![
        words.sheet_summary,
        words.sheet_field,
        words.sheet_procedure,
        words.sheet_officer,
        words.sheet_appraisal,
    ];
    let communes = by_device && source.devices_are_communes().map_err(ExportError::Source)?;
    if by_device {
        names.push(if communes {
            words.sheet_commune
        } else {
            words.sheet_device
        });
    }
    names.push(words.sheet_negative);
    for name in &names {
        book.add_worksheet().set_name(*name).map_err(xlsx_error)?;
    }
    let detail = book
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    detail.set_name(words.sheet_detail).map_err(xlsx_error)?;
    let mut details = Details::start(detail, &heading, lang, &styles).map_err(xlsx_error)?;
    let mut failure = None;
    let report = tally(
        source,
        heading,
        &mut |entry| match details.add(entry) {
            Ok(()) => true,
            Err(e) => {
                failure = Some(e);
                false
            }
        },
        progress,
    )?;
    if let Some(e) = failure {
        return Err(xlsx_error(e));
    }
    details.finish().map_err(xlsx_error)?;
    summary_sheet(sheet(&mut book, 0)?, &report, lang, &styles).map_err(xlsx_error)?;
    let mut breakdowns = vec![
        (&report.by_field, "by_field", false),
        (&report.by_procedure, "by_procedure", true),
        (&report.by_officer, "by_officer", false),
    ];
    if by_device {
        let key = if communes { "by_commune" } else { "by_device" };
        breakdowns.push((&report.by_device, key, false));
    }
    // Sheets: the summary, the field, procedure and officer breakdowns, the appraisal, then
    // the counters' breakdown (server), the negatives.
    let negatives = breakdowns.len() + 2;
    appraisal_sheet(sheet(&mut book, 4)?, &report, lang, &styles).map_err(xlsx_error)?;
    for (i, (groups, breakdown, with_code)) in breakdowns.into_iter().enumerate() {
        let index = if i < 3 { i + 1 } else { i + 2 };
        let ws = sheet(&mut book, index)?;
        let what = Breakdown {
            groups,
            name: lang.breakdown(breakdown),
            no_key: lang.no_key(breakdown),
            with_code,
        };
        breakdown_sheet(ws, &report, &what, lang, &styles).map_err(xlsx_error)?;
    }
    negative_sheet(sheet(&mut book, negatives)?, &report, lang, &styles).map_err(xlsx_error)?;
    book.save_to_writer(out).map_err(xlsx_error)?;
    Ok(report)
}

fn sheet(book: &mut Workbook, index: usize) -> Result<&mut Worksheet, ExportError> {
    book.worksheet_from_index(index).map_err(xlsx_error)
}

/// `2026-03-02T08:05:00+07:00` as a date cell showing `02/03/2026 08:05`, the clock time where
/// the rating was made; text if it is not a time.
fn write_time(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    rfc3339: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    use chrono::{Datelike, Timelike};
    let at = chrono::DateTime::parse_from_rfc3339(rfc3339).map(|t| t.naive_local());
    let cell = at.ok().and_then(|t| {
        ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
            .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, t.second()))
            .ok()
    });
    match cell {
        Some(cell) => ws.write_datetime_with_format(row, col, cell, &styles.date_time)?,
        None => ws.write_string_with_format(row, col, rfc3339, &styles.text)?,
    };
    Ok(())
}

/// A month key (`2026-03`) as a date cell showing `03/2026`; text if it is not a month.
fn write_month(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    key: &str,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let month = key.split_once('-').and_then(|(y, m)| {
        let (y, m) = (y.parse::<u16>().ok()?, m.parse::<u8>().ok()?);
        ExcelDateTime::from_ymd(y, m, 1).ok()
    });
    match month {
        Some(month) => ws.write_datetime_with_format(row, col, month, &styles.month)?,
        None => ws.write_string_with_format(row, col, key, &styles.text)?,
    };
    Ok(())
}

fn tenths(t: u32) -> f64 {
    f64::from(t) / 10.0
}

fn write_pct(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    tenths_value: Option<u32>,
    format: &Format,
) -> Result<(), XlsxError> {
    match tenths_value {
        Some(t) => ws.write_number_with_format(row, col, tenths(t), format)?,
        None => ws.write_blank(row, col, format)?,
    };
    Ok(())
}

/// The summary: the unit's figures, then the levels by month with a total, then the place for
/// signatures. One portrait page for a month, a quarter or a year.
fn summary_sheet(
    ws: &mut Worksheet,
    report: &Report,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let words = lang.words();
    let levels = report.scale.levels();
    // The month table has the most columns: month, ratings, each level, tỷ lệ hài lòng.
    let columns = (3 + levels.len()).max(6) as u16;
    let mut widths = Widths::fixed(&[12.0, 13.0, 13.0, 13.0, 13.0, 13.0]);
    widths.extend_to(columns as usize, 13.0);
    let page = Page::new(&widths, styles);
    page.heading(ws, &report.heading, lang)?;
    let top = TABLE_TOP;
    let last = columns - 1;
    // Number, item (three columns), count, share: the first six columns.
    ws.write_string_with_format(top, 0, words.number, &styles.header)?;
    ws.merge_range(top, 1, top, 3, words.item, &styles.header)?;
    ws.write_string_with_format(top, 4, words.count, &styles.header)?;
    ws.write_string_with_format(top, 5, words.share, &styles.header)?;
    ws.set_row_height(top, row_height(2))?;
    let rows = summary_rows(report, lang);
    for (i, line) in rows.iter().enumerate() {
        let row = top + 1 + i as u32;
        let (text, count, pct) = if line.bold {
            (&styles.total_text, &styles.total_count, &styles.total_pct)
        } else {
            (&styles.text, &styles.count, &styles.pct)
        };
        ws.write_number_with_format(row, 0, (i + 1) as f64, text)?;
        ws.merge_range(row, 1, row, 3, &line.label, text)?;
        ws.write_number_with_format(row, 4, line.count as f64, count)?;
        match line.share {
            Some(t) => ws.write_number_with_format(row, 5, tenths(t), pct)?,
            None => ws.write_blank(row, 5, pct)?,
        };
    }
    // Levels per month under the summary, with their total.
    let top = top + rows.len() as u32 + 2;
    ws.merge_range(top, 0, top, last, words.by_month, &styles.bold_centre)?;
    let mut header = vec![words.month, words.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    header.push(words.satisfied_pct);
    for (col, h) in header.iter().enumerate() {
        ws.write_string_with_format(top + 1, col as u16, *h, &styles.header)?;
    }
    ws.set_row_height(top + 1, row_height(widths.lines_of_headers(&header)))?;
    let month_row = |ws: &mut Worksheet, row: u32, counts: &Counts, total: bool| {
        let (count, pct) = if total {
            (&styles.total_count, &styles.total_pct)
        } else {
            (&styles.count, &styles.pct)
        };
        ws.write_number_with_format(row, 1, counts.total() as f64, count)?;
        for (j, &l) in levels.iter().enumerate() {
            ws.write_number_with_format(row, 2 + j as u16, counts.count(l) as f64, count)?;
        }
        write_pct(
            ws,
            row,
            2 + levels.len() as u16,
            counts.satisfied_tenths(),
            pct,
        )
    };
    let mut row = top + 2;
    for g in &report.by_month {
        write_month(ws, row, 0, g.key.as_deref().unwrap_or(""), styles)?;
        month_row(ws, row, &g.counts, false)?;
        row += 1;
    }
    ws.write_string_with_format(row, 0, words.total, &styles.total_text)?;
    month_row(ws, row, &report.counts, true)?;
    let end = page.signatures(ws, row + 2, &report.heading, lang)?;
    page.finish(ws, words, false, None, end)?;
    Ok(())
}

/// One sheet of a breakdown: a row per field, procedure, officer or counter, each level's count
/// and share (adding up to 100.0), tỷ lệ hài lòng, then the "Tổng cộng" row. Landscape.
/// One breakdown of the report, as its sheet shows it.
struct Breakdown<'a> {
    groups: &'a [Group],
    /// The header of the rows' names: "Lĩnh vực", "Thủ tục hành chính"…
    name: &'static str,
    /// What the row without a key is called.
    no_key: &'static str,
    /// Whether a code column comes before the name (procedures).
    with_code: bool,
}

fn breakdown_sheet(
    ws: &mut Worksheet,
    report: &Report,
    breakdown: &Breakdown<'_>,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let Breakdown {
        groups,
        name,
        no_key,
        with_code,
    } = *breakdown;
    let words = lang.words();
    let levels = report.scale.levels();
    let first = if with_code { 3 } else { 2 }; // columns before the ratings count
    let label = |g: &Group| group_label(g, no_key);
    // The name column takes what the labels need, up to a limit; long names wrap.
    let longest = groups
        .iter()
        .map(|g| label(g).chars().count())
        .max()
        .unwrap_or(0);
    let mut widths = Widths::fixed(&[6.0]);
    if with_code {
        widths.push(13.0);
    }
    widths.push((longest as f64 + 2.0).clamp(24.0, 46.0));
    level_widths(&mut widths, levels.len());
    widths.push(11.0);
    widths.push(11.0);
    let page = Page::new(&widths, styles);
    page.heading(ws, &report.heading, lang)?;
    let top = TABLE_TOP;
    let mut headers = vec![words.number];
    if with_code {
        headers.push(words.procedure_code);
    }
    headers.extend([name, words.ratings]);
    for (col, h) in headers[..headers.len() - 1].iter().enumerate() {
        ws.merge_range(top, col as u16, top + 1, col as u16, h, &styles.header)?;
    }
    let mut header_lines = widths.lines_of_headers(&headers);
    let tail_first = level_headers(ws, top, first, report, lang, styles)?;
    header_lines = header_lines.max(widths.lines(tail_first as usize - 1, words.satisfied_pct));
    for (k, h) in [words.unrated, words.repeat].iter().enumerate() {
        let col = tail_first + k as u16;
        ws.merge_range(top, col, top + 1, col, h, &styles.header)?;
        header_lines = header_lines.max(widths.lines(col as usize, h));
    }
    // The two header rows share the tallest header's lines.
    let half = header_lines.div_ceil(2).max(2);
    ws.set_row_height(top, row_height(half))?;
    ws.set_row_height(top + 1, row_height(half))?;
    let mut row = top + 2;
    let counts_row = |ws: &mut Worksheet, row: u32, c: &Counts, total: bool| {
        let col = level_cells(ws, row, first, c, report, styles, total)?;
        let count = if total {
            &styles.total_count
        } else {
            &styles.count
        };
        ws.write_number_with_format(row, col, c.unrated as f64, count)?;
        ws.write_number_with_format(row, col + 1, c.repeat_dossier as f64, count)?;
        Ok::<(), XlsxError>(())
    };
    for (i, g) in groups.iter().enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.text)?;
        let label = label(g);
        if with_code {
            // A code stays text: 1.013978 is a procedure, not a number.
            ws.write_string_with_format(row, 1, g.key.as_deref().unwrap_or(""), &styles.text)?;
        }
        ws.write_string_with_format(row, first - 1, &label, &styles.wrapped)?;
        ws.set_row_height(row, row_height(widths.lines(first as usize - 1, &label)))?;
        counts_row(ws, row, &g.counts, false)?;
        row += 1;
    }
    ws.merge_range(row, 0, row, first - 1, words.total, &styles.total_text)?;
    counts_row(ws, row, &report.counts, true)?;
    ws.set_freeze_panes(top + 2, 0)?;
    page.finish(ws, words, true, Some((top, top + 1)), row)?;
    Ok(())
}

/// The widths of the columns [`level_cells`] fills: the ratings, each level's count and share,
/// tỷ lệ hài lòng.
fn level_widths(widths: &mut Widths, levels: usize) {
    widths.push(11.0);
    for _ in 0..levels {
        widths.push(10.0);
        widths.push(9.0);
    }
    widths.push(11.0);
}

/// From column `first`: the ratings, each level's count and share (adding up to 100.0), and tỷ
/// lệ hài lòng; returns the next column.
fn level_cells(
    ws: &mut Worksheet,
    row: u32,
    first: u16,
    c: &Counts,
    report: &Report,
    styles: &Styles,
    total: bool,
) -> Result<u16, XlsxError> {
    let (count, pct) = if total {
        (&styles.total_count, &styles.total_pct)
    } else {
        (&styles.count, &styles.pct)
    };
    ws.write_number_with_format(row, first, c.total() as f64, count)?;
    let shares = c.shares_tenths(report.scale).unwrap_or_default();
    let levels = report.scale.levels();
    for (j, &level) in levels.iter().enumerate() {
        let col = first + 1 + 2 * j as u16;
        ws.write_number_with_format(row, col, c.count(level) as f64, count)?;
        let share = shares.iter().find(|(l, _)| *l == level).map(|(_, t)| *t);
        write_pct(ws, row, col + 1, share, pct)?;
    }
    let col = first + 1 + 2 * levels.len() as u16;
    write_pct(ws, row, col, c.satisfied_tenths(), pct)?;
    Ok(col + 1)
}

/// The header of the level columns from column `first` over rows `top` and `top + 1`: the
/// ratings, each level over its count and share, tỷ lệ hài lòng.
fn level_headers(
    ws: &mut Worksheet,
    top: u32,
    first: u16,
    report: &Report,
    lang: Lang,
    styles: &Styles,
) -> Result<u16, XlsxError> {
    let words = lang.words();
    ws.merge_range(top, first, top + 1, first, words.ratings, &styles.header)?;
    let levels = report.scale.levels();
    for (j, &level) in levels.iter().enumerate() {
        let col = first + 1 + 2 * j as u16;
        ws.merge_range(top, col, top, col + 1, lang.level(level), &styles.header)?;
        ws.write_string_with_format(top + 1, col, words.count, &styles.header)?;
        ws.write_string_with_format(top + 1, col + 1, words.share, &styles.header)?;
    }
    let col = first + 1 + 2 * levels.len() as u16;
    ws.merge_range(top, col, top + 1, col, words.satisfied_pct, &styles.header)?;
    Ok(col + 1)
}

/// Each officer's appraisal: a row per month and a bold row for the whole period, with the
/// counts and shares, tỷ lệ hài lòng, dossiers not rated, the response rate and the reasons of
/// the negatives. Landscape.
fn appraisal_sheet(
    ws: &mut Worksheet,
    report: &Report,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let words = lang.words();
    let levels = report.scale.levels();
    let mut widths = Widths::fixed(&[6.0, 24.0, 10.0]);
    level_widths(&mut widths, levels.len());
    widths.push(11.0);
    widths.push(11.0);
    widths.push(36.0);
    let page = Page::new(&widths, styles);
    page.heading(ws, &report.heading, lang)?;
    let top = TABLE_TOP;
    for (col, h) in [words.number, words.officer, words.month]
        .iter()
        .enumerate()
    {
        ws.merge_range(top, col as u16, top + 1, col as u16, h, &styles.header)?;
    }
    let col = level_headers(ws, top, 3, report, lang, styles)?;
    let tail = [words.unrated, words.response_pct, words.negative_reasons];
    for (k, h) in tail.iter().enumerate() {
        let c = col + k as u16;
        ws.merge_range(top, c, top + 1, c, h, &styles.header)?;
    }
    ws.set_row_height(top, row_height(2))?;
    ws.set_row_height(top + 1, row_height(2))?;
    let no_officer = lang.no_key("by_officer");
    let mut row = top + 2;
    let figures_row = |ws: &mut Worksheet, row: u32, f: &Figures, total: bool| {
        let col = level_cells(ws, row, 3, &f.counts, report, styles, total)?;
        let (count, pct) = if total {
            (&styles.total_count, &styles.total_pct)
        } else {
            (&styles.count, &styles.pct)
        };
        ws.write_number_with_format(row, col, f.counts.unrated as f64, count)?;
        write_pct(ws, row, col + 1, f.response_tenths(), pct)?;
        Ok::<u16, XlsxError>(col + 2)
    };
    for (i, a) in report.appraisals.iter().enumerate() {
        let name = a.officer.as_deref().unwrap_or(no_officer);
        for (month, f) in &a.months {
            ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.text)?;
            ws.write_string_with_format(row, 1, name, &styles.wrapped)?;
            write_month(ws, row, 2, month, styles)?;
            let col = figures_row(ws, row, f, false)?;
            ws.write_blank(row, col, &styles.text)?;
            row += 1;
        }
        ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.total_text)?;
        ws.write_string_with_format(row, 1, name, &styles.total_text)?;
        ws.write_string_with_format(row, 2, words.whole_period, &styles.total_text)?;
        let col = figures_row(ws, row, &a.whole, true)?;
        let reasons = lang.reason_counts(&a.reasons);
        ws.write_string_with_format(row, col, &reasons, &styles.wrapped)?;
        let lines = widths
            .lines(col as usize, &reasons)
            .max(widths.lines(1, name));
        ws.set_row_height(row, row_height(lines))?;
        row += 1;
    }
    ws.set_freeze_panes(top + 2, 0)?;
    page.finish(
        ws,
        words,
        true,
        Some((top, top + 1)),
        row.saturating_sub(1).max(top + 1),
    )?;
    Ok(())
}

/// Every negative rating of the period, with its reasons and comment, for follow-up.
fn negative_sheet(
    ws: &mut Worksheet,
    report: &Report,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let words = lang.words();
    let headers = [
        words.number,
        words.time,
        words.dossier,
        words.procedure,
        words.officer,
        words.counter,
        words.level,
        words.reasons,
        words.comment,
    ];
    let widths = Widths::fixed(&[5.0, 17.0, 27.0, 34.0, 16.0, 10.0, 14.0, 26.0, 34.0]);
    let page = Page::new(&widths, styles);
    page.heading(ws, &report.heading, lang)?;
    for (col, h) in headers.iter().enumerate() {
        ws.write_string_with_format(TABLE_TOP, col as u16, *h, &styles.header)?;
    }
    ws.set_row_height(TABLE_TOP, row_height(widths.lines_of_headers(&headers)))?;
    let mut row = TABLE_TOP;
    for (i, n) in report.negatives.iter().enumerate() {
        row = TABLE_TOP + 1 + i as u32;
        let cells = [
            n.dossier.clone().unwrap_or_default(),
            procedure_of(n),
            n.officer.clone().unwrap_or_default(),
            n.counter.clone().unwrap_or_default(),
            lang.level(n.level).to_owned(),
            lang.reasons(&n.reasons),
            n.comment.clone().unwrap_or_default(),
        ];
        ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.text)?;
        write_time(ws, row, 1, &n.at, styles)?;
        let mut lines = 1;
        for (j, text) in cells.iter().enumerate() {
            ws.write_string_with_format(row, 2 + j as u16, text, &styles.wrapped)?;
            lines = lines.max(widths.lines(2 + j, text));
        }
        ws.set_row_height(row, row_height(lines))?;
    }
    ws.set_freeze_panes(TABLE_TOP + 1, 0)?;
    page.finish(ws, words, true, Some((TABLE_TOP, TABLE_TOP)), row)?;
    Ok(())
}

/// The per-dossier list, written row by row while the entries are read (constant memory:
/// a million rows never sit in memory).
struct Details<'a> {
    ws: &'a mut Worksheet,
    lang: Lang,
    words: &'static Words,
    styles: &'a Styles,
    widths: Widths,
    row: u32,
}

impl<'a> Details<'a> {
    fn start(
        ws: &'a mut Worksheet,
        heading: &Heading,
        lang: Lang,
        styles: &'a Styles,
    ) -> Result<Details<'a>, XlsxError> {
        let words = lang.words();
        let headers = [
            words.number,
            words.time,
            words.dossier,
            words.procedure_code,
            words.procedure,
            words.field,
            words.officer,
            words.counter,
            words.level,
            words.reasons,
            words.comment,
            words.counted,
        ];
        // Widths are fixed here: the rows are not known yet. Long names wrap.
        let widths = Widths::fixed(&[
            7.0, 17.0, 27.0, 11.0, 34.0, 16.0, 16.0, 10.0, 14.0, 24.0, 26.0, 9.0,
        ]);
        let page = Page::new(&widths, styles);
        page.heading(ws, heading, lang)?;
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(TABLE_TOP, col as u16, *h, &styles.header)?;
        }
        ws.set_row_height(TABLE_TOP, row_height(widths.lines_of_headers(&headers)))?;
        ws.set_freeze_panes(TABLE_TOP + 1, 0)?;
        Ok(Details {
            ws,
            lang,
            words,
            styles,
            widths,
            row: TABLE_TOP + 1,
        })
    }

    fn add(&mut self, e: &Entry) -> Result<(), XlsxError> {
        let (ws, s, row) = (&mut *self.ws, self.styles, self.row);
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
        let level = self.lang.outcome(e.level);
        ws.write_number_with_format(row, 0, f64::from(row - TABLE_TOP), &s.text)?;
        write_time(ws, row, 1, &e.at, s)?;
        let cells = [
            text(&e.dossier),
            text(&e.procedure_code),
            text(&e.procedure_name),
            text(&e.field_name),
            text(&e.officer),
            text(&e.counter),
            level.to_owned(),
            self.lang.reasons(&e.reasons),
            text(&e.comment),
            if e.counted() {
                self.words.yes
            } else {
                self.words.no
            }
            .to_owned(),
        ];
        let mut lines = 1;
        for (j, value) in cells.iter().enumerate() {
            ws.write_string_with_format(row, 2 + j as u16, value, &s.wrapped)?;
            lines = lines.max(self.widths.lines(2 + j, value));
        }
        if lines > 1 {
            ws.set_row_height(row, row_height(lines))?;
        }
        self.row += 1;
        Ok(())
    }

    /// The print set-up, once the last row is known.
    fn finish(self) -> Result<(), XlsxError> {
        let page = Page::new(&self.widths, self.styles);
        page.finish(
            self.ws,
            self.words,
            true,
            Some((TABLE_TOP, TABLE_TOP)),
            self.row.saturating_sub(1).max(TABLE_TOP),
        )
    }
}
