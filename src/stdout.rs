//! A command's answer on standard output. A reader that stops early (`hailong officer list |
//! head -1`) closes the pipe; the command then ends quietly with status 0, as Unix tools do,
//! instead of panicking on the broken pipe.

use std::io::Write;

/// Writes one line to standard output; on a closed pipe, exits with status 0 at once.
pub fn line(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| out.write_all(b"\n"));
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => tracing::warn!(error = %e, "cannot write to standard output"),
    }
}
