//! The overview's trend: twelve months as stacked bars of counted ratings per level, with the
//! satisfaction rate as a line; inline SVG, drawn on the server, no script.

use hailong_core::level::{Level, Scale};
use hailong_core::summary::Counts;
use hailong_report::{Lang, round_up_125};
use maud::{Markup, html};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// The class that gives a level its colour (the stylesheet's `--lv`, as on the tablet):
/// classes, not inline styles, which the pages' content security policy refuses.
pub fn level_class(level: Level) -> String {
    format!("lv-{}", level.code())
}

/// `months` holds each month's code (`2026-03`) and counts, oldest first.
pub fn chart(months: &[(String, Counts)], scale: Scale, lang: Lang) -> Markup {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
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
                let x = LEFT + slot * (i as f64 + 0.5);
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
        svg class="trend" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img"
            aria-label=(lang.words().chart_months) {
            @for step in 0..=4u64 {
                @let n = top * step / 4;
                @let y = y_of(n);
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y) y2=(y) class="grid" {}
                text x=(LEFT - 8.0) y=(y + 4.0) class="axis" text-anchor="end" { (lang.count(n)) }
                text x=(WIDTH - RIGHT + 8.0) y=(y + 4.0) class="axis pct" { (step * 25) "%" }
            }
            @for (i, (month, counts)) in months.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                g {
                    title { (label(month)) ": " (lang.count(counts.total())) }
                    @for (level, y, h) in segments(counts) {
                        rect x=(format!("{x:.1}")) width=(format!("{bar_w:.1}"))
                            y=(format!("{y:.1}")) height=(format!("{h:.1}"))
                            class=(level_class(level)) {}
                    }
                }
                text x=(format!("{:.1}", LEFT + slot * (i as f64 + 0.5))) y=(HEIGHT - BOTTOM + 20.0)
                    class="axis" text-anchor="middle" { (label(month)) }
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
    fn the_axis_ends_on_a_round_number_and_every_month_is_labelled() {
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
        assert!(svg.contains(">10/26<") && svg.contains(">11/26<"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 4, "two levels in two months");
        assert!(svg.contains("<polyline"));
    }
}
