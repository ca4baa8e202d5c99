//! What every report file must hold, whoever made it (`hailong export`, `hailong-server
//! export`, the export API): the figures of `summary --json` for its period, and breakdowns
//! that add up to them and say the same thing in every format, cell by cell.

#![allow(dead_code)] // each includer uses its own part

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use hailong_core::level::{Level, Scale};
use hailong_report::Lang;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// First row of the tables under the formal heading, 0-based.
pub const TABLE_TOP: u32 = 8;

/// The breakdowns: the summary CSV's name for each, and the JSON report's key.
const GROUPS: [(&str, &str); 5] = [
    ("month", "by_month"),
    ("field", "by_field"),
    ("procedure", "by_procedure"),
    ("officer", "by_officer"),
    ("device", "by_device"),
];

/// Where a test writes its report of `format` (a `--format` code) in `dir`: named by the
/// format, with the format's file extension.
pub fn report_path(dir: &Path, format: &str) -> PathBuf {
    let format: hailong_report::Format = format.parse().unwrap();
    dir.join(format!("{}.{}", format.code(), format.extension()))
}

/// Checks every format that `export(format)` makes against `summary`, the object `summary
/// --json` prints for the same period. Returns the JSON report.
pub fn check_every_format(summary: &Value, export: impl Fn(&str) -> PathBuf) -> Value {
    let report: Value = serde_json::from_slice(&std::fs::read(export("json")).unwrap()).unwrap();
    check_json(summary, &report);
    check_summary_csv(&report, &export("summary-csv"));
    check_ratings_csv(&report, &export("csv"));
    check_xlsx(&report, &export("xlsx"));
    check_pdf(&report, &export("pdf"));
    let png = image::open(export("png")).unwrap();
    assert_eq!(png.width(), 1600, "the chart is drawn");
    report
}

/// The scale a report counts on, from the levels it lists.
pub fn scale_of(report: &Value) -> Scale {
    match report["levels"].as_object().map(|l| l.len()) {
        Some(3) => Scale::Three,
        Some(5) => Scale::Five,
        other => panic!("{other:?} levels in {}", report["levels"]),
    }
}

pub fn number(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

/// One line of figures, the period's or a group's, however a format writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub total: u64,
    /// Per level, in the scale's order: the count and the share in percent.
    pub levels: Vec<(u64, Option<f64>)>,
    pub satisfied_pct: Option<f64>,
    pub unrated: u64,
    pub repeat_dossier: u64,
    pub misuse: u64,
}

impl Figures {
    /// The figures of a summary, a report or one of its groups.
    pub fn of(value: &Value, scale: Scale) -> Figures {
        Figures {
            total: number(value, "total"),
            levels: scale
                .levels()
                .iter()
                .map(|l| {
                    (
                        number(&value["levels"], l.code()),
                        value["levels_pct"][l.code()].as_f64(),
                    )
                })
                .collect(),
            satisfied_pct: value["satisfied_pct"].as_f64(),
            unrated: number(value, "unrated"),
            repeat_dossier: number(value, "repeat_dossier"),
            misuse: number(value, "misuse"),
        }
    }

    /// The shares add up to exactly 100.0, or there are none when nothing was rated.
    fn check_shares(&self, what: &str) {
        if self.total == 0 {
            assert!(self.levels.iter().all(|(_, s)| s.is_none()), "{what}");
            assert_eq!(self.satisfied_pct, None, "{what}");
        } else {
            // Tenths are whole numbers; the sum in tenths is exact.
            let tenths: i64 = self
                .levels
                .iter()
                .map(|(_, s)| (s.expect(what) * 10.0).round() as i64)
                .sum();
            assert_eq!(tenths, 1000, "the shares of {what} add up to 100.0");
        }
    }
}

/// The groups of one breakdown, key (`None` for "none") and figures, in the report's order.
pub fn groups(report: &Value, key: &str) -> Vec<(Option<String>, Figures)> {
    let scale = scale_of(report);
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in the report"))
        .iter()
        .map(|g| (g["key"].as_str().map(str::to_owned), Figures::of(g, scale)))
        .collect()
}

/// The JSON report: the summary's object, then breakdowns that add up to it.
pub fn check_json(summary: &Value, report: &Value) {
    for (key, value) in summary.as_object().unwrap() {
        assert_eq!(
            &report[key], value,
            "{key}: the JSON report and the summary"
        );
    }
    let scale = scale_of(report);
    let whole = Figures::of(report, scale);
    whole.check_shares("the period");
    for (_, key) in GROUPS {
        let groups = groups(report, key);
        if key == "by_device" && groups.is_empty() {
            continue; // a tablet's own report has no devices
        }
        for (name, g) in &groups {
            g.check_shares(&format!("{key} {name:?}"));
        }
        let sum = |f: &dyn Fn(&Figures) -> u64| groups.iter().map(|(_, g)| f(g)).sum::<u64>();
        assert_eq!(sum(&|g| g.total), whole.total, "{key}: totals");
        assert_eq!(sum(&|g| g.unrated), whole.unrated, "{key}: unrated");
        assert_eq!(
            sum(&|g| g.repeat_dossier),
            whole.repeat_dossier,
            "{key}: repeats"
        );
        for (i, level) in scale.levels().iter().enumerate() {
            assert_eq!(sum(&|g| g.levels[i].0), whole.levels[i].0, "{key}: {level}");
        }
        if key == "by_month" || key == "by_device" {
            // Misuse presses belong to a day and a tablet, not to a dossier.
            assert_eq!(sum(&|g| g.misuse), whole.misuse, "{key}: misuse");
        }
    }
    // Each officer's appraisal has the officers' breakdown's counts, and its months add up.
    let officers = groups(report, "by_officer");
    let appraisal = report["appraisal"].as_array().unwrap();
    assert_eq!(appraisal.len(), officers.len());
    for (a, (key, g)) in appraisal.iter().zip(&officers) {
        assert_eq!(
            a["officer"].as_str(),
            key.as_deref(),
            "in the breakdown's order"
        );
        assert_eq!(
            &Figures::of(a, scale),
            g,
            "{key:?}: the breakdown's figures"
        );
        let months: u64 = a["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| number(m, "total"))
            .sum();
        assert_eq!(months, g.total, "{key:?}: the months add up");
    }
    let negatives = report["negatives"].as_array().unwrap();
    let negative_count: u64 = scale
        .levels()
        .iter()
        .zip(&whole.levels)
        .filter(|(l, _)| l.is_negative())
        .map(|(_, (n, _))| n)
        .sum();
    assert_eq!(
        negatives.len() as u64,
        negative_count,
        "every negative rating is listed"
    );
    for n in negatives {
        let level: Level = n["level"].as_str().unwrap().parse().unwrap();
        assert!(level.is_negative(), "{n}");
    }
}

/// A CSV file written with a byte-order mark, as Excel wants it: its header and rows.
pub fn csv_file(path: &Path) -> (BTreeMap<String, usize>, Vec<csv::StringRecord>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..3],
        b"\xEF\xBB\xBF",
        "{} starts with a BOM",
        path.display()
    );
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_owned(), i))
        .collect();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

/// The summary CSV: its total row is the report's figures, and its rows of each group are the
/// report's groups, in the same order.
pub fn check_summary_csv(report: &Value, path: &Path) {
    let scale = scale_of(report);
    let (header, rows) = csv_file(path);
    let col = |row: &csv::StringRecord, name: &str| row[header[name]].to_owned();
    let count = |row: &csv::StringRecord, name: &str| col(row, name).parse::<u64>().unwrap();
    let share = |row: &csv::StringRecord, name: &str| {
        let text = col(row, name);
        (!text.is_empty()).then(|| text.parse::<f64>().unwrap())
    };
    let figures = |row: &csv::StringRecord| Figures {
        total: count(row, "total"),
        levels: scale
            .levels()
            .iter()
            .map(|l| {
                (
                    count(row, l.code()),
                    share(row, &format!("share_{}", l.code())),
                )
            })
            .collect(),
        satisfied_pct: share(row, "satisfied_pct"),
        unrated: count(row, "unrated"),
        repeat_dossier: count(row, "repeat_dossier"),
        misuse: count(row, "misuse"),
    };
    assert_eq!(col(&rows[0], "group"), "total");
    assert_eq!(
        figures(&rows[0]),
        Figures::of(report, scale),
        "the total row"
    );
    for (name, key) in GROUPS {
        let in_csv: Vec<(Option<String>, Figures)> = rows
            .iter()
            .filter(|r| col(r, "group") == name)
            .map(|r| {
                let key = col(r, "key");
                ((!key.is_empty()).then_some(key), figures(r))
            })
            .collect();
        assert_eq!(in_csv, groups(report, key), "the summary CSV's {name} rows");
    }
}

/// The ratings CSV: a row per entry; the counted ones per level, officer and field are the
/// report's figures.
pub fn check_ratings_csv(report: &Value, path: &Path) {
    let scale = scale_of(report);
    let whole = Figures::of(report, scale);
    let (header, rows) = csv_file(path);
    assert_eq!(
        rows.len() as u64,
        whole.total + whole.unrated + whole.repeat_dossier,
        "a row per entry"
    );
    let counted: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[header["counted"]] == "1")
        .collect();
    assert_eq!(counted.len() as u64, whole.total);
    for (level, (n, _)) in scale.levels().iter().zip(&whole.levels) {
        let rows = counted
            .iter()
            .filter(|r| &r[header["outcome"]] == level.code());
        assert_eq!(rows.count() as u64, *n, "{level} rows");
    }
    let unrated = rows.iter().filter(|r| &r[header["outcome"]] == "not_rated");
    assert_eq!(unrated.count() as u64, whole.unrated);
    let repeats = rows.iter().filter(|r| &r[header["repeat_dossier"]] == "1");
    assert_eq!(repeats.count() as u64, whole.repeat_dossier);
    for (column, key) in [("officer", "by_officer"), ("field_name", "by_field")] {
        let mut per_group = BTreeMap::<String, u64>::new();
        for r in &counted {
            *per_group.entry(r[header[column]].to_owned()).or_default() += 1;
        }
        let expected: BTreeMap<String, u64> = groups(report, key)
            .into_iter()
            .filter(|(_, g)| g.total > 0)
            .map(|(k, g)| (k.unwrap_or_default(), g.total))
            .collect();
        assert_eq!(per_group, expected, "counted rows per {column}");
    }
}

fn cell(sheet: &Range<Data>, row: u32, col: u32) -> Option<f64> {
    match sheet.get_value((row, col)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        Some(Data::Empty) | None => None,
        other => panic!("({row}, {col}) holds {other:?}"),
    }
}

fn count_cell(sheet: &Range<Data>, row: u32, col: u32) -> u64 {
    let value = cell(sheet, row, col).unwrap_or_else(|| panic!("({row}, {col}) is empty"));
    assert_eq!(value.fract(), 0.0, "({row}, {col}) is a whole number");
    value as u64
}

fn text_cell(sheet: &Range<Data>, row: u32, col: u32) -> String {
    match sheet.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        other => panic!("({row}, {col}) holds {other:?}"),
    }
}

/// A date cell's month, as the report's JSON keys it (`2026-03`).
fn month_cell(sheet: &Range<Data>, row: u32, col: u32) -> String {
    match sheet.get_value((row, col)) {
        Some(Data::DateTime(d)) => {
            let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
            let day = epoch + chrono::Duration::days(d.as_f64() as i64);
            day.format("%Y-%m").to_string()
        }
        other => panic!("({row}, {col}) holds {other:?}, not a date"),
    }
}

/// The XLSX report (in Vietnamese): every sheet's cells are the report's figures.
pub fn check_xlsx(report: &Value, path: &Path) {
    let scale = scale_of(report);
    let levels = scale.levels();
    let whole = Figures::of(report, scale);
    let words = Lang::Vi.words();
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    // The server's report has a sheet by counter (tablet) too.
    let by_device = report["by_device"]
        .as_array()
        .is_some_and(|d| !d.is_empty());
    let mut names = vec![
        "Tổng hợp",
        "Theo lĩnh vực",
        "Theo thủ tục",
        "Theo cán bộ",
        "Đánh giá cán bộ",
    ];
    if by_device {
        names.push("Theo quầy");
    }
    names.extend(["Không hài lòng", "Chi tiết"]);
    assert_eq!(book.sheet_names(), names);

    // Tổng hợp: the figures, one per row, then the months.
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    let motto = Data::String("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into());
    assert!(
        (0..6).any(|c| sheet.get_value((0, c)) == Some(&motto)),
        "the national heading"
    );
    let label = format!(
        "Thời điểm đánh giá: {}",
        report["period"]["label"].as_str().unwrap()
    );
    assert_eq!(text_cell(&sheet, 6, 0), label);
    let mut row = TABLE_TOP + 1;
    let mut next = |count: u64, share: Option<f64>, what: &str| {
        assert_eq!(count_cell(&sheet, row, 4), count, "Tổng hợp: {what}");
        assert_eq!(cell(&sheet, row, 5), share, "Tổng hợp: the share of {what}");
        row += 1;
    };
    next(whole.total, None, "ratings");
    for (level, (n, share)) in levels.iter().zip(&whole.levels) {
        next(*n, *share, level.code());
    }
    let satisfied: u64 = levels
        .iter()
        .zip(&whole.levels)
        .filter(|(l, _)| l.is_satisfied())
        .map(|(_, (n, _))| n)
        .sum();
    next(satisfied, whole.satisfied_pct, "satisfied");
    let rated_dossiers = number(report, "rated_dossiers");
    next(rated_dossiers + whole.unrated, None, "armed dossiers");
    next(
        rated_dossiers,
        report["response_pct"].as_f64(),
        "rated dossiers",
    );
    next(whole.unrated, None, "unrated");
    next(whole.repeat_dossier, None, "repeats");
    next(whole.misuse, None, "misuse");
    let months_top = row + 2 + 1;
    for (i, (key, g)) in groups(report, "by_month").iter().enumerate() {
        let r = months_top + i as u32;
        assert_eq!(
            Some(month_cell(&sheet, r, 0)),
            key.clone(),
            "month row {i}: a date cell"
        );
        assert_eq!(count_cell(&sheet, r, 1), g.total);
        for (j, (n, _)) in g.levels.iter().enumerate() {
            assert_eq!(count_cell(&sheet, r, 2 + j as u32), *n);
        }
        assert_eq!(cell(&sheet, r, 2 + levels.len() as u32), g.satisfied_pct);
    }

    // Đánh giá cán bộ: each officer's months, then the whole period in the officers'
    // breakdown's figures, with the JSON report's response rates.
    let sheet = book.worksheet_range("Đánh giá cán bộ").unwrap();
    let officers = groups(report, "by_officer");
    let appraisal = report["appraisal"].as_array().unwrap();
    assert_eq!(appraisal.len(), officers.len(), "an appraisal per officer");
    let mut row = TABLE_TOP + 2;
    let tail = 4 + 2 * levels.len() as u32;
    for (a, (_, g)) in appraisal.iter().zip(&officers) {
        let mut months_total = 0;
        for m in a["months"].as_array().unwrap() {
            assert_eq!(
                Some(month_cell(&sheet, row, 2)),
                m["month"].as_str().map(str::to_owned)
            );
            assert_eq!(count_cell(&sheet, row, 3), number(m, "total"));
            assert_eq!(cell(&sheet, row, tail + 2), m["response_pct"].as_f64());
            months_total += number(m, "total");
            row += 1;
        }
        assert_eq!(text_cell(&sheet, row, 2), "Cả kỳ");
        assert_eq!(count_cell(&sheet, row, 3), g.total, "{a}");
        assert_eq!(months_total, g.total, "the months add up: {a}");
        for (j, (n, share)) in g.levels.iter().enumerate() {
            assert_eq!(count_cell(&sheet, row, 4 + 2 * j as u32), *n);
            assert_eq!(cell(&sheet, row, 5 + 2 * j as u32), *share);
        }
        assert_eq!(cell(&sheet, row, tail), g.satisfied_pct);
        assert_eq!(count_cell(&sheet, row, tail + 1), g.unrated);
        assert_eq!(cell(&sheet, row, tail + 2), a["response_pct"].as_f64());
        row += 1;
    }

    // Theo lĩnh vực, thủ tục, cán bộ (, quầy): a row per group, then the total row.
    let mut breakdowns = vec![
        ("Theo lĩnh vực", "by_field", false),
        ("Theo thủ tục", "by_procedure", true),
        ("Theo cán bộ", "by_officer", false),
    ];
    if by_device {
        breakdowns.push(("Theo quầy", "by_device", false));
    }
    for (name, key, with_code) in breakdowns {
        let sheet = book.worksheet_range(name).unwrap();
        let first = if with_code { 3 } else { 2 };
        let figures = |r: u32| Figures {
            total: count_cell(&sheet, r, first),
            levels: (0..levels.len() as u32)
                .map(|j| {
                    let col = first + 1 + 2 * j;
                    (count_cell(&sheet, r, col), cell(&sheet, r, col + 1))
                })
                .collect(),
            satisfied_pct: cell(&sheet, r, first + 1 + 2 * levels.len() as u32),
            unrated: count_cell(&sheet, r, first + 2 + 2 * levels.len() as u32),
            repeat_dossier: count_cell(&sheet, r, first + 3 + 2 * levels.len() as u32),
            misuse: 0,
        };
        let json_groups = report[key].as_array().unwrap();
        for (i, group) in json_groups.iter().enumerate() {
            let r = TABLE_TOP + 2 + i as u32;
            let label = group["label"].as_str().or(group["key"].as_str());
            assert_eq!(
                text_cell(&sheet, r, first - 1),
                label.unwrap_or(Lang::Vi.no_key(key)),
                "{name} {i}"
            );
            if with_code {
                assert_eq!(text_cell(&sheet, r, 1), group["key"].as_str().unwrap_or(""));
            }
            let json = Figures {
                misuse: 0,
                ..Figures::of(group, scale)
            };
            assert_eq!(figures(r), json, "{name}: row {i}");
        }
        let total_row = TABLE_TOP + 2 + json_groups.len() as u32;
        let json = Figures {
            misuse: 0,
            ..whole.clone()
        };
        assert_eq!(figures(total_row), json, "{name}: the total row");
        assert_eq!(text_cell(&sheet, total_row, 0), "Tổng cộng", "{name}");
    }

    // Không hài lòng: a row per negative rating, in the report's order.
    let sheet = book.worksheet_range("Không hài lòng").unwrap();
    let negatives = report["negatives"].as_array().unwrap();
    assert_eq!(sheet.end().unwrap().0 - TABLE_TOP, negatives.len() as u32);
    for (i, n) in negatives.iter().enumerate() {
        let r = TABLE_TOP + 1 + i as u32;
        assert_eq!(
            text_cell(&sheet, r, 2),
            n["dossier"].as_str().unwrap_or(""),
            "negative {i}"
        );
        let level: Level = n["level"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            text_cell(&sheet, r, 6),
            Lang::Vi.level(level),
            "negative {i}"
        );
    }

    // Chi tiết: a row per entry; the counted ones per level are the figures.
    let sheet = book.worksheet_range("Chi tiết").unwrap();
    let entries = whole.total + whole.unrated + whole.repeat_dossier;
    assert_eq!(u64::from(sheet.end().unwrap().0 - TABLE_TOP), entries);
    let mut counted = BTreeMap::<String, u64>::new();
    for r in TABLE_TOP + 1..=TABLE_TOP + entries as u32 {
        if text_cell(&sheet, r, 11) == words.yes {
            *counted.entry(text_cell(&sheet, r, 8)).or_default() += 1;
        }
    }
    let expected: BTreeMap<String, u64> = levels
        .iter()
        .zip(&whole.levels)
        .filter(|(_, (n, _))| *n > 0)
        .map(|(l, (n, _))| (Lang::Vi.level(*l).to_owned(), *n))
        .collect();
    assert_eq!(counted, expected, "Chi tiết: counted rows per level");
}

/// The text of each page of a PDF file (`pdftotext -layout`).
pub fn pdf_pages(pdf: &Path) -> Vec<String> {
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext reads the PDF (Debian: poppler-utils)");
    assert!(text.status.success(), "{text:?}");
    let mut pages: Vec<String> = String::from_utf8(text.stdout)
        .unwrap()
        .split('\u{c}')
        .map(str::to_owned)
        .collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// The PDF report, read back as text: the heading and the unit on page 1, every page numbered,
/// the summary's figures, each officer's line, the negatives (or the note that some are left
/// out), the signers; every font embedded, so it prints the same anywhere.
pub fn check_pdf(report: &Value, path: &Path) {
    let lang = Lang::Vi;
    assert!(std::fs::read(path).unwrap().starts_with(b"%PDF-"));
    let fonts = std::process::Command::new("pdffonts")
        .arg(path)
        .output()
        .expect("pdffonts lists the PDF's fonts (Debian: poppler-utils)");
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    let listed: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!listed.is_empty(), "{fonts}");
    for font in listed {
        assert!(
            font.contains("yes yes yes"),
            "embedded, subset, with Unicode: {font}"
        );
    }
    let pages = pdf_pages(path);
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.contains(&format!("Trang {}/{n}", i + 1)),
            "page {}: {page}",
            i + 1
        );
    }
    let first = &pages[0];
    assert!(
        first.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        "{first}"
    );
    assert!(
        first.contains("BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"),
        "{first}"
    );
    let unit = report["unit"].as_str().unwrap().to_uppercase();
    let heading: String = first.split_whitespace().collect::<Vec<_>>().join(" ");
    for word in unit.split_whitespace() {
        assert!(
            heading.contains(word),
            "{word} of the unit's name on page 1: {first}"
        );
    }
    let lines: Vec<&str> = pages.iter().flat_map(|p| p.lines()).collect();
    let line_with = |label: &str| -> &str {
        lines
            .iter()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("no line with {label:?}"))
    };
    let total = number(report, "total");
    assert!(line_with("Số phiếu đánh giá").contains(&lang.count(total)));
    if let Some(pct) = report["satisfied_pct"].as_f64() {
        let tenths = (pct * 10.0).round() as u32;
        let row = line_with("Tỷ lệ hài lòng (%)");
        assert!(row.contains(&lang.tenths(tenths)), "{row}");
    }
    for (name, g) in groups(report, "by_officer") {
        let label = report["by_officer"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"].as_str() == name.as_deref())
            .and_then(|o| o["label"].as_str().map(str::to_owned))
            .unwrap_or_else(|| lang.no_key("by_officer").to_owned());
        let count = lang.count(g.total);
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&label) && l.contains(&count)),
            "{label} with {count} ratings"
        );
    }
    // Each officer's appraisal ends with the whole period, in the officers' figures.
    let whole_rows: Vec<&&str> = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("Cả kỳ"))
        .collect();
    let officers = groups(report, "by_officer");
    assert_eq!(whole_rows.len(), officers.len(), "a block per officer");
    for (row, (_, g)) in whole_rows.iter().zip(&officers) {
        assert!(row.contains(&lang.count(g.total)), "{row}: {}", g.total);
    }
    let negatives = report["negatives"].as_array().unwrap().len();
    let text = lines.join("\n");
    if negatives == 0 {
        assert!(text.contains("Không có phiếu không hài lòng trong kỳ."));
    } else if negatives > 100 {
        let note = format!(
            "100 phiếu gần nhất trong {} phiếu",
            lang.count(negatives as u64)
        );
        assert!(text.replace('\n', " ").contains(&note), "{note}");
    } else {
        // The list is numbered to the last negative.
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with(&format!("{negatives} "))),
            "negative number {negatives}"
        );
    }
    assert!(pages[n - 1].contains("NGƯỜI LẬP BIỂU"), "{}", pages[n - 1]);
}
