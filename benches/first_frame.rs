//! Kiosk start to first frame, and resident memory with 10,000 ratings, in a real window.
//!
//! Needs an X display and `xwd` (Debian: xvfb, x11-apps):
//! `xvfb-run -a -s "-screen 0 1280x800x24" cargo bench --bench first_frame`.
//! The first frame is the first screenshot of the root window that shows the first face's green;
//! screenshots are taken back to back, so the figure is late by at most one capture (~20 ms).

mod window;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use window::{demo_tablet, hailong, median, rss_mb};

const RUNS: usize = 5;
/// Ratings in the data dir; `FIRST_FRAME_RATINGS=1000000` measures a big tablet.
const DEFAULT_RATINGS: &str = "10000";
/// The "very satisfied" face colour (`Theme.level-color`).
const FACE: [u8; 3] = [0x1b, 0x8a, 0x4a];

/// One screenshot of the root window as (width, height, bytes per line, 32-bit BGRX pixels).
fn capture() -> Option<(usize, usize, usize, Vec<u8>)> {
    let out = Command::new("xwd")
        .args(["-root", "-silent"])
        .output()
        .ok()?;
    let data = out.stdout;
    let field = |i: usize| -> Option<usize> {
        let b = data.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let (header, width, height) = (field(0)?, field(4)?, field(5)?);
    let (bits_per_pixel, bytes_per_line, ncolors) = (field(11)?, field(12)?, field(19)?);
    if bits_per_pixel != 32 {
        return None;
    }
    let start = header + ncolors * 12;
    Some((width, height, bytes_per_line, data.get(start..)?.to_vec()))
}

fn shows_face() -> bool {
    let Some((width, height, line, pixels)) = capture() else {
        return false;
    };
    (0..height).step_by(6).any(|y| {
        (0..width).step_by(6).any(|x| {
            let i = y * line + x * 4;
            pixels
                .get(i..i + 3)
                .is_some_and(|p| p[2] == FACE[0] && p[1] == FACE[1] && p[0] == FACE[2])
        })
    })
}

fn main() {
    if std::env::var_os("DISPLAY").is_none() || capture().is_none() {
        eprintln!(
            "first_frame: needs an X display and xwd; run it under xvfb-run (see the doc comment)"
        );
        return;
    }
    let ratings = std::env::var("FIRST_FRAME_RATINGS").unwrap_or_else(|_| DEFAULT_RATINGS.into());
    let dir = tempfile::tempdir().expect("a temporary folder");
    demo_tablet(dir.path(), &ratings);
    let (mut frames, mut rss) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        let mut kiosk = hailong(dir.path())
            .env("SLINT_BACKEND", "winit-software")
            .stderr(Stdio::null())
            .spawn()
            .expect("the kiosk starts");
        while !shows_face() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no first frame in 30 s"
            );
        }
        frames.push(started.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_secs(2));
        rss.push(rss_mb(kiosk.id()).unwrap_or(0.0));
        kiosk.kill().ok();
        kiosk.wait().ok();
        // The next run must not see this run's window.
        while shows_face() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    println!("kiosk start to first frame, {ratings} ratings, {RUNS} runs (ms): {frames:.0?}");
    println!("  median {:.0} ms (goal < 1000 ms)", median(&frames));
    println!("resident memory 2 s after the first frame (MB): {rss:.1?}");
    println!("  median {:.1} MB (goal < 100 MB)", median(&rss));
}
