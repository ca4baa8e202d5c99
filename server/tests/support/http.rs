//! An HTTP client for the server's tests and benches (included with `#[path]`), and the
//! dashboard's sign-in as a browser does it.

#![allow(dead_code)] // each includer uses its own part

use reqwest::blocking::Client;

/// In a workspace build reqwest carries rustls without a crypto provider (the tablet picks
/// ring), so one is installed first.
pub fn http() -> Client {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    Client::new()
}

/// A client as a browser is to the dashboard: it does not follow redirects (a test sees
/// them).
pub fn browser() -> Client {
    http();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in to the dashboard at `url` as a browser does: the sign-in form first (its
/// pre-session cookie and CSRF token), then the form posted from the server's own page.
/// `client` must not follow redirects. The answer to the post.
pub fn dashboard_sign_in(
    client: &reqwest::blocking::Client,
    url: &str,
    name: &str,
    password: &str,
) -> reqwest::blocking::Response {
    let (cookie, token) = sign_in_form(client, url);
    client
        .post(format!("{url}/sign-in"))
        .header("cookie", cookie)
        .header("origin", url)
        .form(&[("name", name), ("password", password), ("csrf", &token)])
        .send()
        .unwrap()
}

/// The sign-in form's pre-session cookie (`name=value`) and the token in the form.
pub fn sign_in_form(client: &reqwest::blocking::Client, url: &str) -> (String, String) {
    let form = client.get(format!("{url}/sign-in")).send().unwrap();
    let cookie = cookie_from(
        form.headers()["set-cookie"]
            .to_str()
            .expect("the form sets its cookie"),
    );
    let page = form.text().unwrap();
    (cookie, form_token(&page))
}

/// The CSRF token of the first form on `page`.
pub fn form_token(page: &str) -> String {
    const FIELD: &str = "name=\"csrf\" value=\"";
    let at = page.find(FIELD).expect("a form with a token") + FIELD.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

/// The `name=value` a `Set-Cookie` header asks to be sent back, without its attributes.
pub fn cookie_from(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}
