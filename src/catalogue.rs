//! The procedure catalogue on the tablet: the one bundled with the app (the common commune
//! procedures, used until the administrator imports the province's own) and CSV imports.

use crate::store::{Store, StoreError};
use hailong_core::procedure::{CatalogueError, parse_catalogue};
use std::path::{Path, PathBuf};

/// The catalogue shipped with the app (`assets/procedures.csv`).
pub const BUNDLED: &str = include_str!("../assets/procedures.csv");

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 text; save the catalogue as CSV UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("{path}: {source}")]
    Invalid {
        path: PathBuf,
        source: CatalogueError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Replaces the catalogue with the CSV file at `path`; a bad file changes nothing.
/// Returns how many procedures it holds.
pub fn import(store: &mut Store, path: &Path) -> Result<usize, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotUtf8 {
        path: path.to_owned(),
    })?;
    let procedures = parse_catalogue(&text).map_err(|source| ImportError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    store.replace_procedures(&procedures)?;
    Ok(procedures.len())
}

/// Loads the bundled catalogue if the store has none yet; returns whether it did.
pub fn seed_if_empty(store: &mut Store) -> Result<bool, StoreError> {
    if store.procedure_count()? > 0 {
        return Ok(false);
    }
    let procedures = parse_catalogue(BUNDLED).unwrap_or_else(|e| {
        // The bundled file is checked by a test; never fail a setup over it.
        tracing::error!(error = %e, "the bundled catalogue is invalid");
        Vec::new()
    });
    if procedures.is_empty() {
        return Ok(false);
    }
    store.replace_procedures(&procedures)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalogue_parses() {
        assert!(parse_catalogue(BUNDLED).unwrap().len() >= 10);
    }
}
