//! Staff screens go back to the citizen screen after a quiet while, so no console is left
//! open on the counter.

use crate::ui::{AppWindow, KioskAdapter, Screen};
use slint::{ComponentHandle, Timer, TimerMode, Weak};
use std::time::Duration;

/// How long a staff screen stays open without a touch.
pub const STAFF_IDLE: Duration = Duration::from_secs(90);

pub struct IdleReturn {
    window: Weak<AppWindow>,
    screen: Screen,
    timer: Timer,
}

impl IdleReturn {
    pub fn new(window: &AppWindow, screen: Screen) -> IdleReturn {
        IdleReturn {
            window: window.as_weak(),
            screen,
            timer: Timer::default(),
        }
    }

    /// Shows the screen and (re)starts its quiet-time countdown.
    pub fn show(&self) {
        if let Some(window) = self.window.upgrade() {
            window.global::<KioskAdapter>().set_screen(self.screen);
        }
        self.touched();
    }

    /// The officer did something: the screen stays a while longer.
    pub fn touched(&self) {
        let window = self.window.clone();
        let screen = self.screen;
        self.timer
            .start(TimerMode::SingleShot, STAFF_IDLE, move || {
                if let Some(window) = window.upgrade() {
                    let adapter = window.global::<KioskAdapter>();
                    if adapter.get_screen() == screen {
                        tracing::info!(
                            ?screen,
                            "staff screen left idle; back to the citizen screen"
                        );
                        adapter.set_screen(Screen::Citizen);
                    }
                }
            });
    }

    /// Leaves the screen for the citizen screen now.
    pub fn leave(&self) {
        self.timer.stop();
        if let Some(window) = self.window.upgrade() {
            let adapter = window.global::<KioskAdapter>();
            if adapter.get_screen() == self.screen {
                adapter.set_screen(Screen::Citizen);
            }
        }
    }
}
