//! Laying out the PDF report on A4 pages: text measured with the very font the PDF embeds and
//! wrapped between words, tables whose header row comes again on every page, blocks kept
//! together; then every page drawn with krilla once the page count is known, so that each can
//! say "Trang N/M". Margins are the administrative format's (Nghị định 30/2020/NĐ-CP): 30 mm
//! left, 15 mm right, 20 mm top and bottom.

use ab_glyph::{Font as _, FontRef};
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

const MM: f32 = 72.0 / 25.4;
const PAGE_WIDTH: f32 = 210.0 * MM;
const PAGE_HEIGHT: f32 = 297.0 * MM;
pub const LEFT: f32 = 30.0 * MM;
const TOP: f32 = 20.0 * MM;
/// Where the content ends: the footer sits under it.
const BOTTOM: f32 = PAGE_HEIGHT - 20.0 * MM;
/// The width between the margins: 165 mm.
pub const WIDTH: f32 = PAGE_WIDTH - LEFT - 15.0 * MM;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerifCondensed.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerifCondensed-Bold.ttf");
static ITALIC: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSerifCondensed-Italic.ttf");

/// Ink and the header cells' fill.
const INK: [u8; 3] = [0, 0, 0];
pub const HEADER_FILL: [u8; 3] = [0xE4, 0xEA, 0xF2];
const BORDER: f32 = 0.5;
/// The smallest a table's header is set, to fit its words in their columns.
const MIN_HEADER: f32 = 7.5;
/// Room around a table cell's text.
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 2.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
    Italic,
}

/// A face at a size, in points.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub face: Face,
    pub size: f32,
}

impl Style {
    pub const fn new(face: Face, size: f32) -> Style {
        Style { face, size }
    }

    fn line(self) -> f32 {
        self.size * 1.3
    }

    fn bold(self) -> Style {
        Style {
            face: Face::Bold,
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// The report's three faces, for measuring (ab_glyph) and for the PDF (krilla, subset and
/// embedded): DejaVu Serif Condensed, which covers Vietnamese whole.
pub struct Fonts {
    measure: [FontRef<'static>; 3],
    pdf: [Font; 3],
}

impl Fonts {
    pub fn new() -> Fonts {
        let measure = [REGULAR, BOLD, ITALIC].map(|bytes| {
            FontRef::try_from_slice(bytes).expect("the embedded fonts are valid TrueType files")
        });
        let pdf = [REGULAR, BOLD, ITALIC].map(|bytes| {
            Font::new(bytes.into(), 0).expect("the embedded fonts are valid TrueType files")
        });
        Fonts { measure, pdf }
    }

    fn index(face: Face) -> usize {
        match face {
            Face::Regular => 0,
            Face::Bold => 1,
            Face::Italic => 2,
        }
    }

    /// Whether every character of `text` has a glyph in `face`.
    #[cfg(test)]
    pub fn covers(&self, face: Face, text: &str) -> bool {
        let font = &self.measure[Fonts::index(face)];
        text.chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| font.glyph_id(c).0 != 0)
    }

    /// The width of `text` set in `style`, in points.
    pub fn width(&self, style: Style, text: &str) -> f32 {
        let font = &self.measure[Fonts::index(style.face)];
        let units: f32 = text
            .chars()
            .map(|c| font.h_advance_unscaled(font.glyph_id(c)))
            .sum();
        units / font.units_per_em().unwrap_or(2048.0) * style.size
    }

    /// `text` broken into lines no wider than `width`, between words where it can be and
    /// inside a word longer than a line. Line breaks in the text are kept.
    pub fn wrap(&self, style: Style, text: &str, width: f32) -> Vec<String> {
        let space = self.width(style, " ");
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_width = 0.0;
            for word in paragraph.split_whitespace() {
                let w = self.width(style, word);
                if !line.is_empty() && line_width + space + w <= width {
                    line.push(' ');
                    line.push_str(word);
                    line_width += space + w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if w <= width {
                    line.push_str(word);
                    line_width = w;
                    continue;
                }
                // A word wider than the line: as many characters as fit on each line.
                line_width = 0.0;
                for c in word.chars() {
                    let cw = self.width(style, c.encode_utf8(&mut [0; 4]));
                    if !line.is_empty() && line_width + cw > width {
                        lines.push(std::mem::take(&mut line));
                        line_width = 0.0;
                    }
                    line.push(c);
                    line_width += cw;
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// What a page shows, placed in points from its top left corner.
enum Item {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Fill {
        rect: [f32; 4],
        colour: [u8; 3],
    },
    Frame {
        rect: [f32; 4],
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
    },
    Image {
        rect: [f32; 4],
        image: Image,
    },
}

/// One column of a table: its share of the width, and how its cells are aligned.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub weight: f32,
    pub align: Align,
}

impl Column {
    pub const fn new(weight: f32, align: Align) -> Column {
        Column { weight, align }
    }
}

/// A table row: one text per column; a total row is bold.
pub struct Row {
    pub cells: Vec<String>,
    pub bold: bool,
}

/// The pages being laid out, and where the next block goes on the last one.
pub struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl<'f> Flow<'f> {
    pub fn new(fonts: &'f Fonts) -> Flow<'f> {
        Flow {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
        }
    }

    pub fn fonts(&self) -> &'f Fonts {
        self.fonts
    }

    /// Where the next block starts on the page.
    pub fn y(&self) -> f32 {
        self.y
    }

    fn push(&mut self, item: Item) {
        self.pages
            .last_mut()
            .expect("a flow always has a page")
            .push(item);
    }

    pub fn page_break(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` (at most a page) fits under the last block.
    pub fn keep(&mut self, height: f32) {
        if self.y + height.min(BOTTOM - TOP) > BOTTOM && self.y > TOP {
            self.page_break();
        }
    }

    /// Leaves `height` of room, or goes to the next page's top.
    pub fn space(&mut self, height: f32) {
        self.y += height;
        if self.y > BOTTOM {
            self.page_break();
        }
    }

    /// Lines of `text` in `style` over `width` from `x`, their top at `top`, each aligned in
    /// the width; returns the height they take. Does not move the flow.
    pub fn lines_at(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        style: Style,
        align: Align,
        text: &str,
    ) -> f32 {
        let lines = self.fonts.wrap(style, text, width);
        for (i, line) in lines.iter().enumerate() {
            let baseline = top + style.line() * i as f32 + style.size;
            self.line_of_text(x, baseline, width, style, align, line);
        }
        style.line() * lines.len() as f32
    }

    fn line_of_text(
        &mut self,
        x: f32,
        baseline: f32,
        width: f32,
        style: Style,
        align: Align,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        let w = self.fonts.width(style, text);
        let x = match align {
            Align::Left => x,
            Align::Centre => x + (width - w) / 2.0,
            Align::Right => x + width - w,
        };
        self.push(Item::Text {
            x,
            baseline,
            style,
            text: text.to_owned(),
        });
    }

    /// A paragraph over the whole width, breaking to the next page between its lines.
    pub fn paragraph(&mut self, style: Style, align: Align, text: &str) {
        for line in self.fonts.wrap(style, text, WIDTH) {
            self.keep(style.line());
            let baseline = self.y + style.size;
            self.line_of_text(LEFT, baseline, WIDTH, style, align, &line);
            self.y += style.line();
        }
    }

    /// A horizontal rule `length` long, centred in the span from `x` `width` wide, at `y`.
    pub fn rule_at(&mut self, x: f32, width: f32, length: f32, y: f32) {
        let start = x + (width - length) / 2.0;
        self.push(Item::Line {
            from: (start, y),
            to: (start + length, y),
            width: 0.6,
        });
    }

    /// A picture over the whole width, on the next page if it does not fit on this one.
    pub fn image(&mut self, image: Image) {
        let (w, h) = image.size();
        let height = image_height(w, h);
        self.keep(height);
        self.push(Item::Image {
            rect: [LEFT, self.y, WIDTH, height],
            image,
        });
        self.y += height;
    }

    /// A table over the whole width: the header row with a fill, then each row, its cells
    /// wrapped; a row that does not fit goes to the next page, under the header drawn again.
    pub fn table(&mut self, columns: &[Column], header: &[&str], rows: &[Row], size: f32) {
        let total: f32 = columns.iter().map(|c| c.weight).sum();
        let mut widths: Vec<f32> = columns.iter().map(|c| WIDTH * c.weight / total).collect();
        // A column narrower than its header's longest word at the smallest header size
        // ("Unsatisfied") takes the room from the column with the most to spare.
        let smallest = Style::new(Face::Bold, MIN_HEADER);
        let needs: Vec<f32> = header
            .iter()
            .map(|h| {
                h.split_whitespace()
                    .map(|word| self.fonts.width(smallest, word))
                    .fold(0.0, f32::max)
                    + 2.0 * PAD_X
                    + 0.5
            })
            .collect();
        for i in 0..widths.len().min(needs.len()) {
            let short = needs[i] - widths[i];
            if short <= 0.0 {
                continue;
            }
            let spare = |j: usize| widths[j] - needs.get(j).copied().unwrap_or(0.0);
            let donor = (0..widths.len())
                .filter(|&j| j != i)
                .max_by(|&a, &b| spare(a).total_cmp(&spare(b)));
            if let Some(donor) = donor.filter(|&d| spare(d) >= short) {
                widths[donor] -= short;
                widths[i] += short;
            }
        }
        let cell = Style::new(Face::Regular, size);
        // The header wraps between words only: its size goes down (to 7.5 pt at least) until
        // each word fits its column ("Không" of "Không hài lòng" in a narrow one).
        let mut head = cell.bold();
        let fits = |head: Style| {
            header.iter().zip(&widths).all(|(h, w)| {
                h.split_whitespace()
                    .all(|word| self.fonts.width(head, word) <= w - 2.0 * PAD_X)
            })
        };
        while !fits(head) && head.size > MIN_HEADER {
            head.size -= 0.5;
        }
        let header_cells: Vec<Vec<String>> = header
            .iter()
            .zip(&widths)
            .map(|(h, w)| self.fonts.wrap(head, h, w - 2.0 * PAD_X))
            .collect();
        let header_height = height_of(&header_cells, head);
        let draw_header = |flow: &mut Flow<'_>| {
            flow.cells(&widths, columns, &header_cells, head, true);
            flow.y += header_height;
        };
        self.keep(header_height + cell.line() + 2.0 * PAD_Y);
        draw_header(self);
        let most = BOTTOM - TOP - header_height;
        for row in rows {
            let style = if row.bold { cell.bold() } else { cell };
            let mut lines: Vec<Vec<String>> = row
                .cells
                .iter()
                .zip(&widths)
                .map(|(text, w)| self.fonts.wrap(style, text, w - 2.0 * PAD_X))
                .collect();
            // A cell taller than a page is cut to a page, its last line ending in "…".
            let room = ((most - 2.0 * PAD_Y) / style.line()).floor().max(1.0) as usize;
            for cell_lines in &mut lines {
                if cell_lines.len() > room {
                    cell_lines.truncate(room);
                    if let Some(last) = cell_lines.last_mut() {
                        last.push('…');
                    }
                }
            }
            let height = height_of(&lines, style);
            if self.y + height > BOTTOM {
                self.page_break();
                draw_header(self);
            }
            self.cells(&widths, columns, &lines, style, false);
            self.y += height;
        }
    }

    /// One row of cells at the flow's place, framed; a header row is filled and centred.
    fn cells(
        &mut self,
        widths: &[f32],
        columns: &[Column],
        lines: &[Vec<String>],
        style: Style,
        header: bool,
    ) {
        let height = height_of(lines, style);
        let mut x = LEFT;
        for ((w, column), cell_lines) in widths.iter().zip(columns).zip(lines) {
            let rect = [x, self.y, *w, height];
            if header {
                self.push(Item::Fill {
                    rect,
                    colour: HEADER_FILL,
                });
            }
            self.push(Item::Frame { rect });
            let align = if header { Align::Centre } else { column.align };
            // Header texts sit in the middle of their cell's height, others at its top.
            let used = style.line() * cell_lines.len() as f32;
            let top = if header {
                self.y + (height - used) / 2.0
            } else {
                self.y + PAD_Y
            };
            for (i, line) in cell_lines.iter().enumerate() {
                let baseline = top + style.line() * i as f32 + style.size;
                self.line_of_text(x + PAD_X, baseline, w - 2.0 * PAD_X, style, align, line);
            }
            x += w;
        }
    }

    /// Draws every page, with `footer(page, pages)` centred under each, into a PDF file.
    pub fn finish(
        self,
        metadata: Metadata,
        footer: impl Fn(usize, usize) -> String,
    ) -> Result<Vec<u8>, String> {
        let mut document = Document::new();
        document.set_metadata(metadata);
        let pages = self.pages.len();
        let footer_style = Style::new(Face::Regular, 9.5);
        for (i, items) in self.pages.iter().enumerate() {
            let settings =
                PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("the page has no size")?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for item in items {
                draw(&mut surface, self.fonts, item);
            }
            let text = footer(i + 1, pages);
            let w = self.fonts.width(footer_style, &text);
            let footer = Item::Text {
                x: (PAGE_WIDTH - w) / 2.0,
                baseline: PAGE_HEIGHT - 10.0 * MM,
                style: footer_style,
                text,
            };
            draw(&mut surface, self.fonts, &footer);
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

/// The height a picture of `w` by `h` pixels takes over the whole width.
pub fn image_height(w: u32, h: u32) -> f32 {
    WIDTH * h as f32 / w.max(1) as f32
}

/// The height of a row whose cells hold `lines`.
fn height_of(lines: &[Vec<String>], style: Style) -> f32 {
    let most = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
    most as f32 * style.line() + 2.0 * PAD_Y
}

fn colour([r, g, b]: [u8; 3]) -> krilla::paint::Paint {
    rgb::Color::new(r, g, b).into()
}

fn rect_path([x, y, w, h]: [f32; 4]) -> Option<krilla::geom::Path> {
    let mut builder = PathBuilder::new();
    builder.push_rect(Rect::from_xywh(x, y, w, h)?);
    builder.finish()
}

fn draw(surface: &mut Surface<'_>, fonts: &Fonts, item: &Item) {
    match item {
        Item::Text {
            x,
            baseline,
            style,
            text,
        } => {
            surface.set_stroke(None);
            surface.set_fill(Some(Fill {
                paint: colour(INK),
                ..Fill::default()
            }));
            surface.draw_text(
                Point::from_xy(*x, *baseline),
                fonts.pdf[Fonts::index(style.face)].clone(),
                style.size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Item::Fill { rect, colour: c } => {
            if let Some(path) = rect_path(*rect) {
                surface.set_stroke(None);
                surface.set_fill(Some(Fill {
                    paint: colour(*c),
                    ..Fill::default()
                }));
                surface.draw_path(&path);
            }
        }
        Item::Frame { rect } => {
            if let Some(path) = rect_path(*rect) {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: colour(INK),
                    width: BORDER,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Item::Line { from, to, width } => {
            let mut builder = PathBuilder::new();
            builder.move_to(from.0, from.1);
            builder.line_to(to.0, to.1);
            if let Some(path) = builder.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: colour(INK),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
            }
        }
        Item::Image {
            rect: [x, y, w, h],
            image,
        } => {
            if let Some(size) = Size::from_wh(*w, *h) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(image.clone(), size);
                surface.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_between_words_and_inside_a_word_too_long_for_a_line() {
        let fonts = Fonts::new();
        let style = Style::new(Face::Regular, 10.0);
        let text = "Đăng ký khai sinh cho trẻ em mới sinh";
        let whole = fonts.width(style, text);
        assert_eq!(fonts.wrap(style, text, whole + 1.0), vec![text]);
        let lines = fonts.wrap(style, text, whole / 2.0 + 5.0);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(60);
        let lines = fonts.wrap(style, &long, fonts.width(style, &"x".repeat(20)) + 0.1);
        assert_eq!(lines, vec!["x".repeat(20); 3]);
        assert_eq!(fonts.wrap(style, "a\nb", 100.0), vec!["a", "b"]);
    }

    #[test]
    fn the_fonts_have_every_vietnamese_letter() {
        let fonts = Fonts::new();
        let letters = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrst\
                       uùúủũụưừứửữựvxyỳýỷỹỵ";
        for face in [Face::Regular, Face::Bold, Face::Italic] {
            assert!(fonts.covers(face, letters), "{face:?}");
            assert!(fonts.covers(face, &letters.to_uppercase()), "{face:?}");
        }
        assert!(!fonts.covers(Face::Regular, "漢"));
    }
}
