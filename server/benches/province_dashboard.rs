//! A province's dashboard over `DASHBOARD_RATINGS` (default 10,000,000) ratings of 2026 from
//! 300 communes, on a private PostgreSQL this bench starts: the real server in this process,
//! signed in, each page asked for over loopback as a browser would (read, added up, rendered).
//! - the province's overview of the year; the communes side by side, sorted by tỷ lệ hài lòng;
//!   one commune's officers page (with each officer's appraisal) for a quarter;
//! - the whole province's fields and officers pages of the year (every officer of 300
//!   communes, each with an appraisal).
//!
//! Beside each, its baseline: the same figures counted straight from the ratings in one query
//! (what the page would cost without the counts the writer keeps). The ratings, and the
//! counts as the writer keeps them, are made by SQL (`generate_series`), then analysed.
//! `cargo bench -p hailong-server --bench province_dashboard` (`DASHBOARD_RUNS`, default 7).

#[path = "../tests/support/http.rs"]
mod http;
#[path = "../tests/support/running.rs"]
mod running;

use running::RunningServer;
use std::time::{Duration, Instant};

const COMMUNES: i64 = 300;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The communes, then `ratings` ratings in chunks: rating `g` is commune `g % 300`'s, on one
/// of 2026's first 334 days, by one of its 8 officers, in one of 5 fields and 20 procedures;
/// 6 in 10 very satisfied, 3 satisfied, 1 unsatisfied (with reasons). Then the counts, from
/// the ratings, as migration 4 makes them.
fn fill(client: &mut postgres_client::Client, ratings: i64) {
    client
        .batch_execute(&format!(
            "INSERT INTO devices (id, name, counter, token_hash, paired_at, unit_code)
             SELECT 'xa-' || lpad(c::text, 3, '0'), 'bench', 'Xã số ' || c, 'hash-' || c, now(),
                 '000.' || lpad(c::text, 3, '0') || '.01.H56'
             FROM generate_series(0, {last}) c;
             INSERT INTO settings (key, value) VALUES ('unit_name', 'UBND tỉnh Đồng Nai')
             ON CONFLICT (key) DO NOTHING;",
            last = COMMUNES - 1
        ))
        .unwrap();
    const CHUNK: i64 = 1_000_000;
    let mut from = 0;
    while from < ratings {
        let to = (from + CHUNK).min(ratings) - 1;
        let started = Instant::now();
        client
            .batch_execute(&format!(
                "INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq,
                     scale, outcome, reasons, dossier, procedure_code, procedure_name,
                     field_code, field_name, officer, counter, repeat_dossier, clock_skew,
                     fingerprint)
                 SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3)
                         || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12))::uuid,
                     'xa-' || lpad((g % {COMMUNES})::text, 3, '0'), now(),
                     to_char(t, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+07:00', t::date, g, 3,
                     CASE WHEN g / 13 % 10 < 6 THEN 'very_satisfied'
                          WHEN g / 13 % 10 < 9 THEN 'satisfied' ELSE 'unsatisfied' END,
                     CASE WHEN g / 13 % 10 = 9 THEN 'long_wait late' ELSE '' END,
                     '000.00.01.H56-' || to_char(t, 'YYMMDD') || '-' || g,
                     '1.00' || (g / 11 % 20), 'Thủ tục số ' || (g / 11 % 20),
                     'f' || (g / 7 % 5), 'Lĩnh vực số ' || (g / 7 % 5),
                     'Cán bộ ' || (g % {COMMUNES}) || '.' || (g / {COMMUNES} % 8), 'Quầy 1',
                     false, false, 'bench'
                 FROM (SELECT g, timestamp '2026-01-01 07:30' + (g::int8 * 7919 % 334) * interval '1 day'
                              + (g % 480) * interval '1 minute' AS t
                       FROM generate_series({from}, {to}) g) s,
                 LATERAL (SELECT lpad(to_hex((extract(epoch FROM t) * 1000)::int8), 12, '0') AS h,
                                 lpad(to_hex(g), 18, '0') AS r) ids"
            ))
            .unwrap();
        eprintln!(
            "  ratings {from}..={to} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        from = to + 1;
    }
    let started = Instant::now();
    client
        .batch_execute(
            "INSERT INTO daily_counts
                 SELECT local_date, device_id, outcome, repeat_dossier, scale,
                     dossier IS NOT NULL, count(*)
                 FROM ratings GROUP BY 1, 2, 3, 4, 5, 6;
             INSERT INTO group_counts
                 SELECT 'officer', local_date, device_id, officer IS NOT NULL,
                     coalesce(officer, ''), coalesce(officer, ''), outcome, repeat_dossier,
                     dossier IS NOT NULL, count(*)
                 FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;
             INSERT INTO group_counts
                 SELECT 'field', local_date, device_id, field_name IS NOT NULL,
                     coalesce(field_name, ''), coalesce(field_name, ''), outcome,
                     repeat_dossier, dossier IS NOT NULL, count(*)
                 FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;
             INSERT INTO group_counts
                 SELECT 'procedure', local_date, device_id, procedure_code IS NOT NULL,
                     coalesce(procedure_code, ''), coalesce(procedure_name, ''), outcome,
                     repeat_dossier, dossier IS NOT NULL, count(*)
                 FROM ratings GROUP BY 2, 3, 4, 5, 6, 7, 8, 9;",
        )
        .unwrap();
    client.batch_execute("VACUUM ANALYZE").unwrap();
    eprintln!(
        "  counts and ANALYZE in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The median of `runs` timings of `work`, after one run to warm the caches.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    work();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// The PostgreSQL client the bench fills and counts with (the `postgres` crate's blocking
/// face of tokio-postgres, on a runtime of its own).
mod postgres_client {
    pub struct Client {
        runtime: tokio::runtime::Runtime,
        client: tokio_postgres::Client,
    }

    impl Client {
        pub fn connect(url: &str) -> Client {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let client = runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                client
            });
            Client { runtime, client }
        }

        pub fn batch_execute(&mut self, sql: &str) -> Result<(), tokio_postgres::Error> {
            self.runtime.block_on(self.client.batch_execute(sql))
        }

        /// Runs `sql`, reading every row it gives; how many.
        pub fn rows(&mut self, sql: &str) -> usize {
            self.runtime
                .block_on(self.client.query(sql, &[]))
                .unwrap()
                .len()
        }
    }
}

fn main() {
    let ratings = env("DASHBOARD_RATINGS", 10_000_000) as i64;
    let runs = env("DASHBOARD_RUNS", 7);
    running::on_postgres(|| {
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start(&dir.path().join("province.db"));
        let url = server.postgres.clone().expect("on PostgreSQL");
        let mut sql = postgres_client::Client::connect(&url);
        eprintln!("filling {ratings} ratings from {COMMUNES} communes…");
        fill(&mut sql, ratings);

        assert!(server.add_user("bench", "mật khẩu đủ dài").status.success());
        let client = http::browser();
        let signed_in = http::dashboard_sign_in(&client, &server.url, "bench", "mật khẩu đủ dài");
        let cookie = http::cookie_from(signed_in.headers()["set-cookie"].to_str().unwrap());
        let page = |path: &str| {
            let answer = client
                .get(format!("{}{path}", server.url))
                .header("cookie", &cookie)
                .send()
                .unwrap();
            assert_eq!(answer.status(), reqwest::StatusCode::OK, "{path}");
            let text = answer.text().unwrap();
            assert!(text.contains("id=\"period\""), "{path}: {text}");
            text
        };
        // The pages hold what was made.
        let overview = page("/?period=2026");
        let total = format!(
            "id=\"total\">{}<",
            hailong_report::Lang::Vi.count(ratings as u64)
        );
        assert!(overview.contains(&total), "{total}: {overview}");
        let communes = page("/communes?period=2026&sort=satisfied");
        assert_eq!(communes.matches("<tr data-key=").count(), COMMUNES as usize);
        let officers = page("/officers?period=2026-Q4&commune=xa-042");
        assert!(officers.contains("Cán bộ 42.7"), "{officers}");

        let cases: [(&str, &str, String); 5] = [
            (
                "overview, the year",
                "/?period=2026",
                "SELECT outcome, count(*) FROM ratings
                 WHERE local_date BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY outcome"
                    .to_owned(),
            ),
            (
                "communes ranked, the year",
                "/communes?period=2026&sort=satisfied",
                "SELECT device_id, outcome, count(*) FROM ratings
                 WHERE local_date BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY 1, 2"
                    .to_owned(),
            ),
            (
                "a commune's officers, a quarter",
                "/officers?period=2026-Q4&commune=xa-042",
                "SELECT officer, to_char(local_date, 'YYYY-MM'), outcome, count(*) FROM ratings
                 WHERE device_id = 'xa-042' AND local_date BETWEEN '2026-10-01' AND '2026-12-31'
                 GROUP BY 1, 2, 3"
                    .to_owned(),
            ),
            (
                "fields, the year, whole province",
                "/fields?period=2026",
                "SELECT field_name, procedure_code, outcome, count(*) FROM ratings
                 WHERE local_date BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY 1, 2, 3"
                    .to_owned(),
            ),
            (
                "officers, the year, whole province",
                "/officers?period=2026",
                "SELECT officer, to_char(local_date, 'YYYY-MM'), outcome, count(*) FROM ratings
                 WHERE local_date BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY 1, 2, 3"
                    .to_owned(),
            ),
        ];
        println!(
            "province dashboard, {ratings} ratings of 2026 from {COMMUNES} communes, median of {runs}:"
        );
        for (name, path, baseline) in cases {
            let served = median(runs, || {
                page(path);
            });
            let counted = median(runs, || {
                assert!(sql.rows(&baseline) > 0);
            });
            println!(
                "  {name:34} {:>8.1} ms   counted from the ratings: {:>8.1} ms   ratio {:.3}",
                served.as_secs_f64() * 1000.0,
                counted.as_secs_f64() * 1000.0,
                served.as_secs_f64() / counted.as_secs_f64()
            );
        }
    });
}
