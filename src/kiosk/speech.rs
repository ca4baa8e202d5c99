//! What the citizen screens say aloud: the prompt for each moment, in the language showing,
//! while the administrator has the voice on.

use super::SharedSettings;
use crate::settings::Lang;
use crate::ui::{AppWindow, KioskAdapter};
use crate::voice::{Prompt, Silent, Voice, VoiceStatus};
use slint::{ComponentHandle, Weak};
use std::cell::RefCell;
use std::rc::Rc;

pub struct Speech {
    window: Weak<AppWindow>,
    settings: SharedSettings,
    voice: RefCell<Rc<dyn Voice>>,
}

impl Speech {
    /// Silent until a voice is given ([`Speech::use_voice`]).
    pub fn new(window: &AppWindow, settings: SharedSettings) -> Rc<Speech> {
        Rc::new(Speech {
            window: window.as_weak(),
            settings,
            voice: RefCell::new(Rc::new(Silent)),
        })
    }

    pub fn use_voice(&self, voice: Rc<dyn Voice>) {
        *self.voice.borrow_mut() = voice;
        self.settings_changed();
    }

    /// Says `prompts` (replacing what is being said) if the voice is on; returns at once.
    pub fn say(&self, prompts: &[Prompt]) {
        if !self.settings.borrow().voice_on {
            return;
        }
        let lang = self
            .window
            .upgrade()
            .and_then(|w| Lang::parse(&w.global::<KioskAdapter>().get_language()))
            .unwrap_or_default();
        self.voice.borrow().say(lang, prompts);
    }

    /// The settings changed: the volume follows.
    pub fn settings_changed(&self) {
        self.voice
            .borrow()
            .set_volume(self.settings.borrow().voice_volume);
    }

    pub fn status(&self) -> VoiceStatus {
        if !self.settings.borrow().voice_on {
            return VoiceStatus::Off;
        }
        self.voice.borrow().status()
    }
}
