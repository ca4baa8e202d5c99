//! The procedure catalogue import on any file from a USB stick: never a panic; a catalogue it
//! takes has named procedures with unique codes.
#![no_main]

use hailong_core::procedure::parse_catalogue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(procedures) = parse_catalogue(text) {
        let mut codes: Vec<&str> = procedures.iter().map(|p| p.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), procedures.len());
    }
});
