//! The command line of `hailong-server`, parsed by clap.

use clap::{Parser, Subcommand};
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API
    Serve {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// Address to listen on, e.g. 0.0.0.0:8443
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM, the server's certificate first)
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM)
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Make a one-time pairing code for a counter's tablet (printed alone on the last line)
    Pair {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// The counter the tablet stands at, e.g. "Quầy 1"
        #[arg(long, value_name = "NAME")]
        counter: String,
        /// How long the code stays valid: 30m, 24h, 7d
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: Duration,
    },
    /// Make an admin API token (printed alone on the last line)
    AdminToken {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        #[arg(long, default_value = "admin")]
        name: String,
    },
    /// List paired devices: counter, last seen, ratings received, clock skew
    Devices {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
    },
    /// Revoke a device: its token stops working at once
    Revoke {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        device_id: String,
    },
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration like 30m, 24h or 7d");
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(bad()),
    };
    if secs == 0 || secs > 30 * 86_400 {
        return Err(format!(
            "{s:?}: a pairing code lives between 1 minute and 30 days"
        ));
    }
    Ok(Duration::from_secs(secs))
}
