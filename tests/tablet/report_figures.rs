//! Issue 5's proof on 100,000 demo ratings: every report holds the numbers of `summary
//! --json` for its period, on the tablet and on the server. Checked: JSON, the summary CSV,
//! the ratings CSV and the XLSX, cell by cell (`support/report_files.rs`); the tablet's admin
//! screen; the server's exports, by command and by API; its web dashboard, read in chromium.
//! Once synced, the server's report is the tablet's.

use crate::binary::{hailong, ok};
use crate::report_files::{Figures, check_every_format, groups, number, report_path};
use crate::running::RunningServer;
use crate::support::{Harness, Tablet};
use crate::webdriver::Browser;
use chrono::NaiveDate;
use hailong::settings::Lang;
use hailong_core::level::Scale;
use hailong_core::period::DateRange;
use hailong_report::Lang as ReportLang;
use serde_json::Value;
use slint::{ComponentHandle, Model};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const RATINGS: u64 = 100_000;
/// Days of demo ratings, up to the harness's today (23 November 2026): all within 2026.
const DAYS: u32 = 120;
const YEAR: &str = "2026";
const PASSWORD: &str = "Mật khẩu của xã 2026";

fn year() -> DateRange {
    DateRange {
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    }
}

fn range_args(range: DateRange) -> [String; 4] {
    [
        "--from".into(),
        range.from.to_string(),
        "--to".into(),
        range.to.to_string(),
    ]
}

fn args(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// `hailong summary --json` for a range, on the tablet.
fn tablet_summary(dir: &Path, range: DateRange) -> Value {
    let mut command = vec!["summary".to_owned(), "--json".to_owned()];
    command.extend(range_args(range));
    serde_json::from_str(&ok(&hailong(dir, &args(&command)))).unwrap()
}

/// `hailong export --format F PERIOD…` on the tablet; the file.
fn tablet_export(dir: &Path, format: &str, period: &[String]) -> PathBuf {
    let out = report_path(dir, format);
    let mut command = vec![
        "export".to_owned(),
        "--format".into(),
        format.into(),
        "--out".into(),
        out.display().to_string(),
    ];
    command.extend_from_slice(period);
    ok(&hailong(dir, &args(&command)));
    out
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A share as the Vietnamese screens write it: "92,0 %", or "–" with nothing rated.
fn vi_percent(pct: Option<f64>) -> String {
    pct.map_or("–".to_owned(), |p| format!("{p:.1} %").replace('.', ","))
}

fn tenths(pct: Option<f64>) -> i32 {
    pct.map_or(-1, |p| (p * 10.0).round() as i32)
}

/// The admin screen, on the period its button `button` shows: the figures are the summary of
/// `range`, and the rows by officer and by field are the JSON report's groups.
fn check_screen(h: &Harness, button: &str, range: DateRange) {
    h.tap(button);
    let dir = h.tablet.dir.path();
    let summary = tablet_summary(dir, range);
    let report = json_file(&tablet_export(dir, "json", &range_args(range)));
    let whole = Figures::of(&summary, Scale::Three);
    assert!(whole.total > 0, "{button}: {summary}");
    let vi = ReportLang::Vi;
    assert_eq!(h.label("admin-total"), vi.count(whole.total), "{button}");
    assert_eq!(
        h.label("admin-unrated"),
        vi.count(whole.unrated),
        "{button}"
    );
    assert_eq!(h.label("admin-satisfied"), vi_percent(whole.satisfied_pct));
    assert_eq!(
        h.label("admin-response"),
        vi_percent(report["response_pct"].as_f64())
    );
    let shown = h.admin().get_levels();
    for (level, (n, share)) in Scale::Three.levels().iter().zip(&whole.levels) {
        let id = format!("admin-level-{}", level.code());
        assert_eq!(h.label(&id), vi.count(*n), "{button} {level}");
        let tile = shown.iter().find(|l| l.code == level.code()).unwrap();
        assert_eq!(tile.tenths, tenths(*share), "{button} {level}");
    }
    let notes = h.label("admin-repeats-misuse");
    for n in [whole.repeat_dossier, whole.misuse] {
        assert!(notes.contains(&format!(": {}", vi.count(n))), "{notes}");
    }
    for (tab, key) in [
        ("admin-by-officer", "by_officer"),
        ("admin-by-field", "by_field"),
    ] {
        h.tap(tab);
        let rows: BTreeMap<String, (i32, i32, i32)> = h
            .admin()
            .get_breakdown_rows()
            .iter()
            .map(|r| {
                let row = (r.total, r.satisfied_tenths, r.unrated);
                (r.label.to_string(), row)
            })
            .collect();
        let expected: BTreeMap<String, (i32, i32, i32)> = groups(&report, key)
            .into_iter()
            .map(|(k, g)| {
                let row = (g.total as i32, tenths(g.satisfied_pct), g.unrated as i32);
                (k.unwrap_or_default(), row)
            })
            .collect();
        assert_eq!(rows, expected, "{button}, {tab}");
    }
}

/// What the server's admin API answers to GET `path`, with the admin token.
fn api_get(server: &RunningServer, token: &str, path: &str) -> reqwest::blocking::Response {
    let answer = crate::webdriver::http_client()
        .get(format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer
}

fn server_summary(server: &RunningServer, token: &str, range: DateRange) -> Value {
    let path = format!("/api/v1/summary?from={}&to={}", range.from, range.to);
    api_get(server, token, &path).json().unwrap()
}

/// The dashboard's overview of `period`: its figures are `summary`'s.
fn check_overview(browser: &Browser, server: &RunningServer, period: &str, summary: &Value) {
    browser.go(&format!("{}/?period={period}", server.url));
    let vi = ReportLang::Vi;
    let whole = Figures::of(summary, Scale::Three);
    assert_eq!(browser.text("#total"), vi.count(whole.total), "{period}");
    assert_eq!(browser.text("#unrated"), vi.count(whole.unrated));
    assert_eq!(browser.text("#repeat"), vi.count(whole.repeat_dossier));
    assert_eq!(browser.text("#misuse"), vi.count(whole.misuse));
    assert_eq!(browser.text("#satisfied"), vi_percent(whole.satisfied_pct));
    for (level, (n, share)) in Scale::Three.levels().iter().zip(&whole.levels) {
        assert_eq!(
            browser.text(&format!("#level-{}", level.code())),
            vi.count(*n)
        );
        assert_eq!(
            browser.text(&format!("#share-{}", level.code())),
            vi_percent(*share)
        );
    }
}

/// A dashboard table of groups: each row as the page writes it, from the report's `key`.
fn expected_table(report: &Value, key: &str) -> Vec<Vec<String>> {
    let vi = ReportLang::Vi;
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let label = g["label"].as_str().or(g["key"].as_str());
            let figures = Figures::of(g, Scale::Three);
            let mut row = vec![
                label.unwrap_or(vi.words().none).to_owned(),
                vi.count(figures.total),
            ];
            row.extend(figures.levels.iter().map(|(n, _)| vi.count(*n)));
            row.push(vi_percent(figures.satisfied_pct));
            row.push(vi.count(figures.unrated));
            row
        })
        .collect()
}

#[test]
fn on_100_000_ratings_every_report_gives_the_numbers_of_the_summary_on_tablet_and_server() {
    let tablet = Tablet::new(Scale::Three, Lang::Vi);
    tablet.fill_demo(RATINGS, DAYS, 11);
    let dir = tablet.dir.path().to_owned();
    let year_args = ["--period".to_owned(), YEAR.to_owned()];

    // The tablet: every entry is in the year, and every format holds its summary.
    let year_summary = tablet_summary(&dir, year());
    let whole = Figures::of(&year_summary, Scale::Three);
    assert_eq!(
        whole.total + whole.unrated + whole.repeat_dossier,
        RATINGS,
        "{year_summary}"
    );
    assert!(
        whole.misuse > 0 && whole.repeat_dossier > 0,
        "{year_summary}"
    );
    let tablet_report = check_every_format(&year_summary, |f| tablet_export(&dir, f, &year_args));

    // The tablet's admin screen: today, this month, this quarter.
    let h = tablet.start(1280., 800.);
    h.sign_in_as_admin();
    let today = crate::support::now().date_naive();
    check_screen(&h, "admin-period-today", DateRange::day(today));
    check_screen(&h, "admin-period-month", DateRange::month_of(today));
    check_screen(&h, "admin-period-quarter", DateRange::quarter_of(today));
    let Harness { tablet, kiosk, .. } = h;
    kiosk.window.hide().unwrap();
    drop(kiosk);

    // The server, after one sync: the same summaries, and every format holds them.
    let root = tempfile::tempdir().unwrap();
    let server = RunningServer::start(&root.path().join("server.db"));
    let code = server.pairing_code("Quầy 1 – Hộ tịch");
    ok(&hailong(
        &dir,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    ok(&hailong(&dir, &["sync", "--once"]));
    server.command(&["unit", "UBND xã Tân Lập"]);
    let token = server.last_line(&["admin-token"]);
    let today = chrono::Local::now().date_naive();
    let quarter = DateRange::quarter_of(crate::support::now().date_naive());
    for range in [year(), quarter, DateRange::month_of(today)] {
        let on_server = server_summary(&server, &token, range);
        for (key, value) in tablet_summary(&dir, range).as_object().unwrap() {
            assert_eq!(&on_server[key], value, "{key} in {range:?}");
        }
    }
    let exports = root.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let server_report = check_every_format(&year_summary, |format| {
        let out = report_path(&exports, format);
        let path = out.to_str().unwrap();
        server.command(&[
            "export", "--format", format, "--out", path, "--period", YEAR,
        ]);
        out
    });
    for (key, value) in tablet_report.as_object().unwrap() {
        if !["unit", "made_at", "by_device"].contains(&key.as_str()) {
            assert_eq!(
                &server_report[key], value,
                "{key}: the server's and the tablet's"
            );
        }
    }
    let devices = groups(&server_report, "by_device");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].1, Figures::of(&year_summary, Scale::Three));

    // The export API sends what the command writes.
    let api_json: Value = api_get(&server, &token, "/api/v1/export?format=json&period=2026")
        .json()
        .unwrap();
    for (key, value) in server_report.as_object().unwrap() {
        if key != "made_at" {
            assert_eq!(&api_json[key], value, "{key}: the API's and the command's");
        }
    }
    let api_csv = api_get(&server, &token, "/api/v1/export?format=csv&period=2026")
        .bytes()
        .unwrap();
    assert_eq!(
        api_csv.as_ref(),
        std::fs::read(report_path(&exports, "csv")).unwrap(),
        "the ratings CSV"
    );

    // The web dashboard, in chromium: the year's and the quarter's figures, every table.
    assert!(server.add_user("lan", PASSWORD).status.success());
    let downloads = root.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let browser = Browser::start(&downloads, 1280, 1000);
    browser.go(&format!("{}/sign-in", server.url));
    browser.type_into("#name", "lan");
    browser.type_into("#password", PASSWORD);
    browser.follow("#submit");
    check_overview(&browser, &server, YEAR, &year_summary);
    assert_eq!(
        browser.text("#response"),
        vi_percent(server_report["response_pct"].as_f64())
    );
    let quarter_summary = tablet_summary(&dir, quarter);
    check_overview(&browser, &server, "2026-Q4", &quarter_summary);
    browser.go(&format!("{}/officers?period={YEAR}", server.url));
    assert_eq!(
        browser.table("#by-officer"),
        expected_table(&server_report, "by_officer")
    );
    browser.go(&format!("{}/fields?period={YEAR}", server.url));
    assert_eq!(
        browser.table("#by-field"),
        expected_table(&server_report, "by_field")
    );
    assert_eq!(
        browser.table("#by-procedure"),
        expected_table(&server_report, "by_procedure")
    );
    browser.go(&format!("{}/negatives?period={YEAR}", server.url));
    let negatives = server_report["negatives"].as_array().unwrap().len() as u64;
    assert_eq!(negatives, number(&year_summary["levels"], "unsatisfied"));
    assert_eq!(
        browser.text("#negative-count"),
        ReportLang::Vi.count(negatives)
    );
    // Fifty a page, the newest first.
    assert_eq!(
        browser.count("#negatives tbody tr") as u64,
        negatives.min(50)
    );
    if negatives > 50 {
        assert_eq!(
            browser.text("#page-of"),
            format!("Trang 1/{}", negatives.div_ceil(50))
        );
    }
    drop(tablet);
}
