//! Every `@tr()` string in `ui/` has a translation in both bundled languages.

use std::collections::HashSet;
use std::path::Path;

fn tr_strings(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tr_strings(&path, found);
        } else if path.extension().is_some_and(|e| e == "slint") {
            let text = std::fs::read_to_string(&path).unwrap();
            for piece in text.split("@tr(\"").skip(1) {
                let end = piece.find('"').unwrap();
                found.push(piece[..end].to_owned());
            }
        }
    }
}

/// msgid -> msgstr pairs of a simple .po file (one line each, as ours are written).
fn po(lang: &str) -> Vec<(String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("i18n/{lang}/LC_MESSAGES/hailong.po"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut pairs = Vec::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("msgid \"") {
            id = Some(rest.trim_end_matches('"').to_owned());
        } else if let Some(rest) = line.strip_prefix("msgstr \"")
            && let Some(id) = id.take().filter(|i| !i.is_empty())
        {
            pairs.push((id, rest.trim_end_matches('"').to_owned()));
        }
    }
    pairs
}

#[test]
fn every_ui_string_is_translated_to_english_and_listed_for_vietnamese() {
    let mut strings = Vec::new();
    tr_strings(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("ui"),
        &mut strings,
    );
    assert!(strings.len() > 10, "found only {} strings", strings.len());
    for lang in ["en", "vi"] {
        let entries = po(lang);
        let ids: HashSet<&str> = entries.iter().map(|(id, _)| id.as_str()).collect();
        for s in &strings {
            assert!(ids.contains(s.as_str()), "{lang}.po lacks {s:?}");
        }
        for (id, text) in &entries {
            assert!(!text.is_empty(), "{lang}.po leaves {id:?} untranslated");
        }
    }
    // English must not fall back to the Vietnamese source.
    assert!(
        po("en").iter().all(|(id, text)| id != text),
        "an English entry repeats the Vietnamese"
    );
}
