//! `hailong export` on the real binary: every format gives the figures of `summary --json`
//! (checked cell by cell in `support/report_files.rs`), a period with no ratings is a report
//! of zeros, and bad input is refused with exit status 2 and no file left behind.

#[path = "support/binary.rs"]
mod binary;

#[path = "support/report_files.rs"]
mod report_files;

use binary::{hailong, ok};
use report_files::{check_every_format, number, report_path};
use serde_json::Value;
use std::path::{Path, PathBuf};

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
    let out = report_path(dir, format);
    let mut args = vec!["export", "--format", format, "--out", out.to_str().unwrap()];
    args.extend(extra);
    ok(&hailong(dir, &args));
    out
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&ok(&hailong(dir, &["summary", "--json"]))).unwrap()
}

#[test]
fn every_format_gives_the_figures_of_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 3000);
    let summary = summary(dir);
    let total = number(&summary, "total");
    assert!(
        total > 2000 && number(&summary, "unrated") > 0 && number(&summary, "repeat_dossier") > 0,
        "{summary}"
    );
    let report = check_every_format(&summary, |format| export(dir, format, &[]));
    assert!(report["negatives"].as_array().unwrap().len() > 10);
    let english = image::open(export(dir, "png", &["--lang", "en"])).unwrap();
    assert_eq!(english.width(), 1600);
}

#[test]
fn a_period_with_no_ratings_is_a_report_of_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 200);
    let args = [
        "summary",
        "--json",
        "--from",
        "1999-04-01",
        "--to",
        "1999-06-30",
    ];
    let summary: Value = serde_json::from_str(&ok(&hailong(dir, &args))).unwrap();
    assert_eq!(summary["total"], 0);
    let report = check_every_format(&summary, |format| {
        export(dir, format, &["--period", "1999-Q2"])
    });
    assert_eq!(report["satisfied_pct"], Value::Null);
    assert_eq!(report["period"]["label"], "Quý II năm 1999");
    assert_eq!(report["period"]["from"], "1999-04-01");
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
