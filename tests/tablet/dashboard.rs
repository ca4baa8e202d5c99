//! The server's web dashboard in a real browser (Debian's chromium, headless, through
//! chromedriver): a tablet's demo ratings synced to the real server, a user added with
//! `hailong-server user add`, sign-in, the figures that are in the database, every page, a CSV
//! downloaded, sign-out; screenshots to `target/screenshots/` in both languages.

use crate::binary::{hailong, ok};
use crate::running::RunningServer;
use crate::webdriver::Browser;
use serde_json::Value;
use std::path::Path;

const PASSWORD: &str = "Mật khẩu của xã 2026";

/// This month's figures as the server's summary API gives them.
fn month_summary(server: &RunningServer) -> Value {
    let today = chrono::Local::now().date_naive();
    let range = hailong_core::period::DateRange::month_of(today);
    let token = server.last_line(&["admin-token"]);
    let url = format!(
        "{}/api/v1/summary?from={}&to={}",
        server.url, range.from, range.to
    );
    crate::webdriver::http_client()
        .get(url)
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// A count as the Vietnamese page writes it: 1.234.
fn vi_count(n: u64) -> String {
    hailong_report::Lang::Vi.count(n)
}

#[test]
fn an_administrator_signs_in_reads_the_database_figures_and_downloads_a_csv() {
    let root = tempfile::tempdir().unwrap();
    let tablet = root.path().join("tablet");
    ok(&hailong(
        &tablet,
        &["demo", "--count", "3000", "--days", "20"],
    ));
    // The address tablets reach it at, as an installed server's configuration gives it.
    let server = RunningServer::start_with(
        &root.path().join("server.db"),
        "127.0.0.1:0",
        &["--address".as_ref(), "http://192.168.1.10:8443".as_ref()],
    );
    let code = server.pairing_code("Quầy 1 – Hộ tịch");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    ok(&hailong(&tablet, &["sync", "--once"]));
    server.command(&["unit", "UBND xã Tân Lập"]);

    let short = server.add_user("lan", "ngắn");
    assert_eq!(short.status.code(), Some(2), "a short password is refused");
    let added = server.add_user("lan", PASSWORD);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let summary = month_summary(&server);
    let total = summary["total"].as_u64().unwrap();
    assert!(total > 0, "{summary}");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let downloads = root.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let browser = Browser::start(&downloads, 1280, 1000);

    // Not signed in: the sign-in page. A wrong password says only that something was wrong.
    browser.go(&format!("{}/", server.url));
    assert!(browser.url().ends_with("/sign-in"), "{}", browser.url());
    browser.screenshot(&shots.join("dashboard-sign-in-vi.png"));
    let found = browser.accessibility_violations();
    assert!(found.is_empty(), "the sign-in page: {found:#?}");
    browser.type_into("#name", "lan");
    browser.type_into("#password", "sai mật khẩu");
    browser.follow("#submit");
    let wrong_password = browser.text("#problem");
    browser.type_into("#name", "x");
    browser.type_into("#password", PASSWORD);
    browser.follow("#submit");
    assert_eq!(
        browser.text("#problem"),
        wrong_password,
        "no hint which part was wrong"
    );
    browser.screenshot(&shots.join("dashboard-sign-in-wrong-vi.png"));

    // Signed in: this month's figures are the database's.
    browser.go(&format!("{}/sign-in", server.url));
    browser.type_into("#name", "lan");
    browser.type_into("#password", PASSWORD);
    assert_eq!(browser.value("#password"), PASSWORD);
    browser.follow("#submit");
    assert!(browser.url().ends_with('/'), "{}", browser.url());
    assert_eq!(browser.text("#total"), vi_count(total));
    assert_eq!(
        browser.text("#unrated"),
        vi_count(summary["unrated"].as_u64().unwrap())
    );
    assert_eq!(
        browser.text("#repeat"),
        vi_count(summary["repeat_dossier"].as_u64().unwrap())
    );
    for (level, count) in summary["levels"].as_object().unwrap() {
        assert_eq!(
            browser.text(&format!("#level-{level}")),
            vi_count(count.as_u64().unwrap()),
            "{level}"
        );
        let pct = summary["levels_pct"][level].as_f64().unwrap();
        assert_eq!(
            browser.text(&format!("#share-{level}")),
            format!("{pct:.1} %").replace('.', ",")
        );
    }
    let satisfied = summary["satisfied_pct"].as_f64().unwrap();
    assert_eq!(
        browser.text("#satisfied"),
        format!("{satisfied:.1} %").replace('.', ",")
    );
    assert_eq!(browser.text("#unit"), "UBND xã Tân Lập");
    browser.screenshot(&shots.join("dashboard-overview-vi.png"));

    // The other pages: every officer's row adds up to the total; the tablet is listed.
    browser.follow("#nav-officers");
    let officer_rows: u64 = (1..=browser.count("#by-officer tbody tr"))
        .map(|i| {
            browser
                .text(&format!("#by-officer tbody tr:nth-child({i}) td.total"))
                .replace('.', "")
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(officer_rows, total);
    // Each officer's appraisal, month by month, ends with the breakdown's own figures.
    let officers = browser.count("#by-officer tbody tr");
    assert_eq!(browser.count("section.appraisal"), officers);
    for i in 0..officers {
        assert_eq!(
            browser.text(&format!("#appraisal-{i} tfoot td.total")),
            browser.text(&format!(
                "#by-officer tbody tr:nth-child({}) td.total",
                i + 1
            )),
            "officer {i}"
        );
        let months: u64 = (1..=browser.count(&format!("#appraisal-{i} tbody tr")))
            .map(|m| {
                browser
                    .text(&format!("#appraisal-{i} tbody tr:nth-child({m}) td.total"))
                    .replace('.', "")
                    .parse::<u64>()
                    .unwrap()
            })
            .sum();
        let whole = browser.text(&format!("#appraisal-{i} tfoot td.total"));
        assert_eq!(months, whole.replace('.', "").parse::<u64>().unwrap());
    }
    browser.screenshot(&shots.join("dashboard-officers-vi.png"));
    browser.follow("#nav-fields");
    assert!(browser.count("#by-procedure tbody tr") > 1);
    browser.screenshot(&shots.join("dashboard-fields-vi.png"));
    browser.follow("#nav-negatives");
    let negatives = summary["levels"]["unsatisfied"].as_u64().unwrap();
    assert!(
        negatives > 50,
        "enough negatives for two pages: {negatives}"
    );
    assert_eq!(browser.text("#negative-count"), vi_count(negatives));
    // Fifty a page, newest first, and a way to the next page.
    let pages = negatives.div_ceil(50);
    assert_eq!(browser.count("#negatives tbody tr"), 50);
    assert_eq!(browser.text("#page-of"), format!("Trang 1/{pages}"));
    browser.screenshot(&shots.join("dashboard-negatives-vi.png"));
    let mut seen = 50;
    for page in 2..=pages {
        browser.follow("#page-next");
        assert_eq!(browser.text("#page-of"), format!("Trang {page}/{pages}"));
        seen += browser.count("#negatives tbody tr") as u64;
    }
    assert_eq!(seen, negatives, "every negative on one page or another");
    // Filtered by a reason, then by an officer too: every row has them.
    browser.run("document.querySelector('#filter-reason').value = 'late'; return true;");
    browser.follow("#filter-apply");
    let late = browser
        .text("#negative-count")
        .replace('.', "")
        .parse::<u64>()
        .unwrap();
    assert!(late > 0 && late < negatives, "{late} of {negatives}");
    for row in browser.table("#negatives") {
        assert!(row[2].contains("Trả kết quả trễ hẹn"), "{row:?}");
    }
    let officer = browser.run(
        "const s = document.querySelector('#filter-officer'); s.selectedIndex = 1; return s.value;",
    );
    let officer = officer.as_str().unwrap().to_owned();
    browser.follow("#filter-apply");
    let both = browser
        .text("#negative-count")
        .replace('.', "")
        .parse::<u64>()
        .unwrap();
    assert!(both <= late, "{both} of {late}");
    for row in browser.table("#negatives") {
        assert!(
            row[2].contains("Trả kết quả trễ hẹn") && row[6] == officer,
            "{row:?}"
        );
    }
    browser.screenshot(&shots.join("dashboard-negatives-filtered-vi.png"));
    // Another period keeps the filters, and coming back gives the same rows.
    let chosen = |browser: &crate::webdriver::Browser| {
        browser.run(
            "return [document.querySelector('#filter-reason').value,
                     document.querySelector('#filter-officer').value];",
        )
    };
    browser.follow("#earlier");
    assert_eq!(chosen(&browser), serde_json::json!(["late", officer]));
    browser.follow("#later");
    assert_eq!(chosen(&browser), serde_json::json!(["late", officer]));
    assert_eq!(
        browser
            .text("#negative-count")
            .replace('.', "")
            .parse::<u64>()
            .unwrap(),
        both
    );
    browser.follow("#nav-devices");
    assert_eq!(browser.count("#devices tbody tr"), 1);
    assert!(
        browser
            .text("#devices tbody tr")
            .contains("Quầy 1 – Hộ tịch")
    );
    // The tablet said, with its last batch, that nothing is left waiting on it.
    assert_eq!(browser.text("#devices tbody tr td:nth-child(6)"), "0");
    assert_eq!(
        browser.text("#devices tbody tr td:nth-child(5)"),
        vi_count(3000)
    );
    // Its clock skew is its clock's, from the batch's `sent_at`, not the age of the 20 days
    // of ratings it sent.
    let skew = browser.text("#devices tbody tr td:nth-child(7)");
    let seconds: i64 = skew.split_whitespace().next().unwrap().parse().unwrap();
    assert!(seconds.abs() <= 5, "{skew}");
    // Its version, as its batches say it: which counters an update has reached.
    assert_eq!(
        browser.text("#devices tbody tr td:nth-child(10)"),
        env!("CARGO_PKG_VERSION")
    );
    browser.screenshot(&shots.join("dashboard-devices-vi.png"));

    // A pairing code for another counter, its invitation as a QR code to scan there.
    browser.type_into("#pair-counter", "Quầy 2 – Đất đai");
    browser.follow("#pair-make");
    assert_eq!(
        browser.text("h1"),
        "Ghép nối máy tính bảng cho Quầy 2 – Đất đai"
    );
    let invitation = browser.text("#pair-invitation");
    assert!(
        invitation.starts_with("hailong:pair?server=http://192.168.1.10:8443&code="),
        "{invitation}"
    );
    assert!(invitation.ends_with(&browser.text("#pair-code")));
    assert_eq!(browser.count("#pair-qr svg"), 1);
    let found = browser.accessibility_violations();
    assert!(found.is_empty(), "the pairing page: {found:#?}");
    browser.screenshot(&shots.join("dashboard-pairing-vi.png"));
    browser.follow("#nav-devices");

    // A CSV of this month: one row per entry, the counted ones as many as the total.
    browser.follow("#nav-overview");
    browser.click("#export-csv");
    let month = chrono::Local::now().format("%Y-%m").to_string();
    let csv = browser.downloaded(&format!("hailong-{month}-ratings.csv"));
    let bytes = std::fs::read(&csv).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let counted_column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "counted")
        .unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let counted = rows.iter().filter(|r| &r[counted_column] == "1").count() as u64;
    assert_eq!(counted, total);

    // axe-core finds nothing wrong on any page, at a desktop's width and at a phone's.
    let pages = ["", "officers", "fields", "negatives", "devices"];
    for page in pages {
        browser.go(&format!("{}/{page}", server.url));
        let found = browser.accessibility_violations();
        assert!(found.is_empty(), "/{page} at 1280 px: {found:#?}");
    }

    // On a phone (390 px wide) no page is wider than the screen: wide tables scroll in their
    // own box; the trend's labels stay legible.
    browser.resize(390, 844);
    for page in pages {
        browser.go(&format!("{}/{page}", server.url));
        let found = browser.accessibility_violations();
        assert!(found.is_empty(), "/{page} at 390 px: {found:#?}");
        let fits = browser.run(
            "const page = document.documentElement.scrollWidth; \
             if (page > window.innerWidth + 1) return 'the page is ' + page + ' px wide'; \
             const stuck = [...document.querySelectorAll('table')] \
               .filter(t => getComputedStyle(t.parentElement).overflowX !== 'auto') \
               .map(t => t.id); \
             return stuck.length ? 'no scrolling for ' + stuck.join(', ') : 'fits';",
        );
        assert_eq!(fits, "fits", "/{page} at 390 px");
        if page.is_empty() {
            let smallest = browser.run(
                "return Math.min(...[...document.querySelectorAll('svg.trend.narrow text')] \
                   .map(t => t.getBoundingClientRect().height));",
            );
            let px = smallest.as_f64().unwrap();
            assert!(px >= 12.0, "the trend's labels are {px} px tall on a phone");
            browser.run("document.querySelector('svg.trend.narrow').scrollIntoView(); return 1;");
            browser.screenshot(&shots.join("dashboard-trend-phone-vi.png"));
        }
        let name = if page.is_empty() { "overview" } else { page };
        browser.screenshot(&shots.join(format!("dashboard-{name}-phone-vi.png")));
    }
    browser.resize(1280, 1000);
    browser.go(&format!("{}/", server.url));

    // English, then sign out: the session no longer opens the pages.
    browser.follow("a.lang[href^='/lang/en']");
    assert_eq!(browser.text("#sign-out"), "Sign out");
    assert_eq!(
        browser.text("#total"),
        hailong_report::Lang::En.count(total)
    );
    browser.screenshot(&shots.join("dashboard-overview-en.png"));
    // In English too, axe-core finds nothing wrong, on a desktop and on a phone.
    for (width, height) in [(1280, 1000), (390, 844)] {
        browser.resize(width, height);
        for page in pages {
            browser.go(&format!("{}/{page}", server.url));
            let found = browser.accessibility_violations();
            assert!(
                found.is_empty(),
                "/{page} in English at {width} px: {found:#?}"
            );
        }
    }
    browser.screenshot(&shots.join("dashboard-devices-phone-en.png"));
    browser.resize(1280, 1000);
    browser.follow("#nav-devices");
    browser.screenshot(&shots.join("dashboard-devices-en.png"));
    browser.type_into("#pair-counter", "Quầy 3 – Tư pháp");
    browser.follow("#pair-make");
    assert_eq!(browser.text("h1"), "Pairing a tablet for Quầy 3 – Tư pháp");
    assert_eq!(browser.count("#pair-qr svg"), 1);
    browser.screenshot(&shots.join("dashboard-pairing-en.png"));
    browser.follow("#sign-out");
    assert!(browser.url().ends_with("/sign-in"));
    browser.go(&format!("{}/officers", server.url));
    assert!(browser.url().ends_with("/sign-in"), "signed out");
    browser.screenshot(&shots.join("dashboard-sign-in-en.png"));
    // The sign-in page on a phone.
    browser.resize(390, 844);
    let found = browser.accessibility_violations();
    assert!(found.is_empty(), "the sign-in page at 390 px: {found:#?}");
}
