//! The `hailong-server` binary: logging to standard error, the command line, exit codes. All
//! the rest is the library's.

use clap::Parser;
use hailong_server::cli::Cli;
use hailong_server::commands;
use std::io::IsTerminal;
use std::process::ExitCode;

/// Batches allocate many small strings on several threads; mimalloc handles that with less
/// work than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAILONG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    // The database, its WAL, backups and reports: nothing this program writes is for others.
    hailong_report::file::private_umask();
    match commands::execute_on_terminal(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hailong-server: {e:#}");
            ExitCode::from(commands::exit_code(&e))
        }
    }
}
