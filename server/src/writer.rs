//! Group commit: one thread writes every batch that is waiting in a single transaction, so
//! sixteen tablets sending at once cost one fsync, not sixteen. Each batch is still answered
//! only after the commit that holds it.

use crate::db::{Db, DbError};
use crate::ingest::{Incoming, Stored};
use crate::notify::Wake;
use chrono::Utc;
use hailong_core::wire::MAX_BATCH;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most ratings committed together: a few full batches, so one slow group never holds many.
const GROUP_RATINGS: usize = 8 * MAX_BATCH;

type Answer = Result<Stored, DbError>;

struct Job {
    batch: Incoming,
    answer: oneshot::Sender<Answer>,
}

/// The request side of the writer thread. Dropping it lets the thread finish what it was given
/// and waits for it.
pub struct Writer {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread; after each commit it tells `committed` (the notifier, which
    /// alerts on the negatives the commit queued; the forwarder, which sends them upward).
    pub fn start(db: Arc<Mutex<Db>>, committed: Vec<Sender<Wake>>) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        let thread = crate::threads::spawn("writer".into(), move || {
            write_loop(&db, &queue, &committed);
        })?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Stores `batch` with whatever else is waiting; resolves once it is committed.
    pub async fn store(&self, batch: Incoming) -> Option<Answer> {
        let (answer, answered) = oneshot::channel();
        self.jobs.as_ref()?.send(Job { batch, answer }).ok()?;
        answered.await.ok()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(db: &Mutex<Db>, queue: &Receiver<Job>, committed: &[Sender<Wake>]) {
    while let Ok(first) = queue.recv() {
        let mut ratings = first.batch.items.len();
        let mut group = vec![first];
        while ratings < GROUP_RATINGS {
            let Ok(job) = queue.try_recv() else { break };
            ratings += job.batch.items.len();
            group.push(job);
        }
        let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
        commit(&mut db, group);
        drop(db);
        for waiting in committed {
            let _ = waiting.send(Wake::Poke);
        }
    }
}

/// Writes a group in one transaction and answers each of its batches.
fn commit(db: &mut Db, mut group: Vec<Job>) {
    let now = Utc::now();
    let batches: Vec<&Incoming> = group.iter().map(|job| &job.batch).collect();
    match db.ingest(&batches, now) {
        Ok(results) => {
            for (job, results) in group.into_iter().zip(results) {
                let _ = job.answer.send(Ok(results));
            }
        }
        // The group was rolled back whole: give each batch its own try and its own answer.
        Err(e) if group.len() > 1 => {
            tracing::warn!(error = %e, batches = group.len(), "group commit failed; storing one by one");
            for job in group {
                let answer = db.ingest(&[&job.batch], now).map(|mut r| r.remove(0));
                let _ = job.answer.send(answer);
            }
        }
        Err(e) => {
            let _ = group.remove(0).answer.send(Err(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating};
    use hailong_core::wire::Status;

    fn job(batch: Incoming) -> (Job, oneshot::Receiver<Answer>) {
        let (answer, answered) = oneshot::channel();
        (Job { batch, answer }, answered)
    }

    fn statuses(answered: &mut oneshot::Receiver<Answer>) -> Vec<Status> {
        let stored = answered.try_recv().unwrap().unwrap();
        stored.results.into_iter().map(|r| r.status).collect()
    }

    #[test]
    fn batches_of_one_group_see_each_other_like_batches_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let (one, two) = (paired(&mut db, "Quầy 1"), paired(&mut db, "Quầy 2"));
        let dossier = "000.17.22.H56-210531-0001";
        let (first, mut first_answer) = job(batch(&one, vec![rating(1, dossier)]));
        let (second, mut second_answer) =
            job(batch(&two, vec![rating(1, dossier), rating(2, dossier)]));
        commit(&mut db, vec![first, second]);
        assert_eq!(statuses(&mut first_answer), [Status::Accepted]);
        assert_eq!(
            statuses(&mut second_answer),
            [Status::Duplicate, Status::Accepted]
        );
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        let repeats: i64 = conn
            .query_row(
                "SELECT count(*) FROM ratings WHERE repeat_dossier",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(repeats, 1, "the second rating of the dossier is a repeat");
    }

    #[test]
    fn a_failing_batch_fails_alone_and_the_rest_of_its_group_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let device = paired(&mut db, "Quầy 1");
        let (good, mut good_answer) =
            job(batch(&device, vec![rating(1, "000.17.22.H56-210531-0002")]));
        // No such device: the foreign key fails the whole group's transaction.
        let (bad, mut bad_answer) = job(batch(
            "no-such-device",
            vec![rating(2, "000.17.22.H56-210531-0003")],
        ));
        commit(&mut db, vec![good, bad]);
        assert_eq!(statuses(&mut good_answer), [Status::Accepted]);
        assert!(bad_answer.try_recv().unwrap().is_err());
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 1);
    }
}
