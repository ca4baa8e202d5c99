//! `hailong export` on the real binary: every format gives the figures of `summary --json`,
//! and bad input is refused with exit status 2 and no file left behind.

#[path = "support/binary.rs"]
mod binary;

use binary::{hailong, ok};
use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// First row of the tables under the formal heading, 0-based.
const TABLE_TOP: u32 = 7;

fn demo(dir: &Path, count: u32) {
    ok(&hailong(
        dir,
        &[
            "demo",
            "--count",
            &count.to_string(),
            "--days",
            "90",
            "--seed",
            "3",
        ],
    ));
}

fn export(dir: &Path, format: &str, extra: &[&str]) -> PathBuf {
    let ext = if format == "summary-csv" {
        "summary.csv"
    } else {
        format
    };
    let out = dir.join(format!("report.{ext}"));
    let mut args = vec!["export", "--format", format, "--out", out.to_str().unwrap()];
    args.extend(extra);
    ok(&hailong(dir, &args));
    out
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&ok(&hailong(dir, &["summary", "--json"]))).unwrap()
}

fn number(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn cell(sheet: &calamine::Range<Data>, row: u32, col: u32) -> f64 {
    match sheet.get_value((row, col)) {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("({row}, {col}) holds {other:?}"),
    }
}

/// CSV records of a file written with a byte-order mark.
fn csv_records(path: &Path) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "{} starts with a BOM",
        path.display()
    );
    csv::Reader::from_reader(&bytes[3..])
        .records()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn every_format_gives_the_figures_of_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 3000);
    let summary = summary(dir);
    let total = number(&summary, "total");
    let unrated = number(&summary, "unrated");
    let repeats = number(&summary, "repeat_dossier");
    let levels = ["very_satisfied", "satisfied", "unsatisfied"];
    assert!(total > 2000 && unrated > 0 && repeats > 0, "{summary}");

    // JSON: the summary's object, and more.
    let json: Value =
        serde_json::from_slice(&std::fs::read(export(dir, "json", &[])).unwrap()).unwrap();
    for (key, value) in summary.as_object().unwrap() {
        assert_eq!(&json[key], value, "{key}");
    }
    let by_officer: u64 = json["by_officer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| number(o, "total"))
        .sum();
    assert_eq!(by_officer, total, "the officers' rows add up to the total");

    // Summary CSV: the total row, then groups whose months add up to it.
    let rows = csv_records(&export(dir, "summary-csv", &[]));
    assert_eq!(&rows[0][0], "total");
    assert_eq!(rows[0][3].parse::<u64>().unwrap(), total);
    for (i, level) in levels.iter().enumerate() {
        assert_eq!(
            rows[0][4 + i].parse::<u64>().unwrap(),
            number(&summary["levels"], level)
        );
    }
    let months: u64 = rows
        .iter()
        .filter(|r| &r[0] == "month")
        .map(|r| r[3].parse::<u64>().unwrap())
        .sum();
    assert_eq!(months, total);
    for row in &rows {
        if row[3].parse::<u64>().unwrap() > 0 {
            let shares: f64 = (7..10).map(|c| row[c].parse::<f64>().unwrap()).sum();
            assert!(
                (shares - 100.0).abs() < 1e-9,
                "shares of {row:?} add up to {shares}"
            );
        }
    }

    // Ratings CSV: one row per entry; the counted ones are the total.
    let rows = csv_records(&export(dir, "csv", &[]));
    assert_eq!(rows.len() as u64, total + unrated + repeats);
    assert_eq!(rows.iter().filter(|r| &r[13] == "1").count() as u64, total);

    // XLSX: the summary sheet's counts, a row per negative, a row per entry.
    let path = export(dir, "xlsx", &[]);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let names = book.sheet_names();
    assert_eq!(
        names,
        [
            "Tổng hợp",
            "Theo lĩnh vực",
            "Theo thủ tục",
            "Theo cán bộ",
            "Không hài lòng",
            "Chi tiết"
        ]
    );
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    let motto = Data::String("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into());
    assert!(
        (0..6).any(|c| sheet.get_value((0, c)) == Some(&motto)),
        "the national heading"
    );
    assert_eq!(cell(&sheet, TABLE_TOP + 1, 4) as u64, total);
    for (i, level) in levels.iter().enumerate() {
        assert_eq!(
            cell(&sheet, TABLE_TOP + 2 + i as u32, 4) as u64,
            number(&summary["levels"], level)
        );
    }
    assert_eq!(
        cell(&sheet, TABLE_TOP + 5, 5),
        summary["satisfied_pct"].as_f64().unwrap()
    );
    let negatives = book.worksheet_range("Không hài lòng").unwrap();
    assert_eq!(
        u64::from(negatives.end().unwrap().0 - TABLE_TOP),
        number(&summary["levels"], "unsatisfied")
    );
    let details = book.worksheet_range("Chi tiết").unwrap();
    assert_eq!(
        u64::from(details.end().unwrap().0 - TABLE_TOP),
        total + unrated + repeats
    );

    // PNG: a picture.
    let png = image::open(export(dir, "png", &["--lang", "en"])).unwrap();
    assert_eq!(png.width(), 1600);
}

#[test]
fn a_period_with_no_ratings_is_a_report_of_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 200);
    let json: Value = serde_json::from_slice(
        &std::fs::read(export(dir, "json", &["--period", "1999-Q2"])).unwrap(),
    )
    .unwrap();
    assert_eq!(json["total"], 0);
    assert_eq!(json["satisfied_pct"], Value::Null);
    assert_eq!(json["period"]["label"], "Quý II năm 1999");
    assert_eq!(json["period"]["from"], "1999-04-01");
    let path = export(dir, "xlsx", &["--period", "1999"]);
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(cell(&sheet, TABLE_TOP + 1, 4), 0.0);
    assert_eq!(
        sheet.get_value((4, 0)),
        Some(&Data::String("Thời điểm đánh giá: Năm 1999".into()))
    );
    image::open(export(dir, "png", &["--period", "1999-01"])).unwrap();
}

#[test]
fn bad_input_exits_2_with_a_clear_message_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 50);
    let out = dir.join("r.json");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--format", "pdf", "--out", out], "not a format"),
        (
            &["--format", "xlsx", "--out", out, "--lang", "fr"],
            "not a report language",
        ),
        (
            &["--format", "json", "--out", out, "--period", "2026-13"],
            "not a period",
        ),
        (
            &["--format", "json", "--out", out, "--period", "2026-Q5"],
            "not a period",
        ),
        (
            &[
                "--format",
                "json",
                "--out",
                out,
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
            ],
            "after",
        ),
        (
            &[
                "--format",
                "json",
                "--out",
                out,
                "--period",
                "2026",
                "--from",
                "2026-01-01",
            ],
            "cannot be used with",
        ),
        (
            &["--format", "xlsx", "--out", "/nonexistent-dir/r.xlsx"],
            "cannot write",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["export"];
        all.extend(args);
        let result = hailong(dir, &all);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("r.") || n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
