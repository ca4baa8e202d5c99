//! The command line: `hailong [run|setup|officer|catalogue|pair|sync|summary|export|demo]`,
//! parsed by clap.

use crate::settings::Lang;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use hailong_core::level::Scale;
use hailong_core::period::ReportPeriod;
use hailong_report::{Format, Lang as ReportLang};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hailong",
    version,
    about = "Hài Lòng: citizen satisfaction ratings at the one-stop counter"
)]
pub struct Cli {
    /// Where settings and ratings live [default: the platform data directory]
    #[arg(long, global = true, env = "HAILONG_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Kiosk mode: full screen, no cursor, no way out without a PIN
    #[arg(long, global = true)]
    pub fullscreen: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kiosk (the default)
    Run,
    /// First-run setup without the screen, for fleets
    Setup(SetupArgs),
    /// The officers who sign in at this counter
    #[command(subcommand)]
    Officer(OfficerCommand),
    /// The procedure catalogue officers pick from
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Pair this tablet with the commune server, using a one-time code from `hailong-server pair`
    Pair(PairArgs),
    /// Send the ratings waiting for the commune server
    Sync(SyncArgs),
    /// Print the summary of ratings for a period
    Summary(SummaryArgs),
    /// Export one row per rating
    Export(ExportArgs),
    /// Fill the data dir with realistic synthetic ratings (training, demos, benchmarks)
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Administrator PIN, 6 digits or more. Without it the PIN is read from standard input,
    /// where other users of the machine cannot see it (a flag shows in `ps` and shell history)
    #[arg(long, value_name = "PIN")]
    pub admin_pin: Option<String>,
    /// The unit's name, e.g. "UBND xã Tân Lập"
    #[arg(long, value_name = "NAME")]
    pub unit_name: String,
    /// The unit's code, e.g. 000.00.14.H56; further codes whose dossiers the office also
    /// handles follow it, separated by spaces ("000.00.14.H56 H56.123.45")
    #[arg(long, value_name = "CODES")]
    pub unit_code: String,
    /// The counter's name, e.g. "Quầy 1"
    #[arg(long, value_name = "NAME")]
    pub counter: String,
    #[arg(long, value_enum, default_value = "vi")]
    pub lang: Lang,
    /// Number of levels: 3 or 5
    #[arg(long, default_value = "3", value_parser = parse_scale)]
    pub scale: Scale,
}

#[derive(Debug, Args)]
pub struct PairArgs {
    /// The invitation `hailong-server pair` printed (hailong:pair?server=…&code=…&ca=…): the
    /// server, the code and the commune CA to trust, in one
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["server", "code", "ca_file"])]
    pub invite: Option<String>,
    /// The server's address, e.g. https://hailong.tanlap.gov.vn:8443
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "invite",
        requires = "code"
    )]
    pub server: Option<String>,
    /// The one-time pairing code
    #[arg(long, value_name = "CODE", required_unless_present = "invite")]
    pub code: Option<String>,
    /// A PEM file with the commune's CA certificate, if the server's certificate is its own
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Send everything queued once, then exit: 0 when the queue is empty
    #[arg(long, required = true)]
    pub once: bool,
}

#[derive(Debug, Subcommand)]
pub enum OfficerCommand {
    /// Add an officer; their PIN (4 to 12 digits) is read from standard input
    Add {
        /// The name shown on the sign-in screen and in reports
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// List the officers who can sign in
    List,
    /// Stop an officer from signing in (their past ratings keep their name)
    Remove {
        /// The officer's id, as `officer list` shows it
        id: i64,
    },
    /// Give an officer a new PIN, read from standard input
    ResetPin {
        /// The officer's id, as `officer list` shows it
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Replace the catalogue with a CSV file (code,name_vi,field_vi,field_code; UTF-8)
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// First day, YYYY-MM-DD (inclusive)
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD (inclusive)
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (one row per rating), summary-csv, csv-excel and summary-csv-excel (for a spreadsheet
    /// with Vietnamese settings), xlsx (the formal report), pdf (the report to sign), png (chart) or json
    #[arg(long, value_parser = parse_format, value_name = "FORMAT")]
    pub format: Format,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A month, quarter or year: 2026-03, 2026-Q1, 2026 (instead of --from/--to)
    #[arg(long, value_parser = parse_period, value_name = "PERIOD", conflicts_with_all = ["from", "to"])]
    pub period: Option<ReportPeriod>,
    #[command(flatten)]
    pub range: PeriodArgs,
    /// Language of the labels in xlsx, pdf and png files: vi or en
    #[arg(long, default_value = "vi", value_parser = parse_lang, value_name = "LANG")]
    pub lang: ReportLang,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many ratings to make
    #[arg(long)]
    pub count: u64,
    /// Spread over this many days up to today
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Random seed: the same seed gives the same data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date of the form YYYY-MM-DD (e.g. 2026-01-31)"))
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_period(s: &str) -> Result<ReportPeriod, String> {
    s.parse()
        .map_err(|e: hailong_core::period::BadPeriod| e.to_string())
}

fn parse_lang(s: &str) -> Result<ReportLang, String> {
    s.parse()
}

fn parse_scale(s: &str) -> Result<Scale, String> {
    s.parse::<Scale>().map_err(|e| e.to_string())
}
