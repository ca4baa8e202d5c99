//! Colours: one per level wherever levels are shown (the tablet's theme, the dashboard's
//! stylesheet and the PNG chart agree, so a filed chart looks like the screens), and every text
//! colour of the tablet's theme readable on each background it is drawn on (WCAG 2.2).

use hailong_core::level::{Level, Scale};
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn the_tablet_the_dashboard_and_the_chart_colour_each_level_alike() {
    let theme = read("ui/theme.slint");
    let body = theme
        .split("function level-color(code: string) -> color {")
        .nth(1)
        .and_then(|rest| rest.split("\n    }").next())
        .expect("Theme.level-color in ui/theme.slint");
    let css = read("server/src/web/style.css");
    for &level in Scale::Five.levels() {
        let [r, g, b] = hailong_report::level_rgb(level);
        let colour = format!("#{r:02x}{g:02x}{b:02x}");
        let code = level.code();
        let in_css = format!(".lv-{code} {{ --lv: {colour}; }}");
        assert!(css.contains(&in_css), "style.css: {in_css}");
        // The theme's last level is its fallback, returned without a test.
        let in_theme = if level == Level::VeryUnsatisfied {
            format!("\n        return {colour};")
        } else {
            format!("if code == \"{code}\" {{ return {colour}; }}")
        };
        assert!(
            body.contains(&in_theme),
            "theme.slint: {in_theme} in {body}"
        );
    }
}

/// WCAG 2.2 relative luminance of an sRGB colour.
fn luminance(c: slint::Color) -> f64 {
    let channel = |v: u8| {
        let v = f64::from(v) / 255.;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())
}

fn contrast(a: slint::Color, b: slint::Color) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn contrast_is_computed_as_wcag_defines_it() {
    let black = slint::Color::from_rgb_u8(0, 0, 0);
    let white = slint::Color::from_rgb_u8(255, 255, 255);
    assert!((contrast(black, white) - 21.).abs() < 1e-9);
    assert!((contrast(white, white) - 1.).abs() < 1e-9);
    // #777 on white is the classic just-failing grey.
    let grey = slint::Color::from_rgb_u8(0x77, 0x77, 0x77);
    assert!((contrast(grey, white) - 4.48).abs() < 0.01);
}

#[test]
fn every_text_colour_of_the_theme_meets_wcag_aa_on_its_backgrounds() {
    use hailong::ui::{AppWindow, Theme};
    use slint::{ComponentHandle, Model};
    crate::support::init_backend();
    let window = AppWindow::new().unwrap();
    let pairs = window.global::<Theme>().get_text_pairs();
    assert!(pairs.row_count() >= 20, "the theme lists its pairs");
    let failing = |least: f64| -> Vec<String> {
        let pairs = window.global::<Theme>().get_text_pairs();
        pairs
            .iter()
            .map(|p| (p.name.to_string(), contrast(p.ink, p.paper)))
            .filter(|(_, ratio)| *ratio < least)
            .map(|(name, ratio)| format!("{name}: {ratio:.2}:1"))
            .collect()
    };
    assert!(failing(4.5).is_empty(), "below 4.5:1: {:#?}", failing(4.5));
    // Large text and high contrast: WCAG AAA.
    window.global::<Theme>().set_strong(true);
    assert!(failing(7.).is_empty(), "below 7:1: {:#?}", failing(7.));
    assert!(window.global::<Theme>().get_text_scale() >= 1.2);
}

#[test]
fn no_text_in_the_screens_is_set_under_18_px() {
    let mut small = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let Some(rest) = line.split("font-size:").nth(1) else {
                    continue;
                };
                // Literal sizes, and the theme's sizes made smaller.
                let literal = rest
                    .trim_start()
                    .split("px")
                    .next()
                    .and_then(|v| v.trim().trim_start_matches('(').parse::<f32>().ok());
                if literal.is_some_and(|px| px < 18.) || rest.contains("small-size -") {
                    small.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(small.is_empty(), "{small:#?}");
}
