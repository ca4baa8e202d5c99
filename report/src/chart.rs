//! The PNG chart, for paper as much as for screens: levels per month as stacked bars, and tỷ
//! lệ hài lòng per officer with their counts, drawn with a real font rasteriser (ab_glyph,
//! DejaVu Sans). Printed 16 cm wide (the PDF report, a pasted picture) no text is under 9 pt;
//! printed in black and white the levels stay apart: their print colours are spread in
//! lightness, the negative ones are hatched, and the legend and the numbers on the bars name them.

use crate::words::{Lang, month_label};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use hailong_core::level::Level;
use hailong_core::report::{Group, Report};
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use std::io::Write;

const WIDTH: u32 = 1600;
/// Pixels per point when the picture is printed 16 cm wide.
const PX_PER_PT: f32 = WIDTH as f32 / (160.0 / 25.4 * 72.0);
/// Height of the months' plot.
const PLOT_HEIGHT: i32 = 430;
/// Height of one officer's bar.
const OFFICER_ROW: i32 = 64;
/// Officers shown, most ratings first.
const MAX_OFFICERS: usize = 15;
/// The text sizes, in points at 16 cm.
const TITLE_PT: f32 = 13.0;
const HEAD_PT: f32 = 11.0;
const LABEL_PT: f32 = 9.5;
const SMALL_PT: f32 = 9.0;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([33, 37, 41]);
const GREY: Rgb<u8> = Rgb([90, 94, 98]);
const GRID: Rgb<u8> = Rgb([215, 219, 224]);
const TRACK: Rgb<u8> = Rgb([236, 239, 242]);

/// The colour of a level, as the tablet (`ui/theme.slint`) and the dashboard (`style.css`)
/// show it: greens for satisfied, amber for neutral, orange and red for the rest.
pub fn level_rgb(level: Level) -> [u8; 3] {
    match level {
        Level::VerySatisfied => [0x1b, 0x8a, 0x4a],
        Level::Satisfied => [0x6b, 0xb3, 0x3a],
        Level::Neutral => [0xe0, 0xa8, 0x00],
        Level::Unsatisfied => [0xe0, 0x61, 0x2b],
        Level::VeryUnsatisfied => [0xc6, 0x28, 0x28],
    }
}

/// The colour of a level in the chart: the screens' hues, spread in lightness so that
/// neighbouring levels stay apart on a black-and-white printer (dark green, light green, pale
/// amber, mid orange, dark red: greys of about 77, 176, 222, 127 and 61).
pub fn print_rgb(level: Level) -> [u8; 3] {
    match level {
        Level::VerySatisfied => [0x1a, 0x6b, 0x3a],
        Level::Satisfied => [0x93, 0xcc, 0x6a],
        Level::Neutral => [0xf7, 0xe0, 0x8f],
        Level::Unsatisfied => [0xd9, 0x62, 0x2b],
        Level::VeryUnsatisfied => [0x8e, 0x1b, 0x1b],
    }
}

/// The grey a colour prints as (ITU-R BT.601 luma), 0 to 255.
pub fn grey_of([r, g, b]: [u8; 3]) -> f32 {
    0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)
}

fn colour(level: Level) -> Rgb<u8> {
    Rgb(print_rgb(level))
}

/// Ink that reads on a level's colour: white on the dark ones.
fn ink_on(level: Level) -> Rgb<u8> {
    if grey_of(print_rgb(level)) < 140.0 {
        WHITE
    } else {
        INK
    }
}

pub fn write(report: &Report, lang: Lang, out: &mut impl Write) -> std::io::Result<()> {
    let image = draw(report, lang);
    PngEncoder::new(out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| match e {
            image::ImageError::IoError(e) => e,
            other => std::io::Error::other(other),
        })
}

struct Canvas {
    image: RgbImage,
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

/// The officers the chart shows: those with ratings, most ratings first.
fn shown_officers(report: &Report) -> Vec<&Group> {
    report
        .by_officer
        .iter()
        .filter(|g| g.counts.total() > 0)
        .take(MAX_OFFICERS)
        .collect()
}

/// Pixels of one line of text of `pt` points.
fn line_px(pt: f32) -> i32 {
    (pt * PX_PER_PT * 1.35).ceil() as i32
}

pub(crate) fn draw(report: &Report, lang: Lang) -> RgbImage {
    let fonts = (
        FontRef::try_from_slice(REGULAR),
        FontRef::try_from_slice(BOLD),
    );
    let (Ok(regular), Ok(bold)) = fonts else {
        unreachable!("the embedded fonts are valid TrueType files")
    };
    let officers = shown_officers(report).len().max(1) as i32;
    let top_height = 30 + line_px(TITLE_PT) + 2 * line_px(HEAD_PT) + 30;
    let months_height =
        line_px(HEAD_PT) + line_px(LABEL_PT) + 40 + PLOT_HEIGHT + 2 * line_px(SMALL_PT) + 40;
    let officers_height =
        line_px(HEAD_PT) + line_px(SMALL_PT) + 30 + OFFICER_ROW * officers + line_px(SMALL_PT) + 40;
    let height = (top_height + months_height + officers_height) as u32;
    let mut canvas = Canvas {
        image: RgbImage::from_pixel(WIDTH, height, WHITE),
        regular,
        bold,
    };
    let words = lang.words();
    let heading = &report.heading;
    let mut y = 30;
    canvas.text_centred(WIDTH as i32 / 2, y, TITLE_PT, true, words.title, INK);
    y += line_px(TITLE_PT);
    let subtitle = format!("{} · {}", heading.unit, lang.period(&heading.period));
    let subtitle = canvas.fit(&subtitle, HEAD_PT, false, WIDTH as f32 - 80.0);
    canvas.text_centred(WIDTH as i32 / 2, y, HEAD_PT, false, &subtitle, GREY);
    y += line_px(HEAD_PT);
    let summary = match report.counts.satisfied_tenths() {
        Some(t) => format!(
            "{}: {} · {}: {}",
            words.ratings,
            lang.count(report.counts.total()),
            words.satisfied_pct,
            lang.tenths(t)
        ),
        None => words.no_ratings.to_owned(),
    };
    canvas.text_centred(WIDTH as i32 / 2, y, HEAD_PT, false, &summary, INK);
    months_panel(&mut canvas, report, lang, top_height);
    officers_panel(&mut canvas, report, lang, top_height + months_height);
    canvas.image
}

/// A level's colour over a rectangle; the negative levels hatched with light diagonals, so
/// that they differ from the others in pattern as well as in grey.
fn fill_level(canvas: &mut Canvas, x: i32, y: i32, w: i32, h: i32, level: Level) {
    canvas.rect(x, y, w.max(0) as u32, h.max(0) as u32, colour(level));
    if !level.is_negative() {
        return;
    }
    let stripe = Rgb([245, 205, 185]);
    for py in y.max(0)..y + h {
        for px in x.max(0)..x + w {
            if (px + py).rem_euclid(16) < 3 {
                canvas.put(px, py, stripe);
            }
        }
    }
}

/// Stacked bars: one per month, a segment per level with its count on it where it fits, a
/// legend above, the months under them.
fn months_panel(canvas: &mut Canvas, report: &Report, lang: Lang, top: i32) {
    let words = lang.words();
    canvas.text(60, top, HEAD_PT, true, words.chart_months, INK);
    let levels = report.scale.levels();
    // The legend, on its own line: a swatch in the level's colour and pattern, and its name.
    let legend_top = top + line_px(HEAD_PT) + 6;
    let swatch = line_px(LABEL_PT) - 12;
    let mut x = 60;
    for &level in levels {
        fill_level(canvas, x, legend_top + 4, swatch, swatch, level);
        canvas.frame(x, legend_top + 4, swatch, swatch, INK);
        x += swatch + 12;
        let label = lang.level(level);
        canvas.text(x, legend_top, LABEL_PT, false, label, INK);
        x += canvas.width(LABEL_PT, false, label) as i32 + 40;
    }
    let (left, right) = (170i32, WIDTH as i32 - 40);
    let plot_top = legend_top + line_px(LABEL_PT) + 40;
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let months = &report.by_month;
    let most = months.iter().map(|g| g.counts.total()).max().unwrap_or(0);
    if most == 0 {
        canvas.text_centred(
            WIDTH as i32 / 2,
            (plot_top + plot_bottom) / 2,
            HEAD_PT,
            false,
            words.no_ratings,
            GREY,
        );
        return;
    }
    let step = nice_step(most);
    let ceiling = most.div_ceil(step) * step;
    let y_of = |n: u64| {
        plot_bottom - ((n as f64 / ceiling as f64) * f64::from(plot_bottom - plot_top)) as i32
    };
    let mut tick = 0;
    while tick <= ceiling {
        let y = y_of(tick);
        canvas.rect(left, y, (right - left) as u32, 2, GRID);
        let label = lang.count(tick);
        let w = canvas.width(SMALL_PT, false, &label) as i32;
        canvas.text(
            left - 14 - w,
            y - line_px(SMALL_PT) / 2,
            SMALL_PT,
            false,
            &label,
            GREY,
        );
        tick += step;
    }
    let slot = (right - left) / months.len() as i32;
    let bar = (slot * 2 / 3).clamp(4, 150);
    // Months are labelled "10/2026" while they fit under their bar, else by their number
    // with the year under the first month of each year.
    let full = months
        .iter()
        .map(|m| {
            canvas.width(
                SMALL_PT,
                false,
                &month_label(m.key.as_deref().unwrap_or("")),
            )
        })
        .fold(0.0f32, f32::max);
    let whole_labels = full + 10.0 <= slot as f32;
    let number_height = line_px(SMALL_PT);
    let mut last_year = None;
    for (i, month) in months.iter().enumerate() {
        let x = left + slot * i as i32 + (slot - bar) / 2;
        let mut below = 0u64;
        for &level in levels {
            let n = month.counts.count(level);
            if n == 0 {
                continue;
            }
            let (y0, y1) = (y_of(below + n), y_of(below));
            fill_level(canvas, x, y0, bar, (y1 - y0).max(1), level);
            let label = lang.count(n);
            let w = canvas.width(SMALL_PT, true, &label) as i32;
            if y1 - y0 >= number_height + 4 && w + 8 <= bar {
                let ink = ink_on(level);
                canvas.text_centred(
                    x + bar / 2,
                    (y0 + y1) / 2 - number_height / 2 + 2,
                    SMALL_PT,
                    true,
                    &label,
                    ink,
                );
            }
            below += n;
        }
        let key = month.key.as_deref().unwrap_or("");
        let label_y = plot_bottom + 12;
        if whole_labels {
            canvas.text_centred(
                x + bar / 2,
                label_y,
                SMALL_PT,
                false,
                &month_label(key),
                INK,
            );
        } else if let Some((year, number)) = key.split_once('-') {
            let w = canvas.width(SMALL_PT, false, number) as i32;
            if w <= slot || i % 2 == 0 {
                canvas.text_centred(x + bar / 2, label_y, SMALL_PT, false, number, INK);
            }
            if last_year != Some(year) {
                canvas.text(x, label_y + number_height, SMALL_PT, true, year, INK);
                last_year = Some(year);
            }
        }
    }
    canvas.rect(left, plot_bottom, (right - left) as u32, 3, INK);
}

/// Horizontal bars: tỷ lệ hài lòng of each officer, most ratings first, with the count beside
/// it; the axis starts where it makes 88 % and 95 % look different, and says where.
fn officers_panel(canvas: &mut Canvas, report: &Report, lang: Lang, top: i32) {
    let words = lang.words();
    canvas.text(60, top, HEAD_PT, true, words.chart_officers, INK);
    let officers = shown_officers(report);
    let rows_top = top + line_px(HEAD_PT) + line_px(SMALL_PT) + 30;
    if officers.is_empty() {
        canvas.text_centred(
            WIDTH as i32 / 2,
            rows_top,
            HEAD_PT,
            false,
            words.no_ratings,
            GREY,
        );
        return;
    }
    let lowest = officers
        .iter()
        .filter_map(|g| g.counts.satisfied_tenths())
        .min()
        .unwrap_or(0);
    let from = axis_start(lowest);
    canvas.text(
        60,
        top + line_px(HEAD_PT),
        SMALL_PT,
        false,
        &lang.officer_axis(from),
        GREY,
    );
    let (left, right) = (470i32, WIDTH as i32 - 420);
    let x_of = |tenths: u32| {
        let span = (1000 - from * 10).max(1) as i32;
        left + (right - left) * (tenths.saturating_sub(from * 10).min(1000) as i32) / span
    };
    let rows_bottom = rows_top + OFFICER_ROW * officers.len() as i32;
    let tick = if 100 - from > 30 {
        20
    } else if 100 - from > 10 {
        5
    } else {
        2
    };
    let mut t = from;
    while t <= 100 {
        let x = x_of(t * 10);
        canvas.rect(
            x,
            rows_top - 6,
            2,
            (rows_bottom - rows_top + 12) as u32,
            GRID,
        );
        let label = t.to_string();
        canvas.text_centred(x, rows_bottom + 10, SMALL_PT, false, &label, GREY);
        t += tick;
    }
    for (i, g) in officers.iter().enumerate() {
        let y = rows_top + OFFICER_ROW * i as i32;
        let name = crate::figures::group_label(g, lang.no_key("by_officer"));
        let name = canvas.fit(&name, LABEL_PT, false, (left - 80) as f32);
        let w = canvas.width(LABEL_PT, false, &name) as i32;
        let text_y = y + (OFFICER_ROW - line_px(LABEL_PT)) / 2 + 4;
        canvas.text(left - 16 - w, text_y, LABEL_PT, false, &name, INK);
        let bar_h = OFFICER_ROW - 18;
        canvas.rect(left, y + 9, (right - left) as u32, bar_h as u32, TRACK);
        let tenths = g.counts.satisfied_tenths().unwrap_or(0);
        let end = x_of(tenths);
        canvas.rect(
            left,
            y + 9,
            (end - left).max(0) as u32,
            bar_h as u32,
            colour(Level::VerySatisfied),
        );
        let value = lang.officer_value(tenths, g.counts.total());
        canvas.text(right + 16, text_y, LABEL_PT, false, &value, INK);
    }
    canvas.rect(
        left,
        rows_top - 6,
        3,
        (rows_bottom - rows_top + 12) as u32,
        INK,
    );
}

/// Where the officers' axis starts, in percent: 0, or a round ten below the lowest officer's
/// tỷ lệ (in tenths) with some room, so that close results still look different.
fn axis_start(lowest_tenths: u32) -> u32 {
    let lowest = lowest_tenths / 10;
    if lowest < 40 {
        0
    } else {
        (lowest.saturating_sub(3) / 10 * 10).min(90)
    }
}

/// A round step for about five grid lines up to `most`.
fn nice_step(most: u64) -> u64 {
    round_up_125((most / 5).max(1))
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `n`: a round number for a
/// chart's axis (this chart's steps, the server dashboard's trend).
pub fn round_up_125(n: u64) -> u64 {
    let n = n.max(1);
    let magnitude = 10u64.pow(n.ilog10());
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= n)
        .unwrap_or(10 * magnitude)
}

impl Canvas {
    fn font(&self, bold: bool) -> &FontRef<'static> {
        if bold { &self.bold } else { &self.regular }
    }

    /// The rasteriser's scale for text of `pt` points at 16 cm: ab_glyph scales by the
    /// font's height (ascent to descent), not by its em.
    fn scale(&self, pt: f32, bold: bool) -> PxScale {
        let font = self.font(bold);
        let em = pt * PX_PER_PT;
        PxScale::from(em * font.height_unscaled() / font.units_per_em().unwrap_or(2048.0))
    }

    fn width(&self, pt: f32, bold: bool, text: &str) -> f32 {
        let font = self.font(bold).as_scaled(self.scale(pt, bold));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// `text` cut with "…" to fit `max` pixels.
    fn fit(&self, text: &str, pt: f32, bold: bool, max: f32) -> String {
        if self.width(pt, bold, text) <= max {
            return text.to_owned();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let cut: String = chars.iter().collect::<String>() + "…";
            if self.width(pt, bold, &cut) <= max {
                return cut;
            }
        }
        String::new()
    }

    fn text_centred(
        &mut self,
        centre: i32,
        top: i32,
        pt: f32,
        bold: bool,
        text: &str,
        ink: Rgb<u8>,
    ) {
        let w = self.width(pt, bold, text) as i32;
        self.text(centre - w / 2, top, pt, bold, text, ink);
    }

    /// Draws `text` with its top at `top`, blending each glyph's coverage into the image.
    fn text(&mut self, left: i32, top: i32, pt: f32, bold: bool, text: &str, ink: Rgb<u8>) {
        let font = self.font(bold).clone();
        let scale = self.scale(pt, bold);
        let scaled = font.as_scaled(scale);
        let baseline = top as f32 + scaled.ascent();
        let mut x = left as f32;
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                x += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(x, baseline));
            x += scaled.h_advance(id);
            previous = Some(id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                let px = bounds.min.x as i32 + gx as i32;
                let py = bounds.min.y as i32 + gy as i32;
                self.blend(px, py, ink, coverage);
            });
        }
    }

    fn blend(&mut self, x: i32, y: i32, ink: Rgb<u8>, alpha: f32) {
        if x < 0 || y < 0 || x >= self.image.width() as i32 || y >= self.image.height() as i32 {
            return;
        }
        let pixel = self.image.get_pixel_mut(x as u32, y as u32);
        let a = alpha.clamp(0.0, 1.0);
        for (p, i) in pixel.0.iter_mut().zip(ink.0) {
            *p = (f32::from(*p) * (1.0 - a) + f32::from(i) * a).round() as u8;
        }
    }

    fn put(&mut self, x: i32, y: i32, colour: Rgb<u8>) {
        if x >= 0 && y >= 0 && x < self.image.width() as i32 && y < self.image.height() as i32 {
            self.image.put_pixel(x as u32, y as u32, colour);
        }
    }

    fn rect(&mut self, x: i32, y: i32, w: u32, h: u32, fill: Rgb<u8>) {
        let (width, height) = self.image.dimensions();
        for py in y.max(0)..(y + h as i32).min(height as i32) {
            for px in x.max(0)..(x + w as i32).min(width as i32) {
                self.image.put_pixel(px as u32, py as u32, fill);
            }
        }
    }

    /// A one-pixel outline.
    fn frame(&mut self, x: i32, y: i32, w: i32, h: i32, ink: Rgb<u8>) {
        self.rect(x, y, w as u32, 1, ink);
        self.rect(x, y + h - 1, w as u32, 1, ink);
        self.rect(x, y, 1, h as u32, ink);
        self.rect(x + w - 1, y, 1, h as u32, ink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(nice_step(7), 1);
        assert_eq!(nice_step(480), 100);
        assert_eq!(nice_step(1_000_000), 200_000);
        assert_eq!(month_label("2026-03"), "03/2026");
    }

    /// Issue 15: neighbouring levels print as greys at least 40 apart (of 255) on either
    /// scale, so a black-and-white copy still tells "Hài lòng" from "Không hài lòng".
    #[test]
    fn neighbouring_levels_stay_apart_in_grey() {
        use hailong_core::level::Scale;
        for scale in [Scale::Three, Scale::Five] {
            for pair in scale.levels().windows(2) {
                let (a, b) = (grey_of(print_rgb(pair[0])), grey_of(print_rgb(pair[1])));
                assert!(
                    (a - b).abs() >= 40.0,
                    "{:?} {a} and {:?} {b}",
                    pair[0],
                    pair[1]
                );
            }
        }
    }

    /// Officers at 88 % and 95 % are drawn on an axis that starts at 80 %, not 0 %.
    #[test]
    fn the_officers_axis_starts_where_close_results_look_different() {
        assert_eq!(axis_start(880), 80);
        assert_eq!(axis_start(919), 80);
        assert_eq!(axis_start(925), 80);
        assert_eq!(axis_start(935), 90);
        assert_eq!(axis_start(1000), 90);
        assert_eq!(axis_start(300), 0);
        assert_eq!(axis_start(650), 60);
    }
}
