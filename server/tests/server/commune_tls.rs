//! HTTPS without a public CA: `tls init` makes the commune's CA once and renews the server's
//! certificate under it, a server takes its certificate and CA from its configuration file and
//! gives the CA out, and `pair` prints an invitation whose QR code a scanner reads back; the
//! dashboard's tablets page makes one too, drawn as SVG.

use crate::http::{cookie_from, dashboard_sign_in, form_token};
use crate::running::{RunningServer, hailong_server_command};
use hailong_core::invite::{Fingerprint, Invite};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn tls_init(dir: &Path, names: &[&str]) -> std::process::Output {
    let mut argv: Vec<std::ffi::OsString> =
        vec!["hailong-server".into(), "tls".into(), "init".into()];
    argv.extend(["--dir".into(), dir.into()]);
    argv.extend(names.iter().map(Into::into));
    hailong_server_command(argv, "")
}

fn said(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default().trim()
}

fn fingerprint_of(pem: &Path) -> Fingerprint {
    hailong_server::commune_ca::fingerprint(&std::fs::read(pem).unwrap()).unwrap()
}

#[test]
fn tls_init_makes_the_commune_ca_once_and_renews_the_server_certificate_under_it() {
    let root = tempfile::tempdir().unwrap();
    let tls = root.path().join("tls");
    let names = ["--name", "hailong.local", "--address", "192.168.1.10"];
    let first = said(&tls_init(&tls, &names));
    assert!(first.contains("made the commune CA"), "{first}");
    let fingerprint: Fingerprint = last_line(&first).parse().unwrap();
    assert_eq!(fingerprint, fingerprint_of(&tls.join("ca.pem")));
    for file in ["ca.pem", "ca.key", "server.pem", "server.key"] {
        let mode = std::fs::metadata(tls.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let ca = std::fs::read(tls.join("ca.pem")).unwrap();
    let chain = std::fs::read_to_string(tls.join("server.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "{chain}");
    assert!(chain.ends_with(std::str::from_utf8(&ca).unwrap()));

    // Again, as a renewal: the CA (and what tablets pinned) kept, a new server certificate.
    let again = said(&tls_init(&tls, &names));
    assert!(again.contains("kept the commune CA"), "{again}");
    assert_eq!(last_line(&again), fingerprint.to_string());
    assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca);
    assert_ne!(
        std::fs::read_to_string(tls.join("server.pem")).unwrap(),
        chain
    );

    // Without a name, with a name a certificate cannot hold: told, nothing touched.
    let none = tls_init(&tls, &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--name"));
    let bad = tls_init(&tls, &["--name", "hai lòng"]);
    assert_eq!(bad.status.code(), Some(2));
    // A CA whose key went missing is not replaced behind the tablets' backs.
    std::fs::rename(tls.join("ca.key"), root.path().join("ca.key.aside")).unwrap();
    let half = tls_init(&tls, &names);
    assert_eq!(half.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&half.stderr).contains("ca.key"),
        "{}",
        String::from_utf8_lossy(&half.stderr)
    );
    assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca);
}

/// What a camera reads from a QR code drawn in half blocks, light on dark (the lines of
/// `text` made of nothing else).
fn decode_qr(text: &str) -> String {
    // One row of modules per half line: light is 255.
    let modules: Vec<Vec<u8>> = text
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| " █▀▄".contains(c)))
        .flat_map(|line| {
            let shade = |light: bool| if light { 255 } else { 0 };
            let top = line.chars().map(|c| shade("█▀".contains(c))).collect();
            let bottom = line.chars().map(|c| shade("█▄".contains(c))).collect();
            [top, bottom]
        })
        .collect();
    assert!(!modules.is_empty(), "a QR code among the lines of {text}");
    decode_modules(&modules)
}

/// What a camera reads from the QR code the dashboard draws as SVG in `page`: a white square
/// of `viewBox="0 0 side side"`, each dark module a unit square `M{x} {y}h1v1h-1z`.
fn decode_svg_qr(page: &str) -> String {
    let svg = &page[page.find("<svg").expect("an SVG QR code")..];
    let side: usize = between(svg, "viewBox=\"0 0 ", " ").parse().unwrap();
    let mut modules = vec![vec![255u8; side]; side];
    for square in between(svg, " d=\"", "\"")
        .split('M')
        .filter(|s| !s.is_empty())
    {
        let corner = square.strip_suffix("h1v1h-1z").expect("unit squares");
        let (x, y) = corner.split_once(' ').unwrap();
        modules[y.parse::<usize>().unwrap()][x.parse::<usize>().unwrap()] = 0;
    }
    decode_modules(&modules)
}

fn decode_modules(modules: &[Vec<u8>]) -> String {
    let width = modules[0].len();
    assert!(
        modules.iter().all(|row| row.len() == width),
        "a square of modules"
    );
    let scale = 4;
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        width * scale,
        modules.len() * scale,
        |x, y| modules[y / scale][x / scale],
    );
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("a readable QR code").1
}

/// The text between the first `start` in `text` and the `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    &text[from..from + text[from..].find(end).unwrap()]
}

/// A server serving from a configuration file, as the package writes it, with the commune's
/// own CA that `tls init` made for localhost; `more` is added to the file. Its `tls` folder.
fn served_with_its_own_ca(root: &Path, more: &str) -> (RunningServer, std::path::PathBuf) {
    let tls = root.join("tls");
    said(&tls_init(
        &tls,
        &["--name", "localhost", "--address", "127.0.0.1"],
    ));
    let config = root.join("server.toml");
    // Paths relative to the file, as the package writes them.
    std::fs::write(
        &config,
        format!(
            "{more}[tls]\ncert = \"tls/server.pem\"\nkey = \"tls/server.key\"\nca = \"tls/ca.pem\"\n"
        ),
    )
    .unwrap();
    let server = RunningServer::start_with(
        &root.join("server.db"),
        "127.0.0.1:0",
        &["--config".as_ref(), config.as_os_str()],
    );
    (server, tls)
}

/// A client trusting only the CA in `ca_pem` (none: the system's roots), that shows redirects.
fn browser_trusting(ca_pem: Option<&[u8]>) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30));
    if let Some(pem) = ca_pem {
        builder = builder.tls_certs_only([reqwest::Certificate::from_pem(pem).unwrap()]);
    }
    builder.build().unwrap()
}

#[test]
fn a_server_serving_from_its_configuration_file_gives_its_ca_and_an_invitation_a_scanner_reads() {
    let root = tempfile::tempdir().unwrap();
    let (server, tls) = served_with_its_own_ca(root.path(), "");
    let config = root.path().join("server.toml");
    assert!(
        server.url.starts_with("https://localhost:"),
        "{}",
        server.url
    );

    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
    let pinned = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).unwrap()])
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let healthz = pinned
        .get(format!("{}/healthz", server.url))
        .send()
        .unwrap();
    assert_eq!(healthz.status(), 200);
    let given = pinned
        .get(format!("{}/api/v1/ca.pem", server.url))
        .send()
        .unwrap();
    assert_eq!(given.status(), 200);
    assert_eq!(given.bytes().unwrap().as_ref(), ca_pem.as_slice());

    // The invitation: the address given, the CA's fingerprint from the configuration file.
    let config_arg = config.to_str().unwrap();
    let printed = String::from_utf8(
        server
            .run_command(
                &[
                    "pair",
                    "--counter",
                    "Quầy 1",
                    "--address",
                    &server.url,
                    "--config",
                    config_arg,
                ],
                "",
            )
            .stdout,
    )
    .unwrap();
    let code = last_line(&printed).to_owned();
    let text = printed
        .lines()
        .find(|l| l.starts_with("hailong:pair?"))
        .unwrap_or_else(|| panic!("an invitation in {printed}"));
    let invite: Invite = text.parse().unwrap();
    assert_eq!(invite.server, server.url);
    assert_eq!(invite.code, code);
    assert_eq!(invite.ca, Some(fingerprint_of(&tls.join("ca.pem"))));
    assert_eq!(
        decode_qr(&printed),
        text,
        "the QR code holds the invitation"
    );
    // What a scanner reads is what the kiosk takes.
    assert!(Invite::looks_like(&decode_qr(&printed)));

    // Without an address there is nothing to invite to: the code alone.
    let bare = server.command(&["pair", "--counter", "Quầy 2"]);
    assert_eq!(bare.lines().count(), 2, "{bare}");
    assert!(!bare.contains("hailong:pair"));
    // An address that is not one is refused before any code is made.
    let wrong = server.run_command(
        &[
            "pair",
            "--counter",
            "Quầy 3",
            "--address",
            "ftp://x",
            "--config",
            config_arg,
        ],
        "",
    );
    assert_eq!(wrong.status.code(), Some(2));
    // Nor does a server start with one for the dashboard's invitations.
    let serve = hailong_server_command(
        vec![
            "hailong-server".into(),
            "serve".into(),
            "--db".into(),
            root.path().join("other.db").into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--address".into(),
            "ftp://x".into(),
        ],
        "",
    );
    assert_eq!(serve.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&serve.stderr).contains("is not the server's address"),
        "{}",
        String::from_utf8_lossy(&serve.stderr)
    );
}

#[test]
fn a_server_without_a_ca_of_its_own_says_it_has_none() {
    let root = tempfile::tempdir().unwrap();
    let server = RunningServer::start(&root.path().join("server.db"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let answer = reqwest::blocking::get(format!("{}/api/v1/ca.pem", server.url)).unwrap();
    assert_eq!(answer.status(), 404);
    let body: serde_json::Value = answer.json().unwrap();
    assert!(body["error"].is_string(), "{body}");
}

const PASSWORD: &str = "một mật khẩu đủ dài";

/// Signs `client` in to the dashboard at `url` as a new administrator: the session's cookie
/// and the CSRF token of the tablets page's forms.
fn signed_in(server: &RunningServer, client: &reqwest::blocking::Client) -> (String, String) {
    assert!(server.add_user("quantri", PASSWORD).status.success());
    let signed = dashboard_sign_in(client, &server.url, "quantri", PASSWORD);
    let cookie = cookie_from(signed.headers()["set-cookie"].to_str().unwrap());
    let page = devices_page(client, &server.url, &cookie);
    assert!(page.contains("action=\"/devices/pair\""), "{page}");
    (cookie, form_token(&page))
}

/// The tablets page at `url`, for the session of `cookie`.
fn devices_page(client: &reqwest::blocking::Client, url: &str, cookie: &str) -> String {
    client
        .get(format!("{url}/devices"))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap()
}

/// Posts the tablets page's pairing form as the browser at `origin` (its `Host` too).
fn post_pair(
    client: &reqwest::blocking::Client,
    url: &str,
    origin: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::blocking::Response {
    client
        .post(format!("{url}/devices/pair"))
        .header("cookie", cookie)
        .header("origin", origin)
        .header("host", origin.split_once("://").unwrap().1)
        .form(form)
        .send()
        .unwrap()
}

#[test]
fn the_dashboard_makes_a_pairing_code_whose_qr_code_pairs_a_tablet_with_the_pinned_ca() {
    let root = tempfile::tempdir().unwrap();
    let (server, tls) =
        served_with_its_own_ca(root.path(), "address = \"https://hailong.xa:8443\"\n");
    let ca_pem = std::fs::read(tls.join("ca.pem")).unwrap();
    let client = browser_trusting(Some(&ca_pem));
    let (cookie, csrf) = signed_in(&server, &client);
    let url = &server.url;

    // Only from this session's own form, only with a counter's name; no code is made otherwise.
    for form in [
        vec![("counter", "Quầy 5")],
        vec![("csrf", "0000"), ("counter", "Quầy 5")],
    ] {
        let refused = post_pair(&client, url, url, &cookie, &form);
        assert_eq!(refused.status(), 403);
    }
    // A page elsewhere posting to this server with the administrator's cookie.
    let other_site = client
        .post(format!("{url}/devices/pair"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str()), ("counter", "Quầy 5")])
        .send()
        .unwrap();
    assert_eq!(other_site.status(), 403);
    for name in ["   ", &"Q".repeat(101), "Quầy\u{1b}[2J 5"] {
        let refused = post_pair(
            &client,
            url,
            url,
            &cookie,
            &[("csrf", &csrf), ("counter", name)],
        );
        assert_eq!(refused.status(), 400);
        assert!(refused.text().unwrap().contains("1 đến 100 ký tự"));
    }
    let signed_out = client
        .post(format!("{url}/devices/pair"))
        .header("origin", url.as_str())
        .form(&[("csrf", csrf.as_str()), ("counter", "Quầy 5")])
        .send()
        .unwrap();
    assert_eq!(signed_out.status(), 303, "to sign in");

    let codes = || -> i64 {
        crate::api::sql(
            &root.path().join("server.db"),
            "SELECT count(*) FROM pairing_codes",
        )
    };
    assert_eq!(codes(), 0, "none made for a refused form");
    let made = post_pair(
        &client,
        url,
        url,
        &cookie,
        &[("csrf", &csrf), ("counter", "Quầy 5")],
    );
    assert_eq!(made.status(), 200);
    assert_eq!(made.headers()["cache-control"], "no-store");
    let page = made.text().unwrap();
    assert!(page.contains("Ghép nối máy tính bảng cho Quầy 5"), "{page}");
    let code = between(&page, "id=\"pair-code\">", "<");
    let shown = between(&page, "id=\"pair-invitation\">", "<").replace("&amp;", "&");
    let read = decode_svg_qr(&page);
    assert_eq!(read, shown, "the QR code holds the invitation shown");
    assert!(
        Invite::looks_like(&read),
        "the kiosk takes what the scanner reads"
    );
    let invite: Invite = read.parse().unwrap();
    assert_eq!(
        invite.server, "https://hailong.xa:8443",
        "the configured address"
    );
    assert_eq!(invite.code, code);
    assert_eq!(invite.ca, Some(fingerprint_of(&tls.join("ca.pem"))));
    assert_eq!(codes(), 1);

    // The code pairs a tablet, once.
    let pair = |name: &str| {
        client
            .post(format!("{url}/api/v1/devices/pair"))
            .json(&serde_json::json!({"code": code, "device_name": name}))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(pair("Máy quầy 5"), 201);
    assert_eq!(pair("Máy khác"), 410);
    let devices = devices_page(&client, url, &cookie);
    assert!(devices.contains("Máy quầy 5"), "{devices}");
}

#[test]
fn without_an_address_the_dashboard_invites_to_where_it_was_opened_but_never_to_loopback() {
    let root = tempfile::tempdir().unwrap();
    let server = RunningServer::start(&root.path().join("server.db"));
    let client = browser_trusting(None);
    let (cookie, csrf) = signed_in(&server, &client);
    let url = &server.url;
    let form = [("csrf", csrf.as_str()), ("counter", "Quầy 6")];

    // Opened on the server itself: a tablet cannot reach localhost, so no QR code, and why.
    let local = post_pair(&client, url, url, &cookie, &form).text().unwrap();
    assert!(local.contains("id=\"pair-no-address\""), "{local}");
    assert!(!local.contains("<svg"));
    let code = between(&local, "id=\"pair-code\">", "<").to_owned();
    assert_eq!(code.len(), server.pairing_code("Quầy 7").len());

    // Opened from another machine on the LAN: the address it used.
    let port = url.rsplit_once(':').unwrap().1;
    let lan = format!("http://192.168.1.10:{port}");
    let page = post_pair(&client, url, &lan, &cookie, &form)
        .text()
        .unwrap();
    let invite: Invite = decode_svg_qr(&page).parse().unwrap();
    assert_eq!(invite.server, lan);
    assert_eq!(invite.ca, None, "no CA of its own to pin");
    assert_ne!(invite.code, code, "a new code each time");
}
