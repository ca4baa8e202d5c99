//! The server's integration tests, one binary: the real server in-process on a loopback port
//! with a real SQLite file (`running`), and the real binary where only a process shows what
//! is tested: SIGTERM, SIGKILL, its open-file limit and memory (`process`).
//! - `api`: pairing, batch semantics, every error status, the summary, exports, SIGTERM;
//! - `backups`: backups during ingest, restores;
//! - `dashboard`: the web dashboard's rules over plain HTTP;
//! - `hardening`: the server as an attacker on the commune's network tries it: sign-in
//!   floods, idle and half-sent connections, redirects, cross-site forms, forged log lines,
//!   file modes and leftovers;
//! - `notify`: alerts reaching a webhook through the running server, settings refused.

#[path = "../support/http.rs"]
mod http;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/receiver.rs"]
mod receiver;
#[path = "../support/running.rs"]
mod running;

mod api;
mod backups;
mod dashboard;
mod hardening;
mod notify;
