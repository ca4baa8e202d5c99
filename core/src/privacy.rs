//! Personal numbers kept out of comments: a citizen who writes a phone number or a citizen-ID
//! number into the free-text comment does not have it stored (nor sent, nor printed).

/// Fewest and most digits in a run that looks like a phone number (10, or 9 without the leading
/// 0, 11–12 with +84) or a citizen-ID number (12).
const MASKED_DIGITS: std::ops::RangeInclusive<usize> = 9..=12;
/// What replaces each digit of a masked run.
pub const MASK: char = '•';

/// `text` with every run of 9 to 12 digits masked digit by digit. A run may be written in
/// groups joined by single spaces or dots ("0912 345 678", "0912.345.678"); a dash ends a run,
/// so a dossier code's date and sequence are left alone.
pub fn mask_personal_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, with single spaces or dots between digits.
        let start = i;
        let mut end = i;
        let mut digits = 0;
        while end < chars.len() {
            if chars[end].is_ascii_digit() {
                digits += 1;
                end += 1;
            } else if matches!(chars[end], ' ' | '.')
                && chars.get(end + 1).is_some_and(char::is_ascii_digit)
                && chars[end - 1].is_ascii_digit()
            {
                end += 1;
            } else {
                break;
            }
        }
        // Part of a longer word or number (a code like H56, a 13-digit account) is not a
        // personal number of this shape.
        let glued = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric());
        let glued_before = start > 0 && glued(chars.get(start - 1));
        let mask = MASKED_DIGITS.contains(&digits) && !glued_before && !glued(chars.get(end));
        for &c in &chars[start..end] {
            out.push(if mask && c.is_ascii_digit() { MASK } else { c });
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_and_citizen_id_numbers_are_masked_in_any_usual_writing() {
        assert_eq!(
            mask_personal_numbers("gọi 0912345678 nhé"),
            "gọi •••••••••• nhé"
        );
        assert_eq!(
            mask_personal_numbers("SĐT: 0912 345 678."),
            "SĐT: •••• ••• •••."
        );
        assert_eq!(mask_personal_numbers("0912.345.678"), "••••.•••.•••");
        assert_eq!(mask_personal_numbers("+84912345678"), "+•••••••••••");
        assert_eq!(
            mask_personal_numbers("CCCD 001203004567"),
            "CCCD ••••••••••••"
        );
    }

    #[test]
    fn short_numbers_codes_and_dates_stay() {
        for text in [
            "chờ 45 phút, đi lại 3 lần",
            "ngày 12.11.2026 lúc 9 giờ",
            "hồ sơ 000.00.14.H56-200203-0118",
            "mã 1.013978",
            "số tài khoản 1234567890123",
            "",
        ] {
            assert_eq!(mask_personal_numbers(text), text);
        }
    }
}
