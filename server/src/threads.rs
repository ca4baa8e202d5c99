//! The server's own threads (writer, checkpoints, backups, alerts, password checks) log where
//! the code that started the server logs: a program or a test that runs several servers sees
//! each one's lines in its own place, not in a process-wide log.

use std::thread::JoinHandle;

/// Starts a thread named `name` that runs `work` under the caller's tracing dispatcher.
pub fn spawn<T: Send + 'static>(
    name: String,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<JoinHandle<T>> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::Builder::new()
        .name(name)
        .spawn(move || tracing::dispatcher::with_default(&dispatch, work))
}
