//! The command line of `hailong-server`, parsed by clap.

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use hailong_core::period::ReportPeriod;
use hailong_report::{Format, Lang};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "hailong-server",
    version,
    about = "Hài Lòng commune server: pairs tablets and takes their ratings exactly once"
)]
pub struct Cli {
    /// The configuration file: where the data is, where to listen, HTTPS, backups; what a
    /// command line gives wins over it [default: /etc/hailong-server/server.toml, if it exists]
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "HAILONG_SERVER_CONFIG"
    )]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and the dashboard
    Serve(ServeArgs),
    /// Make a one-time pairing code for a counter's tablet, or (on a province's server) for a
    /// commune's server (printed alone on the last line)
    Pair {
        #[command(flatten)]
        database: Database,
        /// The counter the tablet stands at, e.g. "Quầy 1"
        #[arg(
            long,
            value_name = "NAME",
            required_unless_present = "commune",
            conflicts_with = "commune"
        )]
        counter: Option<String>,
        /// The commune whose server forwards to this one, e.g. "Xã Tân Phú"
        #[arg(long, value_name = "NAME", requires = "unit_code")]
        commune: Option<String>,
        /// The commune's unit code, as its dossier codes begin, e.g. 000.17.22.H56
        #[arg(long, value_name = "CODE", requires = "commune")]
        unit_code: Option<String>,
        /// How long the code stays valid: 30m, 24h, 7d
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: Duration,
        /// The address tablets reach this server at, e.g. https://192.168.1.10:8443: with it,
        /// an invitation is printed, as text and as a QR code to scan at the counter
        #[arg(long, value_name = "URL")]
        address: Option<String>,
        /// The commune CA's certificate (`tls init` made it): its fingerprint goes in the
        /// invitation, and the tablet trusts that CA alone
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// HTTPS without a public CA: the commune's own CA and the server's certificate
    Tls {
        #[command(subcommand)]
        action: TlsCommand,
    },
    /// Make an admin API token (printed alone on the last line)
    AdminToken {
        #[command(flatten)]
        database: Database,
        #[arg(long, default_value = "admin")]
        name: String,
    },
    /// List paired devices: counter, last seen, ratings received, clock skew
    Devices {
        #[command(flatten)]
        database: Database,
    },
    /// Revoke a device: its token stops working at once
    Revoke {
        #[command(flatten)]
        database: Database,
        device_id: String,
    },
    /// Set the unit's name printed on reports, e.g. "UBND xã Tân Phú", and what the
    /// administrative layout prints around it
    Unit {
        #[command(flatten)]
        database: Database,
        name: String,
        /// The body above the unit, printed over its name, e.g. "UBND tỉnh Thanh Hóa" ("" for none)
        #[arg(long)]
        superior: Option<String>,
        /// The place in the date line, e.g. "Liêm Chung" (by default, from the unit's name)
        #[arg(long)]
        place: Option<String>,
        /// A signer's title at the end of the summary, left to right; repeat for several
        /// (by default "NGƯỜI LẬP BIỂU" and "THỦ TRƯỞNG ĐƠN VỊ")
        #[arg(long = "signer", value_name = "TITLE")]
        signers: Vec<String>,
    },
    /// Copy the database, consistently, while the server runs and tablets send; the copy is
    /// checked before it counts
    Backup {
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// Where the copy goes (replaced if it exists)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Put a backup in place of the database, with the server stopped; the replaced database
    /// is kept beside it
    Restore {
        /// The backup to restore
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// Replace a database that exists
        #[arg(long)]
        force: bool,
    },
    /// Manage the web dashboard's users
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Where alerts of negative ratings and the monthly and quarterly reports are sent: a mail
    /// server and/or a webhook
    Notify {
        #[command(subcommand)]
        action: NotifyCommand,
    },
    /// Forward every entry this server takes to its province's server
    Upstream {
        #[command(subcommand)]
        action: UpstreamCommand,
    },
    /// Write a report of every tablet's ratings to a file
    Export {
        #[command(flatten)]
        database: Database,
        /// csv (one row per rating), summary-csv, csv-excel and summary-csv-excel (for a
        /// spreadsheet with Vietnamese settings), xlsx (the formal report), pdf (the report to sign), png (chart) or json
        #[arg(long, value_parser = |s: &str| s.parse::<Format>(), value_name = "FORMAT")]
        format: Format,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// A month, quarter or year: 2026-03, 2026-Q1, 2026 (instead of --from/--to)
        #[arg(long, value_parser = |s: &str| s.parse::<ReportPeriod>().map_err(|e| e.to_string()), conflicts_with_all = ["from", "to"])]
        period: Option<ReportPeriod>,
        /// First day, YYYY-MM-DD (inclusive)
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        from: Option<NaiveDate>,
        /// Last day, YYYY-MM-DD (inclusive)
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        to: Option<NaiveDate>,
        /// Language of the labels in xlsx, pdf and png files: vi or en
        #[arg(long, default_value = "vi", value_parser = |s: &str| s.parse::<Lang>())]
        lang: Lang,
    },
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Make the commune's own CA (once) and a certificate for this server's names and LAN
    /// addresses signed by it; run again to renew the server's certificate, the CA (and what
    /// tablets pinned) kept
    Init {
        /// Where the files go: ca.pem, ca.key, server.pem, server.key
        /// [default: the folder of the configuration file's certificate]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// A name tablets reach the server by, e.g. hailong.local; repeat for several
        #[arg(long = "name", value_name = "DNS NAME")]
        names: Vec<String>,
        /// An address tablets reach the server at, e.g. 192.168.1.10; repeat for several
        #[arg(long = "address", value_name = "IP")]
        addresses: Vec<std::net::IpAddr>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// Pair with the province's server, with the code it made for this commune
    /// (`hailong-server pair --commune NAME --unit-code CODE` there); from then on every entry
    /// this server holds and takes is forwarded, once
    Pair {
        #[command(flatten)]
        database: Database,
        /// The province's server, e.g. https://hailong.thanhhoa.gov.vn
        #[arg(long, value_name = "URL")]
        server: String,
        #[arg(long)]
        code: String,
        /// The certificate (PEM) of the CA that signed the province's certificate, if it is
        /// not a public one
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// Where entries are forwarded, and how many wait
    Show {
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send through the office's mail server. The password, if any, is read from standard
    /// input (never from a flag, which other users see in `ps`)
    Smtp {
        #[command(flatten)]
        database: Database,
        /// The mail server, e.g. smtp.gmail.com
        #[arg(long)]
        host: String,
        /// 587 for starttls, 465 for tls
        #[arg(long)]
        port: Option<u16>,
        /// starttls, tls or none (none only for a relay on this machine or network, without a
        /// password)
        #[arg(long, default_value = "starttls", value_parser = |s: &str| s.parse::<crate::notify::settings::Security>())]
        security: crate::notify::settings::Security,
        /// The account to sign in with; its password is read from standard input
        #[arg(long)]
        user: Option<String>,
        /// The sender's address
        #[arg(long)]
        from: String,
        /// A recipient; repeat for several
        #[arg(long = "to", value_name = "ADDRESS", required = true)]
        to: Vec<String>,
        /// The certificate (PEM) of the commune's own CA, if it signed the mail server's
        /// certificate; trusted besides the system's roots
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
    },
    /// POST each alert and report as JSON to an address (Zalo OA, the provincial system, …)
    Webhook {
        #[command(flatten)]
        database: Database,
        #[arg(long)]
        url: String,
    },
    /// What to send: alerts of negative ratings, scheduled reports, and in which language
    Options {
        #[command(flatten)]
        database: Database,
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        alerts: Option<bool>,
        #[arg(long, value_name = "on|off", value_parser = on_off)]
        reports: Option<bool>,
        /// vi or en
        #[arg(long, value_parser = |s: &str| s.parse::<Lang>().map(|_| s.to_owned()))]
        lang: Option<String>,
    },
    /// Stop sending through a channel: smtp, webhook or all
    Off {
        #[command(flatten)]
        database: Database,
        #[arg(value_parser = ["smtp", "webhook", "all"])]
        channel: String,
    },
    /// Print the settings (without the password) and how the queue stands
    Show {
        #[command(flatten)]
        database: Database,
    },
    /// Queue a test message on every channel; the running server sends it
    Test {
        #[command(flatten)]
        database: Database,
    },
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: on or off")),
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a dashboard user, or give an existing one a new password (their sessions end).
    /// The password is read from standard input: at least 10 characters.
    Add {
        #[command(flatten)]
        database: Database,
        #[arg(long, value_name = "NAME")]
        name: String,
    },
}

/// Where the data is: a SQLite file (a commune's embedded default) or a PostgreSQL database
/// (a province's).
#[derive(Debug, Clone, clap::Args)]
#[group(multiple = false)]
pub struct Database {
    /// The SQLite database file
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// A PostgreSQL database, postgres://USER:PASSWORD@HOST:PORT/NAME; on another machine
    /// add ?sslmode=verify-full (and &sslrootcert=CA.pem for its own CA) for TLS, the
    /// server's certificate checked (also read from HAILONG_DATABASE, which other users do
    /// not see in `ps`)
    #[arg(
        long,
        value_name = "URL",
        env = "HAILONG_DATABASE",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

/// `hailong-server serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: Database,
    /// With --database: the folder for the server's own files (downloads being made)
    /// [default: hailong-server-files]
    #[arg(long, value_name = "DIR")]
    pub files: Option<PathBuf>,
    /// Address to listen on, e.g. 0.0.0.0:8443
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first)
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The commune CA that signed --tls-cert (`tls init` made it): tablets pairing with its
    /// fingerprint fetch it from here
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_ca: Option<PathBuf>,
    /// The address tablets reach this server at, e.g. https://192.168.1.10:8443: the
    /// dashboard's pairing QR codes hold it [default: the address the dashboard was opened at]
    #[arg(long, value_name = "URL")]
    pub address: Option<String>,
    #[command(flatten)]
    pub limits: ServeLimits,
    #[command(flatten)]
    pub backups: ServeBackups,
}

/// The limits on connections and sign-ins; the defaults suit a commune's network.
#[derive(Debug, clap::Args)]
pub struct ServeLimits {
    /// Most connections open at once [default: the open-file limit less 64]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// How long a client has to send each request's head; also how long a kept-alive
    /// connection may sit idle
    #[arg(long, value_name = "TIME", default_value = "20s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// How long a client has to send a whole request body
    #[arg(long, value_name = "TIME", default_value = "60s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// How long a TLS handshake may take
    #[arg(long, value_name = "TIME", default_value = "10s", value_parser = parse_duration)]
    pub tls_handshake_timeout: Duration,
    /// How long a user name (5 wrong passwords) or an address (20) waits after its failures
    #[arg(long, value_name = "TIME", default_value = "15m", value_parser = parse_duration)]
    pub sign_in_window: Duration,
}

/// Scheduled backups while serving (off unless `--backup-dir` is given).
#[derive(Debug, clap::Args)]
pub struct ServeBackups {
    /// Make a checked backup of the database into this folder on a schedule
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// How often to back up: 24h, 7d [default: 24h]
    #[arg(long, value_name = "TIME")]
    pub backup_every: Option<String>,
    /// How many backups to keep; the oldest go [default: 14]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub backup_keep: Option<u16>,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date of the form YYYY-MM-DD (e.g. 2026-01-31)"))
}

/// A duration like `20s`, `30m`, `24h` or `7d`, more than zero and at most a year.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 20s, 30m, 24h or 7d");
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => return Err(bad()),
    }
    .filter(|&secs| secs > 0 && secs <= 366 * 86_400)
    .ok_or_else(|| format!("{s:?}: a duration is more than zero and at most a year"))?;
    Ok(Duration::from_secs(secs))
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    let secs = parse_duration(s)?.as_secs();
    if !(60..=30 * 86_400).contains(&secs) {
        return Err(format!(
            "{s:?}: a pairing code lives between 1 minute and 30 days"
        ));
    }
    Ok(Duration::from_secs(secs))
}
