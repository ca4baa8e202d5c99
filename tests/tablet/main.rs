//! The tablet's integration tests, one binary (one link of the whole stack, not eighteen):
//! the real `hailong` binary, the real Slint UI through its testing backend, real SQLite files,
//! and the real server in-process on a loopback port. Each module is one area:
//! - `admin`, `admin_server`, `export_screen`: the administrator's screens (the server tab
//!   against the in-process server);
//! - `ui`, `officer`, `start`: the citizen's and the officer's screens, and what the kiosk shows
//!   at start (one test runs the real kiosk on a bare X server);
//! - `screenshots`, `palette`, `translations`: every screen rendered to PNG, the colours'
//!   contrast, every `@tr()` string translated;
//! - `cli`, `export`, `store`: the `hailong` binary's commands and reports, the store on real
//!   SQLite files (durability under SIGKILL);
//! - `sync`, `sync_worker`, `sync_faults`, `sync_event_loop`: pairing and sending against the
//!   server, the background sender, network and process faults, reports crossing Slint's event
//!   loop;
//! - `dashboard`, `report_figures`: the server's dashboard in a real browser, and every report
//!   holding the same figures;
//! - `usb`: USB sticks mounted by themselves and ejected safely (udisks' commands stood in for).

#[path = "../support/binary.rs"]
mod binary;
#[path = "../support/proxy.rs"]
mod proxy;
#[path = "../support/report_files.rs"]
mod report_files;
#[path = "../../server/tests/support/running.rs"]
mod running;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/webdriver.rs"]
mod webdriver;

mod admin;
mod admin_server;
mod cli;
mod dashboard;
mod export;
mod export_screen;
mod officer;
mod palette;
mod report_figures;
mod screenshots;
mod start;
mod store;
mod sync;
mod sync_event_loop;
mod sync_faults;
mod sync_worker;
mod translations;
mod ui;
mod usb;
