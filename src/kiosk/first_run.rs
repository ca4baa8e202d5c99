//! The first-run setup screen, shown when the data dir has no settings (or damaged ones that
//! were moved aside): the same form as `hailong setup`, then the kiosk starts.

use super::lone_window;
use crate::clock::Clock;
use crate::paths::DataDir;
use crate::settings::Lang;
use crate::setup::{SetupForm, create_store};
use crate::ui::{AppWindow, Screen, SetupAdapter};
use hailong_core::level::Scale;
use slint::{ComponentHandle, SharedString, VecModel};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

/// The setup window; `on_done` gets it once the settings and database are written.
pub struct FirstRun {
    pub window: AppWindow,
}

impl FirstRun {
    pub fn new(
        dir: &DataDir,
        clock: Arc<dyn Clock>,
        damaged_settings: Option<&Path>,
        on_done: impl Fn(&AppWindow) + 'static,
    ) -> Result<FirstRun, slint::PlatformError> {
        let window = lone_window(Screen::Setup)?;
        let setup = window.global::<SetupAdapter>();
        if let Some(path) = damaged_settings {
            setup.set_damaged_settings(path.display().to_string().into());
        }
        let (weak, dir) = (window.as_weak(), dir.clone());
        setup.on_submit(move || {
            let Some(window) = weak.upgrade() else {
                return;
            };
            if submit(&window, &dir, clock.as_ref()) {
                on_done(&window);
            }
        });
        Ok(FirstRun { window })
    }
}

/// Validates and saves the form; shows the problems and returns false if it cannot.
fn submit(window: &AppWindow, dir: &DataDir, clock: &dyn Clock) -> bool {
    let setup = window.global::<SetupAdapter>();
    let form = SetupForm {
        admin_pin: setup.get_admin_pin().trim().to_owned(),
        unit_name: setup.get_unit_name().into(),
        unit_code: setup.get_unit_code().into(),
        counter_name: setup.get_counter_name().into(),
        lang: Lang::parse(&setup.get_lang()).unwrap_or_default(),
        scale: if setup.get_scale() == 5 {
            Scale::Five
        } else {
            Scale::Three
        },
    };
    let mut problems: Vec<&str> = form.problems().into_iter().map(|p| p.code()).collect();
    if setup.get_admin_pin().trim() != setup.get_admin_pin_again().trim() {
        problems.push("pin_mismatch");
    }
    if problems.is_empty() {
        let saved = form
            .apply(dir, clock.now())
            .map_err(|e| e.to_string())
            .and_then(|_| create_store(dir).map_err(|e| e.to_string()));
        match saved {
            Ok(_) => {
                tracing::info!(dir = %dir.root().display(), "set up from the screen");
                return true;
            }
            Err(e) => {
                tracing::error!(error = %e, "setup could not be saved");
                problems.push("save");
            }
        }
    }
    let problems: Vec<SharedString> = problems.into_iter().map(Into::into).collect();
    setup.set_problems(Rc::new(VecModel::from(problems)).into());
    false
}
