//! The XLSX report as it is filed: the national heading, the unit and the period on every sheet,
//! then "Tổng hợp", "Theo lĩnh vực", "Theo thủ tục", "Theo cán bộ", "Không hài lòng" and
//! "Chi tiết". Numbers are numbers; columns are as wide as their Vietnamese text.

use crate::words::{Lang, Words};
use crate::{ExportError, Progress, Source, tally};
use hailong_core::report::{Entry, Group, Heading, Report};
use hailong_core::summary::Counts;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use std::io::Write;

/// Rows a worksheet holds.
const MAX_ROWS: u64 = 1_048_576;
/// Rows above the detail table: the heading and the column names.
const TABLE_TOP: u32 = 7;
/// Widest column, in characters; longer text wraps.
const MAX_WIDTH: usize = 60;

fn xlsx_error(e: XlsxError) -> ExportError {
    match e {
        XlsxError::IoError(source) => source.into(),
        other => ExportError::Xlsx(other.to_string()),
    }
}

/// The formats of the report's cells.
struct Styles {
    bold_centre: Format,
    centre: Format,
    title: Format,
    italic_centre: Format,
    header: Format,
    text: Format,
    wrapped: Format,
    count: Format,
    pct: Format,
    total_text: Format,
    total_count: Format,
    total_pct: Format,
}

impl Styles {
    fn new() -> Styles {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_font_name("Times New Roman")
            .set_font_size(12);
        let plain = Format::new()
            .set_font_name("Times New Roman")
            .set_font_size(12);
        Styles {
            bold_centre: plain.clone().set_bold().set_align(FormatAlign::Center),
            centre: plain.clone().set_align(FormatAlign::Center),
            title: plain
                .clone()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            italic_centre: plain.clone().set_italic().set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(0xDDEBF7),
            text: cell.clone().set_align(FormatAlign::VerticalCenter),
            wrapped: cell
                .clone()
                .set_text_wrap()
                .set_align(FormatAlign::VerticalCenter),
            count: cell.clone().set_num_format("#,##0"),
            pct: cell.clone().set_num_format("0.0"),
            total_text: cell.clone().set_bold(),
            total_count: cell.clone().set_bold().set_num_format("#,##0"),
            total_pct: cell.set_bold().set_num_format("0.0"),
        }
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
    let words = lang.words();
    let styles = Styles::new();
    let mut book = Workbook::new();
    let names = [
        words.sheet_summary,
        words.sheet_field,
        words.sheet_procedure,
        words.sheet_officer,
        words.sheet_negative,
    ];
    for name in names {
        book.add_worksheet().set_name(name).map_err(xlsx_error)?;
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
    summary_sheet(sheet(&mut book, 0)?, &report, lang, &styles).map_err(xlsx_error)?;
    let [field, procedure, officer] = [
        (&report.by_field, words.field, false),
        (&report.by_procedure, words.procedure, true),
        (&report.by_officer, words.officer, false),
    ];
    for (i, (groups, name, with_code)) in [field, procedure, officer].into_iter().enumerate() {
        let ws = sheet(&mut book, i + 1)?;
        breakdown_sheet(ws, &report, groups, name, with_code, lang, &styles).map_err(xlsx_error)?;
    }
    negative_sheet(sheet(&mut book, 4)?, &report, lang, &styles).map_err(xlsx_error)?;
    book.save_to_writer(out).map_err(xlsx_error)?;
    Ok(report)
}

fn sheet(book: &mut Workbook, index: usize) -> Result<&mut Worksheet, ExportError> {
    book.worksheet_from_index(index).map_err(xlsx_error)
}

/// The national heading, the unit, the title and the period, over `columns` columns.
fn heading_rows(
    ws: &mut Worksheet,
    heading: &Heading,
    lang: Lang,
    styles: &Styles,
    columns: u16,
) -> Result<(), XlsxError> {
    let words = lang.words();
    let last = columns.max(6) - 1;
    let split = (last / 2).max(2);
    ws.merge_range(
        0,
        0,
        0,
        split - 1,
        &heading.unit.to_uppercase(),
        &styles.bold_centre,
    )?;
    ws.merge_range(0, split, 0, last, words.motto, &styles.bold_centre)?;
    ws.merge_range(1, 0, 1, split - 1, words.office, &styles.centre)?;
    ws.merge_range(1, split, 1, last, words.motto_sub, &styles.bold_centre)?;
    ws.merge_range(3, 0, 3, last, words.title, &styles.title)?;
    let period = format!("{}: {}", words.period, lang.period(&heading.period));
    ws.merge_range(4, 0, 4, last, &period, &styles.italic_centre)?;
    let made = format!("{}: {}", words.made_at, local_time(&heading.made_at));
    ws.merge_range(5, 0, 5, last, &made, &styles.italic_centre)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    Ok(())
}

/// `2026-03-02T08:05:00+07:00` as `02/03/2026 08:05`.
fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// Widths from the longest text of each column, in characters (not bytes: "Hộ tịch" is 7).
struct Widths(Vec<usize>);

impl Widths {
    fn new(headers: &[&str]) -> Widths {
        // A header wraps onto two lines, so it needs about half its length.
        Widths(
            headers
                .iter()
                .map(|h| h.chars().count().div_ceil(2) + 2)
                .collect(),
        )
    }

    fn fit(&mut self, col: usize, text: &str) {
        if let Some(w) = self.0.get_mut(col) {
            *w = (*w).max(text.chars().count() + 2);
        }
    }

    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (col, &w) in self.0.iter().enumerate() {
            ws.set_column_width(col as u16, w.clamp(6, MAX_WIDTH) as f64)?;
        }
        Ok(())
    }
}

fn summary_sheet(
    ws: &mut Worksheet,
    report: &Report,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let words = lang.words();
    heading_rows(ws, &report.heading, lang, styles, 6)?;
    let c = &report.counts;
    let top = TABLE_TOP;
    ws.write_string_with_format(top, 0, words.number, &styles.header)?;
    ws.merge_range(top, 1, top, 3, words.item, &styles.header)?;
    ws.write_string_with_format(top, 4, words.count, &styles.header)?;
    ws.write_string_with_format(top, 5, words.share, &styles.header)?;
    let shares = c.shares_tenths(report.scale).unwrap_or_default();
    let mut rows: Vec<(String, u64, Option<u32>, bool)> =
        vec![(words.ratings.to_owned(), c.total(), None, true)];
    for &level in report.scale.levels() {
        let share = shares.iter().find(|(l, _)| *l == level).map(|(_, t)| *t);
        rows.push((lang.level(level).to_owned(), c.count(level), share, false));
    }
    rows.push((
        words.satisfied_pct.to_owned(),
        c.satisfied(),
        c.satisfied_tenths(),
        true,
    ));
    rows.push((
        words.armed.to_owned(),
        report.rated_dossiers + c.unrated,
        None,
        false,
    ));
    rows.push((
        words.rated_dossiers.to_owned(),
        report.rated_dossiers,
        report.response_tenths(),
        false,
    ));
    rows.push((words.unrated.to_owned(), c.unrated, None, false));
    rows.push((words.repeat.to_owned(), c.repeat_dossier, None, false));
    rows.push((words.misuse.to_owned(), c.misuse, None, false));
    for (i, (label, n, share, bold)) in rows.iter().enumerate() {
        let row = top + 1 + i as u32;
        let (text, count, pct) = if *bold {
            (&styles.total_text, &styles.total_count, &styles.total_pct)
        } else {
            (&styles.text, &styles.count, &styles.pct)
        };
        ws.write_number_with_format(row, 0, (i + 1) as f64, text)?;
        ws.merge_range(row, 1, row, 3, label, text)?;
        ws.write_number_with_format(row, 4, *n as f64, count)?;
        match share {
            Some(t) => ws.write_number_with_format(row, 5, tenths(*t), pct)?,
            None => ws.write_blank(row, 5, pct)?,
        };
    }
    // Levels per month under the summary.
    let top = top + rows.len() as u32 + 2;
    ws.merge_range(top, 0, top, 5, words.by_month, &styles.bold_centre)?;
    let levels = report.scale.levels();
    let mut header = vec![words.month, words.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    header.push(words.satisfied_pct);
    for (col, h) in header.iter().enumerate() {
        ws.write_string_with_format(top + 1, col as u16, *h, &styles.header)?;
    }
    for (i, g) in report.by_month.iter().enumerate() {
        let row = top + 2 + i as u32;
        ws.write_string_with_format(row, 0, g.key.as_deref().unwrap_or(""), &styles.text)?;
        ws.write_number_with_format(row, 1, g.counts.total() as f64, &styles.count)?;
        for (j, &l) in levels.iter().enumerate() {
            ws.write_number_with_format(
                row,
                2 + j as u16,
                g.counts.count(l) as f64,
                &styles.count,
            )?;
        }
        write_pct(
            ws,
            row,
            2 + levels.len() as u16,
            g.counts.satisfied_tenths(),
            &styles.pct,
        )?;
    }
    // The first columns hold the summary's merged labels; the rest fit the month table.
    let mut widths = Widths::new(&header);
    widths.0.resize(widths.0.len().max(6), 0);
    for (col, width) in widths.0.iter_mut().enumerate() {
        *width = match col {
            0 => 8,
            1 | 2 => 14,
            3 => 18,
            _ => (*width).max(12),
        };
    }
    widths.apply(ws)?;
    ws.set_row_height(top + 1, 32)?;
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

/// One sheet of a breakdown: a row per field, procedure or officer, each level's count and
/// share (adding up to 100.0), tỷ lệ hài lòng, then a total row.
fn breakdown_sheet(
    ws: &mut Worksheet,
    report: &Report,
    groups: &[Group],
    name: &str,
    with_code: bool,
    lang: Lang,
    styles: &Styles,
) -> Result<(), XlsxError> {
    let words = lang.words();
    let levels = report.scale.levels();
    let first = if with_code { 3 } else { 2 }; // columns before the ratings count
    let columns = first + 1 + 2 * levels.len() as u16 + 3;
    heading_rows(ws, &report.heading, lang, styles, columns)?;
    let top = TABLE_TOP;
    let mut headers = vec![words.number];
    if with_code {
        headers.push(words.procedure_code);
    }
    headers.extend([name, words.ratings]);
    for (col, h) in headers.iter().enumerate() {
        ws.merge_range(top, col as u16, top + 1, col as u16, h, &styles.header)?;
    }
    let mut widths = Widths::new(&headers);
    for (j, &level) in levels.iter().enumerate() {
        let col = first + 1 + 2 * j as u16;
        ws.merge_range(top, col, top, col + 1, lang.level(level), &styles.header)?;
        ws.write_string_with_format(top + 1, col, words.count, &styles.header)?;
        ws.write_string_with_format(top + 1, col + 1, words.share, &styles.header)?;
        widths.0.extend([10, 10]);
    }
    let tail = [words.satisfied_pct, words.unrated, words.repeat];
    for (k, h) in tail.iter().enumerate() {
        let col = columns - 3 + k as u16;
        ws.merge_range(top, col, top + 1, col, h, &styles.header)?;
        widths.0.push(14);
    }
    ws.set_row_height(top, 32)?;
    ws.set_row_height(top + 1, 32)?;
    let mut row = top + 2;
    let counts_row = |ws: &mut Worksheet, row: u32, c: &Counts, total: bool| {
        let (count, pct) = if total {
            (&styles.total_count, &styles.total_pct)
        } else {
            (&styles.count, &styles.pct)
        };
        ws.write_number_with_format(row, first, c.total() as f64, count)?;
        let shares = c.shares_tenths(report.scale).unwrap_or_default();
        for (j, &level) in levels.iter().enumerate() {
            let col = first + 1 + 2 * j as u16;
            ws.write_number_with_format(row, col, c.count(level) as f64, count)?;
            let share = shares.iter().find(|(l, _)| *l == level).map(|(_, t)| *t);
            write_pct(ws, row, col + 1, share, pct)?;
        }
        write_pct(ws, row, columns - 3, c.satisfied_tenths(), pct)?;
        ws.write_number_with_format(row, columns - 2, c.unrated as f64, count)?;
        ws.write_number_with_format(row, columns - 1, c.repeat_dossier as f64, count)?;
        Ok::<(), XlsxError>(())
    };
    for (i, g) in groups.iter().enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.text)?;
        let label = g
            .label
            .as_deref()
            .or(g.key.as_deref())
            .unwrap_or(words.none);
        if with_code {
            let code = g.key.as_deref().unwrap_or("");
            ws.write_string_with_format(row, 1, code, &styles.text)?;
            widths.fit(1, code);
        }
        ws.write_string_with_format(row, first - 1, label, &styles.wrapped)?;
        widths.fit(first as usize - 1, label);
        counts_row(ws, row, &g.counts, false)?;
        row += 1;
    }
    ws.merge_range(row, 0, row, first - 1, words.ratings, &styles.total_text)?;
    counts_row(ws, row, &report.counts, true)?;
    widths.0[0] = 6;
    widths.apply(ws)?;
    ws.set_freeze_panes(top + 2, 0)?;
    Ok(())
}

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
    heading_rows(ws, &report.heading, lang, styles, headers.len() as u16)?;
    let mut widths = Widths::new(&headers);
    for (col, h) in headers.iter().enumerate() {
        ws.write_string_with_format(TABLE_TOP, col as u16, *h, &styles.header)?;
    }
    for (i, n) in report.negatives.iter().enumerate() {
        let row = TABLE_TOP + 1 + i as u32;
        let procedure = match (&n.procedure_code, &n.procedure_name) {
            (Some(code), Some(name)) => format!("{code} - {name}"),
            (code, name) => name.clone().or_else(|| code.clone()).unwrap_or_default(),
        };
        let cells = [
            local_time(&n.at),
            n.dossier.clone().unwrap_or_default(),
            procedure,
            n.officer.clone().unwrap_or_default(),
            n.counter.clone().unwrap_or_default(),
            lang.level(n.level).to_owned(),
            lang.reasons(&n.reasons),
            n.comment.clone().unwrap_or_default(),
        ];
        ws.write_number_with_format(row, 0, (i + 1) as f64, &styles.text)?;
        for (j, text) in cells.iter().enumerate() {
            ws.write_string_with_format(row, 1 + j as u16, text, &styles.wrapped)?;
            widths.fit(1 + j, text);
        }
    }
    widths.0[0] = 6;
    widths.apply(ws)?;
    ws.set_freeze_panes(TABLE_TOP + 1, 0)?;
    Ok(())
}

/// The per-dossier list, written row by row while the entries are read (constant memory:
/// a million rows never sit in memory).
struct Details<'a> {
    ws: &'a mut Worksheet,
    lang: Lang,
    words: &'static Words,
    styles: &'a Styles,
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
        let widths = [6, 17, 28, 12, 45, 18, 22, 10, 16, 30, 30, 9];
        for (col, w) in widths.into_iter().enumerate() {
            ws.set_column_width(col as u16, w)?;
        }
        heading_rows(ws, heading, lang, styles, headers.len() as u16)?;
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(TABLE_TOP, col as u16, *h, &styles.header)?;
        }
        ws.set_freeze_panes(TABLE_TOP + 1, 0)?;
        Ok(Details {
            ws,
            lang,
            words,
            styles,
            row: TABLE_TOP + 1,
        })
    }

    fn add(&mut self, e: &Entry) -> Result<(), XlsxError> {
        let (ws, s, row) = (&mut *self.ws, self.styles, self.row);
        let text = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
        let level = e.level.map_or(self.words.not_rated, |l| self.lang.level(l));
        ws.write_number_with_format(row, 0, f64::from(row - TABLE_TOP), &s.text)?;
        let cells = [
            local_time(&e.at),
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
        for (j, value) in cells.iter().enumerate() {
            ws.write_string_with_format(row, 1 + j as u16, value, &s.text)?;
        }
        self.row += 1;
        Ok(())
    }
}
