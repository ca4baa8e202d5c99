//! Touch to feedback in a real window: from a pointer press on a face to the first frame that
//! shows it pressed, and from the release to the first frame of the thank-you screen (the store's
//! fsync is on that path). Beside each kiosk press, a bare X client that repaints its own small
//! window on a press is measured the same way: the floor the X server sets.
//!
//! Needs an X display with the XTEST and DAMAGE extensions (Xvfb has both):
//! `xvfb-run -a -s "-screen 0 1280x800x24" cargo bench --bench touch`.
//! Presses are real X input (XTEST); a frame is the moment the X server tells this bench that the
//! window's pixels changed (DAMAGE), so the figures include the kiosk's event handling, the
//! software renderer and the upload of the frame.
//!
//! With PulseAudio installed, the kiosk speaks into a null sink of the bench's own
//! (`window/sink.rs`), and the bench also measures from the thank-you frame to the first sound
//! of its prompt at the sink, beside a bare player's tone handed to the same sink.

mod window;

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use window::sink::Sink;
use window::{demo_tablet, hailong, median, percentile, rss_mb};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{
    AtomEnum, BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT, ChangeGCAux, ConfigureWindowAux,
    ConnectionExt as _, CreateGCAux, CreateWindowAux, EventMask, ImageFormat, MOTION_NOTIFY_EVENT,
    MapState, Rectangle, StackMode, Window, WindowClass,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;

/// Presses measured on the kiosk, each with a bare-client press beside it; `TOUCH_PRESSES`
/// changes it for a quick look.
const DEFAULT_PRESSES: usize = 200;
/// No frame for this long: the window is at rest.
const QUIET: Duration = Duration::from_millis(150);
/// The "very satisfied" face colour (`Theme.level-color`).
const FACE: [u8; 3] = [0x1b, 0x8a, 0x4a];
/// The bare client's window: a square in the screen's bottom-right corner, over the kiosk.
const BARE_SIZE: u16 = 96;

type Conn = Arc<RustConnection>;

fn main() {
    let Ok((conn, screen)) = x11rb::connect(None) else {
        eprintln!("touch: needs an X display; run it under xvfb-run (see the doc comment)");
        return;
    };
    let conn = Arc::new(conn);
    let root = conn.setup().roots[screen].root;
    let has_extensions = conn
        .xtest_get_version(2, 2)
        .is_ok_and(|c| c.reply().is_ok())
        && conn
            .xfixes_query_version(5, 0)
            .is_ok_and(|c| c.reply().is_ok())
        && conn
            .damage_query_version(1, 1)
            .is_ok_and(|c| c.reply().is_ok());
    if !has_extensions {
        eprintln!("touch: the X server lacks XTEST, XFIXES or DAMAGE");
        return;
    }

    let presses = std::env::var("TOUCH_PRESSES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_PRESSES);
    let dir = tempfile::tempdir().expect("a temporary folder");
    demo_tablet(dir.path(), "10000");
    // A citizen every second: the shortest thank-you and pause between ratings that settings allow.
    let settings = dir.path().join("settings.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).expect("settings")).expect("json");
    json["thank_you_secs"] = 1.into();
    json["min_interval_secs"] = 1.into();
    std::fs::write(&settings, json.to_string()).expect("settings written");

    let mut sink = Sink::start();
    let mut command = hailong(dir.path());
    command
        .arg("--fullscreen")
        .env("SLINT_BACKEND", "winit-software")
        .stderr(std::process::Stdio::null());
    match &sink {
        Some(sink) => sink.connect(&mut command),
        None => eprintln!("touch: no PulseAudio (pulseaudio, pulseaudio-utils): no voice figures"),
    }
    let mut kiosk = command.spawn().expect("the kiosk starts");
    let events = listen(&conn);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        measure(&conn, root, kiosk.id(), &events, sink.as_mut(), presses)
    }));
    let rss = rss_mb(kiosk.id());
    kiosk.kill().ok();
    kiosk.wait().ok();
    let Ok(m) = result else {
        std::process::exit(1);
    };

    let row = |name: &str, kiosk: &[f64], bare: &[f64], goal: &str| {
        let (p50, p99) = (median(kiosk), percentile(kiosk, 99.0));
        let (b50, b99) = (median(bare), percentile(bare, 99.0));
        println!(
            "{name}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms ({goal}) | bare client p50 \
             {b50:.2} ms, p99 {b99:.2} ms | ratio p50 {:.1}x, p99 {:.1}x",
            percentile(kiosk, 100.0),
            p50 / b50,
            p99 / b99
        );
    };
    println!("{presses} presses on the first face, 10,000 ratings in the store, software renderer");
    row(
        "press to pressed frame",
        &m.pressed,
        &m.bare,
        "goal p99 <= 17 ms",
    );
    row(
        "release to thank-you frame",
        &m.next,
        &m.bare,
        "goal p99 <= 50 ms",
    );
    if !m.voice.is_empty() {
        let (p50, p99) = (median(&m.voice), percentile(&m.voice, 99.0));
        let (b50, b99) = (median(&m.tone), percentile(&m.tone, 99.0));
        println!(
            "thank-you frame to the voice at the sink, after the first: p50 {p50:.1} ms, p99 {p99:.1} ms, max \
             {:.1} ms (goal p99 <= 150 ms), {} of {presses} silent | bare rodio tone to the \
             sink, after the first: p50 {b50:.1} ms, p99 {b99:.1} ms | ratio p50 {:.1}x, p99 {:.1}x",
            percentile(&m.voice, 100.0),
            m.silent,
            p50 / b50,
            p99 / b99
        );
        if let Some(first) = m.first_voice {
            println!(
                "  the first prompt since the kiosk started (not in the figures): {first:.0} ms"
            );
        }
    }
    if let Some(rss) = rss {
        println!("resident memory after the {presses} ratings: {rss:.1} MB (goal < 50 MB)");
    }
}

#[derive(Default)]
struct Measured {
    pressed: Vec<f64>,
    next: Vec<f64>,
    bare: Vec<f64>,
    /// From the thank-you frame to the prompt's first sound at the sink.
    voice: Vec<f64>,
    /// The first prompt since the kiosk started, kept apart.
    first_voice: Option<f64>,
    /// Thank-you screens no sound followed within 3 s.
    silent: usize,
    /// From handing a tone to the sound server to its first sound at the sink.
    tone: Vec<f64>,
}

/// Every X event, stamped the moment it arrives, from a thread of its own.
fn listen(conn: &Conn) -> Receiver<(Instant, Event)> {
    let (tx, rx) = channel();
    let conn = conn.clone();
    std::thread::spawn(move || {
        while let Ok(event) = conn.wait_for_event() {
            if tx.send((Instant::now(), event)).is_err() {
                break;
            }
        }
    });
    rx
}

fn measure(
    conn: &Conn,
    root: Window,
    pid: u32,
    events: &Receiver<(Instant, Event)>,
    mut sink: Option<&mut Sink>,
    presses: usize,
) -> Measured {
    let kiosk = wait_for_window(conn, root, pid);
    let kiosk_damage = conn.generate_id().unwrap();
    conn.damage_create(kiosk_damage, kiosk, ReportLevel::NON_EMPTY)
        .unwrap();
    let (x, y) = find_face(conn, kiosk);
    let on_screen = conn
        .translate_coordinates(kiosk, root, x, y)
        .unwrap()
        .reply()
        .unwrap();
    let face = (on_screen.dst_x, on_screen.dst_y);
    let in_window = (x, y);
    let bare = BareClient::new(conn, root);
    let bare_damage = conn.generate_id().unwrap();
    conn.damage_create(bare_damage, bare.window, ReportLevel::NON_EMPTY)
        .unwrap();
    conn.flush().unwrap();

    let mut m = Measured::default();
    // Longer than the pauses between a prompt's sentences, so one prompt is one sound.
    let silence = Duration::from_secs(1);
    pointer(conn, MOTION_NOTIFY_EVENT, root, face);
    for _ in 0..presses {
        // The kiosk: press, the pressed frame, release, the thank-you frame, its voice.
        if let Some(sink) = sink.as_deref() {
            sink.wait_for_silence(silence);
        }
        rest(conn, events, kiosk_damage);
        let sent = pointer(conn, BUTTON_PRESS_EVENT, root, face);
        m.pressed.push(ms(next_frame(events, kiosk_damage) - sent));
        let pressed_colour = pixel(conn, kiosk, in_window);
        assert_ne!(
            pressed_colour, FACE,
            "the pressed frame shows the face pressed"
        );
        rest(conn, events, kiosk_damage);
        let sent = pointer(conn, BUTTON_RELEASE_EVENT, root, face);
        let thanks = next_frame(events, kiosk_damage);
        m.next.push(ms(thanks - sent));
        let now = pixel(conn, kiosk, in_window);
        assert!(
            now != FACE && now != pressed_colour,
            "the frame after the release is the thank-you screen"
        );
        if let Some(sink) = sink.as_deref_mut() {
            match sink.next_onset(Duration::from_secs(3)) {
                // The first prompt also waits for the sound server to start the kiosk's stream.
                Some(at) if m.first_voice.is_none() => {
                    m.first_voice = Some(ms(at.saturating_duration_since(thanks)));
                }
                Some(at) => m.voice.push(ms(at.saturating_duration_since(thanks))),
                None => m.silent += 1,
            }
            sink.wait_for_silence(silence);
            let sent = sink.click();
            let onset = sink.next_onset(Duration::from_secs(3));
            if let (Some(sent), Some(at)) = (sent, onset) {
                m.tone.push(ms(at.saturating_duration_since(sent)));
            }
        }
        // The bare client, while the thank-you shows.
        bare.raise();
        let at = (bare.x + 10, bare.y + 10);
        pointer(conn, MOTION_NOTIFY_EVENT, root, at);
        rest(conn, events, bare_damage);
        let sent = pointer(conn, BUTTON_PRESS_EVENT, root, at);
        bare.repaint_on_press(events);
        m.bare.push(ms(next_frame(events, bare_damage) - sent));
        pointer(conn, BUTTON_RELEASE_EVENT, root, at);
        pointer(conn, MOTION_NOTIFY_EVENT, root, face);
        // Back to the faces for the next citizen.
        let started = Instant::now();
        while pixel(conn, kiosk, in_window) != FACE {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the faces came back"
            );
            let _ = events.recv_timeout(Duration::from_millis(50));
        }
    }
    m
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sends one pointer event through XTEST; returns when it was sent. A press or release acts
/// where the pointer is: only a motion uses `x`, `y`.
fn pointer(conn: &Conn, kind: u8, root: Window, (x, y): (i16, i16)) -> Instant {
    let detail = if kind == MOTION_NOTIFY_EVENT { 0 } else { 1 };
    conn.xtest_fake_input(kind, detail, x11rb::CURRENT_TIME, root, x, y, 0)
        .unwrap();
    let sent = Instant::now();
    conn.flush().unwrap();
    sent
}

/// Waits until the window has drawn nothing for `QUIET`, and re-arms its damage report.
fn rest(conn: &Conn, events: &Receiver<(Instant, Event)>, damage: u32) {
    loop {
        conn.damage_subtract(damage, 0u32, 0u32).unwrap();
        conn.flush().unwrap();
        match events.recv_timeout(QUIET) {
            Err(RecvTimeoutError::Timeout) => return,
            Err(RecvTimeoutError::Disconnected) => panic!("the X connection closed"),
            Ok(_) => continue,
        }
    }
}

/// When the next frame of the window behind `damage` reached the X server.
fn next_frame(events: &Receiver<(Instant, Event)>, damage: u32) -> Instant {
    loop {
        match events.recv_timeout(Duration::from_secs(5)) {
            Ok((at, Event::DamageNotify(e))) if e.damage == damage => return at,
            Ok(_) => {}
            Err(e) => panic!("no frame within 5 s: {e}"),
        }
    }
}

/// The kiosk's mapped top-level window, once it is there.
fn wait_for_window(conn: &Conn, root: Window, pid: u32) -> Window {
    let pid_atom = conn
        .intern_atom(false, b"_NET_WM_PID")
        .unwrap()
        .reply()
        .unwrap()
        .atom;
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no kiosk window in 30 s"
        );
        let children = conn.query_tree(root).unwrap().reply().unwrap().children;
        for window in children {
            let owned = conn
                .get_property(false, window, pid_atom, AtomEnum::CARDINAL, 0, 1)
                .unwrap()
                .reply()
                .ok()
                .and_then(|p| p.value32()?.next())
                == Some(pid);
            let viewable = conn
                .get_window_attributes(window)
                .unwrap()
                .reply()
                .is_ok_and(|a| a.map_state == MapState::VIEWABLE);
            if owned && viewable && find_face_once(conn, window).is_some() {
                return window;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The centre of the first face, in window (and screen: the kiosk fills it) coordinates.
fn find_face(conn: &Conn, window: Window) -> (i16, i16) {
    find_face_once(conn, window).expect("the first face shows")
}

fn find_face_once(conn: &Conn, window: Window) -> Option<(i16, i16)> {
    let geometry = conn.get_geometry(window).ok()?.reply().ok()?;
    let (w, h) = (geometry.width, geometry.height);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, window, 0, 0, w, h, !0)
        .ok()?
        .reply()
        .ok()?;
    let (mut sx, mut sy, mut n) = (0usize, 0usize, 0usize);
    for (i, p) in image.data.chunks_exact(4).enumerate() {
        if [p[2], p[1], p[0]] == FACE {
            sx += i % usize::from(w);
            sy += i / usize::from(w);
            n += 1;
        }
    }
    // With three or five levels, only the first face has this colour.
    (n > 0).then(|| ((sx / n) as i16, (sy / n) as i16))
}

/// One pixel of the window as RGB.
fn pixel(conn: &Conn, window: Window, (x, y): (i16, i16)) -> [u8; 3] {
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, window, x, y, 1, 1, !0)
        .unwrap()
        .reply()
        .unwrap();
    [image.data[2], image.data[1], image.data[0]]
}

/// A minimal X client: a small window that fills itself with the other of two colours each
/// time it is pressed.
struct BareClient {
    conn: Conn,
    window: Window,
    gc: u32,
    x: i16,
    y: i16,
    colours: [u32; 2],
    turn: std::cell::Cell<usize>,
}

impl BareClient {
    fn new(conn: &Conn, root: Window) -> BareClient {
        let screen = &conn.setup().roots[0];
        let x = (screen.width_in_pixels - BARE_SIZE - 16) as i16;
        let y = (screen.height_in_pixels - BARE_SIZE - 16) as i16;
        let window = conn.generate_id().unwrap();
        conn.create_window(
            screen.root_depth,
            window,
            root,
            x,
            y,
            BARE_SIZE,
            BARE_SIZE,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new()
                .override_redirect(1)
                .event_mask(EventMask::BUTTON_PRESS),
        )
        .unwrap();
        let gc = conn.generate_id().unwrap();
        conn.create_gc(gc, window, &CreateGCAux::new()).unwrap();
        conn.map_window(window).unwrap();
        conn.flush().unwrap();
        BareClient {
            conn: conn.clone(),
            window,
            gc,
            x,
            y,
            colours: [0x1b8a4a, 0xd0d7df],
            turn: std::cell::Cell::new(0),
        }
    }

    /// Keeps the window over the kiosk, which raises itself when it fills the screen.
    fn raise(&self) {
        self.conn
            .configure_window(
                self.window,
                &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE),
            )
            .unwrap();
        self.conn.flush().unwrap();
    }

    /// Waits for the press to reach this client, then repaints the whole window.
    fn repaint_on_press(&self, events: &Receiver<(Instant, Event)>) {
        loop {
            match events.recv_timeout(Duration::from_secs(5)) {
                Ok((_, Event::ButtonPress(e))) if e.event == self.window => break,
                Ok(_) => {}
                Err(e) => panic!("the bare client got no press: {e}"),
            }
        }
        let turn = self.turn.get();
        self.turn.set(turn + 1);
        let conn = &self.conn;
        conn.change_gc(
            self.gc,
            &ChangeGCAux::new().foreground(self.colours[turn % 2]),
        )
        .unwrap();
        let all = Rectangle {
            x: 0,
            y: 0,
            width: BARE_SIZE,
            height: BARE_SIZE,
        };
        conn.poly_fill_rectangle(self.window, self.gc, &[all])
            .unwrap();
        conn.flush().unwrap();
    }
}
