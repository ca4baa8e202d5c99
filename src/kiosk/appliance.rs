//! The kiosk as a counter device's only window. Under a bare X server (no window manager, as on
//! an appliance), asking for full screen does nothing and nobody gives a new window the keyboard:
//! so in kiosk mode the window is placed on its monitor at the monitor's size and takes the X
//! input focus itself, at start, after setup, and whenever it loses it. Any other window larger
//! than its screen is shrunk to fit it. A touch or a key is answered in the next frame, not one
//! refresh later. Without winit (the tests' backend) these do nothing.

use slint::ComponentHandle;
use slint::winit_030::{EventResult, WinitWindowAccessor, winit};
use winit::event::WindowEvent;

/// Watches `component`'s window events: once it is mapped and drawn, full screen with the
/// keyboard focus in kiosk mode (taken back whenever it is lost), otherwise shrunk to fit its
/// screen if it is larger. Event-driven, so a slow start under load changes nothing.
pub fn settle<C: ComponentHandle>(component: &C, kiosk: bool) {
    let mut settled = false;
    component
        .window()
        .on_winit_window_event(move |window, event| {
            if is_input(event) {
                draw_after(window);
            }
            let lost_focus = kiosk && matches!(event, WindowEvent::Focused(false));
            let early = !settled
                && matches!(
                    event,
                    WindowEvent::RedrawRequested
                        | WindowEvent::Resized(_)
                        | WindowEvent::Focused(_)
                        | WindowEvent::Moved(_)
                );
            if early || lost_focus {
                settled = if kiosk {
                    fill_screen(window)
                } else {
                    fit_screen(window)
                };
            }
            EventResult::Propagate
        });
}

fn is_input(event: &WindowEvent) -> bool {
    matches!(
        event,
        WindowEvent::MouseInput { .. } | WindowEvent::Touch(_) | WindowEvent::KeyboardInput { .. }
    )
}

/// Asks for a frame as soon as the event being handled has been handled. Under X11, Slint
/// (1.18) paces frames with a timer whose first tick comes one refresh interval (16.7 ms) after
/// the window was idle, so a pressed face showed 17-18 ms after the touch (`benches/touch.rs`).
/// winit delivers this request after the input, so the frame shows its effect.
fn draw_after(window: &slint::Window) {
    window.with_winit_window(|w| w.request_redraw());
}

/// Full screen at the monitor's real size, and the keyboard focus; whether both are done.
fn fill_screen(window: &slint::Window) -> bool {
    window
        .with_winit_window(|w| {
            // Not mapped yet, or on its way out (setup, once saved, leaves the focus to the
            // kiosk): nothing to do now.
            if w.is_visible() == Some(false) {
                return false;
            }
            let Some(monitor) = monitor_of(w) else {
                return false;
            };
            let size = monitor.size();
            if w.fullscreen().is_none() {
                w.set_fullscreen(Some(winit::window::Fullscreen::Borderless(Some(
                    monitor.clone(),
                ))));
            }
            let sized = w.inner_size() == size;
            if !sized {
                tracing::info!(
                    width = size.width,
                    height = size.height,
                    "window sized to the screen"
                );
                w.set_outer_position(monitor.position());
                let _ = w.request_inner_size(size);
            }
            w.focus_window();
            take_x11_focus(w) && sized
        })
        .unwrap_or(true)
}

/// A window taller or wider than its screen shrinks to fit it; whether it fits.
fn fit_screen(window: &slint::Window) -> bool {
    window
        .with_winit_window(|w| {
            let Some(monitor) = monitor_of(w) else {
                return false;
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
                return false;
            }
            true
        })
        .unwrap_or(true)
}

/// The monitor the window is on, or else the primary one.
fn monitor_of(window: &winit::window::Window) -> Option<winit::monitor::MonitorHandle> {
    window
        .current_monitor()
        .or_else(|| window.primary_monitor())
}

/// Gives the X input focus to `window` directly (without a window manager, winit's request for
/// focus, a message to the window manager, goes nowhere); whether it has it, or is not on X11.
fn take_x11_focus(window: &winit::window::Window) -> bool {
    use raw_window_handle::{HasWindowHandle, RawWindowHandle};
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt, InputFocus};
    let Ok(handle) = window.window_handle() else {
        return true;
    };
    let id = match handle.as_raw() {
        RawWindowHandle::Xlib(h) => u32::try_from(h.window).ok(),
        RawWindowHandle::Xcb(h) => Some(h.window.get()),
        _ => None,
    };
    let Some(id) = id else {
        return true;
    };
    let focused = x11rb::connect(None).ok().and_then(|(conn, _)| {
        conn.set_input_focus(InputFocus::PARENT, id, x11rb::CURRENT_TIME)
            .ok()?
            .check()
            .ok()?;
        conn.flush().ok()
    });
    if focused.is_none() {
        // Not mapped yet: the next event tries again.
        tracing::debug!("the X input focus could not be taken yet");
    }
    focused.is_some()
}
