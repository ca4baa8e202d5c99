//! Property tests over everything a tablet, a file or the network feeds the domain: dossier
//! codes, report periods, the catalogue CSV, batch bodies, and the escaping of outside text.
//! They run in the normal test suite; `fuzz/` runs the same functions under cargo-fuzz.

use crate::batch::decode_batch;
use crate::dossier::DossierCode;
use crate::escape::{Escaped, csv_cell};
use crate::period::ReportPeriod;
use crate::procedure::{Procedure, parse_catalogue};
use chrono::NaiveDate;
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_as_a_dossier_code_is_refused_or_parses_to_a_fixed_point(input in any::<String>()) {
        if let Ok(code) = DossierCode::parse(&input, today()) {
            let again = DossierCode::parse(&code.to_string(), today());
            prop_assert_eq!(again, Ok(code));
        }
    }

    #[test]
    fn well_formed_codes_with_noise_around_them_parse(
        unit in "[0-9]{3}\\.[0-9]{2}\\.[0-9]{2}\\.H[0-9]{2}",
        day in 1u32..=28, month in 1u32..=12, year in 20u32..=25,
        seq in "[0-9]{4,5}",
        spaces in " {0,3}",
    ) {
        let input = format!("{spaces}{}-{year:02}{month:02}{day:02}-{seq}{spaces}", unit.to_lowercase());
        let code = DossierCode::parse(&input, today()).unwrap();
        prop_assert_eq!(code.unit(), unit.as_str());
    }

    #[test]
    fn any_text_as_a_period_is_refused_or_its_own_code(input in any::<String>()) {
        if let Ok(period) = input.parse::<ReportPeriod>() {
            prop_assert_eq!(period.code().parse::<ReportPeriod>(), Ok(period));
        }
    }

    #[test]
    fn every_month_quarter_and_year_reads_back_from_its_code(
        year in 1i32..=9999, month in 1u32..=12, quarter in 1u32..=4,
    ) {
        for period in [
            ReportPeriod::Year(year),
            ReportPeriod::Month { year, month },
            ReportPeriod::Quarter { year, quarter },
        ] {
            prop_assert_eq!(period.code().parse::<ReportPeriod>(), Ok(period));
        }
    }

    #[test]
    fn any_text_as_a_catalogue_is_refused_or_has_unique_named_procedures(input in any::<String>()) {
        if let Ok(procedures) = parse_catalogue(&input) {
            let mut codes: Vec<&str> = procedures.iter().map(|p| p.code.as_str()).collect();
            codes.sort_unstable();
            codes.dedup();
            prop_assert_eq!(codes.len(), procedures.len());
            prop_assert!(procedures.iter().all(|p| !p.code.is_empty() && !p.name.is_empty()));
        }
    }

    #[test]
    fn a_catalogue_written_as_csv_reads_back_the_same(
        rows in proptest::collection::btree_map(
            "[0-9]\\.[0-9]{6}",
            ("\\PC{1,40}", "\\PC{0,20}", "[a-z_]{0,12}"),
            1..30,
        )
    ) {
        let procedures: Vec<Procedure> = rows
            .into_iter()
            .map(|(code, (name, field_name, field_code))| Procedure {
                code,
                name: name.trim().to_owned(),
                field_name: field_name.trim().to_owned(),
                field_code,
            })
            .filter(|p| !p.name.is_empty())
            .collect();
        prop_assume!(!procedures.is_empty());
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(["code", "name_vi", "field_vi", "field_code"]).unwrap();
        for p in &procedures {
            csv.write_record([&p.code, &p.name, &p.field_name, &p.field_code]).unwrap();
        }
        let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
        prop_assert_eq!(parse_catalogue(&text).unwrap(), procedures);
    }

    #[test]
    fn any_bytes_as_a_batch_are_refused_whole_or_answered_item_by_item(
        input in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let _ = decode_batch(&input);
    }

    #[test]
    fn a_batch_of_good_and_broken_ratings_answers_each_one(
        parts in proptest::collection::vec(
            prop_oneof![
                (0u32..10_000).prop_map(|n| serde_json::json!({
                    "id": format!("01936f6e-8b7a-7c41-9a57-{n:012}"),
                    "created_at": "2026-11-23T09:15:02+07:00",
                    "seq": n, "scale": 3, "level": "satisfied"})),
                any::<String>().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (any::<String>(), any::<String>()).prop_map(|(id, level)|
                    serde_json::json!({"id": id, "level": level})),
            ],
            0..40,
        ),
        queued in any::<f64>(),
    ) {
        let body = serde_json::json!({ "ratings": parts, "queued": queued });
        let batch = decode_batch(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(batch.ratings.len(), parts.len());
        for (part, decoded) in parts.iter().zip(&batch.ratings) {
            let well_formed = part.get("seq").is_some();
            prop_assert_eq!(decoded.is_ok(), well_formed);
        }
    }

    #[test]
    fn escaped_text_has_no_control_characters_and_csv_cells_never_start_a_formula(
        text in any::<String>(),
    ) {
        let shown = Escaped(&text).to_string();
        prop_assert!(!shown.chars().any(char::is_control));
        let cell = csv_cell(&text);
        prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']));
        prop_assert!(cell.ends_with(text.as_str()));
    }
}
