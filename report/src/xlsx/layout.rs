//! The page of the XLSX report as the administrative format lays it out (Nghị định 30/2020/NĐ-CP):
//! the unit top left, the national heading top right with the place and date line under it,
//! the title and period centred; at the end of the summary, "Nơi nhận" left and the signers
//! right. And the print set-up every sheet shares: A4, one page wide, the table's header on every
//! page, "Trang N/M". Row heights are worked out from the text, since a spreadsheet program
//! does not grow a row whose height the file sets, and a clipped unit name cannot be filed.

use crate::figures;
use crate::words::Lang;
use hailong_core::report::Heading;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Worksheet, XlsxError};

/// Rows the heading block takes above a sheet's table.
pub const HEADING_ROWS: u32 = 8;
/// One line of 12 pt Times New Roman, in points.
const LINE_HEIGHT: f64 = 15.75;
/// Room to sign under a signer's title, in lines.
const SIGNING_LINES: u32 = 4;
const FONT: &str = "Times New Roman";

/// The height of a row holding `lines` lines of text.
pub fn row_height(lines: u32) -> f64 {
    f64::from(lines.max(1)) * LINE_HEIGHT + 3.0
}

/// The formats of the report's cells.
pub struct Styles {
    pub bold_centre: Format,
    pub header: Format,
    pub text: Format,
    pub wrapped: Format,
    pub count: Format,
    pub pct: Format,
    pub date_time: Format,
    pub month: Format,
    pub total_text: Format,
    pub total_count: Format,
    pub total_pct: Format,
    head: Format,
    head_bold: Format,
    head_italic: Format,
    title: Format,
    recipients: Format,
    recipient: Format,
}

impl Styles {
    pub fn new() -> Styles {
        let plain = Format::new().set_font_name(FONT).set_font_size(12);
        let cell = plain
            .clone()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let head = plain
            .clone()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::Top);
        Styles {
            bold_centre: plain.clone().set_bold().set_align(FormatAlign::Center),
            header: cell
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_background_color(0xDDEBF7),
            text: cell.clone(),
            wrapped: cell.clone().set_text_wrap(),
            count: cell.clone().set_num_format("#,##0"),
            pct: cell.clone().set_num_format("0.0"),
            date_time: cell.clone().set_num_format("dd/mm/yyyy hh:mm"),
            month: cell
                .clone()
                .set_num_format("mm/yyyy")
                .set_align(FormatAlign::Left),
            total_text: cell.clone().set_bold(),
            total_count: cell.clone().set_bold().set_num_format("#,##0"),
            total_pct: cell.set_bold().set_num_format("0.0"),
            head_bold: head.clone().set_bold(),
            head_italic: head.clone().set_italic(),
            title: head.clone().set_bold().set_font_size(14),
            head,
            recipients: plain.clone().set_bold().set_italic(),
            recipient: plain.set_font_size(11),
        }
    }
}

/// Column widths, in the spreadsheet's character units, and how many lines a text takes in them.
pub struct Widths(Vec<f64>);

impl Widths {
    pub fn fixed(widths: &[f64]) -> Widths {
        Widths(widths.to_vec())
    }

    pub fn push(&mut self, width: f64) {
        self.0.push(width);
    }

    /// Adds columns of `width` until there are `n`.
    pub fn extend_to(&mut self, n: usize, width: f64) {
        while self.0.len() < n {
            self.0.push(width);
        }
    }

    fn span(&self, columns: std::ops::Range<usize>) -> f64 {
        self.0.get(columns).map_or(0.0, |w| w.iter().sum())
    }

    fn total(&self) -> f64 {
        self.0.iter().sum()
    }

    /// Lines `text` takes wrapped in column `col`.
    pub fn lines(&self, col: usize, text: &str) -> u32 {
        lines(text, self.0.get(col).copied().unwrap_or(10.0), false)
    }

    /// Lines the tallest of a header row's bold texts takes, one text per column from the first.
    pub fn lines_of_headers(&self, headers: &[&str]) -> u32 {
        headers
            .iter()
            .enumerate()
            .map(|(col, h)| lines(h, self.0.get(col).copied().unwrap_or(10.0), true))
            .max()
            .unwrap_or(1)
    }

    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (col, &w) in self.0.iter().enumerate() {
            ws.set_column_width(col as u16, w)?;
        }
        Ok(())
    }

    /// The first column of each of `parts` groups of columns (fewer if there are fewer
    /// columns), as near equal in width as the columns allow: a group starts at the column
    /// whose middle passes its share of the width.
    fn split(&self, parts: usize) -> Vec<usize> {
        let n = self.0.len();
        let parts = parts.clamp(1, n.max(1));
        let total = self.total();
        let mut starts = vec![0];
        let mut sum = 0.0;
        for (col, &w) in self.0.iter().enumerate() {
            let part = starts.len();
            let enough_left = n - col >= parts - part;
            if part < parts
                && col > 0
                && enough_left
                && sum + w / 2.0 >= total * part as f64 / parts as f64
            {
                starts.push(col);
            }
            sum += w;
        }
        // Columns too narrow to reach the shares: the last groups take one column each.
        while starts.len() < parts {
            starts.push(n - (parts - starts.len()));
        }
        starts
    }
}

/// Text over columns `first` to `last` of `row`, merged if that is more than one cell.
fn merge(
    ws: &mut Worksheet,
    row: u32,
    first: u16,
    last: u16,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    if first == last {
        ws.write_string_with_format(row, first, text, format)?;
    } else {
        ws.merge_range(row, first, row, last, text, format)?;
    }
    Ok(())
}

/// Lines a text takes in a column `width` characters wide, wrapped between words. The unit of
/// width is a digit of the default font; a capital of 12 pt Times New Roman is about 1.4 of it,
/// a small letter about 0.95, a space 0.55. Generous, so that a row is never too short.
fn lines(text: &str, width: f64, bold: bool) -> u32 {
    let room = (width - 1.0).max(1.0);
    let bold = if bold { 1.1 } else { 1.0 };
    let weight = |word: &str| -> f64 {
        word.chars()
            .map(|c| {
                if c.is_uppercase() {
                    1.4
                } else if c.is_alphanumeric() {
                    0.95
                } else {
                    0.8
                }
            })
            .sum::<f64>()
            * bold
    };
    let mut total = 0;
    for paragraph in text.split('\n') {
        let (mut n, mut line) = (1, 0.0);
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let w = weight(word);
            if line > 0.0 && line + 0.55 + w > room {
                n += 1;
                line = w;
            } else {
                line += if line > 0.0 { 0.55 + w } else { w };
            }
            // A word longer than the column breaks inside it.
            while line > room {
                n += 1;
                line -= room;
            }
        }
        total += n;
    }
    total.max(1)
}

/// One sheet's page: its columns, split into the heading's left and right blocks.
pub struct Page<'a> {
    widths: &'a Widths,
    styles: &'a Styles,
    /// The right block's first column.
    split: u16,
    last: u16,
}

impl<'a> Page<'a> {
    pub fn new(widths: &'a Widths, styles: &'a Styles) -> Page<'a> {
        let n = widths.0.len().max(2);
        // The national heading needs about 50 units on one line; the unit gets the rest, at
        // least two fifths.
        let total = widths.total();
        let right = 52.0_f64.min(total * 0.6);
        let mut split = n - 1;
        while split > 1 && widths.span(split..n) < right {
            split -= 1;
        }
        Page {
            widths,
            styles,
            split: split as u16,
            last: (n - 1) as u16,
        }
    }

    /// The heading block over rows 0 to [`HEADING_ROWS`], and the columns' widths.
    pub fn heading(
        &self,
        ws: &mut Worksheet,
        heading: &Heading,
        lang: Lang,
    ) -> Result<(), XlsxError> {
        self.widths.apply(ws)?;
        let words = lang.words();
        let s = self.styles;
        let (split, last) = (self.split, self.last);
        let left_width = self.widths.span(0..split as usize);
        let right_width = self.widths.span(split as usize..last as usize + 1);
        let unit = heading.unit.trim().to_uppercase();
        let superior = figures::superior(heading);
        let mut left: Vec<(String, &Format)> = Vec::new();
        if let Some(superior) = superior {
            left.push((superior, &s.head));
        }
        left.push((unit, &s.head_bold));
        left.push(("——————".to_owned(), &s.head));
        let made = figures::made_on(heading);
        let place = heading.letterhead.place_for(&heading.unit);
        let right: [(String, &Format); 4] = [
            (words.motto.to_owned(), &s.head_bold),
            (words.motto_sub.to_owned(), &s.head_bold),
            ("——————————".to_owned(), &s.head),
            (lang.place_and_date(place.as_deref(), made), &s.head_italic),
        ];
        for row in 0..4u32 {
            let l = left.get(row as usize);
            let r = &right[row as usize];
            let (l_text, l_format) = l.map_or(("", &s.head), |(t, f)| (t.as_str(), *f));
            merge(ws, row, 0, split - 1, l_text, l_format)?;
            merge(ws, row, split, last, &r.0, r.1)?;
            let lines = lines(l_text, left_width, true).max(lines(&r.0, right_width, true));
            ws.set_row_height(row, row_height(lines))?;
        }
        let all = self.widths.total();
        merge(ws, 5, 0, last, words.title, &s.title)?;
        ws.set_row_height(5, row_height(lines(words.title, all / 1.2, true)) * 1.2)?;
        let period = format!("{}: {}", words.period, lang.period(&heading.period));
        merge(ws, 6, 0, last, &period, &s.head_italic)?;
        ws.set_row_height(6, row_height(lines(&period, all, false)))?;
        Ok(())
    }

    /// "Nơi nhận" on the left and each signer's title with "(Ký, ghi rõ họ tên)" and room to
    /// sign, from `row`; returns the block's last row.
    pub fn signatures(
        &self,
        ws: &mut Worksheet,
        row: u32,
        heading: &Heading,
        lang: Lang,
    ) -> Result<u32, XlsxError> {
        let words = lang.words();
        let s = self.styles;
        let mut signers = figures::signers(heading, lang);
        // "Nơi nhận" and each signer need a column of their own.
        let n = self.widths.0.len();
        signers.truncate(n.saturating_sub(1).max(1));
        let starts = self.widths.split(signers.len() + 1);
        let end_of = |i: usize| starts.get(i + 1).map_or(n, |&next| next) - 1;
        merge(
            ws,
            row,
            0,
            end_of(0) as u16,
            words.recipients,
            &s.recipients,
        )?;
        for (k, line) in words.recipient_lines.iter().enumerate() {
            merge(
                ws,
                row + 1 + k as u32,
                0,
                end_of(0) as u16,
                line,
                &s.recipient,
            )?;
        }
        let mut title_lines = 1;
        for (i, title) in signers.iter().enumerate() {
            let Some(&first) = starts.get(i + 1) else {
                break;
            };
            let last = end_of(i + 1);
            merge(ws, row, first as u16, last as u16, title, &s.head_bold)?;
            merge(
                ws,
                row + 1,
                first as u16,
                last as u16,
                words.sign_here,
                &s.head_italic,
            )?;
            title_lines = title_lines.max(lines(title, self.widths.span(first..last + 1), true));
        }
        ws.set_row_height(row, row_height(title_lines))?;
        let end = row + 2 + SIGNING_LINES;
        Ok(end)
    }

    /// A4 in the sheet's orientation, one page wide, `repeat` rows on every page, the print
    /// area to `last_row`, "Trang N/M" at the foot.
    pub fn finish(
        &self,
        ws: &mut Worksheet,
        words: &crate::words::Words,
        landscape: bool,
        repeat: Option<(u32, u32)>,
        last_row: u32,
    ) -> Result<(), XlsxError> {
        ws.set_paper_size(9);
        if landscape {
            ws.set_landscape();
        } else {
            ws.set_portrait();
        }
        ws.set_print_fit_to_pages(1, 0);
        ws.set_print_center_horizontally(true);
        ws.set_margins(0.6, 0.4, 0.6, 0.7, 0.3, 0.3);
        ws.set_footer(format!("&C&\"{FONT},Regular\"&11{}", words.page_footer));
        if let Some((first, last)) = repeat {
            ws.set_repeat_rows(first, last)?;
        }
        ws.set_print_area(0, 0, last_row, self.last)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_onto_as_many_lines_as_it_needs() {
        assert_eq!(lines("Hộ tịch", 20.0, false), 1);
        assert_eq!(lines("", 20.0, false), 1);
        // 36 small letters and spaces in a column of 20: two lines.
        assert_eq!(
            lines("Đăng ký khai sinh cho trẻ em mới sinh", 20.0, false),
            2
        );
        // Capitals take more room than small letters.
        assert!(lines("UBND XÃ HÒA BÌNH (DỮ LIỆU MẪU)", 28.0, true) >= 2);
        assert_eq!(lines("Phải chờ đợi lâu; Lý do khác", 40.0, false), 1);
        assert_eq!(lines("a\nb\nc", 40.0, false), 3);
        // A word longer than the column breaks inside it.
        assert_eq!(lines(&"x".repeat(45), 16.0, false), 3);
    }

    #[test]
    fn columns_split_into_groups_of_near_equal_width() {
        let w = Widths::fixed(&[12.0, 13.0, 13.0, 13.0, 13.0, 13.0]);
        assert_eq!(w.split(3), vec![0, 2, 4]);
        assert_eq!(w.split(2), vec![0, 3]);
        let two = Widths::fixed(&[10.0, 10.0]);
        assert_eq!(two.split(3), vec![0, 1]);
    }
}
