//! `DossierCode::parse` on any text, as typed, pasted or scanned: never a panic, and a code it
//! takes reads back as itself.
#![no_main]

use chrono::NaiveDate;
use hailong_core::dossier::DossierCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    if let Ok(code) = DossierCode::parse(input, today) {
        assert_eq!(DossierCode::parse(&code.to_string(), today), Ok(code));
    }
});
