//! Fixtures for the workspace's tests and benches, never linked into a program.
//!
//! - [`PrivatePostgres`]: a PostgreSQL server of the tests' own, from Debian's `postgresql`
//!   package, in a temporary folder, so `cargo test --workspace` needs no running service.

mod postgres;

pub use postgres::{PostgresError, PrivatePostgres};
