//! The catalogue tab: CSV files found in the data dir and on USB sticks, and their import.

use super::Admin;
use crate::catalogue::{self, ImportError};
use crate::ui::CatalogueFile;
use hailong_core::procedure::CatalogueError;
use slint::{Model, VecModel};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How deep under a stick to look: `STICK/Danh mục/2026/file.csv` is two folders down.
const SEARCH_DEPTH: usize = 2;
/// Files listed at most, so a huge stick cannot stall the screen.
const FILES_SHOWN: usize = 50;

/// CSV files under `root`, at most `depth` folders down, sorted by path.
fn csv_files(root: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if found.len() >= FILES_SHOWN {
            return;
        }
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            if depth > 0 {
                csv_files(&path, depth - 1, found);
            }
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            found.push(path);
        }
    }
}

impl Admin {
    pub(super) fn show_catalogue(&self) {
        let mut files = Vec::new();
        // The data dir itself only at its top level; USB sticks deeper.
        csv_files(self.dir.root(), 0, &mut files);
        for stick in self.usb.borrow().sticks.mounted() {
            csv_files(&stick, SEARCH_DEPTH, &mut files);
        }
        let items: Vec<CatalogueFile> = files
            .iter()
            .map(|p| CatalogueFile {
                path: p.display().to_string().into(),
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .into(),
            })
            .collect();
        let size = self.store.borrow().procedure_count().unwrap_or(0);
        self.with(|a| {
            a.set_catalogue_size(i32::try_from(size).unwrap_or(i32::MAX));
            // Looked for every 2 s: the same files keep their rows (and a finger on one).
            if !a.get_catalogue_files().iter().eq(items.iter().cloned()) {
                a.set_catalogue_files(Rc::new(VecModel::from(items)).into());
            }
        });
    }

    pub(super) fn import_catalogue(&self, path: &str) {
        self.idle.touched();
        let outcome = catalogue::import(&mut self.store.borrow_mut(), Path::new(path));
        let (result, detail) = match &outcome {
            Ok(n) => ("imported", n.to_string()),
            Err(ImportError::Invalid { source, .. }) => (
                match source {
                    CatalogueError::BadHeader => "bad_header",
                    CatalogueError::BadRow { .. } => "bad_row",
                    CatalogueError::Duplicate { .. } => "duplicate",
                    CatalogueError::Empty => "empty",
                },
                source.line().map(|l| l.to_string()).unwrap_or_default(),
            ),
            Err(ImportError::NotUtf8 { .. }) => ("not_utf8", String::new()),
            Err(ImportError::Read { .. } | ImportError::Store(_)) => ("unreadable", String::new()),
        };
        match &outcome {
            Ok(n) => tracing::info!(procedures = n, "catalogue imported"),
            Err(e) => tracing::warn!(error = %e, "catalogue not imported"),
        }
        self.with(|a| {
            a.set_catalogue_result(result.into());
            a.set_catalogue_detail(detail.into());
        });
        self.show_catalogue();
    }
}
