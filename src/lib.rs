//! Hài Lòng, the counter tablet: stores every citizen's tap durably and reports summaries.
//!
//! Layout:
//! - [`kiosk`] and [`ui`]: the touch screens (Slint) and the flow behind them;
//! - [`cli`] and [`commands`]: the command line (`run`, `setup`, `officer`, `catalogue`,
//!   `summary`, `export`, `demo`);
//! - [`store`]: the SQLite store (ratings, misuse, officers, procedures);
//! - [`catalogue`]: the bundled procedure catalogue and CSV imports;
//! - [`settings`], [`setup`], [`paths`]: the data dir, its settings file, first-run setup;
//! - [`auth`]: argon2 PIN hashes; [`clock`]: wall-clock time, settable in tests;
//! - [`demo`]: synthetic ratings; [`export`]: report files from the tablet's store;
//! - [`usb`]: where USB sticks are mounted;
//! - [`sync`]: pairing with the commune server and sending the outbox;
//! - [`voice`]: the recorded prompts and the speaker that plays them.

pub mod auth;
pub mod catalogue;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod demo;
pub mod export;
pub mod kiosk;
pub mod paths;
pub mod settings;
pub mod setup;
pub mod stdout;
pub mod store;
pub mod sync;
pub mod usb;
pub mod voice;

/// The Slint UI compiled from `ui/`: the window and its adapter globals.
#[allow(clippy::all)]
pub mod ui {
    slint::include_modules!();
}
