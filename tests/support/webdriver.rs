//! A small W3C WebDriver client over Debian's chromedriver and headless chromium, for the
//! dashboard's browser test: open pages, fill and submit forms, read text, take screenshots,
//! download files.

#![allow(dead_code)]

use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A blocking HTTP client (reqwest is built here without a TLS provider: ring is installed).
pub fn http_client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
    pub downloads: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless chromium whose downloads go to `downloads`.
    pub fn start(downloads: &Path, width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMEDRIVER} (Debian's chromium-driver): {e}"));
        let stdout = BufReader::new(driver.stdout.take().unwrap());
        let (tx, started) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if line.contains("started successfully") {
                    let _ = tx.send(());
                }
            }
        });
        started
            .recv_timeout(Duration::from_secs(60))
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = http_client();
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                             "--lang=vi"],
                    "prefs": {
                        "download.default_directory": downloads.display().to_string(),
                        "download.prompt_for_download": false
                    }
                }
            }}
        });
        let answer: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {answer}"))
            .to_owned();
        Browser {
            driver,
            base,
            session,
            http,
            downloads: downloads.to_owned(),
        }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().unwrap().json().unwrap();
        if answer["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    pub fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The element with this CSS selector (the page must have it).
    pub fn element(&self, css: &str) -> String {
        let found = self.call(
            reqwest::Method::POST,
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    pub fn text(&self, css: &str) -> String {
        let id = self.element(css);
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// An input's current value.
    pub fn value(&self, css: &str) -> String {
        let id = self.element(css);
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/property/value"),
            None,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub fn count(&self, css: &str) -> usize {
        self.call(
            reqwest::Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    /// The text of every cell of a table's body, row by row, read in one call.
    pub fn table(&self, css: &str) -> Vec<Vec<String>> {
        let rows = self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))
                    .map(tr => Array.from(tr.cells).map(td => td.innerText.trim()));",
                "args": [css],
            })),
        );
        serde_json::from_value(rows).unwrap()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        );
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Clicks a link or button that loads a new page, and waits until that page has loaded.
    pub fn follow(&self, css: &str) {
        self.script("window.__before_click = true;");
        self.click(css);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.script(
            "return window.__before_click === undefined && document.readyState === 'complete';",
        ) != Value::Bool(true)
        {
            assert!(std::time::Instant::now() < deadline, "{css} loaded no page");
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    /// Resizes the window, as a phone's would be.
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Runs `script` in the page; what it returns.
    pub fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// Runs `script` in the page as an async script: it ends by calling `done(value)`; the
    /// value.
    pub fn run_async(&self, script: &str) -> Value {
        let script = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
    }

    /// What axe-core (vendored in `tests/support/axe/`, with its licence) finds wrong on the
    /// page against WCAG 2.2 A and AA: one line per violation and element.
    pub fn accessibility_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("axe/axe.min.js");
        self.run(&format!("{AXE}\n;return true;"));
        let found = self.run_async(
            "axe.run(document, { runOnly: { type: 'tag', values: \
               ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } }) \
             .then(r => done(r.violations.flatMap(v => v.nodes.map(n => \
               v.id + ' (' + v.impact + '): ' + n.target.join(' ') + ': ' + n.failureSummary)))) \
             .catch(e => done(['axe failed: ' + e]));",
        );
        serde_json::from_value(found).unwrap()
    }

    /// The page as PNG, written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Waits for the download named `name` to finish; its path. (The deadline only stops a
    /// broken test from hanging.)
    pub fn downloaded(&self, name: &str) -> PathBuf {
        let path = self.downloads.join(name);
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let unfinished = std::fs::read_dir(&self.downloads).unwrap().any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".crdownload")
            });
            if path.exists() && !unfinished {
                return path;
            }
            assert!(std::time::Instant::now() < deadline, "{name} never arrived");
            std::thread::park_timeout(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
