//! Keys typed on the citizen screens: a lone digit from a big-button keypad, or a whole code
//! typed by a USB barcode scanner and ended with Enter.

use slint::{Timer, TimerMode};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// A scanner types a whole code within milliseconds; a lone digit after this pause is a key.
pub const KEY_SETTLE: Duration = Duration::from_millis(80);
/// Longest scan kept; longer input is still consumed but cut (the parser refuses it anyway).
const MAX_SCAN_CHARS: usize = hailong_core::dossier::MAX_INPUT_CHARS + 1;

/// What the typing meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyInput {
    /// Digit N alone: the N-th level from the left (1-based).
    Digit(usize),
    /// Characters ended with Enter.
    Scan(String),
}

pub struct KeyReader {
    typed: RefCell<String>,
    settle: Timer,
    on_input: Box<dyn Fn(KeyInput)>,
}

impl KeyReader {
    pub fn new(on_input: impl Fn(KeyInput) + 'static) -> Rc<KeyReader> {
        Rc::new(KeyReader {
            typed: RefCell::default(),
            settle: Timer::default(),
            on_input: Box::new(on_input),
        })
    }

    /// One key event's text. Returns whether it was used.
    pub fn key(self: &Rc<Self>, text: &str) -> bool {
        if text == "\n" || text == "\r" {
            self.settle.stop();
            let typed = std::mem::take(&mut *self.typed.borrow_mut());
            if !typed.is_empty() {
                (self.on_input)(KeyInput::Scan(typed));
            }
            return true;
        }
        let mut chars = text.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return false;
        };
        if c.is_control() {
            return false;
        }
        {
            let mut typed = self.typed.borrow_mut();
            if typed.chars().count() < MAX_SCAN_CHARS {
                typed.push(c);
            }
        }
        let reader = Rc::downgrade(self);
        self.settle
            .start(TimerMode::SingleShot, KEY_SETTLE, move || {
                if let Some(reader) = reader.upgrade() {
                    reader.settled();
                }
            });
        true
    }

    /// The keyboard went quiet: a lone digit is a key; anything longer without Enter is dropped.
    fn settled(&self) {
        let typed = std::mem::take(&mut *self.typed.borrow_mut());
        match typed.parse::<usize>() {
            Ok(n) if typed.len() == 1 && n > 0 => (self.on_input)(KeyInput::Digit(n)),
            _ => {}
        }
    }
}
