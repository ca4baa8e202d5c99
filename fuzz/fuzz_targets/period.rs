//! Report periods (`2026`, `2026-Q1`, `2026-03`) from a command line or a dashboard link: never
//! a panic; a period it takes reads back from its own code.
#![no_main]

use hailong_core::period::ReportPeriod;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(period) = text.parse::<ReportPeriod>() {
        assert_eq!(period.code().parse::<ReportPeriod>(), Ok(period));
        let _ = period.range();
    }
});
