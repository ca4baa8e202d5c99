//! The PDF report: the document an office signs and files. The administrative heading (the unit
//! top left, the national heading top right with the place and date line, the title and period
//! centred), the summary, the levels by month, the chart, the breakdowns by field, procedure,
//! officer (and counter, on the server), the period's negative ratings (the most recent ones,
//! with a note, when there are many), "Nơi nhận" and the signers; "Trang N/M" under every page.
//! Its fonts are embedded (subset) and its text is real text: `pdftotext` reads it back.

mod flow;

use crate::chart;
use crate::figures::{group_label, local_time, made_on, signers, summary_rows, superior};
use crate::words::{Lang, month_label};
use flow::{Align, Column, Face, Flow, Fonts, LEFT, Row, Style, WIDTH};
use hailong_core::report::{Appraisal, Figures, Group, Report};
use hailong_core::summary::Counts;
use krilla::image::Image;
use krilla::metadata::Metadata;
use std::io::Write;

/// Negatives listed at most; the rest are in the XLSX report.
pub const MAX_NEGATIVES: usize = 100;

const BODY: Style = Style::new(Face::Regular, 11.5);
const BODY_BOLD: Style = Style::new(Face::Bold, 11.5);
const ITALIC: Style = Style::new(Face::Italic, 11.5);
const TITLE: Style = Style::new(Face::Bold, 14.0);
const SECTION: Style = Style::new(Face::Bold, 12.0);
/// Table text: 9.5 pt, legible on paper.
const CELL: f32 = 9.5;
/// Room a table's header and first rows need under a section title.
const TABLE_START: f32 = 6.0 * CELL * 1.3 + 15.0;
/// The list of negatives is the longest table: 9 pt.
const NEGATIVE_CELL: f32 = 9.0;

pub fn write(report: &Report, lang: Lang, out: &mut impl Write) -> std::io::Result<()> {
    let bytes = render(report, lang).map_err(std::io::Error::other)?;
    out.write_all(&bytes)
}

/// The report as a PDF file's bytes.
pub fn render(report: &Report, lang: Lang) -> Result<Vec<u8>, String> {
    let fonts = Fonts::new();
    let mut flow = Flow::new(&fonts);
    let words = lang.words();
    heading(&mut flow, report, lang);
    let mut section = Sections::default();
    section.next(&mut flow, lang, words.overall, TABLE_START);
    summary(&mut flow, report, lang);
    section.next(&mut flow, lang, words.by_month, TABLE_START);
    months(&mut flow, report, lang);
    let picture = chart::draw(report, lang);
    let (w, h) = picture.dimensions();
    let rgba: Vec<u8> = picture
        .pixels()
        .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
        .collect();
    section.next(&mut flow, lang, words.chart, flow::image_height(w, h));
    flow.image(Image::from_rgba8(rgba, w, h));
    let mut breakdowns = vec![
        (words.sheet_field, &report.by_field[..], "by_field"),
        (
            words.sheet_procedure,
            &report.by_procedure[..],
            "by_procedure",
        ),
        (words.sheet_officer, &report.by_officer[..], "by_officer"),
    ];
    if !report.by_device.is_empty() {
        breakdowns.push(if report.devices_are_communes {
            (words.sheet_commune, &report.by_device[..], "by_commune")
        } else {
            (words.sheet_device, &report.by_device[..], "by_device")
        });
    }
    for (title, groups, breakdown) in breakdowns {
        section.next(&mut flow, lang, title, TABLE_START);
        groups_table(&mut flow, report, lang, groups, breakdown);
        if breakdown == "by_officer" {
            let first = report.appraisals.first().map_or(TABLE_START, block_height);
            section.next(&mut flow, lang, words.sheet_appraisal, first);
            appraisals(&mut flow, report, lang);
        }
    }
    section.next(&mut flow, lang, words.negatives, TABLE_START);
    negatives(&mut flow, report, lang);
    signatures(&mut flow, report, lang);
    let heading = &report.heading;
    let metadata = Metadata::new()
        .title(format!(
            "{} - {} - {}",
            words.title,
            heading.unit,
            lang.period(&heading.period)
        ))
        .language(
            match lang {
                Lang::Vi => "vi",
                Lang::En => "en",
            }
            .to_owned(),
        )
        .creator("Hài Lòng".to_owned());
    flow.finish(metadata, |page, pages| lang.page_of(page, pages))
}

/// Numbers the sections as they come: "I. Kết quả chung", "II. Theo tháng"…
#[derive(Default)]
struct Sections(usize);

impl Sections {
    /// The next section's title, on a page with room for `keep` points of what follows it, so
    /// that a title never ends a page.
    fn next(&mut self, flow: &mut Flow<'_>, lang: Lang, title: &str, keep: f32) {
        self.0 += 1;
        flow.space(10.0);
        flow.keep(SECTION.size * 1.3 + 4.0 + keep);
        flow.paragraph(SECTION, Align::Left, &lang.section(self.0, title));
        flow.space(4.0);
    }
}

/// The unit top left, the national heading top right, then the title and the period.
fn heading(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let heading = &report.heading;
    let left_width = WIDTH * 0.42;
    let right_x = LEFT + left_width;
    let right_width = WIDTH - left_width;
    let top = flow.y();
    let mut y = top;
    if let Some(superior) = superior(heading) {
        y += flow.lines_at(LEFT, y, left_width, BODY, Align::Centre, &superior);
    }
    y += flow.lines_at(
        LEFT,
        y,
        left_width,
        BODY_BOLD,
        Align::Centre,
        &heading.unit.trim().to_uppercase(),
    );
    flow.rule_at(LEFT, left_width, left_width * 0.3, y + 2.0);
    let left_bottom = y + 4.0;
    let mut y = top;
    y += flow.lines_at(
        right_x,
        y,
        right_width,
        BODY_BOLD,
        Align::Centre,
        words.motto,
    );
    y += flow.lines_at(
        right_x,
        y,
        right_width,
        Style::new(Face::Bold, 12.0),
        Align::Centre,
        words.motto_sub,
    );
    let rule = flow
        .fonts()
        .width(Style::new(Face::Bold, 12.0), words.motto_sub);
    flow.rule_at(right_x, right_width, rule, y + 2.0);
    y += 10.0;
    let place = heading.letterhead.place_for(&heading.unit);
    let date_line = lang.place_and_date(place.as_deref(), made_on(heading));
    y += flow.lines_at(right_x, y, right_width, ITALIC, Align::Centre, &date_line);
    let bottom = y.max(left_bottom);
    flow.space(bottom - top + 22.0);
    flow.paragraph(TITLE, Align::Centre, words.title);
    flow.space(3.0);
    flow.paragraph(
        Style::new(Face::Italic, 12.0),
        Align::Centre,
        &format!("{}: {}", words.period, lang.period(&heading.period)),
    );
    flow.space(6.0);
}

fn pct(lang: Lang, tenths: Option<u32>) -> String {
    tenths.map(|t| lang.tenths(t)).unwrap_or_default()
}

/// Ratings, each level with its share, tỷ lệ hài lòng, dossiers and what was not counted.
fn summary(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let columns = [
        Column::new(0.08, Align::Centre),
        Column::new(0.6, Align::Left),
        Column::new(0.16, Align::Right),
        Column::new(0.16, Align::Right),
    ];
    let rows: Vec<Row> = summary_rows(report, lang)
        .into_iter()
        .enumerate()
        .map(|(i, line)| Row {
            cells: vec![
                (i + 1).to_string(),
                line.label,
                lang.count(line.count),
                pct(lang, line.share),
            ],
            bold: line.bold,
        })
        .collect();
    let header = [words.number, words.item, words.count, words.share];
    flow.table(&columns, &header, &rows, CELL + 1.0);
}

/// The count of each level, tỷ lệ hài lòng and more, for a row of a breakdown table.
fn count_cells(lang: Lang, report: &Report, counts: &Counts) -> Vec<String> {
    let mut cells = vec![lang.count(counts.total())];
    cells.extend(
        report
            .scale
            .levels()
            .iter()
            .map(|&l| lang.count(counts.count(l))),
    );
    cells.push(pct(lang, counts.satisfied_tenths()));
    cells
}

/// The levels per month, and their total.
fn months(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let levels = report.scale.levels();
    let mut columns = vec![
        Column::new(0.12, Align::Centre),
        Column::new(0.11, Align::Right),
    ];
    columns.extend(levels.iter().map(|_| Column::new(0.11, Align::Right)));
    columns.push(Column::new(0.12, Align::Right));
    let mut header = vec![words.month, words.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    header.push(words.satisfied_pct);
    let mut rows: Vec<Row> = report
        .by_month
        .iter()
        .map(|g| {
            let mut cells = vec![month_label(g.key.as_deref().unwrap_or(""))];
            cells.extend(count_cells(lang, report, &g.counts));
            Row { cells, bold: false }
        })
        .collect();
    let mut total = vec![words.total.to_owned()];
    total.extend(count_cells(lang, report, &report.counts));
    rows.push(Row {
        cells: total,
        bold: true,
    });
    flow.table(&columns, &header, &rows, CELL);
}

/// A breakdown: a row per field, procedure, officer or counter with its counts, tỷ lệ hài lòng
/// and dossiers not rated, then "Tổng cộng".
fn groups_table(
    flow: &mut Flow<'_>,
    report: &Report,
    lang: Lang,
    groups: &[Group],
    breakdown: &str,
) {
    let words = lang.words();
    let levels = report.scale.levels();
    let no_key = lang.no_key(breakdown);
    let mut columns = vec![
        Column::new(0.065, Align::Centre),
        Column::new(0.285, Align::Left),
        Column::new(0.09, Align::Right),
    ];
    let level_width = 0.38 / levels.len() as f32;
    columns.extend(
        levels
            .iter()
            .map(|_| Column::new(level_width, Align::Right)),
    );
    columns.push(Column::new(0.09, Align::Right));
    columns.push(Column::new(0.09, Align::Right));
    let mut header = vec![words.number, lang.breakdown(breakdown), words.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    header.extend([words.satisfied_pct, words.not_rated]);
    let mut rows: Vec<Row> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let name = match (breakdown, &g.key, &g.label) {
                ("by_procedure", Some(code), Some(name)) => format!("{code} - {name}"),
                _ => group_label(g, no_key),
            };
            let mut cells = vec![(i + 1).to_string(), name];
            cells.extend(count_cells(lang, report, &g.counts));
            cells.push(lang.count(g.counts.unrated));
            Row { cells, bold: false }
        })
        .collect();
    let mut total = vec![String::new(), words.total.to_owned()];
    total.extend(count_cells(lang, report, &report.counts));
    total.push(lang.count(report.counts.unrated));
    rows.push(Row {
        cells: total,
        bold: true,
    });
    flow.table(&columns, &header, &rows, CELL);
}

/// The height an officer's block takes, kept on one page: the name, the header, two lines a
/// month and the whole period, the reasons.
fn block_height(a: &Appraisal) -> f32 {
    let rows = (a.months.len() + 1) as f32;
    BODY_BOLD.size * 1.3 + TABLE_START + rows * (2.0 * CELL * 1.3 + 5.0) + 45.0
}

/// Each officer month by month: the counts with their shares, tỷ lệ hài lòng, dossiers not
/// rated, the response rate; the whole period in bold; then the reasons of the negatives.
fn appraisals(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let levels = report.scale.levels();
    let mut columns = vec![
        Column::new(0.13, Align::Left),
        Column::new(0.1, Align::Right),
    ];
    let level_width = 0.45 / levels.len() as f32;
    columns.extend(
        levels
            .iter()
            .map(|_| Column::new(level_width, Align::Right)),
    );
    columns.extend([
        Column::new(0.11, Align::Right),
        Column::new(0.1, Align::Right),
        Column::new(0.11, Align::Right),
    ]);
    let mut header = vec![words.month, words.ratings];
    header.extend(levels.iter().map(|&l| lang.level(l)));
    header.extend([words.satisfied_pct, words.not_rated, words.response_pct]);
    let cells = |label: String, f: &Figures| {
        let c = &f.counts;
        let shares = c.shares_tenths(report.scale).unwrap_or_default();
        let mut cells = vec![label, lang.count(c.total())];
        cells.extend(levels.iter().map(|&l| {
            let share = shares.iter().find(|(s, _)| *s == l).map(|(_, t)| *t);
            match share {
                Some(t) => format!("{}\n{} %", lang.count(c.count(l)), lang.tenths(t)),
                None => lang.count(c.count(l)),
            }
        }));
        cells.extend([
            pct(lang, c.satisfied_tenths()),
            lang.count(c.unrated),
            pct(lang, f.response_tenths()),
        ]);
        cells
    };
    let no_officer = lang.no_key("by_officer");
    for a in &report.appraisals {
        let name = a.officer.as_deref().unwrap_or(no_officer);
        flow.space(6.0);
        flow.keep(block_height(a));
        flow.paragraph(Style::new(Face::Bold, 10.5), Align::Left, name);
        flow.space(2.0);
        let mut rows: Vec<Row> = a
            .months
            .iter()
            .map(|(month, f)| Row {
                cells: cells(month_label(month), f),
                bold: false,
            })
            .collect();
        rows.push(Row {
            cells: cells(words.whole_period.to_owned(), &a.whole),
            bold: true,
        });
        flow.table(&columns, &header, &rows, CELL);
        if !a.reasons.is_empty() {
            flow.space(2.0);
            flow.paragraph(
                Style::new(Face::Italic, 10.0),
                Align::Left,
                &format!(
                    "{}: {}",
                    words.negative_reasons,
                    lang.reason_counts(&a.reasons)
                ),
            );
        }
    }
}

/// The period's negative ratings, the most recent [`MAX_NEGATIVES`] in time order, with a note
/// when some are left out.
fn negatives(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let all = &report.negatives;
    if all.is_empty() {
        flow.paragraph(ITALIC, Align::Left, words.no_negatives);
        return;
    }
    let shown = &all[all.len().saturating_sub(MAX_NEGATIVES)..];
    let columns = [
        Column::new(0.06, Align::Centre),
        Column::new(0.125, Align::Left),
        Column::new(0.1, Align::Left),
        Column::new(0.2, Align::Left),
        Column::new(0.2, Align::Left),
        Column::new(0.135, Align::Left),
        Column::new(0.18, Align::Left),
    ];
    let header = [
        words.number,
        words.time,
        words.level,
        words.reasons,
        words.comment,
        words.officer,
        words.dossier,
    ];
    let first = all.len() - shown.len();
    let rows: Vec<Row> = shown
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let officer = match (&n.officer, &n.counter) {
                (Some(o), Some(c)) => format!("{o}\n{c}"),
                (o, c) => o.clone().or_else(|| c.clone()).unwrap_or_default(),
            };
            // The dossier and its procedure's code: the procedure's name is in its table.
            let dossier = [&n.dossier, &n.procedure_code]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            Row {
                cells: vec![
                    (first + i + 1).to_string(),
                    local_time(&n.at).replacen(' ', "\n", 1),
                    lang.level(n.level).to_owned(),
                    lang.reasons(&n.reasons),
                    n.comment.clone().unwrap_or_default(),
                    officer,
                    dossier,
                ],
                bold: false,
            }
        })
        .collect();
    flow.table(&columns, &header, &rows, NEGATIVE_CELL);
    if shown.len() < all.len() {
        flow.space(4.0);
        flow.paragraph(
            Style::new(Face::Italic, 10.5),
            Align::Left,
            &lang.negatives_cut(shown.len(), all.len()),
        );
    }
}

/// "Nơi nhận" on the left and each signer's title with "(Ký, ghi rõ họ tên)" and room to sign,
/// kept together on one page.
fn signatures(flow: &mut Flow<'_>, report: &Report, lang: Lang) {
    let words = lang.words();
    let signers = signers(&report.heading, lang);
    let recipients_width = WIDTH * 0.3;
    let signer_width = (WIDTH - recipients_width) / signers.len().max(1) as f32;
    let title_lines = signers
        .iter()
        .map(|t| flow.fonts().wrap(BODY_BOLD, t, signer_width - 6.0).len())
        .max()
        .unwrap_or(1);
    let height = (title_lines as f32 + 6.0) * BODY.size * 1.3 + 24.0;
    flow.space(18.0);
    flow.keep(height);
    let top = flow.y();
    let small = Style::new(Face::Regular, 10.0);
    let mut y = top;
    y += flow.lines_at(
        LEFT,
        y,
        recipients_width,
        Style::new(Face::Bold, 10.5),
        Align::Left,
        words.recipients,
    );
    for line in words.recipient_lines {
        y += flow.lines_at(LEFT, y, recipients_width, small, Align::Left, line);
    }
    for (i, title) in signers.iter().enumerate() {
        let x = LEFT + recipients_width + signer_width * i as f32;
        let used = flow.lines_at(x, top, signer_width, BODY_BOLD, Align::Centre, title);
        flow.lines_at(
            x,
            top + used,
            signer_width,
            Style::new(Face::Italic, 10.5),
            Align::Centre,
            words.sign_here,
        );
    }
    flow.space((height).max(y - top));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_numbered_in_roman() {
        assert_eq!(Lang::Vi.section(3, "Theo lĩnh vực"), "III. Theo lĩnh vực");
        assert_eq!(
            Lang::En.section(8, "Negative ratings"),
            "VIII. Negative ratings"
        );
        assert_eq!(Lang::Vi.page_of(2, 5), "Trang 2/5");
        assert_eq!(Lang::En.page_of(2, 5), "Page 2 of 5");
    }
}
