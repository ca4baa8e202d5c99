//! `hailong-server`: the commune server as a library. It pairs tablets, takes their ratings in
//! batches exactly once, sums them up for the dashboard, the API and the reports, and sends
//! alerts. [`run`] serves a [`Storage`] on a listener it is given; [`commands`] are what the
//! thin binary runs. No GUI library anywhere in it.
//!
//! Layers, each using only those below it:
//! - `app` (the whole router) over `api` (the JSON API) and `web` (the dashboard), both over
//!   `state` (what handlers share);
//! - `serve` (start and stop everything), `writer`, `backups`, `notify`, `net` (connections
//!   and their limits);
//! - `storage` and `db` (SQLite), `pg` (PostgreSQL).

mod api;
mod app;
pub mod backups;
pub mod cli;
pub mod commands;
pub mod commune_ca;
pub mod config;
mod db;
mod exports;
mod figures;
pub mod ingest;
pub mod invitation;
mod limits;
pub mod net;
mod notify;
pub mod owner;
mod pairing;
mod password_checks;
pub mod pg;
mod secrets;
mod serve;
mod state;
mod storage;
mod store;
mod threads;
pub mod tls;
mod turns;
pub mod upstream;
mod web;
mod writer;

pub use serve::{Config, ServeError, run};
pub use storage::{Storage, StorageError};
