//! Text that came from outside (a request, a file) made safe to print: in a log line, a
//! terminal, or a spreadsheet cell, it can no longer forge a line, move the cursor, or run as
//! a formula.

use std::borrow::Cow;
use std::fmt;

/// Displays `text` with every control character (C0, DEL, C1: line breaks, escape sequences)
/// written as `\u{…}`, and a backslash doubled so that an escape can not be faked either.
/// Letters of every language, combining tone marks included, are shown as they are.
///
/// ```
/// use hailong_core::escape::Escaped;
/// assert_eq!(
///     Escaped("x\nINFO forged").to_string(),
///     "x\\u{a}INFO forged"
/// );
/// ```
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(|c: char| c.is_control() || c == '\\') {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            if c == '\\' {
                f.write_str("\\\\")?;
            } else {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

impl<'a> Escaped<'a> {
    /// At most the first 200 bytes of `text` (whole characters), escaped: enough to
    /// recognise a value in a log without letting one request write a megabyte there.
    pub fn clipped(text: &'a str) -> Escaped<'a> {
        const MAX: usize = 200;
        let mut end = text.len().min(MAX);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Escaped(&text[..end])
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The characters that make a spreadsheet read a cell as a formula (or, for tab and carriage
/// return, shift it): OWASP's list for CSV injection.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A CSV cell that a spreadsheet shows as text: one starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'`, the spreadsheet convention for "this is text".
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_backslashes_are_written_out_and_letters_kept() {
        let forged = "2026-01-01\r\n2026-11-29T10:00:00Z INFO forged: admin token hd_1\u{1b}[2J";
        let shown = Escaped(forged).to_string();
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(
            shown,
            "2026-01-01\\u{d}\\u{a}2026-11-29T10:00:00Z INFO forged: admin token hd_1\\u{1b}[2J"
        );
        assert_eq!(
            Escaped("a\\u{a}").to_string(),
            "a\\\\u{a}",
            "no fake escape"
        );
        assert_eq!(Escaped("\u{85}\u{7f}").to_string(), "\\u{85}\\u{7f}");
        // Decomposed Vietnamese (e + combining circumflex + combining acute) is left alone.
        let name = "Quầy 1 – Nguye\u{302}\u{301}n";
        assert_eq!(Escaped(name).to_string(), name);
        let long = "ắ".repeat(100);
        assert_eq!(Escaped::clipped(&long).to_string(), "ắ".repeat(66));
    }

    #[test]
    fn formula_cells_are_prefixed_and_plain_ones_kept() {
        for cell in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(cell), format!("'{cell}"));
        }
        for cell in ["", "Nguyễn Văn A", "1-2", "H24.32-260114-0007", "'quoted"] {
            assert!(matches!(csv_cell(cell), Cow::Borrowed(_)), "{cell}");
        }
    }
}
