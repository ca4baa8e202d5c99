//! Group commit: one thread writes every batch that is waiting in a single transaction, so
//! sixteen tablets sending at once cost one fsync, not sixteen. Each batch is still answered
//! only after the commit that holds it, and a pass's batches are written in their order
//! (`turns`).

use crate::db::Db;
use crate::ingest::{Incoming, Stored};
use crate::notify::Wake;
use crate::storage::StoreError;
use crate::turns::{Job, Written};
use chrono::Utc;
use hailong_core::wire::MAX_BATCH;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Most ratings committed together: a few full batches, so one slow group never holds many.
const GROUP_RATINGS: usize = 8 * MAX_BATCH;

type Answer = Result<Stored, StoreError>;

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

    /// Puts `batch` in the queue, behind every batch queued before it; its answer comes once
    /// it is committed (`None` if the writer has stopped).
    pub fn queue(&self, batch: Incoming) -> Option<oneshot::Receiver<Answer>> {
        let (job, answered) = Job::new(batch);
        self.jobs.as_ref()?.send(job).ok()?;
        Some(answered)
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
    let mut written = Written::default();
    while let Ok(first) = queue.recv() {
        let mut ratings = first.batch.items.len();
        let mut group = vec![first];
        while ratings < GROUP_RATINGS {
            let Ok(job) = queue.try_recv() else { break };
            ratings += job.batch.items.len();
            group.push(job);
        }
        let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
        commit(&mut db, group, &mut written);
        drop(db);
        for waiting in committed {
            let _ = waiting.send(Wake::Poke);
        }
    }
}

/// Writes a group in one transaction and answers each of its batches.
fn commit(db: &mut Db, group: Vec<Job>, written: &mut Written) {
    let mut group = written.admit(group);
    if group.is_empty() {
        return;
    }
    let now = Utc::now();
    let batches: Vec<&Incoming> = group.iter().map(|job| &job.batch).collect();
    match db.ingest(&batches, now) {
        Ok(results) => {
            for (job, results) in group.into_iter().zip(results) {
                written.wrote(&job.batch);
                job.answer(Ok::<_, StoreError>(results));
            }
        }
        // The group was rolled back whole: give each batch its own try and its own answer.
        Err(e) if group.len() > 1 => {
            tracing::warn!(error = %e, batches = group.len(), "group commit failed; storing one by one");
            for job in group {
                for job in written.admit(vec![job]) {
                    let answer = db.ingest(&[&job.batch], now).map(|mut r| r.remove(0));
                    if answer.is_ok() {
                        written.wrote(&job.batch);
                    }
                    job.answer(answer);
                }
            }
        }
        Err(e) => group.remove(0).answer(Err::<Stored, _>(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::{batch, paired, rating};
    use hailong_core::wire::Status;

    fn job(batch: Incoming) -> (Job, oneshot::Receiver<Answer>) {
        Job::new(batch)
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
        commit(&mut db, vec![first, second], &mut Written::default());
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
        commit(&mut db, vec![good, bad], &mut Written::default());
        assert_eq!(statuses(&mut good_answer), [Status::Accepted]);
        assert!(bad_answer.try_recv().unwrap().is_err());
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        let stored: i64 = conn
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 1);
    }

    #[test]
    fn a_part_is_written_only_after_the_part_before_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("server.db")).unwrap();
        let device = paired(&mut db, "Quầy 1");
        let placed = |device: &str, part, seq, dossier| {
            let mut batch = batch(device, vec![rating(seq, dossier)]);
            batch.order = Some(hailong_core::wire::Order { pass: 7, part });
            batch
        };
        let mut written = Written::default();
        // Part 0 fails (its device is gone): part 1, queued behind it, is not written.
        let (lost, mut lost_answer) = job(placed("gone", 0, 1, "000.17.22.H56-210531-0004"));
        let (after, mut after_answer) = job(placed("gone", 1, 2, "000.17.22.H56-210531-0005"));
        commit(&mut db, vec![lost, after], &mut written);
        assert!(lost_answer.try_recv().unwrap().is_err());
        assert!(matches!(
            after_answer.try_recv().unwrap(),
            Err(StoreError::OutOfOrder(_))
        ));
        // In their order, a pass's parts are written in one group or in two.
        let dossier = "000.17.22.H56-210531-0006";
        let (zero, mut zero_answer) = job(placed(&device, 0, 1, dossier));
        let (one, mut one_answer) = job(placed(&device, 1, 2, dossier));
        commit(&mut db, vec![zero, one], &mut written);
        assert_eq!(statuses(&mut zero_answer), [Status::Accepted]);
        assert_eq!(statuses(&mut one_answer), [Status::Accepted]);
        let (two, mut two_answer) = job(placed(&device, 2, 3, dossier));
        commit(&mut db, vec![two], &mut written);
        assert_eq!(statuses(&mut two_answer), [Status::Accepted]);
        let (skipped, mut skipped_answer) = job(placed(&device, 4, 4, dossier));
        commit(&mut db, vec![skipped], &mut written);
        assert!(matches!(
            skipped_answer.try_recv().unwrap(),
            Err(StoreError::OutOfOrder(_))
        ));
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        let counted: Vec<(i64, bool)> = conn
            .prepare("SELECT seq, repeat_dossier FROM ratings ORDER BY receipt")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            counted,
            [(1, false), (2, true), (3, true)],
            "the first of the pass counts, in the order of its parts"
        );
    }
}
