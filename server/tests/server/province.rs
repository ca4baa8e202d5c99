//! A commune's server forwarding to its province's: paired upward with a code the province
//! made for it, it sends every entry it holds and takes, with its tablet and counter, and the
//! province ends with exactly the commune's entries and figures, through a province that crashed
//! and came back.

use crate::api::{Server, id, rating, value};
use crate::dashboard::{PASSWORD, get, sign_in};
use crate::http::cookie_from;
use crate::proxy::{Fault, Proxy};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Waits (polling, to a deadline) until the province holds `n` ratings.
fn until_held(province: &Server, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let held: i64 = value(&province.running, "SELECT count(*) FROM ratings");
        if held == n {
            return;
        }
        assert!(held < n, "the province holds {held} ratings, more than {n}");
        assert!(
            Instant::now() < deadline,
            "the province holds {held} of {n} ratings"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (polling, to a deadline) until `done` says so.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The dashboard's tablets page of `server`, signed in.
fn devices_page(server: &Server) -> String {
    signed_in_page(server, "/devices")
}

/// A dashboard page of `server` at `path`, signed in.
fn signed_in_page(server: &Server, path: &str) -> String {
    let _ = server.running.add_user("lan", PASSWORD);
    let signed_in = sign_in(&server.running, "lan", PASSWORD);
    let cookie = cookie_from(signed_in.headers()["set-cookie"].to_str().unwrap());
    get(&server.running, path, Some(&cookie)).text().unwrap()
}

/// The figure with HTML id `id` on a dashboard page.
fn figure(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no {id}: {page}"));
    let text = page[at..].split('>').nth(1).unwrap();
    text.split('<').next().unwrap().to_owned()
}

/// The summary's counts, as the API gives them for all time.
fn counts(server: &Server, admin: &str) -> Value {
    let summary: Value = server.get("/api/v1/summary", admin).json().unwrap();
    summary["counts"].clone()
}

#[test]
pub(crate) fn a_communes_entries_reach_its_province_once_with_their_tablets_through_a_crash() {
    let province = Server::start();
    let commune = Server::start();
    commune.cli(&["unit", "UBND xã Tân Phú"]);
    let said = province.cli(&[
        "pair",
        "--commune",
        "Xã Tân Phú",
        "--unit-code",
        " 000.17.22.h56 ",
    ]);
    assert!(said.contains("000.17.22.H56"), "{said}");
    let code = said.lines().last().unwrap().trim().to_owned();

    // Two tablets at the commune, before it is paired upward: a negative, a dossier rated
    // twice (a repeat), a dossier left unrated, a misuse press.
    let one = commune.device("Quầy 1");
    let two = commune.device("Quầy 2");
    let mut unhappy = rating(&id(1), "unsatisfied");
    unhappy["reasons"] = json!(["long_wait"]);
    let mut first = rating(&id(2), "satisfied");
    first["dossier_code"] = json!("000.17.22.H56-261120-0001");
    let mut again = rating(&id(3), "very_satisfied");
    again["dossier_code"] = json!("000.17.22.H56-261120-0001");
    let mut unrated = rating(&id(4), "not_rated");
    unrated["dossier_code"] = json!("000.17.22.H56-261120-0002");
    let batch = json!({"ratings": [unhappy, first],
        "misuse": [{"id": "01936f6e-8b7a-7c41-9a57-200000000001",
                    "created_at": "2026-11-23T09:20:00+07:00"}]});
    assert_eq!(commune.send(&one, &batch).0, reqwest::StatusCode::OK);
    assert_eq!(
        commune.statuses(&two, vec![again, unrated]),
        ["accepted", "accepted"]
    );

    let paired = upstream_pair(&province, &commune, &code);
    assert!(paired.contains("5 entries wait"), "{paired}");
    until_held(&province, 4);
    let admin = (province.admin_token(), commune.admin_token());
    assert_eq!(counts(&province, &admin.0), counts(&commune, &admin.1));
    let misuse: i64 = value(&province.running, "SELECT count(*) FROM misuse");
    assert_eq!(misuse, 1);
    // The province knows the commune by its token, the tablets by their ids there.
    let devices = province.cli(&["devices"]);
    assert!(devices.contains("Xã Tân Phú"), "{devices}");
    // With the version of the commune's server, as its batches say it.
    let commune_line = devices.lines().find(|l| l.contains("Xã Tân Phú")).unwrap();
    assert!(
        commune_line.ends_with(&format!("active   {}", env!("CARGO_PKG_VERSION"))),
        "{commune_line}"
    );
    let tablets: i64 = value(
        &province.running,
        "SELECT count(DISTINCT tablet_id) FROM ratings",
    );
    assert_eq!(tablets, 2);
    let repeats: i64 = value(
        &province.running,
        "SELECT count(*) FROM ratings WHERE repeat_dossier",
    );
    assert_eq!(repeats, 1, "the same repeat as the commune's");
    // The province's report has its breakdown by commune ("Theo xã"), the commune's by
    // counter.
    let sheets = |server: &Server| {
        let out = server.running.db.with_extension("xlsx");
        server.cli(&["export", "--format", "xlsx", "--out", out.to_str().unwrap()]);
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(&out).unwrap();
        use calamine::Reader;
        let names = book.sheet_names();
        let rows: Vec<String> = names
            .iter()
            .filter(|n| n.starts_with("Theo x") || n.starts_with("Theo qu"))
            .flat_map(|n| {
                let range = book.worksheet_range(n).unwrap();
                range
                    .rows()
                    .map(|r| format!("{n}: {:?}", r))
                    .collect::<Vec<_>>()
            })
            .collect();
        (names, rows.join("\n"))
    };
    let (names, rows) = sheets(&province);
    assert!(names.iter().any(|n| n == "Theo xã"), "{names:?}");
    assert!(rows.contains("Xã Tân Phú"), "{rows}");
    let (names, _) = sheets(&commune);
    assert!(names.iter().any(|n| n == "Theo quầy"), "{names:?}");
    // The commune hears the province's answer a moment after the province has committed.
    until("the commune's outbox is empty", || {
        commune.cli(&["upstream", "show"]).contains("waiting: 0")
    });
    // Both dashboards say so: the commune how its forwarding stands, the province which
    // commune it hears from.
    let mut page = String::new();
    until("the commune's page says nothing waits", || {
        page = devices_page(&commune);
        page.contains("<strong id=\"upstream-waiting\">0</strong>")
    });
    assert!(page.contains(&province.running.url), "{page}");
    assert!(!page.contains("id=\"upstream-failing\""), "{page}");
    let page = devices_page(&province);
    assert!(
        page.contains("Xã Tân Phú") && page.contains("000.17.22.H56"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"upstream\""),
        "a province forwarding nowhere: {page}"
    );
    // The province's communes side by side: the commune's figures, as its own overview has
    // them.
    let communes = signed_in_page(&province, "/communes?period=2026&sort=negatives");
    assert!(communes.contains("id=\"nav-communes\""), "{communes}");
    assert!(
        communes.contains("<tr data-key=\"000.17.22.H56\">"),
        "{communes}"
    );
    assert!(communes.contains("aria-sort=\"descending\""), "{communes}");
    let overview = signed_in_page(&commune, "/?period=2026");
    for id in ["satisfied", "response"] {
        let figure = figure(&overview, id);
        assert!(
            communes.contains(&format!(">{figure}<")),
            "{id} {figure}: {communes}"
        );
    }
    let none = signed_in_page(&commune, "/communes?period=2026&sort=bogus");
    assert!(none.contains("id=\"no-communes\""), "{none}");
    assert!(
        !none.contains("id=\"nav-communes\""),
        "a commune has none: {none}"
    );

    // The province crashes; the commune takes more meanwhile, and forwards them once the
    // province is back: none lost, none twice.
    let mut province = province;
    province.kill();
    let more: Vec<Value> = (5..=40).map(|n| rating(&id(n), "satisfied")).collect();
    assert!(commune.statuses(&one, more).iter().all(|s| s == "accepted"));
    // A tablet whose clock is years off: the commune finds the time doubtful, and so does the
    // province, which cannot see that tablet's clock.
    let mut skewed = rating(&id(41), "satisfied");
    skewed["created_at"] = json!("2020-01-01T09:00:00+07:00");
    let late = json!({"ratings": [skewed], "sent_at": "2020-01-01T09:00:05+07:00"});
    assert_eq!(commune.send(&two, &late).0, reqwest::StatusCode::OK);
    let province = province.restart();
    until_held(&province, 41);
    let doubtful: i64 = value(
        &province.running,
        "SELECT count(*) FROM ratings WHERE clock_skew",
    );
    assert_eq!(doubtful, 1);
    assert_eq!(counts(&province, &admin.0), counts(&commune, &admin.1));
    let distinct: i64 = value(&province.running, "SELECT count(DISTINCT id) FROM ratings");
    assert_eq!(distinct, 41);

    // A commune's own pages, reached from the communes side by side, hold its figures alone,
    // as its own server has them, though the province has a tablet of its own beside it.
    let desk = province.device("Quầy tỉnh");
    let mut theirs = rating(&id(90), "unsatisfied");
    theirs["reasons"] = json!(["attitude"]);
    theirs["officer"] = json!("Lê Văn Tỉnh");
    assert_eq!(province.statuses(&desk, vec![theirs]), ["accepted"]);
    let device: String = value(
        &province.running,
        "SELECT id FROM devices WHERE unit_code IS NOT NULL",
    );
    let communes = signed_in_page(&province, "/communes?period=2026");
    let link = format!("/?period=2026&commune={device}");
    assert!(
        communes.contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))),
        "{communes}"
    );
    let own = signed_in_page(&province, &link);
    let overview = signed_in_page(&commune, "/?period=2026");
    for id in [
        "total",
        "satisfied",
        "unrated",
        "response",
        "repeat",
        "misuse",
    ] {
        assert_eq!(figure(&own, id), figure(&overview, id), "{id}");
    }
    assert!(own.contains("id=\"all-communes\""), "{own}");
    assert!(own.contains("Xã Tân Phú"), "{own}");
    assert!(own.contains("id=\"exports-of-province\""), "{own}");
    assert!(
        own.contains(&format!(
            "href=\"/officers?period=2026&amp;commune={device}\""
        )),
        "the menu stays on the commune: {own}"
    );
    let whole = signed_in_page(&province, "/?period=2026");
    assert_ne!(figure(&whole, "total"), figure(&own, "total"));
    let officers = signed_in_page(
        &province,
        &format!("/officers?period=2026&commune={device}"),
    );
    assert!(!officers.contains("Lê Văn Tỉnh"), "{officers}");
    assert!(signed_in_page(&province, "/officers?period=2026").contains("Lê Văn Tỉnh"));
    // The province's negatives say whose each is; a commune's are its own.
    let negatives = signed_in_page(&province, "/negatives?period=2026");
    assert!(
        negatives.contains("<td class=\"commune\">Xã Tân Phú</td>"),
        "{negatives}"
    );
    assert_eq!(figure(&negatives, "negative-count"), "2");
    let negatives = signed_in_page(
        &province,
        &format!("/negatives?period=2026&commune={device}&reason=long_wait"),
    );
    assert_eq!(figure(&negatives, "negative-count"), "1");
    assert!(
        negatives.contains(&format!("name=\"commune\" value=\"{device}\"")),
        "the filters stay on the commune: {negatives}"
    );
    // A commune that is not one: the page says so.
    let _ = province.running.add_user("lan", PASSWORD);
    let signed_in = sign_in(&province.running, "lan", PASSWORD);
    let cookie = cookie_from(signed_in.headers()["set-cookie"].to_str().unwrap());
    let desk: String = value(
        &province.running,
        "SELECT id FROM devices WHERE counter = 'Quầy tỉnh'",
    );
    for path in [
        format!("/?commune={desk}"),
        "/fields?commune=nobody".to_owned(),
    ] {
        let answer = get(&province.running, &path, Some(&cookie));
        assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND, "{path}");
    }
}

#[test]
fn ratings_with_the_longest_texts_go_up_in_batches_the_province_takes() {
    let province = Server::start();
    let commune = Server::start();
    commune.cli(&["unit", "UBND xã Tân Phú"]);
    let tablet = commune.device("Quầy 1");
    // All a comment, a procedure's name, its field's, an officer's and a counter's may hold, in
    // Vietnamese letters: 500 such ratings make a request of over 1 MiB, more than the province
    // takes.
    let longest = |text: &str, chars: usize| -> String {
        let text: String = text.repeat(chars).chars().take(chars).collect();
        text.trim_end().to_owned()
    };
    let comment = longest("Chờ đợi quá lâu, phải bổ sung giấy tờ nhiều lần. ", 500);
    let name = longest("Chứng thực bản sao từ bản chính giấy tờ, văn bản; ", 300);
    let field = longest("Chứng thực, hộ tịch, đất đai, xây dựng; ", 300);
    let officer = longest(
        "Nguyễn Thị Hồng Nhung, Trần Thị Mỹ Lệ, Phạm Ngọc Tường Vy; ",
        300,
    );
    let counter = longest(
        "Quầy tiếp nhận và trả kết quả hồ sơ đất đai, xây dựng; ",
        300,
    );
    let bytes = comment.len() + name.len() + field.len() + officer.len() + counter.len();
    assert!(500 * bytes > hailong_core::wire::MAX_BATCH_BYTES);
    for batch in 0..3 {
        let ratings: Vec<Value> = (0..200)
            .map(|n| {
                let mut r = rating(&id(10_000 + batch * 200 + n), "unsatisfied");
                r["reasons"] = json!(["long_wait"]);
                r["comment"] = json!(comment);
                r["procedure_code"] = json!("1.001193");
                r["procedure_name"] = json!(name);
                r["field_code"] = json!("CT");
                r["field_name"] = json!(field);
                r["officer"] = json!(officer);
                r["counter"] = json!(counter);
                r
            })
            .collect();
        let (status, _) = commune.send(&tablet, &json!({ "ratings": ratings }));
        assert_eq!(status, reqwest::StatusCode::OK);
    }
    pair_upward(&province, &commune);
    until_held(&province, 600);
    let whole: i64 = value(
        &province.running,
        &format!(
            "SELECT count(*) FROM ratings WHERE comment = '{comment}' AND procedure_name = '{name}'"
        ),
    );
    assert_eq!(whole, 600, "every text arrived whole");
}

#[test]
fn pairing_upward_refuses_a_bad_unit_code_an_unnamed_commune_and_a_wrong_code_with_reasons() {
    let province = Server::start();
    let commune = Server::start();
    let refused = |server: &Server, args: &[&str], reason: &str| {
        let out = server.running.run_command(args, "");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {said}");
        assert!(said.contains(reason), "{args:?}: {said}");
    };
    refused(
        &province,
        &["pair", "--commune", "Xã A", "--unit-code", "xã A!"],
        "is not a unit code",
    );
    refused(
        &province,
        &["pair", "--unit-code", "000.17.22.H56"],
        "--commune",
    );
    refused(
        &province,
        &["pair", "--commune", "  ", "--unit-code", "000.17.22.H56"],
        "is not a name",
    );
    let url = province.running.url.clone();
    refused(
        &commune,
        &["upstream", "pair", "--server", &url, "--code", "AAAA-BBBB"],
        "name this unit first",
    );
    commune.cli(&["unit", "UBND xã A"]);
    refused(
        &commune,
        &["upstream", "pair", "--server", &url, "--code", "AAAA-BBBB"],
        "unknown pairing code",
    );
    let shown = commune.cli(&["upstream", "show"]);
    assert!(shown.contains("not paired"), "{shown}");
}

/// A commune forwarding through `fault` on the way to its province (pairing went straight).
fn through(fault: Fault, seed: u64) {
    let province = Server::start();
    let commune = Server::start();
    commune.cli(&["unit", "UBND xã Tân Phú"]);
    let code = province.running.last_line(&[
        "pair",
        "--commune",
        "Xã Tân Phú",
        "--unit-code",
        "000.17.22.H56",
    ]);
    let address = province.running.listen_address().parse().unwrap();
    let proxy = Proxy::start(address, fault, seed);
    upstream_pair(&province, &commune, &code);
    // From here on, every batch goes through the proxy.
    commune.execute(&format!(
        "UPDATE settings SET value = replace(value, '{}', '{}') WHERE key = 'upstream'",
        province.running.url, proxy.url
    ));
    // At least six batches upward (500 at most each), so that a connection the proxy breaks
    // after its first to third answer, or after up to 400 KB, is broken.
    let tablet = commune.device("Quầy 1");
    for batch in 0..6 {
        let ratings: Vec<Value> = (1..=500)
            .map(|n| {
                let mut r = rating(&id(batch * 1000 + n), "satisfied");
                r["comment"] = json!("Cán bộ hướng dẫn tận tình, thủ tục nhanh gọn, cảm ơn.");
                r
            })
            .collect();
        assert!(
            commune
                .statuses(&tablet, ratings)
                .iter()
                .all(|s| s == "accepted")
        );
    }
    until_held(&province, 3000);
    assert!(proxy.faults() > 0, "{fault:?}: the proxy broke nothing");
    let distinct: i64 = value(&province.running, "SELECT count(DISTINCT id) FROM ratings");
    assert_eq!(distinct, 3000, "{fault:?}");
    let admin = (province.admin_token(), commune.admin_token());
    assert_eq!(counts(&province, &admin.0), counts(&commune, &admin.1));
}

#[test]
pub(crate) fn answers_lost_on_the_way_up_are_sent_again_and_held_once() {
    through(Fault::DropResponses, 16);
}

#[test]
pub(crate) fn requests_cut_on_the_way_up_are_sent_again_and_held_once() {
    through(Fault::CutRequests, 17);
}

/// Inside `on_postgres` (both servers' data in one private PostgreSQL): PostgreSQL itself
/// killed and started again while the commune forwards a backlog; afterwards the province
/// holds each entry once.
#[test]
fn postgresql_restarted_while_a_commune_forwards_loses_nothing_and_doubles_nothing() {
    crate::running::on_postgres(|| {
        let province = Server::start();
        let commune = Server::start();
        commune.cli(&["unit", "UBND xã Tân Phú"]);
        let code = province.running.last_line(&[
            "pair",
            "--commune",
            "Xã Tân Phú",
            "--unit-code",
            "000.17.22.H56",
        ]);
        let tablet = commune.device("Quầy 1");
        let total = 5_000;
        for batch in 0..total / 500 {
            let ratings: Vec<Value> = (1..=500)
                .map(|n| rating(&id(batch * 1000 + n), "satisfied"))
                .collect();
            assert!(
                commune
                    .statuses(&tablet, ratings)
                    .iter()
                    .all(|s| s == "accepted")
            );
        }
        upstream_pair(&province, &commune, &code);
        // Once the first batches are in, and before the last: the power cut.
        let mut held = 0;
        until("the forwarding has begun", || {
            held = value::<i64>(&province.running, "SELECT count(*) FROM ratings");
            held > 0
        });
        assert!(crate::running::restart_postgres());
        assert!(
            held < i64::from(total),
            "the restart came after the last batch"
        );
        until_held(&province, i64::from(total));
        let distinct: i64 = value(&province.running, "SELECT count(DISTINCT id) FROM ratings");
        assert_eq!(distinct, i64::from(total));
        let counted: i64 = value(
            &province.running,
            "SELECT CAST(sum(n) AS BIGINT) FROM daily_counts",
        );
        assert_eq!(counted, i64::from(total), "counted once each");
    });
}

/// Pairs `commune` upward with a new code from `province`, as its IT officer would.
fn pair_upward(province: &Server, commune: &Server) {
    let said = province.cli(&[
        "pair",
        "--commune",
        "Xã Tân Phú",
        "--unit-code",
        "000.17.22.H56",
    ]);
    let code = said.lines().last().unwrap().trim().to_owned();
    let paired = upstream_pair(province, commune, &code);
    assert!(paired.contains("paired with"), "{paired}");
}

/// `hailong-server upstream pair` on `commune` with `code` from `province`; what it said.
fn upstream_pair(province: &Server, commune: &Server, code: &str) -> String {
    commune.cli(&[
        "upstream",
        "pair",
        "--server",
        &province.running.url,
        "--code",
        code,
    ])
}

#[test]
pub(crate) fn a_commune_the_province_revoked_stops_sending_says_so_and_sends_once_paired_again() {
    let province = Server::start();
    let commune = Server::start();
    commune.cli(&["unit", "UBND xã Tân Phú"]);
    pair_upward(&province, &commune);
    let one = commune.device("Quầy 1");
    assert_eq!(
        commune.statuses(&one, vec![rating(&id(1), "satisfied")]),
        ["accepted"]
    );
    until_held(&province, 1);
    let revoked: String = value(
        &province.running,
        "SELECT id FROM devices WHERE unit_code IS NOT NULL",
    );
    province.cli(&["revoke", &revoked]);

    // The next entry meets the refused token: the commune says so and keeps the entry.
    assert_eq!(
        commune.statuses(&one, vec![rating(&id(2), "satisfied")]),
        ["accepted"]
    );
    let mut page = String::new();
    until("the commune says the province refuses it", || {
        page = devices_page(&commune);
        page.contains("id=\"upstream-token-refused\"")
    });
    assert!(
        page.contains("<strong id=\"upstream-waiting\">1</strong>"),
        "{page}"
    );
    assert!(!page.contains("id=\"upstream-failing\""), "{page}");
    // So it stays after a restart, with when it last sent.
    let commune = commune.restart();
    let shown = commune.cli(&["upstream", "show"]);
    assert!(
        shown.contains("refused by") && shown.contains("waiting: 1"),
        "{shown}"
    );
    assert!(!shown.contains("last sent: never"), "{shown}");
    until("the restarted commune says it too", || {
        page = devices_page(&commune);
        page.contains("id=\"upstream-token-refused\"")
    });
    let last = &page[page.find("id=\"upstream-last\"").unwrap()..];
    let last = &last[..last.find("</p>").unwrap()];
    assert!(last.contains("/20"), "the time it last sent: {last}");

    // Paired again: what waited goes, once.
    pair_upward(&province, &commune);
    until_held(&province, 2);
    until("nothing waits at the commune", || {
        commune.cli(&["upstream", "show"]).contains("waiting: 0")
    });
    until("the commune's page no longer says it is refused", || {
        !devices_page(&commune).contains("id=\"upstream-token-refused\"")
    });
}
