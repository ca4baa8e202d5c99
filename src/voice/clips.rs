//! The prompt recordings, embedded at build time from `assets/voice/`, and their decoding to
//! samples.

use super::Prompt;
use crate::settings::Lang;
use hailong_core::level::Level;

/// A decoded recording.
#[derive(Debug, Clone)]
pub struct Clip {
    pub channels: u16,
    pub sample_rate: u32,
    /// Interleaved samples in -1.0..1.0.
    pub samples: Vec<f32>,
}

impl Clip {
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64
            / f64::from(self.channels.max(1))
            / f64::from(self.sample_rate.max(1))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("not a WAV file we can play: {0}")]
    Wav(#[from] hound::Error),
    #[error("an empty recording")]
    Empty,
}

macro_rules! clips {
    ($lang:literal) => {
        [
            include_bytes!(concat!("../../assets/voice/", $lang, "/invite.wav")).as_slice(),
            include_bytes!(concat!("../../assets/voice/", $lang, "/choose_again.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/very_satisfied.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/satisfied.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/neutral.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/unsatisfied.wav")),
            include_bytes!(concat!(
                "../../assets/voice/",
                $lang,
                "/very_unsatisfied.wav"
            )),
            include_bytes!(concat!("../../assets/voice/", $lang, "/reasons.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/thanks.wav")),
            include_bytes!(concat!("../../assets/voice/", $lang, "/save_failure.wav")),
        ]
    };
}

const VI: [&[u8]; 10] = clips!("vi");
const EN: [&[u8]; 10] = clips!("en");

/// The WAV file of `prompt` in `lang`.
pub fn clip_bytes(lang: Lang, prompt: Prompt) -> &'static [u8] {
    let index = match prompt {
        Prompt::Invite => 0,
        Prompt::ChooseAgain => 1,
        Prompt::Level(Level::VerySatisfied) => 2,
        Prompt::Level(Level::Satisfied) => 3,
        Prompt::Level(Level::Neutral) => 4,
        Prompt::Level(Level::Unsatisfied) => 5,
        Prompt::Level(Level::VeryUnsatisfied) => 6,
        Prompt::Reasons => 7,
        Prompt::Thanks => 8,
        Prompt::SaveFailure => 9,
    };
    match lang {
        Lang::Vi => VI[index],
        Lang::En => EN[index],
    }
}

/// Decodes a 16-bit (or float) PCM WAV file.
pub fn decode(bytes: &[u8]) -> Result<Clip, ClipError> {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes))?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 2f32.powi(i32::from(spec.bits_per_sample.max(1)) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 / scale))
                .collect::<Result<_, _>>()?
        }
    };
    if samples.is_empty() {
        return Err(ClipError::Empty);
    }
    Ok(Clip {
        channels: spec.channels,
        sample_rate: spec.sample_rate,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_prompt_decodes_to_a_sound_of_sensible_length() {
        for lang in [Lang::Vi, Lang::En] {
            for prompt in Prompt::ALL {
                let clip = decode(clip_bytes(lang, prompt))
                    .unwrap_or_else(|e| panic!("{lang:?} {prompt:?}: {e}"));
                let secs = clip.seconds();
                assert!((0.3..15.).contains(&secs), "{lang:?} {prompt:?}: {secs} s");
                let loudest = clip.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
                assert!(loudest > 0.05, "{lang:?} {prompt:?} is silent");
            }
        }
    }

    #[test]
    fn each_prompt_has_its_own_file() {
        let mut seen = std::collections::HashSet::new();
        for lang in [Lang::Vi, Lang::En] {
            for prompt in Prompt::ALL {
                assert!(
                    seen.insert(clip_bytes(lang, prompt).as_ptr()),
                    "{lang:?} {prompt:?}"
                );
            }
        }
    }

    #[test]
    fn something_that_is_not_a_wav_file_is_an_error_not_a_panic() {
        assert!(decode(b"RIFF....nonsense").is_err());
        assert!(decode(&[]).is_err());
    }
}
