//! The web dashboard's rules over plain HTTP against the server in-process: the session cookie's
//! attributes, the same refusal for a wrong name or password, the sign-in limit, sign-out,
//! pages only for the signed-in, bad periods, a safe language switch, and `user add`'s checks.
//! The negatives page's paging and filters at their edges. (The browser test is
//! `tests/tablet/dashboard.rs` at the workspace root.)

use crate::http::{cookie_from, dashboard_sign_in, form_token};
use crate::running::RunningServer;
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

pub(crate) const PASSWORD: &str = "một mật khẩu đủ dài";

pub(crate) fn server() -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let running = RunningServer::start(&dir.path().join("server.db"));
    (running, dir)
}

/// A client that shows redirects instead of following them.
pub(crate) fn client() -> Client {
    crate::http::browser()
}

pub(crate) fn sign_in(server: &RunningServer, name: &str, password: &str) -> Response {
    dashboard_sign_in(&client(), &server.url, name, password)
}

/// The text of the page's `#problem` paragraph.
pub(crate) fn problem(page: &str) -> String {
    let start = page.find("id=\"problem\"").expect("a problem is shown");
    let text = &page[start..];
    text[text.find('>').unwrap() + 1..text.find("</p>").unwrap()].to_owned()
}

pub(crate) fn get(server: &RunningServer, path: &str, cookie: Option<&str>) -> Response {
    let mut request = client().get(format!("{}{path}", server.url));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().unwrap()
}

#[test]
pub(crate) fn sign_in_sets_a_strict_http_only_session_and_refuses_without_a_hint() {
    let (server, _dir) = server();
    assert_eq!(server.add_user("lan", "ngắn").status.code(), Some(2));
    assert_eq!(server.add_user(" ", PASSWORD).status.code(), Some(2));
    assert!(server.add_user("lan", PASSWORD).status.success());

    // Nothing but sign-in without a session.
    for path in [
        "/",
        "/officers",
        "/fields",
        "/negatives",
        "/devices",
        "/export?format=csv",
    ] {
        let response = get(&server, path, None);
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], "/sign-in");
    }
    assert_eq!(
        get(&server, "/", Some("hl_session=hs_forged")).status(),
        StatusCode::SEE_OTHER
    );

    // A wrong password and an unknown name get the same answer.
    let wrong_password = sign_in(&server, "lan", "sai mật khẩu rồi");
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_password.headers().get(SET_COOKIE).is_none());
    let unknown_name = sign_in(&server, "mai", PASSWORD);
    assert_eq!(unknown_name.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        problem(&wrong_password.text().unwrap()),
        problem(&unknown_name.text().unwrap())
    );

    let signed_in = sign_in(&server, "lan", PASSWORD);
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/");
    let set = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    let cookie = cookie_from(&set);
    let token = cookie.trim_start_matches("hl_session=");
    // The token is made of letters, digits, '_' and '-': safe inside the query.
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
    );
    let stored: i64 = crate::api::value(
        &server,
        &format!("SELECT count(*) FROM sessions WHERE token_hash = '{token}'"),
    );
    assert_eq!(stored, 0, "only the token's hash is stored");

    let page = get(&server, "/", Some(&cookie));
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let html = page.text().unwrap();
    assert!(html.contains("id=\"total\">0<"), "an empty month is zeros");
    // Issue 15: an icon with no request of its own, a named language menu, the percent sign
    // once, a heading on every page.
    assert!(
        html.contains("<link rel=\"icon\" href=\"data:image/svg+xml,"),
        "{html}"
    );
    assert!(
        html.contains("<nav class=\"langs\" aria-label=\"Ngôn ngữ\">"),
        "{html}"
    );
    assert!(
        !html.contains("Tỷ lệ hài lòng (%)") && html.contains("Tỷ lệ hài lòng<"),
        "the values carry their own percent sign"
    );
    for path in ["/", "/officers", "/fields", "/negatives", "/devices"] {
        let page = get(&server, path, Some(&cookie)).text().unwrap();
        assert!(page.contains("<h1"), "{path} has a main heading");
    }
    assert!(
        !html.contains(" style="),
        "the content security policy refuses inline styles: colours come from classes"
    );
    for path in [
        "/officers",
        "/fields",
        "/negatives",
        "/devices",
        "/?period=2026-Q1",
        "/?period=2026",
    ] {
        assert_eq!(
            get(&server, path, Some(&cookie)).status(),
            StatusCode::OK,
            "{path}"
        );
    }
    for path in [
        "/?period=2026-13",
        "/officers?period=soon",
        "/export?format=docx&period=2026",
    ] {
        assert_eq!(
            get(&server, path, Some(&cookie)).status(),
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    let export = get(
        &server,
        "/export?format=summary-csv&period=2026",
        Some(&cookie),
    );
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(
        export.headers()["content-disposition"],
        "attachment; filename=\"hailong-2026-summary.csv\""
    );

    // Languages: back only to a page of this server.
    let english = get(&server, "/lang/en?back=/devices", None);
    assert_eq!(english.headers()[LOCATION], "/devices");
    assert!(
        english.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("hl_lang=en")
    );
    assert_eq!(
        get(&server, "/lang/en?back=//evil.example/", None).headers()[LOCATION],
        "/"
    );
    let page = get(&server, "/devices", Some(&format!("{cookie}; hl_lang=en")));
    assert!(page.text().unwrap().contains("Sign out"));

    // Signing out ends the session on the server, not only in the browser.
    let token = form_token(&get(&server, "/devices", Some(&cookie)).text().unwrap());
    let out = client()
        .post(format!("{}/sign-out", server.url))
        .header(COOKIE, &cookie)
        .form(&[("csrf", &token)])
        .send()
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        get(&server, "/", Some(&cookie)).status(),
        StatusCode::SEE_OTHER
    );

    // A new password ends every session of that user.
    let again = sign_in(&server, "lan", PASSWORD);
    let cookie = cookie_from(again.headers()[SET_COOKIE].to_str().unwrap());
    assert_eq!(get(&server, "/", Some(&cookie)).status(), StatusCode::OK);
    assert!(
        server
            .add_user("lan", "một mật khẩu mới hơn")
            .status
            .success()
    );
    assert_eq!(
        get(&server, "/", Some(&cookie)).status(),
        StatusCode::SEE_OTHER
    );
}

#[test]
pub(crate) fn five_wrong_passwords_hold_the_name_back_even_with_the_right_one() {
    let (server, _dir) = server();
    assert!(server.add_user("lan", PASSWORD).status.success());
    for _ in 0..5 {
        assert_eq!(
            sign_in(&server, "lan", "đoán thử mật khẩu").status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let held = sign_in(&server, "lan", PASSWORD);
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held.headers().get(SET_COOKIE).is_none());
}

#[test]
pub(crate) fn the_negatives_page_past_its_end_shows_the_last_and_an_unknown_reason_filters_nothing()
{
    use crate::api::{Server, id, rating};
    let server = Server::start();
    let token = server.device("Quầy 1");
    let negatives: Vec<_> = (1..=60)
        .map(|n| {
            let mut r = rating(&id(n), "unsatisfied");
            r["reasons"] = serde_json::json!(["long_wait"]);
            r
        })
        .collect();
    assert!(
        server
            .statuses(&token, negatives)
            .iter()
            .all(|s| s == "accepted")
    );
    assert!(server.running.add_user("lan", PASSWORD).status.success());
    let answer = sign_in(&server.running, "lan", PASSWORD);
    let cookie = cookie_from(answer.headers()[SET_COOKIE].to_str().unwrap());
    let page = |query: &str| {
        let answer = get(
            &server.running,
            &format!("/negatives?{query}"),
            Some(&cookie),
        );
        assert_eq!(answer.status(), StatusCode::OK, "{query}");
        answer.text().unwrap()
    };
    let count = |html: &str| {
        let at = html.find("id=\"negative-count\">").expect("the count") + 20;
        html[at..at + html[at..].find('<').unwrap()].to_owned()
    };

    let past = page("page=999");
    assert!(past.contains("Trang 2/2"), "the last page: {past}");
    assert_eq!(
        past.matches("<tr").count() - 1,
        10,
        "its ten rows and the header"
    );
    let unknown = page("reason=rude");
    assert_eq!(count(&unknown), "60", "an unknown reason filters nothing");
    let nobody = page("reason=long_wait&officer=Ng%C6%B0%E1%BB%9Di+kh%C3%A1c");
    assert_eq!(count(&nobody), "0");
    assert!(
        nobody.contains("<option value=\"Người khác\" selected>Người khác</option>"),
        "the filter it was given shows, with no rows"
    );
    // The period arrows keep both filters.
    assert!(nobody.contains("officer=Ng%C6%B0%E1%BB%9Di+kh%C3%A1c&amp;reason=long_wait"));
}
