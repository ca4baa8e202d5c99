//! A pairing invitation (`hailong:pair?server=…&code=…&ca=…`) as a QR code to scan at the
//! counter: drawn in half blocks for the terminal `pair` runs in, and as SVG for the
//! dashboard. Both leave the quiet zone a scanner needs around the code.

use maud::{Markup, html};
use qrcode::{Color, EcLevel, QrCode};

/// Modules of light margin on each side.
const QUIET: usize = 4;

/// The invitation's modules, dark as `true`, with the quiet zone around them.
fn modules(text: &str) -> Result<Vec<Vec<bool>>, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text, EcLevel::M)?;
    let width = code.width();
    let side = width + 2 * QUIET;
    Ok((0..side)
        .map(|y| {
            (0..side)
                .map(|x| {
                    let inside =
                        (QUIET..QUIET + width).contains(&x) && (QUIET..QUIET + width).contains(&y);
                    inside && code[(x - QUIET, y - QUIET)] == Color::Dark
                })
                .collect()
        })
        .collect())
}

/// Two rows of modules to a line in half blocks, drawn light on a dark screen (a console's or
/// ssh's usual colours).
pub fn terminal(text: &str) -> Result<String, qrcode::types::QrError> {
    let rows = modules(text)?;
    let mut out = String::new();
    for pair in rows.chunks(2) {
        let below = pair.get(1);
        for (x, &top) in pair[0].iter().enumerate() {
            let bottom = below.is_some_and(|row| row[x]);
            out.push(match (top, bottom) {
                (false, false) => '█',
                (false, true) => '▀',
                (true, false) => '▄',
                (true, true) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// An SVG image, one path of unit squares on white, sharp at any size; `label` is what a
/// screen reader says for it. Drawn with maud, as the dashboard's trend is, so the label is
/// escaped as any text of the page.
pub fn svg(text: &str, label: &str) -> Result<Markup, qrcode::types::QrError> {
    let rows = modules(text)?;
    let side = rows.len();
    let mut path = String::new();
    for (y, row) in rows.iter().enumerate() {
        for (x, &dark) in row.iter().enumerate() {
            if dark {
                path.push_str(&format!("M{x} {y}h1v1h-1z"));
            }
        }
    }
    Ok(html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {side} {side}"))
            shape-rendering="crispEdges" role="img" aria-label=(label) {
            rect width=(side) height=(side) fill="#fff" {}
            path fill="#000" d=(path) {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_and_the_svg_draw_the_same_modules() {
        let text = "hailong:pair?server=https://192.168.1.10:8443&code=7KQ4MXP2WD";
        let rows = modules(text).unwrap();
        let side = rows.len();
        assert!(
            rows[..QUIET].iter().all(|r| r.iter().all(|&d| !d)),
            "quiet zone"
        );
        let drawn = terminal(text).unwrap();
        let lines: Vec<&str> = drawn.lines().collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == side));
        let svg = svg(text, "a <b>").unwrap().into_string();
        let dark = rows.iter().flatten().filter(|&&d| d).count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        assert!(svg.contains("aria-label=\"a &lt;b&gt;\""), "{svg}");
    }
}
