//! The kiosk's voice, for citizens who cannot read the screen well: recorded prompts (made
//! offline with espeak-ng, `assets/voice/make.sh`) for the invitation, the face pressed, the
//! reasons, the thanks and a failed save, in Vietnamese and English.
//!
//! The screens ask a [`Voice`]; the real one is the [`Speaker`], which plays on an audio thread
//! of its own. A request never waits: a missing or busy audio device is logged once and shown
//! to the administrator, and the tap goes on.

mod clips;
mod speaker;

pub use clips::{Clip, ClipError, clip_bytes, decode};
pub use speaker::{Output, Speaker, VoiceStatus};

use crate::settings::Lang;
use hailong_core::level::Level;

/// One recorded prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prompt {
    /// "Mời Ông/Bà đánh giá…": a dossier was armed, or the speaker button was pressed.
    Invite,
    /// "Mời Ông/Bà chọn lại": after "Chọn lại".
    ChooseAgain,
    /// The name of the face pressed.
    Level(Level),
    /// "Xin Ông/Bà cho biết lý do…".
    Reasons,
    Thanks,
    /// The tap could not be saved (a full disk, among others).
    SaveFailure,
}

impl Prompt {
    /// Every prompt, for checks over the shipped files.
    pub const ALL: [Prompt; 10] = [
        Prompt::Invite,
        Prompt::ChooseAgain,
        Prompt::Level(Level::VerySatisfied),
        Prompt::Level(Level::Satisfied),
        Prompt::Level(Level::Neutral),
        Prompt::Level(Level::Unsatisfied),
        Prompt::Level(Level::VeryUnsatisfied),
        Prompt::Reasons,
        Prompt::Thanks,
        Prompt::SaveFailure,
    ];

    /// The file's name in `assets/voice/<lang>/`, without `.wav`.
    pub fn name(self) -> &'static str {
        match self {
            Prompt::Invite => "invite",
            Prompt::ChooseAgain => "choose_again",
            Prompt::Level(level) => level.code(),
            Prompt::Reasons => "reasons",
            Prompt::Thanks => "thanks",
            Prompt::SaveFailure => "save_failure",
        }
    }
}

/// Where the screens send what to say: the speaker, or a test's recorder.
pub trait Voice {
    /// Says `prompts` in order, in `lang`, instead of whatever is being said. Returns at once.
    fn say(&self, lang: Lang, prompts: &[Prompt]);
    /// The loudness, 0 to 100.
    fn set_volume(&self, percent: u8);
    /// Whether the voice can be heard, for the administrator's screen.
    fn status(&self) -> VoiceStatus;
}

/// No voice: what the kiosk has until the speaker is started (and in tests that do not
/// listen).
pub struct Silent;

impl Voice for Silent {
    fn say(&self, _: Lang, _: &[Prompt]) {}
    fn set_volume(&self, _: u8) {}
    fn status(&self) -> VoiceStatus {
        VoiceStatus::Off
    }
}
