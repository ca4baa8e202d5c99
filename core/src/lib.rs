//! Domain logic of Hài Lòng with no I/O: what a rating is, and the arithmetic officials report.
//!
//! Layout:
//! - [`level`]: satisfaction levels and the 3- or 5-level scale;
//! - [`reason`]: reason codes asked after a negative level;
//! - [`escape`]: outside text made safe for logs, terminals and spreadsheet cells;
//! - [`batch`]: a batch body as the server reads it, each bad part costing only itself;
//! - [`dossier`]: dossier codes (mã hồ sơ): normalising, validating, warnings;
//! - [`rating`]: the rating record a tablet stores and later sends;
//! - [`summary`]: counts, shares that add up to exactly 100.0, tỷ lệ hài lòng;
//! - [`period`]: date ranges and report periods (month, quarter, year) with their names;
//! - [`report`]: the report model every export format is drawn from;
//! - [`procedure`]: the administrative-procedure catalogue and its CSV form;
//! - [`invite`]: a pairing invitation (server, one-time code, CA fingerprint) as scanned;
//! - [`pin`]: PIN rules and the lockout policy after wrong PINs;
//! - [`text`]: Vietnamese text helpers (tone marks, search folding);
//! - [`wire`]: ratings on the wire between tablet and server, and their checks.

pub mod batch;
pub mod dossier;
pub mod escape;
pub mod invite;
pub mod level;
pub mod period;
pub mod pin;
pub mod privacy;
pub mod procedure;
pub mod rating;
pub mod reason;
pub mod report;
pub mod summary;
pub mod text;
pub mod wire;

#[cfg(test)]
mod properties;
