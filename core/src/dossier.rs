//! Dossier codes (mã hồ sơ): `UNIT-yymmdd-seq`, typed on a keypad or scanned from a receipt.
//!
//! [`DossierCode::parse`] normalises (trim, NFC, upper-case, code out of a tracking URL) and
//! validates; [`DossierCode::warnings`] says what the officer should double-check.

use chrono::NaiveDate;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest raw input looked at (a tracking URL, which browsers keep under about 2,000
/// characters); anything longer is refused before any work.
pub const MAX_INPUT_CHARS: usize = 2048;
/// Longest code: a level-1-first unit of up to 35 characters, the date, and an 8-digit tail.
const MAX_CODE_CHARS: usize = 60;
/// Longest level-1-first unit identifier (Quyết định 20/2020/QĐ-TTg).
const MAX_UNIT_CHARS: usize = 35;

/// A validated, normalised dossier code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DossierCode {
    unit: String,
    date: NaiveDate,
    seq: String,
    standard_unit: bool,
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DossierCodeError {
    #[error("no dossier code was entered")]
    Empty,
    #[error("the code is too long to be a dossier code")]
    TooLong,
    #[error("the code has no sequence number after the date")]
    NoSequence,
    #[error("the code does not have the form UNIT-yymmdd-NNNN")]
    BadShape,
    #[error("the receipt date in the code is not a real date")]
    BadDate,
    #[error("the receipt date in the code is in the future")]
    FutureDate,
}

impl DossierCodeError {
    /// A stable code for the UI, which shows the words.
    pub fn code(self) -> &'static str {
        match self {
            DossierCodeError::Empty => "empty",
            DossierCodeError::TooLong => "too_long",
            DossierCodeError::NoSequence => "no_sequence",
            DossierCodeError::BadShape => "bad_shape",
            DossierCodeError::BadDate => "bad_date",
            DossierCodeError::FutureDate => "future_date",
        }
    }
}

/// Something about an accepted code the officer should see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DossierWarning {
    /// The unit part is of neither standard form (`000.00.00.X00`, `X00.000.00`).
    NonStandardUnit,
    /// The unit is not one of the codes the administrator configured for this office.
    ForeignUnit,
}

impl DossierWarning {
    pub fn code(self) -> &'static str {
        match self {
            DossierWarning::NonStandardUnit => "non_standard_unit",
            DossierWarning::ForeignUnit => "foreign_unit",
        }
    }
}

impl DossierCode {
    /// Normalises and validates `input`; `today` is the tablet's local date (no future receipts).
    pub fn parse(input: &str, today: NaiveDate) -> Result<DossierCode, DossierCodeError> {
        if input.chars().count() > MAX_INPUT_CHARS {
            return Err(DossierCodeError::TooLong);
        }
        let input = input.trim();
        // ASCII is already NFC, and its upper case is ASCII's: the usual code (typed, scanned,
        // or stored and sent again) skips the Unicode tables.
        let normalised = if input.is_ascii() {
            input.to_ascii_uppercase()
        } else {
            input.nfc().collect::<String>().to_uppercase()
        };
        let candidate = extract_from_url(&normalised).unwrap_or(&normalised);
        if candidate.is_empty() {
            return Err(DossierCodeError::Empty);
        }
        if candidate.chars().count() > MAX_CODE_CHARS {
            return Err(DossierCodeError::TooLong);
        }
        let parts: Vec<&str> = candidate.rsplitn(3, '-').collect();
        let (unit, date_part, seq) = match parts.as_slice() {
            [seq, date, unit] => (*unit, *date, *seq),
            [date, unit] if is_digits(date, 6) && is_unit(unit) => {
                return Err(DossierCodeError::NoSequence);
            }
            _ => return Err(DossierCodeError::BadShape),
        };
        if !is_unit(unit) || !is_digits(date_part, 6) {
            return Err(DossierCodeError::BadShape);
        }
        // 4 or 5 digits a day; 6 to 8 for centrally handled dossiers (Thông tư 04/2025/TT-VPCP:
        // two digits of the central system's owner, then a daily sequence of 4 or more).
        if !(4..=8).any(|n| is_digits(seq, n)) {
            return Err(if seq.is_empty() {
                DossierCodeError::NoSequence
            } else {
                DossierCodeError::BadShape
            });
        }
        let date = parse_yymmdd(date_part).ok_or(DossierCodeError::BadDate)?;
        if date > today {
            return Err(DossierCodeError::FutureDate);
        }
        Ok(DossierCode {
            unit: unit.to_owned(),
            date,
            seq: seq.to_owned(),
            standard_unit: is_standard_unit(unit),
        })
    }

    /// Rebuilds a code that was stored after [`parse`](Self::parse) (no date check against today).
    pub fn from_stored(stored: &str) -> Result<DossierCode, DossierCodeError> {
        DossierCode::parse(stored, NaiveDate::MAX)
    }

    /// A stored code as [`parse`](Self::parse) writes it (the [`to_string`](ToString) of
    /// [`from_stored`](Self::from_stored)), given back as it is when it is written so already:
    /// a code sent again is, almost always.
    pub fn normalise_stored(stored: String) -> Result<String, DossierCodeError> {
        let code = DossierCode::from_stored(&stored)?;
        Ok(if code.written_as(&stored) {
            stored
        } else {
            code.to_string()
        })
    }

    /// Whether `s` is this code as `to_string` writes it: `UNIT-yymmdd-seq`.
    fn written_as(&self, s: &str) -> bool {
        let Some(rest) = s.strip_prefix(self.unit.as_str()) else {
            return false;
        };
        let Some(rest) = rest.strip_suffix(self.seq.as_str()) else {
            return false;
        };
        // The date written back is these six digits: each date has one yymmdd.
        rest.len() == 8
            && rest.starts_with('-')
            && rest.ends_with('-')
            && rest
                .get(1..7)
                .filter(|date| is_digits(date, 6))
                .and_then(parse_yymmdd)
                == Some(self.date)
    }

    pub fn unit(&self) -> &str {
        &self.unit
    }

    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The tail after the date as a number (validated as 4 to 8 ASCII digits, so it fits).
    pub fn sequence(&self) -> u32 {
        self.seq.parse().unwrap_or_default()
    }

    /// What the officer should double-check; `office_units` are the configured unit codes.
    pub fn warnings(&self, office_units: &[String]) -> Vec<DossierWarning> {
        let mut warnings = Vec::new();
        if !self.standard_unit {
            warnings.push(DossierWarning::NonStandardUnit);
        }
        if !office_units.is_empty()
            && !office_units
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&self.unit))
        {
            warnings.push(DossierWarning::ForeignUnit);
        }
        warnings
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.unit,
            self.date.format("%y%m%d"),
            self.seq
        )
    }
}

/// Takes the code out of a tracking URL: a query value that looks like a code, else the last
/// path segment. Returns `None` for input that is not a URL.
fn extract_from_url(s: &str) -> Option<&str> {
    let rest = s
        .strip_prefix("HTTPS://")
        .or_else(|| s.strip_prefix("HTTP://"))?;
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let query = query.map(|q| q.split('#').next().unwrap_or_default());
    if let Some(value) = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|pair| pair.split_once('=').map(|(_, v)| v))
        .find(|v| v.matches('-').count() >= 2)
    {
        return Some(value);
    }
    // Drop the host, then take the last non-empty path segment.
    let path = path.split('#').next().unwrap_or_default();
    let path = path.split_once('/').map(|(_, p)| p).unwrap_or_default();
    Some(
        path.trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default(),
    )
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// A unit's identifier as given (e.g. to name a commune to its province): trimmed and in
/// upper case, if it is one of the forms a dossier code begins with.
pub fn unit_code(input: &str) -> Option<String> {
    let unit = input.trim().to_uppercase();
    (unit.len() <= 35 && is_unit(&unit)).then_some(unit)
}

/// Any unit part: upper-case letters, digits and dots, starting with a letter or digit.
fn is_unit(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.')
        && s.bytes().next().is_some_and(|b| b != b'.')
}

/// One of the two standard orders: the legacy `ddd.dd.dd.Xdd` (QCVN 102:2016, province code
/// last), or the level-1-first `Xdd.ddd.dd[.dd]` (Quyết định 20/2020/QĐ-TTg, re-issued after the
/// 2025 reorganisation), at most 35 characters.
fn is_standard_unit(s: &str) -> bool {
    let level_one =
        |g: &str| g.len() == 3 && g.as_bytes()[0].is_ascii_uppercase() && is_digits(&g[1..], 2);
    let groups: Vec<&str> = s.split('.').collect();
    match groups.as_slice() {
        [a, b, c, d] if is_digits(a, 3) => is_digits(b, 2) && is_digits(c, 2) && level_one(d),
        [first, second, third, lower @ ..] if level_one(first) => {
            s.len() <= MAX_UNIT_CHARS
                && is_digits(second, 3)
                && is_digits(third, 2)
                && lower.len() <= 1
                && lower.iter().all(|g| is_digits(g, 2) || is_digits(g, 3))
        }
        _ => false,
    }
}

fn parse_yymmdd(s: &str) -> Option<NaiveDate> {
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    NaiveDate::from_ymd_opt(2000 + n(0..2)? as i32, n(2..4)?, n(4..6)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn parse(s: &str) -> Result<DossierCode, DossierCodeError> {
        DossierCode::parse(s, today())
    }

    #[test]
    fn the_reference_code_gives_its_unit_date_and_sequence() {
        let code = parse("000.00.14.H56-200203-0118").unwrap();
        assert_eq!(code.unit(), "000.00.14.H56");
        assert_eq!(code.date(), NaiveDate::from_ymd_opt(2020, 2, 3).unwrap());
        assert_eq!(code.sequence(), 118);
        assert_eq!(code.warnings(&[]), vec![]);
        assert_eq!(code.to_string(), "000.00.14.H56-200203-0118");
    }

    #[test]
    fn valid_vectors_are_accepted_unchanged() {
        for s in [
            "000.17.22.H56-210531-0001",
            "000.00.01.H29-240115-0001",
            "000.00.20.H56-230309-00012",
        ] {
            let code = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(code.to_string(), s);
            assert!(code.warnings(&[]).is_empty());
        }
        assert_eq!(parse("000.00.20.H56-230309-00012").unwrap().sequence(), 12);
    }

    #[test]
    fn spaces_and_lower_case_are_normalised_to_the_same_code() {
        assert_eq!(
            parse("  000.00.14.h56-200203-0118 "),
            parse("000.00.14.H56-200203-0118")
        );
        // Not ASCII (a Vietnamese path, written decomposed): normalised the long way, to the
        // same code.
        assert_eq!(
            parse(
                "https://dichvucong.example.gov.vn/ho\u{302}\u{300}-so\u{31b}/000.00.14.h56-200203-0118"
            ),
            parse("000.00.14.H56-200203-0118")
        );
    }

    #[test]
    fn a_tracking_url_gives_the_code_in_its_query_or_last_segment() {
        let first = parse("000.00.14.H56-200203-0118").unwrap();
        assert_eq!(
            parse(
                "https://dichvucong.example.gov.vn/tra-cuu-ho-so?mahoso=000.00.14.H56-200203-0118"
            ),
            Ok(first)
        );
        assert_eq!(
            parse("https://dichvucong.example.gov.vn/ho-so/000.17.22.H56-210531-0001")
                .unwrap()
                .to_string(),
            "000.17.22.H56-210531-0001"
        );
    }

    #[test]
    fn level_one_first_units_and_centralised_tails_are_standard() {
        for (input, unit, seq) in [
            ("H56.123.45-261120-0001", "H56.123.45", 1),
            ("H56.123.45.06-261120-0001", "H56.123.45.06", 1),
            ("H56.123.45-261120-010001", "H56.123.45", 10_001),
            ("h56.123.45-261120-12345678", "H56.123.45", 12_345_678),
        ] {
            let code = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(code.unit(), unit, "{input}");
            assert_eq!(code.sequence(), seq, "{input}");
            assert!(
                code.warnings(&[]).is_empty(),
                "{input}: no warning about its form"
            );
            assert_eq!(code.to_string(), input.to_uppercase());
        }
        assert_eq!(
            parse("H56.123.45-261120-0123456789"),
            Err(DossierCodeError::BadShape),
            "a sequence of more than 8 digits"
        );
    }

    #[test]
    fn an_office_with_an_old_and_a_new_identifier_owns_both() {
        let office = vec!["000.17.22.H56".to_owned(), "H56.123.45".to_owned()];
        for input in ["000.17.22.H56-210531-0001", "H56.123.45-261120-0001"] {
            assert!(
                parse(input).unwrap().warnings(&office).is_empty(),
                "{input}"
            );
        }
        let other = parse("H29.001.02-261120-0001").unwrap();
        assert_eq!(
            other.warnings(&["H56.123.45".to_owned()]),
            vec![DossierWarning::ForeignUnit]
        );
    }

    #[test]
    fn a_short_unit_part_is_accepted_with_a_warning() {
        let code = parse("38.98.H29-210519-0013").unwrap();
        assert_eq!(code.warnings(&[]), vec![DossierWarning::NonStandardUnit]);
    }

    #[test]
    fn a_unit_outside_the_configured_office_codes_is_flagged() {
        let code = parse("000.17.22.H56-210531-0001").unwrap();
        let office = vec!["000.00.14.H56".to_owned()];
        assert_eq!(code.warnings(&office), vec![DossierWarning::ForeignUnit]);
        assert!(code.warnings(&["000.17.22.h56".to_owned()]).is_empty());
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(
            parse("000.00.14.H56-201303-0118"),
            Err(DossierCodeError::BadDate)
        );
        assert_eq!(
            parse("000.00.14.H56-200230-0001"),
            Err(DossierCodeError::BadDate)
        );
    }

    #[test]
    fn a_receipt_date_in_the_future_is_refused() {
        assert_eq!(
            parse("000.00.14.H56-991231-0001"),
            Err(DossierCodeError::FutureDate)
        );
        // Today is allowed.
        assert!(parse("000.00.14.H56-261123-0001").is_ok());
        assert_eq!(
            parse("000.00.14.H56-261124-0001"),
            Err(DossierCodeError::FutureDate)
        );
    }

    #[test]
    fn a_code_without_sequence_says_so() {
        assert_eq!(
            parse("000.00.14.H56-200203"),
            Err(DossierCodeError::NoSequence)
        );
        assert_eq!(
            parse("000.00.14.H56-200203-"),
            Err(DossierCodeError::NoSequence)
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(parse(""), Err(DossierCodeError::Empty));
        assert_eq!(parse("   "), Err(DossierCodeError::Empty));
        assert_eq!(parse("ABC"), Err(DossierCodeError::BadShape));
        assert_eq!(
            parse("'; DROP TABLE ratings;--"),
            Err(DossierCodeError::BadShape)
        );
        assert_eq!(
            parse("000.00.14.H56-200203-118"),
            Err(DossierCodeError::BadShape)
        );
        assert_eq!(
            parse("000.00.14.H56-200203-0118-7"),
            Err(DossierCodeError::BadShape)
        );
        assert_eq!(
            parse("https://example.gov.vn/"),
            Err(DossierCodeError::Empty)
        );
    }

    #[test]
    fn very_long_input_is_refused_as_too_long() {
        assert_eq!(parse(&"1".repeat(300)), Err(DossierCodeError::TooLong));
        assert_eq!(parse(&"1".repeat(2100)), Err(DossierCodeError::TooLong));
        assert_eq!(parse(&"1".repeat(100_000)), Err(DossierCodeError::TooLong));
    }

    #[test]
    fn a_stored_code_parses_back_whatever_the_date() {
        let code = parse("000.00.14.H56-200203-0118").unwrap();
        assert_eq!(DossierCode::from_stored(&code.to_string()), Ok(code));
    }

    #[test]
    fn a_stored_code_is_normalised_as_parsing_writes_it_and_kept_when_it_is_so() {
        for stored in [
            "000.00.14.H56-200203-0118",
            "H56.22.17-261123-00042",
            " 000.00.14.h56-200203-0118 ",
            "https://dichvucong.gov.vn/tra-cuu?ma=000.00.14.H56-200203-0118",
            "000.00.14.H56-200203-01180",
        ] {
            let written = DossierCode::from_stored(stored).unwrap().to_string();
            assert_eq!(
                DossierCode::normalise_stored(stored.to_owned()).unwrap(),
                written,
                "{stored}"
            );
        }
        for bad in [
            "000.00.14.H56-200230-0118",
            "000.00.14.H56-2002030-118",
            "000.00.14.H56-ạạ-0118",
            "",
        ] {
            assert!(
                DossierCode::normalise_stored(bad.to_owned()).is_err(),
                "{bad}"
            );
        }
        // Already written so: the same allocation comes back.
        let stored = String::from("000.00.14.H56-200203-0118");
        let at = stored.as_ptr();
        let kept = DossierCode::normalise_stored(stored).unwrap();
        assert_eq!(kept.as_ptr(), at);
    }
}
