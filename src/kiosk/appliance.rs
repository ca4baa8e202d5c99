//! The kiosk as a counter device's only window. Under a bare X server (no window manager, as on
//! an appliance), asking for full screen does nothing and nobody gives a new window the keyboard:
//! so in kiosk mode the window is placed on its monitor at the monitor's size and takes the X
//! input focus itself, at start and after setup. Any other window larger than its screen is
//! shrunk to fit it. Without winit (the tests' backend) these do nothing.

use slint::winit_030::{WinitWindowAccessor, winit};
use slint::{ComponentHandle, Timer};
use std::time::Duration;

/// When to (re)apply after showing: the winit window is made, then mapped, a moment after.
const SETTLE: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(400),
    Duration::from_millis(1500),
];

/// After `component` is shown: full screen with the keyboard focus in kiosk mode, otherwise
/// shrunk to fit its screen if it is larger.
pub fn settle<C: ComponentHandle + 'static>(component: &C, kiosk: bool) {
    for delay in SETTLE {
        let weak = component.as_weak();
        Timer::single_shot(delay, move || {
            if let Some(component) = weak.upgrade() {
                if kiosk {
                    fill_screen(component.window());
                } else {
                    fit_screen(component.window());
                }
            }
        });
    }
}

/// Full screen at the monitor's real size, and the keyboard focus.
pub fn fill_screen(window: &slint::Window) {
    window.with_winit_window(|w| {
        let Some(monitor) = w.current_monitor().or_else(|| w.primary_monitor()) else {
            return;
        };
        let size = monitor.size();
        if w.fullscreen().is_none() {
            w.set_fullscreen(Some(winit::window::Fullscreen::Borderless(Some(
                monitor.clone(),
            ))));
        }
        w.set_outer_position(monitor.position());
        if w.inner_size() != size {
            tracing::info!(
                width = size.width,
                height = size.height,
                "window sized to the screen"
            );
            let _ = w.request_inner_size(size);
        }
        w.focus_window();
        take_x11_focus(w);
    });
}

/// A window taller or wider than its screen shrinks to fit it.
pub fn fit_screen(window: &slint::Window) {
    window.with_winit_window(|w| {
        let Some(monitor) = w.current_monitor().or_else(|| w.primary_monitor()) else {
            return;
        };
        let (screen, inner) = (monitor.size(), w.inner_size());
        if inner.width > screen.width || inner.height > screen.height {
            let fitted = winit::dpi::PhysicalSize::new(
                inner.width.min(screen.width),
                inner.height.min(screen.height),
            );
            tracing::info!(
                width = fitted.width,
                height = fitted.height,
                "window shrunk to the screen"
            );
            let _ = w.request_inner_size(fitted);
            w.set_outer_position(monitor.position());
        }
    });
}

/// Gives the X input focus to `window` directly: without a window manager, winit's request for
/// focus (a message to the window manager) goes nowhere.
fn take_x11_focus(window: &winit::window::Window) {
    use raw_window_handle::{HasWindowHandle, RawWindowHandle};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, InputFocus};
    let Ok(handle) = window.window_handle() else {
        return;
    };
    let id = match handle.as_raw() {
        RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok(),
        RawWindowHandle::Xcb(h) => Some(h.window.get()),
        _ => None,
    };
    let Some(id) = id else {
        return;
    };
    let focused = x11rb::connect(None).ok().and_then(|(conn, _)| {
        conn.set_input_focus(InputFocus::PARENT, id, x11rb::CURRENT_TIME)
            .ok()?
            .check()
            .ok()?;
        conn.flush().ok()
    });
    if focused.is_none() {
        // Not mapped yet (a later try will do), or not X11.
        tracing::debug!("the X input focus could not be taken yet");
    }
}
