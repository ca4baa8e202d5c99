//! The overview's trend: twelve months as stacked bars of counted ratings per level, with the
//! satisfaction rate as a line; inline SVG, drawn on the server, no script. It is drawn twice,
//! for a wide screen and for a phone (the stylesheet shows one): a picture 960 units wide
//! shrunk onto a 390 px screen would have labels 5 px tall.

use hailong_core::level::{Level, Scale};
use hailong_core::summary::Counts;
use hailong_report::{Lang, round_up_125};
use maud::{Markup, html};

/// The two drawings: their width in SVG units, the size of their labels, and how many months
/// each month label stands for.
#[derive(Debug, Clone, Copy)]
struct Shape {
    class: &'static str,
    width: f64,
    height: f64,
    label: f64,
    label_every: usize,
}

const WIDE: Shape = Shape {
    class: "trend wide",
    width: 960.0,
    height: 300.0,
    label: 13.0,
    label_every: 1,
};

/// Drawn about 350 px wide on a phone: labels of 15 units show at 14 px.
const NARROW: Shape = Shape {
    class: "trend narrow",
    width: 380.0,
    height: 260.0,
    label: 15.0,
    label_every: 2,
};

const TOP: f64 = 16.0;

/// The class that gives a level its colour (the stylesheet's `--lv`, as on the tablet):
/// classes, not inline styles, which the pages' content security policy refuses.
pub fn level_class(level: Level) -> String {
    format!("lv-{}", level.code())
}

/// `months` holds each month's code (`2026-03`) and counts, oldest first: the chart for a wide
/// screen and the one for a phone.
pub fn chart(months: &[(String, Counts)], scale: Scale, lang: Lang) -> Markup {
    html! {
        (drawing(months, scale, lang, WIDE))
        (drawing(months, scale, lang, NARROW))
    }
}

fn drawing(months: &[(String, Counts)], scale: Scale, lang: Lang, shape: Shape) -> Markup {
    let Shape {
        class,
        width,
        height,
        label: size,
        label_every,
    } = shape;
    // Room for the axis labels: about three characters and a half of the label size.
    let (left, right, bottom) = (size * 3.6, size * 3.4, size * 2.6);
    let plot_w = width - left - right;
    let plot_h = height - TOP - bottom;
    let top = round_up_125(months.iter().map(|(_, c)| c.total()).max().unwrap_or(0));
    let slot = plot_w / months.len().max(1) as f64;
    let bar_w = (slot * 0.62).min(48.0);
    let y_of = |n: u64| TOP + plot_h - plot_h * n as f64 / top as f64;
    let pct_y = |tenths: u32| TOP + plot_h - plot_h * f64::from(tenths) / 1000.0;
    // The satisfaction line's points: months with ratings only.
    let line: Vec<(String, String)> = months
        .iter()
        .enumerate()
        .filter_map(|(i, (_, c))| {
            c.satisfied_tenths().map(|t| {
                let x = left + slot * (i as f64 + 0.5);
                (format!("{x:.1}"), format!("{:.1}", pct_y(t)))
            })
        })
        .collect();
    let polyline: Vec<String> = line.iter().map(|(x, y)| format!("{x},{y}")).collect();
    // Very satisfied at the bottom of each bar, the least satisfied on top.
    let segments = |counts: &Counts| -> Vec<(Level, f64, f64)> {
        let mut below = 0;
        scale
            .levels()
            .iter()
            .filter_map(|&level| {
                let n = counts.count(level);
                (n > 0).then(|| {
                    let segment = (level, y_of(below + n), y_of(below) - y_of(below + n));
                    below += n;
                    segment
                })
            })
            .collect()
    };
    let label = |month: &str| match (month.get(5..7), month.get(2..4)) {
        (Some(m), Some(y)) => format!("{m}/{y}"),
        _ => month.to_owned(),
    };
    html! {
        svg class=(class) viewBox=(format!("0 0 {width} {height}")) role="img"
            aria-label=(lang.words().chart_months) font-size=(size) {
            @for step in 0..=4u64 {
                @let n = top * step / 4;
                @let y = y_of(n);
                line x1=(left) x2=(width - right) y1=(y) y2=(y) class="grid" {}
                text x=(left - 6.0) y=(y + size * 0.35) class="axis" text-anchor="end" { (lang.count(n)) }
                text x=(width - right + 6.0) y=(y + size * 0.35) class="axis pct" { (step * 25) "%" }
            }
            @for (i, (month, counts)) in months.iter().enumerate() {
                @let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
                g {
                    title { (label(month)) ": " (lang.count(counts.total())) }
                    @for (level, y, h) in segments(counts) {
                        rect x=(format!("{x:.1}")) width=(format!("{bar_w:.1}"))
                            y=(format!("{y:.1}")) height=(format!("{h:.1}"))
                            class=(level_class(level)) {}
                    }
                }
                @if i % label_every == 0 {
                    text x=(format!("{:.1}", left + slot * (i as f64 + 0.5))) y=(height - bottom + size * 1.5)
                        class="axis" text-anchor="middle" { (label(month)) }
                }
            }
            @if line.len() > 1 {
                polyline points=(polyline.join(" ")) class="rate" {}
            }
            @for (x, y) in &line {
                circle cx=(x) cy=(y) r="4" class="rate-dot" {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_ends_on_a_round_number_and_the_months_are_labelled_on_any_screen() {
        assert_eq!(round_up_125(0), 1);
        assert_eq!(round_up_125(7), 10);
        assert_eq!(round_up_125(1234), 2000);
        assert_eq!(round_up_125(5000), 5000);
        let mut counts = Counts::default();
        counts.add(Level::VerySatisfied, 30);
        counts.add(Level::Unsatisfied, 10);
        let months = vec![
            ("2026-10".to_owned(), counts.clone()),
            ("2026-11".to_owned(), counts),
        ];
        let svg = chart(&months, Scale::Three, Lang::Vi).into_string();
        // Two drawings: every month under its bar on a wide screen, every other on a phone.
        assert_eq!(svg.matches(">10/26<").count(), 2, "{svg}");
        assert_eq!(svg.matches(">11/26<").count(), 1, "{svg}");
        assert_eq!(
            svg.matches("<rect").count(),
            8,
            "two levels in two months, twice"
        );
        assert!(svg.contains("class=\"trend narrow\"") && svg.contains("font-size=\"15\""));
        assert!(svg.contains("<polyline"));
    }
}
