//! What the benches that run the release kiosk in a real window share: the command, a data dir
//! filled with demo ratings, resident memory from `/proc`, and order statistics.
#![allow(dead_code)] // each bench uses its own part

pub mod sink;

use std::path::Path;
use std::process::Command;

/// The kiosk binary on `dir`.
pub fn hailong(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hailong"));
    command.arg("--data-dir").arg(dir);
    command
}

/// Sets `dir` up as a demo tablet holding `ratings` ratings over 90 days.
pub fn demo_tablet(dir: &Path, ratings: &str) {
    let demo = hailong(dir)
        .args(["demo", "--count", ratings, "--days", "90"])
        .output()
        .expect("hailong demo runs");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
}

/// Resident memory of process `pid`, in MB.
pub fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())?;
    Some(kib as f64 / 1024.0)
}

/// The `p`-th percentile (0 to 100) by the nearest-rank method.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}
