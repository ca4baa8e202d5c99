//! A sound card for machines without one: a PulseAudio daemon of the bench's own with a null
//! sink, which plays in real time into nothing, and a recorder on that sink's monitor that
//! stamps each sound's onset. ALSA programs reach it through the `pulse` plugin (Debian:
//! pulseaudio, pulseaudio-utils, libasound2-plugins). The recorder's own delay is in every
//! onset; the bare player beside the kiosk (`click`: rodio on the default device, as the kiosk's
//! speaker plays, without the kiosk) goes through the same.

use std::io::Read;
use std::num::NonZero;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RATE: usize = 48_000;
/// Samples in one read of the monitor: 1 ms.
const CHUNK: usize = RATE / 1000;
/// A sample louder than this is sound (16-bit; speech peaks above 5,000).
const LOUD: i16 = 400;
/// Silence this long before a loud chunk makes it an onset.
const GAP: Duration = Duration::from_millis(80);

pub struct Sink {
    daemon: Child,
    recorder: Child,
    player: Option<rodio::MixerDeviceSink>,
    /// Whether the bare player has sounded yet: its first sound waits for its stream to start.
    warm: bool,
    runtime: tempfile::TempDir,
    onsets: Receiver<Instant>,
    last_loud: Arc<Mutex<Option<Instant>>>,
}

impl Sink {
    /// Starts the daemon, the recorder and the bare player; `None` when PulseAudio is missing.
    /// Call it before starting other threads: it points this process's own sound at the sink.
    pub fn start() -> Option<Sink> {
        let runtime = tempfile::tempdir().ok()?;
        let daemon = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "-L",
                "module-null-sink sink_name=counter rate=48000",
                "-L",
                "module-native-protocol-unix",
            ])
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let socket = runtime.path().join("pulse/native");
        let started = Instant::now();
        while !socket.exists() {
            if started.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let pulse = |program: &str| {
            let mut command = Command::new(program);
            command
                .env("PULSE_SERVER", format!("unix:{}", socket.display()))
                .args(["--raw", "--format=s16le", "--channels=1", "--rate=48000"]);
            command
        };
        let mut recorder = pulse("parec")
            .args(["-d", "counter.monitor", "--latency-msec=2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // SAFETY: no other thread of this process runs yet (see the doc comment).
        unsafe {
            std::env::set_var("XDG_RUNTIME_DIR", runtime.path());
            std::env::set_var("PULSE_SERVER", format!("unix:{}", socket.display()));
        }
        let mut player = rodio::DeviceSinkBuilder::open_default_sink().ok()?;
        player.log_on_drop(false);
        let mut monitor = recorder.stdout.take()?;
        let (tx, onsets) = channel();
        let last_loud = Arc::new(Mutex::new(None));
        let loud_at = last_loud.clone();
        std::thread::spawn(move || {
            let mut bytes = [0u8; CHUNK * 2];
            let mut quiet_since = Some(Instant::now());
            while monitor.read_exact(&mut bytes).is_ok() {
                let now = Instant::now();
                let loud = bytes
                    .chunks_exact(2)
                    .any(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs() > LOUD as u16);
                if loud {
                    if quiet_since.is_some_and(|t| now - t >= GAP) && tx.send(now).is_err() {
                        break;
                    }
                    quiet_since = None;
                    *loud_at.lock().unwrap() = Some(now);
                } else if quiet_since.is_none() {
                    quiet_since = Some(now);
                }
            }
        });
        Some(Sink {
            daemon,
            recorder,
            player: Some(player),
            warm: false,
            runtime,
            onsets,
            last_loud,
        })
    }

    /// Points `command`'s sound at this sink.
    pub fn connect(&self, command: &mut Command) {
        command
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("PULSE_SERVER", format!("unix:{}", self.socket().display()));
    }

    fn socket(&self) -> PathBuf {
        self.runtime.path().join("pulse/native")
    }

    /// Waits until nothing has sounded for `quiet`, then forgets earlier onsets.
    pub fn wait_for_silence(&self, quiet: Duration) {
        loop {
            let last = *self.last_loud.lock().unwrap();
            match last {
                Some(at) if at.elapsed() < quiet => std::thread::sleep(quiet - at.elapsed()),
                _ => break,
            }
        }
        while self.onsets.try_recv().is_ok() {}
    }

    /// The next sound's onset at the sink, if one comes within `limit`.
    pub fn next_onset(&self, limit: Duration) -> Option<Instant> {
        self.onsets.recv_timeout(limit).ok()
    }

    /// The bare player: hands 100 ms of a 1 kHz tone to rodio's mixer, and returns when, or
    /// `None` the first time (like the kiosk's first prompt, it waits for its stream to start).
    pub fn click(&mut self) -> Option<Instant> {
        let tone: Vec<f32> = (0..RATE / 10)
            .map(|i| if (i / 24) % 2 == 0 { 0.25 } else { -0.25 })
            .collect();
        let one = NonZero::new(1).unwrap();
        let rate = NonZero::new(RATE as u32).unwrap();
        let device = self.player.as_ref()?;
        let player = rodio::Player::connect_new(device.mixer());
        let sent = Instant::now();
        player.append(rodio::buffer::SamplesBuffer::new(one, rate, tone));
        player.detach();
        std::mem::replace(&mut self.warm, true).then_some(sent)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        // The player's stream first, or it reports the daemon gone.
        self.player.take();
        for child in [&mut self.recorder, &mut self.daemon] {
            child.kill().ok();
            child.wait().ok();
        }
    }
}
