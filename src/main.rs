//! The `hailong` binary: parses the command line and hands over to the library.

use clap::Parser;
use hailong::cli::{Cli, Command};
use hailong::commands;
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HAILONG_LOG")
                .unwrap_or_else(|_| "warn,hailong=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    // Ratings, PIN hashes and the server token: nothing this program writes is for other users.
    hailong_report::file::private_umask();
    if let Some(dir) = hailong::paths::DataDir::resolve(cli.data_dir.clone())
        && let Err(e) = dir.make_private()
    {
        tracing::warn!(dir = %dir.root().display(), error = %e, "cannot make the data folder private");
    }
    let outcome = match cli.command {
        None | Some(Command::Run) => hailong::kiosk::run(cli.data_dir, cli.fullscreen),
        Some(Command::Setup(args)) => commands::setup(cli.data_dir, args),
        Some(Command::Officer(command)) => commands::officer(cli.data_dir, command),
        Some(Command::Catalogue(command)) => commands::catalogue(cli.data_dir, command),
        Some(Command::Pair(args)) => commands::pair(cli.data_dir, args),
        Some(Command::Sync(args)) => commands::sync(cli.data_dir, args),
        Some(Command::Summary(args)) => commands::summary(cli.data_dir, args),
        Some(Command::Export(args)) => commands::export(cli.data_dir, args),
        Some(Command::Demo(args)) => commands::demo(cli.data_dir, args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("hailong: {:#}", failure.error);
            ExitCode::from(failure.exit_code)
        }
    }
}
