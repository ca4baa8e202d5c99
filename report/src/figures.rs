//! The rows every printed report shows, in the order it shows them, so the XLSX and the PDF
//! can never differ: the summary's lines (ratings, each level, tỷ lệ hài lòng, dossiers…), a
//! group's name, a negative rating's procedure and time.

use crate::words::Lang;
use hailong_core::report::{Group, Heading, Negative, Report};

/// One line of the summary table.
pub struct SummaryRow {
    pub label: String,
    pub count: u64,
    /// Its share, in tenths of a percent, where it has one.
    pub share: Option<u32>,
    /// The lines a reader looks for first: the ratings and tỷ lệ hài lòng.
    pub bold: bool,
}

/// The summary's lines: ratings, each level with its share, tỷ lệ hài lòng, dossiers offered,
/// rated (with the response rate) and not rated, and what was not counted.
pub fn summary_rows(report: &Report, lang: Lang) -> Vec<SummaryRow> {
    let words = lang.words();
    let c = &report.counts;
    let row = |label: &str, count: u64, share: Option<u32>, bold: bool| SummaryRow {
        label: label.to_owned(),
        count,
        share,
        bold,
    };
    let shares = c.shares_tenths(report.scale).unwrap_or_default();
    let mut rows = vec![row(words.ratings, c.total(), None, true)];
    for &level in report.scale.levels() {
        let share = shares.iter().find(|(l, _)| *l == level).map(|(_, t)| *t);
        rows.push(row(lang.level(level), c.count(level), share, false));
    }
    rows.extend([
        row(
            words.satisfied_pct,
            c.satisfied(),
            c.satisfied_tenths(),
            true,
        ),
        row(words.armed, report.rated_dossiers + c.unrated, None, false),
        row(
            words.rated_dossiers,
            report.rated_dossiers,
            report.response_tenths(),
            false,
        ),
        row(words.unrated, c.unrated, None, false),
        row(words.repeat, c.repeat_dossier, None, false),
        row(words.misuse, c.misuse, None, false),
    ]);
    rows
}

/// A group's name as reports write it: its label, else its key, else what a breakdown calls
/// the row without a key ("Không gắn hồ sơ, thủ tục").
pub fn group_label(group: &Group, no_key: &str) -> String {
    group
        .label
        .as_deref()
        .or(group.key.as_deref())
        .unwrap_or(no_key)
        .to_owned()
}

/// A negative rating's procedure: "1.001193 - Đăng ký khai sinh", or whichever half it has.
pub fn procedure_of(negative: &Negative) -> String {
    match (&negative.procedure_code, &negative.procedure_name) {
        (Some(code), Some(name)) => format!("{code} - {name}"),
        (code, name) => name.clone().or_else(|| code.clone()).unwrap_or_default(),
    }
}

/// An RFC 3339 time as reports print it, at the clock time where the rating was made:
/// `02/03/2026 08:05`; the text itself if it is not a time.
pub fn local_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| t.naive_local().format("%d/%m/%Y %H:%M").to_string(),
    )
}

/// The body above the unit, in capitals as the heading prints it, if the office set one.
pub fn superior(heading: &Heading) -> Option<String> {
    heading
        .letterhead
        .superior
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_uppercase)
}

/// The titles of those who sign, in capitals: the office's own, else "NGƯỜI LẬP BIỂU" and
/// "THỦ TRƯỞNG ĐƠN VỊ".
pub fn signers(heading: &Heading, lang: Lang) -> Vec<String> {
    let set: Vec<String> = heading
        .letterhead
        .signers
        .iter()
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    if set.is_empty() {
        lang.words()
            .signers
            .iter()
            .map(|t| (*t).to_owned())
            .collect()
    } else {
        set
    }
}

/// The day the report was made, for the place and date line.
pub fn made_on(heading: &Heading) -> chrono::NaiveDate {
    chrono::DateTime::parse_from_rfc3339(&heading.made_at)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_at_the_clock_time_of_the_tap() {
        assert_eq!(local_time("2026-03-02T08:05:59+07:00"), "02/03/2026 08:05");
        assert_eq!(local_time("not a time"), "not a time");
    }
}
