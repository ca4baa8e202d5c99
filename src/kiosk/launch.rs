//! `hailong run`: the first-run setup if needed, then the kiosk; a database that cannot be
//! opened gets a screen that says so instead of a silent exit.

use super::first_run::FirstRun;
use super::{Kiosk, StartError, lone_window};
use crate::clock::{Clock, SystemClock};
use crate::commands::{Failure, data_dir};
use crate::paths::DataDir;
use crate::sync::SyncStatus;
use crate::ui::{AppWindow, FaultAdapter, Screen};
use anyhow::anyhow;
use slint::ComponentHandle;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// Runs the kiosk until the administrator exits it (or its window closes outside kiosk mode).
pub fn run(dir: Option<PathBuf>, fullscreen: bool) -> Result<(), Failure> {
    let dir = data_dir(dir)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ui = |e: slint::PlatformError| Failure::runtime(anyhow!(e));
    match Kiosk::start(&dir, clock.clone()) {
        Ok(kiosk) => {
            show_kiosk(&kiosk, fullscreen).map_err(ui)?;
            slint::run_event_loop().map_err(ui)
        }
        Err(StartError::NotSetUp(_)) => first_run(&dir, clock, None, fullscreen).map_err(ui),
        Err(StartError::SettingsDamaged(moved_to)) => {
            first_run(&dir, clock, Some(moved_to), fullscreen).map_err(ui)
        }
        Err(StartError::Ui(e)) => Err(ui(e)),
        Err(fault) => {
            tracing::error!(error = %fault, "the kiosk cannot start");
            let window = fatal_window(&dir, &fault).map_err(ui)?;
            window.run().map_err(ui)
        }
    }
}

/// Shows the kiosk's window and starts sending to the commune server behind it.
fn show_kiosk(kiosk: &Kiosk, fullscreen: bool) -> Result<(), slint::PlatformError> {
    let kiosk_mode = fullscreen || kiosk.settings.borrow().fullscreen;
    if kiosk_mode {
        kiosk.enter_kiosk_mode();
    }
    kiosk.start_voice();
    if let Err(e) = kiosk.start_sync() {
        // Ratings still go to disk; the administrator's server tab shows the problem.
        tracing::error!(error = %e, "the background sender could not start");
        let mut status = SyncStatus::default();
        status.record.last_error = Some(e.code().to_owned());
        kiosk.show_sync(&status);
    }
    kiosk.window.show()?;
    super::appliance::settle(&kiosk.window, kiosk_mode);
    Ok(())
}

/// The setup screen; once saved, the kiosk opens in a new window and the setup window closes.
fn first_run(
    dir: &DataDir,
    clock: Arc<dyn Clock>,
    damaged: Option<PathBuf>,
    fullscreen: bool,
) -> Result<(), slint::PlatformError> {
    // The kiosk lives here once started, until the event loop ends.
    let running: Rc<RefCell<Option<Kiosk>>> = Rc::default();
    let (slot, dir2) = (running.clone(), dir.clone());
    let setup =
        FirstRun::new(
            dir,
            clock.clone(),
            damaged.as_deref(),
            move |setup| match Kiosk::start(&dir2, clock.clone()) {
                Ok(kiosk) => {
                    if let Err(e) = show_kiosk(&kiosk, fullscreen) {
                        tracing::error!(error = %e, "the kiosk window could not open");
                        return;
                    }
                    *slot.borrow_mut() = Some(kiosk);
                    let _ = setup.hide();
                }
                Err(e) => tracing::error!(error = %e, "the kiosk could not start after setup"),
            },
        )?;
    if fullscreen {
        setup.window.window().set_fullscreen(true);
    }
    setup.window.show()?;
    super::appliance::settle(&setup.window, fullscreen);
    slint::run_event_loop()?;
    drop(running);
    Ok(())
}

/// A window that only says why the kiosk cannot take ratings, with the file concerned.
pub fn fatal_window(dir: &DataDir, fault: &StartError) -> Result<AppWindow, slint::PlatformError> {
    let window = lone_window(Screen::Fatal)?;
    let (code, path) = match fault {
        StartError::Store(e) => (e.code(), dir.database()),
        _ => ("settings", dir.settings()),
    };
    let faults = window.global::<FaultAdapter>();
    faults.set_fatal_code(code.into());
    faults.set_fatal_path(path.display().to_string().into());
    Ok(window)
}
