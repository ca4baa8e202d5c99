//! Dashboard password checks, a bounded number at a time. One argon2 check takes about
//! 19 MiB and tens of milliseconds, so checks run on a few threads of their own (one per
//! core) behind a short queue. When the queue is full the caller is answered at once (429)
//! instead of waiting: a flood of sign-ins costs the server neither memory nor its other work.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

struct Job {
    password: String,
    stored: Option<String>,
    answer: oneshot::Sender<bool>,
}

pub struct PasswordChecks {
    queue: SyncSender<Job>,
}

/// Checks that may wait, per checking thread.
const QUEUE_PER_THREAD: usize = 4;

impl PasswordChecks {
    /// `threads` checking threads (at least one); their queue holds four checks per thread.
    pub fn start(threads: usize) -> std::io::Result<PasswordChecks> {
        let threads = threads.max(1);
        let (queue, jobs) = sync_channel::<Job>(threads * QUEUE_PER_THREAD);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            crate::threads::spawn(format!("password-check-{n}"), move || work(&jobs))?;
        }
        Ok(PasswordChecks { queue })
    }

    /// Queues a check of `password` against `stored` (an unknown user: `None`, checked
    /// against a decoy so that it takes as long); `None` if the queue is full.
    pub fn check(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Option<oneshot::Receiver<bool>> {
        let (answer, answered) = oneshot::channel();
        let job = Job {
            password,
            stored,
            answer,
        };
        match self.queue.try_send(job) {
            Ok(()) => Some(answered),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => None,
        }
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // A client that went away while its check waited is not worth 19 MiB.
        if job.answer.is_closed() {
            continue;
        }
        let matched = crate::secrets::verify_password(&job.password, job.stored.as_deref());
        let _ = job.answer.send(matched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_answered_and_a_full_queue_refuses_at_once() {
        let hash = crate::secrets::hash_password("mật khẩu đủ dài").unwrap();
        let checks = PasswordChecks::start(1).unwrap();
        let right = checks.check("mật khẩu đủ dài".into(), Some(hash.clone()));
        let wrong = checks.check("sai".into(), Some(hash.clone()));
        assert!(right.unwrap().blocking_recv().unwrap());
        assert!(!wrong.unwrap().blocking_recv().unwrap());
        // One thread busy, four waiting: the next ones are refused without waiting.
        let queued: Vec<_> = (0..20)
            .map(|_| checks.check("sai".into(), Some(hash.clone())))
            .collect();
        assert!(queued.iter().any(Option::is_none), "the queue is bounded");
        assert!(queued.iter().filter(|q| q.is_some()).count() <= 1 + QUEUE_PER_THREAD);
        for answered in queued.into_iter().flatten() {
            assert!(!answered.blocking_recv().unwrap());
        }
    }
}
