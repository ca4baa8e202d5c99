//! Vietnamese text helpers: placing a tone mark (for the on-screen keyboard) and folding text
//! for diacritic-insensitive search.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The five tone marks, and none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    None,
    /// sắc
    Acute,
    /// huyền
    Grave,
    /// hỏi
    Hook,
    /// ngã
    Tilde,
    /// nặng
    Dot,
}

impl Tone {
    /// From the keyboard's tone keys: 0 none, 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng.
    pub fn from_index(i: i32) -> Tone {
        match i {
            1 => Tone::Acute,
            2 => Tone::Grave,
            3 => Tone::Hook,
            4 => Tone::Tilde,
            5 => Tone::Dot,
            _ => Tone::None,
        }
    }

    fn mark(self) -> Option<char> {
        match self {
            Tone::None => None,
            Tone::Acute => Some('\u{301}'),
            Tone::Grave => Some('\u{300}'),
            Tone::Hook => Some('\u{309}'),
            Tone::Tilde => Some('\u{303}'),
            Tone::Dot => Some('\u{323}'),
        }
    }
}

const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// One letter split into its base, its vowel modifier (breve, circumflex, horn) and no tone.
#[derive(Clone)]
struct Letter {
    base: char,
    modifiers: String,
}

impl Letter {
    fn is_vowel(&self) -> bool {
        matches!(
            self.base.to_ascii_lowercase(),
            'a' | 'e' | 'i' | 'o' | 'u' | 'y'
        )
    }

    fn lower_base(&self) -> char {
        self.base.to_ascii_lowercase()
    }

    /// ă â ê ô ơ ư: vowels that carry a modifier.
    fn is_modified(&self) -> bool {
        self.is_vowel() && !self.modifiers.is_empty()
    }
}

fn letters(word: &str) -> Vec<Letter> {
    let mut out: Vec<Letter> = Vec::new();
    for c in word.nfd() {
        if is_combining_mark(c) {
            if let Some(last) = out.last_mut()
                && !TONE_MARKS.contains(&c)
            {
                last.modifiers.push(c);
            }
        } else {
            out.push(Letter {
                base: c,
                modifiers: String::new(),
            });
        }
    }
    out
}

/// Puts `tone` on the last word of `text` (replacing any tone it had), by the usual rules:
/// a modified vowel (ơ first) takes it; else in a final vowel pair the first, before a
/// consonant the last, in three vowels the middle. `qu` and `gi` count as consonants.
pub fn apply_tone(text: &str, tone: Tone) -> String {
    let start = text.rfind(char::is_whitespace).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    });
    let (head, word) = text.split_at(start);
    let letters = letters(word);
    let Some(target) = tone_position(&letters) else {
        return text.to_owned();
    };
    let mut out = String::from(head);
    for (i, letter) in letters.iter().enumerate() {
        let mut decomposed = String::new();
        decomposed.push(letter.base);
        decomposed.push_str(&letter.modifiers);
        if i == target {
            decomposed.extend(tone.mark());
        }
        out.extend(decomposed.nfc());
    }
    out
}

fn tone_position(letters: &[Letter]) -> Option<usize> {
    let lower: String = letters.iter().take(2).map(Letter::lower_base).collect();
    let skip = if (lower == "qu" || lower == "gi") && letters.iter().skip(2).any(Letter::is_vowel) {
        2
    } else {
        0
    };
    let first = letters.iter().skip(skip).position(Letter::is_vowel)? + skip;
    let end = letters[first..]
        .iter()
        .position(|l| !l.is_vowel())
        .map_or(letters.len(), |p| p + first);
    let cluster = first..end;
    let horn_o = cluster
        .clone()
        .find(|&i| letters[i].lower_base() == 'o' && letters[i].modifiers.contains('\u{31b}'));
    if let Some(i) = horn_o.or_else(|| cluster.clone().rev().find(|&i| letters[i].is_modified())) {
        return Some(i);
    }
    let ends_word = end == letters.len();
    Some(match (cluster.len(), ends_word) {
        (1, _) => first,
        (2, true) => first,
        (2, false) => first + 1,
        _ => first + 1,
    })
}

/// Lower-cases and drops every diacritic (đ becomes d): "Đăng ký" and "dang ky" fold alike.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tones_go_where_vietnamese_puts_them() {
        let cases = [
            ("ban", Tone::Acute, "bán"),
            ("mua", Tone::Acute, "múa"),
            ("toan", Tone::Acute, "toán"),
            ("nguơi", Tone::Grave, "nguời"),
            ("ngươi", Tone::Grave, "người"),
            ("tiên", Tone::Acute, "tiến"),
            ("qua", Tone::Acute, "quá"),
            ("gia", Tone::Dot, "giạ"),
            ("ngoai", Tone::Grave, "ngoài"),
            ("thu tuc", Tone::Dot, "thu tục"),
            ("Viêt", Tone::Dot, "Việt"),
            ("việt", Tone::None, "viêt"),
            ("việt", Tone::Tilde, "viễt"),
            ("xyz ", Tone::Acute, "xyz "),
            ("", Tone::Acute, ""),
            ("nhanh", Tone::Grave, "nhành"),
        ];
        for (input, tone, expected) in cases {
            assert_eq!(apply_tone(input, tone), expected, "{input} {tone:?}");
        }
    }

    #[test]
    fn folding_ignores_case_and_every_diacritic() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(fold("Chứng thực bản sao"), "chung thuc ban sao");
        assert!(fold("Thay đổi, cải chính").contains(&fold("DOI, CAI")));
    }
}
