//! HTTPS without a public CA: `tls init` makes the commune's CA once and renews the server's
//! certificate under it, a server takes its certificate and CA from its configuration file and
//! gives the CA out, and `pair` prints an invitation whose QR code a scanner reads back.

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

#[test]
fn a_server_serving_from_its_configuration_file_gives_its_ca_and_an_invitation_a_scanner_reads() {
    let root = tempfile::tempdir().unwrap();
    let tls = root.path().join("tls");
    said(&tls_init(
        &tls,
        &["--name", "localhost", "--address", "127.0.0.1"],
    ));
    let config = root.path().join("server.toml");
    // Paths relative to the file, as the package writes them.
    std::fs::write(
        &config,
        "[tls]\ncert = \"tls/server.pem\"\nkey = \"tls/server.key\"\nca = \"tls/ca.pem\"\n",
    )
    .unwrap();
    let server = RunningServer::start_with(
        &root.path().join("server.db"),
        "127.0.0.1:0",
        &["--config".as_ref(), config.as_os_str()],
    );
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
