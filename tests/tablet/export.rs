//! `hailong export` on the real binary: every format gives the figures of `summary --json`
//! (checked cell by cell in `support/report_files.rs`), a period with no ratings is a report
//! of zeros, and bad input is refused with exit status 2 and no file left behind.

use crate::binary::{hailong, ok};
use crate::report_files::{check_every_format, number, report_path};
use chrono::Datelike;
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
        (&["--format", "docx", "--out", out], "not a format"),
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

/// LibreOffice, headless, with a profile of its own in `dir` (so that runs never share one).
fn soffice(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("soffice");
    command
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join("libreoffice-profile").display()
        ))
        .arg("--headless");
    command
}

/// Converts `file` to PDF with LibreOffice, headless, as an office would print it; the text of
/// each page (`pdftotext -layout`).
fn printed_pages(file: &Path) -> Vec<String> {
    let dir = file.parent().unwrap();
    let converted = soffice(dir)
        .args(["--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("LibreOffice prints the report (Debian: libreoffice-calc-nogui)");
    assert!(converted.status.success(), "{converted:?}");
    crate::report_files::pdf_pages(&file.with_extension("pdf"))
}

/// Issue 15: the quarter's XLSX printed through a real spreadsheet program is a report an
/// office signs and files: the administrative heading whole on page 1, the summary sheets on at
/// most four pages, the signers' block, every page numbered, and the per-dossier list with its
/// header on every page.
#[test]
fn the_quarters_xlsx_prints_as_an_office_files_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 3000);
    // The office's letterhead: the body above it and its own signers.
    let settings = dir.join("settings.json");
    let mut json: Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    json["letterhead"] = serde_json::json!({
        "superior": "UBND tỉnh Thanh Hóa",
        "signers": ["Người lập biểu", "Chủ tịch"],
    });
    std::fs::write(&settings, json.to_string()).unwrap();
    let today = chrono::Local::now().date_naive();
    let quarter = format!("{}-Q{}", today.year(), today.month0() / 3 + 1);
    let xlsx = export(dir, "xlsx", &["--period", &quarter]);
    let pages = printed_pages(&xlsx);

    let words = |page: &str| page.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = &pages[0];
    for whole in [
        "UBND TỈNH THANH HÓA",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG",
        "NGƯỜI LẬP BIỂU",
        "CHỦ TỊCH",
        "(Ký, ghi rõ họ tên)",
        "Nơi nhận:",
    ] {
        assert!(
            first.contains(whole),
            "page 1 has {whole:?} whole:\n{first}"
        );
    }
    // The unit's name may wrap in its block, but every word of it is there.
    for word in "UBND XÃ HÒA BÌNH (DỮ LIỆU MẪU)".split(' ') {
        assert!(
            words(first).contains(word),
            "page 1 has {word:?} of the unit's name:\n{first}"
        );
    }
    assert!(
        words(first).contains("Hòa Bình, ngày"),
        "the place and date line:\n{first}"
    );
    // Each sheet starts with the title: seven sheets; the four summary sheets on ≤ 4 pages,
    // then the officers' appraisal, the negatives, the details.
    let starts: Vec<usize> = (0..pages.len())
        .filter(|&i| pages[i].contains("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"))
        .collect();
    assert_eq!(starts.len(), 7, "one title per sheet: {starts:?}");
    assert!(
        pages[starts[4]].contains("Đánh giá cán bộ") || pages[starts[4]].contains("Cả kỳ"),
        "the appraisal sheet:\n{}",
        pages[starts[4]]
    );
    assert!(
        starts[4] <= 4,
        "the summary sheets print on {} pages",
        starts[4]
    );
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains("Trang "),
            "page {} is numbered:\n{page}",
            i + 1
        );
    }
    // Chi tiết: more than one page, each with the table's header.
    let detail = &pages[starts[6]..];
    assert!(detail.len() > 1, "the detail list of a quarter takes pages");
    for (i, page) in detail.iter().enumerate() {
        assert!(
            page.contains("Mã hồ sơ") && page.contains("Thời gian"),
            "detail page {} repeats the header:\n{page}",
            i + 1
        );
    }
}

/// Opens `csv` in LibreOffice as a spreadsheet with Vietnamese settings would (`;` between
/// fields, decimal commas, day before month) and saves it as XLSX; the workbook.
fn opened_in_a_vietnamese_spreadsheet(
    csv: &Path,
) -> calamine::Xlsx<std::io::BufReader<std::fs::File>> {
    let dir = csv.parent().unwrap();
    let out = dir.join("opened");
    let converted = soffice(dir)
        // Separator ;, quote ", UTF-8, from line 1, language 1066 (Vietnamese), special
        // numbers (dates) detected, formulas evaluated.
        .arg("--infilter=CSV:59,34,76,1,,1066,false,true,false,false,false,0,true")
        .args(["--convert-to", "xlsx", "--outdir"])
        .arg(&out)
        .arg(csv)
        .output()
        .expect("LibreOffice opens the CSV (Debian: libreoffice-calc-nogui)");
    assert!(converted.status.success(), "{converted:?}");
    let xlsx = out.join(csv.file_name().unwrap()).with_extension("xlsx");
    calamine::open_workbook(&xlsx).unwrap()
}

/// Issue 15: the CSV for programs keeps codes and ISO times and gains labels; the CSV for
/// people, opened in a spreadsheet with Vietnamese settings, has dates as dates, shares as
/// numbers with their decimals, and procedure codes as the text they are.
#[test]
fn both_csv_flavours_read_back_with_the_right_types() {
    use calamine::{Data, Reader};
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    demo(dir, 1500);
    let machine = export(dir, "csv", &[]);
    let (header, rows) = crate::report_files::csv_file(&machine);
    let col = |row: &csv::StringRecord, name: &str| row[header[name]].to_owned();
    for row in &rows {
        chrono::DateTime::parse_from_rfc3339(&col(row, "recorded_at")).expect("an ISO time");
        let outcome = col(row, "outcome");
        let label = match outcome.as_str() {
            "not_rated" => "Không đánh giá".to_owned(),
            code => hailong_report::Lang::Vi
                .level(code.parse().unwrap())
                .to_owned(),
        };
        assert_eq!(col(row, "outcome_label"), label, "{row:?}");
    }
    let summary = export(dir, "summary-csv", &[]);
    let (sheader, srows) = crate::report_files::csv_file(&summary);
    let walk_up = srows
        .iter()
        .find(|r| &r[sheader["group"]] == "procedure" && r[sheader["key"]].is_empty())
        .expect("a walk-up row");
    assert_eq!(&walk_up[sheader["label"]], "Không gắn hồ sơ, thủ tục");
    let total_share: f64 = srows[0][sheader["satisfied_pct"]].parse().unwrap();

    // For people: a date, a code as text, a share as a number.
    let people = export(dir, "csv-excel", &[]);
    let text = std::fs::read_to_string(&people).unwrap();
    assert!(
        text.lines().next().unwrap().contains(";Mã thủ tục;"),
        "{text:.200}"
    );
    let mut book = opened_in_a_vietnamese_spreadsheet(&people);
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let mut codes = 0;
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        assert!(
            matches!(sheet.get_value((r, 0)), Some(Data::DateTime(_))),
            "row {r}: the time is a date: {:?}",
            sheet.get_value((r, 0))
        );
        let code = col(row, "procedure_code");
        if !code.is_empty() {
            codes += 1;
            assert_eq!(
                sheet.get_value((r, 5)),
                Some(&Data::String(code.clone())),
                "row {r}: the procedure code {code} stays text"
            );
        }
    }
    assert!(codes > 100, "procedure codes were checked ({codes})");
    let people_summary = export(dir, "summary-csv-excel", &[]);
    let mut book = opened_in_a_vietnamese_spreadsheet(&people_summary);
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(
        sheet.get_value((1, 0)),
        Some(&Data::String("Tổng cộng".into()))
    );
    let satisfied_col = (0..sheet.width() as u32)
        .find(|&c| sheet.get_value((0, c)) == Some(&Data::String("Tỷ lệ hài lòng (%)".into())))
        .unwrap();
    assert_eq!(
        sheet.get_value((1, satisfied_col)),
        Some(&Data::Float(total_share)),
        "the share is a number with its decimals"
    );
}
