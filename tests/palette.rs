//! One colour per level wherever levels are shown: the tablet's theme, the dashboard's
//! stylesheet and the PNG chart agree, so a filed chart looks like the screens.

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
