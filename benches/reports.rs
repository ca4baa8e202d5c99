//! Reports over 1,000,000 ratings, on the real release binaries. A tablet is filled with demo
//! ratings and synced to the real server; then each export is timed as a whole command
//! (`hailong export` on the tablet, `hailong-server export` on the server), beside a
//! baseline run on the same database: the same rows read with bare rusqlite and written with
//! the bare `csv` or `rust_xlsxwriter` crate; the PDF report beside the JSON one. Then the
//! dashboard's pages are asked for over HTTP, signed in, for this month and for the whole year.
//! Goals: CSV under 3 s, XLSX under 30 s, PDF under 5 s, every page under 200 ms.
//! `cargo build --release -p hailong-server && cargo bench --bench reports`
//! (`REPORTS_PAGES_ONLY=1`: the pages only, without the exports' minutes).

#[path = "../tests/support/binary.rs"]
mod binary;
#[path = "../server/tests/support/http.rs"]
mod http;
#[path = "../server/tests/support/process.rs"]
mod process;

use binary::{hailong, ok, sibling_server_binary};
use http::{cookie_from, dashboard_sign_in};
use process::ServerProcess;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RATINGS: &str = "1000000";
/// Runs of each figure; the median is printed.
const RUNS: usize = 3;
const PAGE_RUNS: usize = 9;
const PASSWORD: &str = "bench-password-2026";

/// One side's export command, given its arguments.
type Export<'a> = dyn Fn(&[&str]) + 'a;
fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect(),
    )
}

/// The columns every report entry is made of, in the export's order.
const TABLET_SELECT: &str = "SELECT id, recorded_at, outcome, reasons, comment, dossier,
    procedure_code, procedure_name, field_name, officer_name, '', repeat_dossier
    FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY seq";
const SERVER_SELECT: &str = "SELECT id, created_at, outcome, reasons, comment, dossier,
    procedure_code, procedure_name, field_name, officer, counter, repeat_dossier
    FROM ratings WHERE local_date BETWEEN ?1 AND ?2 ORDER BY local_date, created_at";

/// Reads every entry of `db` with bare rusqlite and hands its twelve cells to `row`; the
/// number of rows.
fn raw_rows(db: &Path, select: &str, mut row: impl FnMut(&[String; 12])) -> u64 {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare(select).unwrap();
    let mut rows = stmt.query(["0000-01-01", "9999-12-31"]).unwrap();
    let mut cells: [String; 12] = Default::default();
    let mut n = 0;
    while let Some(r) = rows.next().unwrap() {
        for (i, cell) in cells.iter_mut().enumerate() {
            cell.clear();
            match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Text(t) => {
                    cell.push_str(std::str::from_utf8(t).unwrap())
                }
                rusqlite::types::ValueRef::Integer(v) => cell.push_str(&v.to_string()),
                _ => {}
            }
        }
        row(&cells);
        n += 1;
    }
    n
}

fn raw_csv(db: &Path, select: &str, out: &Path) -> u64 {
    let mut writer =
        csv::Writer::from_writer(std::io::BufWriter::new(std::fs::File::create(out).unwrap()));
    let n = raw_rows(db, select, |cells| writer.write_record(cells).unwrap());
    writer.flush().unwrap();
    n
}

fn raw_xlsx(db: &Path, select: &str, out: &Path) -> u64 {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().unwrap();
    let mut row = 0u32;
    let n = raw_rows(db, select, |cells| {
        for (col, cell) in cells.iter().enumerate() {
            sheet.write_string(row, col as u16, cell).unwrap();
        }
        row += 1;
    });
    book.save(out).unwrap();
    n
}

/// The server's dashboard, signed in: the time to answer one page, whole body read.
struct Dashboard {
    http: reqwest::blocking::Client,
    url: String,
    cookie: String,
}

impl Dashboard {
    fn sign_in(server: &ServerProcess) -> Dashboard {
        assert!(server.add_user("bench", PASSWORD).status.success());
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let answer = dashboard_sign_in(&http, &server.url, "bench", PASSWORD);
        let set_cookie = answer.headers().get("set-cookie").expect("signed in");
        let cookie = cookie_from(set_cookie.to_str().unwrap());
        Dashboard {
            http,
            url: server.url.clone(),
            cookie,
        }
    }

    fn page(&self, path: &str) -> String {
        let answer = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
        answer.text().unwrap()
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let Some(server_bin) = sibling_server_binary() else {
        eprintln!("reports: build the server first: cargo build --release -p hailong-server");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tablet = dir.path().join("tablet");
    let today = chrono::Local::now().date_naive();
    // 300 days of ratings, all in one range the exports are asked for.
    let first = today - chrono::Days::new(310);
    let (from, to) = (first.to_string(), today.to_string());
    let range = ["--from", from.as_str(), "--to", to.as_str()];
    let started = Instant::now();
    ok(&hailong(
        &tablet,
        &["demo", "--count", RATINGS, "--days", "300"],
    ));
    println!("demo of {RATINGS} ratings: {}", seconds(started.elapsed()));
    let server = ServerProcess::start(&server_bin, &dir.path().join("server.db"));
    let code = server.pairing_code("Quầy 1");
    ok(&hailong(
        &tablet,
        &["pair", "--server", &server.url, "--code", &code],
    ));
    let started = Instant::now();
    ok(&hailong(&tablet, &["sync", "--once"]));
    println!("synced to the server: {}", seconds(started.elapsed()));
    let tablet_db = tablet.join("hailong.db");
    let out = |name: &str| -> PathBuf { dir.path().join(name) };
    // REPORTS_PAGES_ONLY=1: the dashboard's pages only, without the exports' minutes.
    let exports: &[&str] = if std::env::var_os("REPORTS_PAGES_ONLY").is_some() {
        &[]
    } else {
        &["csv", "xlsx"]
    };

    println!();
    println!(
        "| export of {RATINGS} ratings (median of {RUNS}) | command | bare crate | ratio | goal |"
    );
    println!("|---|---|---|---|---|");
    for &format in exports {
        let goal = if format == "csv" { "< 3 s" } else { "< 30 s" };
        let baseline = |db: &Path, select: &str| {
            let path = out(&format!("raw.{format}"));
            time(RUNS, || {
                let n = if format == "csv" {
                    raw_csv(db, select, &path)
                } else {
                    raw_xlsx(db, select, &path)
                };
                assert!(n >= 1_000_000, "{n} rows");
            })
        };
        let tablet_export = |args: &[&str]| {
            ok(&hailong(&tablet, args));
        };
        let server_export = |args: &[&str]| {
            server.command(args);
        };
        let sides: [(&str, &str, &Path, &str, &Export); 2] = [
            (
                "tablet",
                "hailong",
                &tablet_db,
                TABLET_SELECT,
                &tablet_export,
            ),
            (
                "server",
                "hailong-server",
                &server.db,
                SERVER_SELECT,
                &server_export,
            ),
        ];
        for (side, binary, db, select, export) in sides {
            let path = out(&format!("{side}.{format}"));
            let command = time(RUNS, || {
                let mut args = vec!["export", "--format", format];
                args.extend(["--out", path.to_str().unwrap()]);
                args.extend(range);
                export(&args);
            });
            let raw = baseline(db, select);
            println!(
                "| {side}, `{binary} export --format {format}` | {} | {} | {:.2}x | {goal} |",
                seconds(command),
                seconds(raw),
                command.as_secs_f64() / raw.as_secs_f64()
            );
        }
    }

    // The PDF report of the whole range: one pass over the entries like the JSON report, then
    // the pages laid out and the chart drawn. The JSON export of the same range is its baseline.
    println!();
    println!(
        "| PDF report of {RATINGS} ratings (median of {RUNS}) | command | JSON export | ratio | goal |"
    );
    println!("|---|---|---|---|---|");
    let sides: [(&str, &Export); 2] = [
        ("tablet", &|args: &[&str]| {
            ok(&hailong(&tablet, args));
        }),
        ("server", &|args: &[&str]| {
            server.command(args);
        }),
    ];
    for (side, export) in sides.into_iter().filter(|_| !exports.is_empty()) {
        let run = |format: &str| {
            let path = out(&format!("{side}-report.{format}"));
            time(RUNS, || {
                let mut args = vec!["export", "--format", format];
                args.extend(["--out", path.to_str().unwrap()]);
                args.extend(range);
                export(&args);
            })
        };
        let (pdf, json) = (run("pdf"), run("json"));
        println!(
            "| {side}, `export --format pdf` | {} | {} | {:.2}x | < 5 s |",
            seconds(pdf),
            seconds(json),
            pdf.as_secs_f64() / json.as_secs_f64()
        );
    }

    let dashboard = Dashboard::sign_in(&server);
    let month = today.format("%Y-%m").to_string();
    let year = today.format("%Y").to_string();
    println!();
    println!(
        "| dashboard page, 1,000,000 ratings on the server (median of {PAGE_RUNS}) | answered in | goal |"
    );
    println!("|---|---|---|");
    for (what, path) in [
        ("overview, this month (`/`)", "/".to_owned()),
        ("overview, this year", format!("/?period={year}")),
        ("officers, this month", format!("/officers?period={month}")),
        (
            "negatives, this month",
            format!("/negatives?period={month}"),
        ),
        ("officers, this year", format!("/officers?period={year}")),
        ("fields, this year", format!("/fields?period={year}")),
        ("negatives, this year", format!("/negatives?period={year}")),
    ] {
        dashboard.page(&path); // warm: the first answer also fills SQLite's page cache
        let took = time(PAGE_RUNS, || {
            dashboard.page(&path);
        });
        println!(
            "| {what} | {:.0} ms | {} |",
            took.as_secs_f64() * 1000.0,
            if path == "/" { "< 200 ms" } else { "" }
        );
    }
    std::io::stdout().flush().unwrap();
}
