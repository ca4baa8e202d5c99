//! The PNG chart: levels per month as stacked bars, and tỷ lệ hài lòng per officer, with
//! Vietnamese labels drawn by a real font rasteriser (ab_glyph, DejaVu Sans).

use crate::words::{Lang, month_label};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use hailong_core::level::Level;
use hailong_core::report::Report;
use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgb, RgbImage};
use std::io::Write;

const WIDTH: u32 = 1600;
/// Height of the months panel and everything above it.
const TOP_HEIGHT: u32 = 680;
/// Height of one officer's bar.
const OFFICER_ROW: u32 = 48;
/// Officers shown, most ratings first.
const MAX_OFFICERS: usize = 15;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([33, 37, 41]);
const GREY: Rgb<u8> = Rgb([120, 124, 128]);
const GRID: Rgb<u8> = Rgb([225, 228, 232]);

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

fn colour(level: Level) -> Rgb<u8> {
    Rgb(level_rgb(level))
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

fn draw(report: &Report, lang: Lang) -> RgbImage {
    let fonts = (
        FontRef::try_from_slice(REGULAR),
        FontRef::try_from_slice(BOLD),
    );
    let (Ok(regular), Ok(bold)) = fonts else {
        unreachable!("the embedded fonts are valid TrueType files")
    };
    let officers = report
        .by_officer
        .iter()
        .filter(|g| g.counts.total() > 0)
        .count();
    let height = TOP_HEIGHT + 50 + OFFICER_ROW * officers.clamp(1, MAX_OFFICERS) as u32 + 30;
    let mut canvas = Canvas {
        image: RgbImage::from_pixel(WIDTH, height, WHITE),
        regular,
        bold,
    };
    let words = lang.words();
    let heading = &report.heading;
    canvas.text_centred(WIDTH / 2, 24, 30.0, true, words.title, INK);
    let subtitle = format!("{} · {}", heading.unit, lang.period(&heading.period));
    canvas.text_centred(WIDTH / 2, 66, 24.0, false, &subtitle, GREY);
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
    canvas.text_centred(WIDTH / 2, 100, 22.0, false, &summary, INK);
    months_panel(&mut canvas, report, lang, 150, TOP_HEIGHT - 40);
    officers_panel(&mut canvas, report, lang, TOP_HEIGHT, height - 30);
    canvas.image
}

/// Stacked bars: one per month, a segment per level, with a legend.
fn months_panel(canvas: &mut Canvas, report: &Report, lang: Lang, top: u32, bottom: u32) {
    let words = lang.words();
    canvas.text(60, top, 24.0, true, words.chart_months, INK);
    let levels = report.scale.levels();
    // Legend, right-aligned on the title's line.
    let mut x = WIDTH as i32 - 40;
    for &level in levels.iter().rev() {
        let label = lang.level(level);
        let w = canvas.width(20.0, false, label) as i32;
        x -= w;
        canvas.text(x, top + 2, 20.0, false, label, INK);
        x -= 30;
        canvas.rect(x, top as i32 + 4, 20, 20, colour(level));
        x -= 24;
    }
    let (left, right) = (130i32, WIDTH as i32 - 40);
    let (plot_top, plot_bottom) = (top as i32 + 60, bottom as i32 - 50);
    let months = &report.by_month;
    let most = months.iter().map(|g| g.counts.total()).max().unwrap_or(0);
    if most == 0 {
        canvas.text_centred(
            WIDTH / 2,
            (plot_top + plot_bottom) as u32 / 2,
            24.0,
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
        canvas.rect(left, y, (right - left) as u32, 1, GRID);
        let label = lang.count(tick);
        let w = canvas.width(18.0, false, &label) as i32;
        canvas.text(
            left - 12 - w,
            (y - 11).max(0) as u32,
            18.0,
            false,
            &label,
            GREY,
        );
        tick += step;
    }
    let slot = (right - left) / months.len() as i32;
    let bar = (slot * 2 / 3).clamp(4, 90);
    for (i, month) in months.iter().enumerate() {
        let x = left + slot * i as i32 + (slot - bar) / 2;
        let mut below = 0u64;
        for &level in levels {
            let n = month.counts.count(level);
            if n == 0 {
                continue;
            }
            let (y0, y1) = (y_of(below + n), y_of(below));
            canvas.rect(x, y0, bar as u32, (y1 - y0).max(1) as u32, colour(level));
            below += n;
        }
        // Label every month while they fit, else every few.
        let every = (months.len() as i32 * 80 / (right - left)).max(0) as usize + 1;
        if i % every == 0 {
            let label = month_label(month.key.as_deref().unwrap_or(""));
            let w = canvas.width(18.0, false, &label) as i32;
            canvas.text(
                x + bar / 2 - w / 2,
                (plot_bottom + 10) as u32,
                18.0,
                false,
                &label,
                INK,
            );
        }
    }
    canvas.rect(left, plot_bottom, (right - left) as u32, 2, INK);
}

/// Horizontal bars: tỷ lệ hài lòng of each officer, most ratings first.
fn officers_panel(canvas: &mut Canvas, report: &Report, lang: Lang, top: u32, bottom: u32) {
    let words = lang.words();
    canvas.text(60, top, 24.0, true, words.chart_officers, INK);
    let officers: Vec<_> = report
        .by_officer
        .iter()
        .filter(|g| g.counts.total() > 0)
        .take(MAX_OFFICERS)
        .collect();
    if officers.is_empty() {
        canvas.text_centred(
            WIDTH / 2,
            (top + bottom) / 2,
            24.0,
            false,
            words.no_ratings,
            GREY,
        );
        return;
    }
    let (left, right) = (420i32, WIDTH as i32 - 140);
    let rows_top = top as i32 + 50;
    let row = ((bottom as i32 - rows_top) / officers.len() as i32).min(OFFICER_ROW as i32);
    for (i, g) in officers.iter().enumerate() {
        let y = rows_top + row * i as i32;
        let name = g
            .label
            .as_deref()
            .or(g.key.as_deref())
            .unwrap_or(lang.no_key("by_officer"));
        let name = fit(canvas, name, (left - 80) as f32);
        let w = canvas.width(20.0, false, &name) as i32;
        canvas.text(
            left - 14 - w,
            (y + row / 2 - 13) as u32,
            20.0,
            false,
            &name,
            INK,
        );
        canvas.rect(
            left,
            y + 4,
            (right - left) as u32,
            (row - 8).max(4) as u32,
            GRID,
        );
        let tenths = g.counts.satisfied_tenths().unwrap_or(0);
        let length = (right - left) * tenths as i32 / 1000;
        canvas.rect(
            left,
            y + 4,
            length.max(0) as u32,
            (row - 8).max(4) as u32,
            colour(Level::VerySatisfied),
        );
        let value = format!("{} ({})", lang.tenths(tenths), lang.count(g.counts.total()));
        canvas.text(
            right + 10,
            (y + row / 2 - 13) as u32,
            20.0,
            false,
            &value,
            INK,
        );
    }
}

/// A name cut with "…" to fit `max` pixels.
fn fit(canvas: &Canvas, name: &str, max: f32) -> String {
    if canvas.width(20.0, false, name) <= max {
        return name.to_owned();
    }
    let mut chars: Vec<char> = name.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().collect::<String>() + "…";
        if canvas.width(20.0, false, &cut) <= max {
            return cut;
        }
    }
    String::new()
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

    fn width(&self, size: f32, bold: bool, text: &str) -> f32 {
        let font = self.font(bold).as_scaled(PxScale::from(size));
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

    fn text_centred(
        &mut self,
        centre: u32,
        top: u32,
        size: f32,
        bold: bool,
        text: &str,
        ink: Rgb<u8>,
    ) {
        let w = self.width(size, bold, text) as i32;
        self.text(centre as i32 - w / 2, top, size, bold, text, ink);
    }

    /// Draws `text` with its top at `top`, blending each glyph's coverage into the image.
    fn text(&mut self, left: i32, top: u32, size: f32, bold: bool, text: &str, ink: Rgb<u8>) {
        let font = self.font(bold).clone();
        let scaled = font.as_scaled(PxScale::from(size));
        let baseline = top as f32 + scaled.ascent();
        let mut x = left as f32;
        let mut previous = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = previous {
                x += scaled.kern(p, id);
            }
            let glyph =
                id.with_scale_and_position(PxScale::from(size), ab_glyph::point(x, baseline));
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

    fn rect(&mut self, x: i32, y: i32, w: u32, h: u32, fill: Rgb<u8>) {
        let (width, height) = self.image.dimensions();
        for py in y.max(0)..(y + h as i32).min(height as i32) {
            for px in x.max(0)..(x + w as i32).min(width as i32) {
                self.image.put_pixel(px as u32, py as u32, fill);
            }
        }
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
}
