//! The speaker: an audio thread that owns the output device and plays prompts, fed through a
//! short queue. Asking never waits; a full queue drops the request, and a device that cannot be
//! opened is logged once, shown on the administrator's screen, and tried again a minute later.

use super::clips::{Clip, clip_bytes, decode};
use super::{Prompt, Voice};
use crate::settings::Lang;
use std::collections::HashMap;
use std::num::NonZero;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Requests waiting for the audio thread; more are dropped (the voice is behind, not the tap).
const QUEUE: usize = 4;
/// How long after a failure the device is tried again.
const RETRY: Duration = Duration::from_secs(60);

/// Whether the voice can be heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceStatus {
    /// Turned off, or not started.
    Off,
    Ready,
    /// The audio device could not be opened (the reason, for the administrator).
    NoDevice(String),
}

/// An audio output the thread plays into: the system's default device in the app, a recorder
/// in tests.
pub trait Output {
    /// Stops what is playing and plays `clips` one after another at `volume` (0.0 to 1.0).
    fn play(&mut self, clips: &[Arc<Clip>], volume: f32);
}

/// Opens the output, on the audio thread.
pub type Opener = Box<dyn FnMut() -> Result<Box<dyn Output>, String> + Send>;

enum Request {
    Say(Lang, Vec<Prompt>),
    Volume(u8),
}

pub struct Speaker {
    requests: SyncSender<Request>,
    status: Arc<Mutex<VoiceStatus>>,
    /// Set once a dropped request has been logged.
    dropped_logged: std::cell::Cell<bool>,
}

impl Speaker {
    /// The system's default audio device, through rodio (ALSA on Debian).
    pub fn start(volume: u8) -> Speaker {
        Speaker::start_with(
            Box::new(|| rodio_output().map(|o| Box::new(o) as Box<dyn Output>)),
            volume,
        )
    }

    /// A speaker playing into what `open` gives.
    pub fn start_with(open: Opener, volume: u8) -> Speaker {
        let (requests, queue) = sync_channel(QUEUE);
        let status = Arc::new(Mutex::new(VoiceStatus::Off));
        let shared = status.clone();
        let spawned = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || AudioThread::new(open, volume, shared).run(queue));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "the voice thread could not start");
            *lock(&status) = VoiceStatus::NoDevice(e.to_string());
        }
        Speaker {
            requests,
            status,
            dropped_logged: std::cell::Cell::new(false),
        }
    }

    fn send(&self, request: Request) {
        match self.requests.try_send(request) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if !self.dropped_logged.replace(true) {
                    tracing::warn!("the voice is behind; a prompt was skipped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

impl Voice for Speaker {
    fn say(&self, lang: Lang, prompts: &[Prompt]) {
        self.send(Request::Say(lang, prompts.to_vec()));
    }

    fn set_volume(&self, percent: u8) {
        self.send(Request::Volume(percent));
    }

    fn status(&self) -> VoiceStatus {
        lock(&self.status).clone()
    }
}

fn lock(status: &Mutex<VoiceStatus>) -> std::sync::MutexGuard<'_, VoiceStatus> {
    status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct AudioThread {
    open: Opener,
    output: Option<Box<dyn Output>>,
    failed_at: Option<Instant>,
    volume: u8,
    status: Arc<Mutex<VoiceStatus>>,
    decoded: HashMap<(Lang, Prompt), Arc<Clip>>,
}

impl AudioThread {
    fn new(open: Opener, volume: u8, status: Arc<Mutex<VoiceStatus>>) -> AudioThread {
        let mut thread = AudioThread {
            open,
            output: None,
            failed_at: None,
            volume,
            status,
            decoded: HashMap::new(),
        };
        thread.try_open();
        thread
    }

    fn try_open(&mut self) {
        match (self.open)() {
            Ok(output) => {
                tracing::info!("the voice is ready");
                self.output = Some(output);
                self.failed_at = None;
                *lock(&self.status) = VoiceStatus::Ready;
            }
            Err(reason) => {
                // Logged the first time only; the administrator's screen keeps saying it.
                if self.failed_at.is_none() {
                    tracing::warn!(%reason, "no audio device: the kiosk runs without its voice");
                }
                self.failed_at = Some(Instant::now());
                *lock(&self.status) = VoiceStatus::NoDevice(reason);
            }
        }
    }

    fn run(mut self, queue: Receiver<Request>) {
        while let Ok(request) = queue.recv() {
            match request {
                Request::Volume(percent) => self.volume = percent.min(100),
                Request::Say(lang, prompts) => self.say(lang, &prompts),
            }
        }
    }

    fn say(&mut self, lang: Lang, prompts: &[Prompt]) {
        if self.output.is_none() && self.failed_at.is_none_or(|at| at.elapsed() >= RETRY) {
            self.try_open();
        }
        let clips: Vec<Arc<Clip>> = prompts.iter().filter_map(|&p| self.clip(lang, p)).collect();
        let volume = f32::from(self.volume) / 100.;
        if let Some(output) = self.output.as_mut() {
            output.play(&clips, volume);
        }
    }

    fn clip(&mut self, lang: Lang, prompt: Prompt) -> Option<Arc<Clip>> {
        if let Some(clip) = self.decoded.get(&(lang, prompt)) {
            return Some(clip.clone());
        }
        match decode(clip_bytes(lang, prompt)) {
            Ok(clip) => {
                let clip = Arc::new(clip);
                self.decoded.insert((lang, prompt), clip.clone());
                Some(clip)
            }
            Err(e) => {
                tracing::error!(?prompt, error = %e, "a voice prompt could not be decoded");
                None
            }
        }
    }
}

/// The default device through rodio: a new player for each utterance, the old one stopped.
struct RodioOutput {
    device: rodio::MixerDeviceSink,
    player: Option<rodio::Player>,
}

fn rodio_output() -> Result<RodioOutput, String> {
    let mut device = rodio::DeviceSinkBuilder::open_default_sink().map_err(|e| e.to_string())?;
    device.log_on_drop(false);
    Ok(RodioOutput {
        device,
        player: None,
    })
}

impl Output for RodioOutput {
    fn play(&mut self, clips: &[Arc<Clip>], volume: f32) {
        if let Some(old) = self.player.take() {
            old.stop();
        }
        let player = rodio::Player::connect_new(self.device.mixer());
        player.set_volume(volume);
        for clip in clips {
            let (Some(channels), Some(rate)) =
                (NonZero::new(clip.channels), NonZero::new(clip.sample_rate))
            else {
                continue;
            };
            player.append(rodio::buffer::SamplesBuffer::new(
                channels,
                rate,
                clip.samples.clone(),
            ));
        }
        self.player = Some(player);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hailong_core::level::Level;
    use std::sync::mpsc::channel;

    /// Records what reaches the device, with when.
    struct Recorder(std::sync::mpsc::Sender<(usize, f32)>);

    impl Output for Recorder {
        fn play(&mut self, clips: &[Arc<Clip>], volume: f32) {
            let _ = self.0.send((clips.len(), volume));
        }
    }

    #[test]
    fn prompts_reach_the_device_in_order_at_the_set_volume() {
        let (tx, rx) = channel();
        let speaker = Speaker::start_with(
            Box::new(move || Ok(Box::new(Recorder(tx.clone())) as Box<dyn Output>)),
            80,
        );
        speaker.say(
            Lang::Vi,
            &[Prompt::Level(Level::Unsatisfied), Prompt::Reasons],
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), (2, 0.8));
        speaker.set_volume(30);
        speaker.say(Lang::En, &[Prompt::Thanks]);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)).unwrap(), (1, 0.3));
        assert_eq!(speaker.status(), VoiceStatus::Ready);
    }

    #[test]
    fn a_missing_device_is_reported_and_asking_still_returns_at_once() {
        let (tried, attempts) = channel();
        let speaker = Speaker::start_with(
            Box::new(move || {
                let _ = tried.send(());
                Err("no soundcards found".to_owned())
            }),
            80,
        );
        attempts.recv_timeout(Duration::from_secs(10)).unwrap();
        // Many more requests than the queue holds: none waits.
        for _ in 0..100 {
            speaker.say(Lang::Vi, &[Prompt::Invite]);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while speaker.status() == VoiceStatus::Off && Instant::now() < deadline {
            std::thread::yield_now();
        }
        assert_eq!(
            speaker.status(),
            VoiceStatus::NoDevice("no soundcards found".into())
        );
        // Not retried before a minute has passed.
        assert!(attempts.try_recv().is_err());
    }
}
