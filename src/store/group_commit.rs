//! Group commit on SQLite. With `synchronous=FULL` every commit waits for the disk to flush
//! the log, and there is one writer at a time: transactions committed one by one pay a flush
//! each, however small they are. Here writers queue, and one leader serves the queue in groups:
//! it runs every transaction waiting at that moment, each in a savepoint of its own on one
//! connection, commits them with one flush, and only then answers each. A transaction that
//! fails rolls back to its savepoint and changes nothing; the others are unaffected. If the
//! shared commit fails, every member of the group is answered with that failure, and none of
//! them was acknowledged before.
//!
//! A waiting writer holds no thread and no connection: it waits on its answer. The leader is
//! whoever finds the queue without one, and leads while there is work.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use tokio::sync::oneshot;

use super::{Backend, Db, DbConnection, StoreError};

/// The most transactions one commit takes: a group's answers wait for its last member, so a
/// long queue is served by several commits in a row rather than by one that keeps the first
/// waiting.
const MOST_IN_A_GROUP: usize = 256;

/// A transaction waiting in the queue.
struct Job {
    /// Runs the transaction in a savepoint; what it answers waits for the commit.
    run: Box<dyn FnOnce(&mut DbConnection) -> Ran + Send>,
    /// Answers a transaction that could not run at all: no connection, no write lock.
    fail: Box<dyn FnOnce(&StoreError) + Send>,
}

/// Answers a transaction that ran, told how the group's commit went.
type Answer = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// A transaction that ran: whether its savepoint was kept, and how to answer it once the fate of
/// the group's commit is known.
struct Ran {
    kept: bool,
    answer: Answer,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    /// A leader is serving the queue: whoever queues now only waits for the answer.
    led: bool,
}

/// The transactions waiting for the next group, and what the groups did so far.
#[derive(Default, Clone)]
pub(super) struct Queue {
    waiting: Arc<Mutex<Waiting>>,
    groups: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; true when the queue had no leader and the caller must lead.
    fn push(&self, job: Job) -> bool {
        let mut waiting = self.lock();
        waiting.jobs.push_back(job);
        !std::mem::replace(&mut waiting.led, true)
    }

    /// The next group, or none: the queue is empty and no longer led.
    fn next_group(&self) -> Option<Vec<Job>> {
        let mut waiting = self.lock();
        if waiting.jobs.is_empty() {
            waiting.led = false;
            return None;
        }
        let n = waiting.jobs.len().min(MOST_IN_A_GROUP);
        Some(waiting.jobs.drain(..n).collect())
    }
}

/// How the groups went, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommits {
    /// Commits of groups that kept something: one disk flush each.
    pub groups: u64,
    /// Write transactions those commits made durable.
    pub writes: u64,
    /// Write transactions waiting for the next group now.
    pub waiting: usize,
}

/// The same failure, told to each member of a group that shared it.
fn retold(error: &StoreError) -> StoreError {
    match error {
        StoreError::Timeout(m) => StoreError::Timeout(m.clone()),
        StoreError::StorageFull(m) => StoreError::StorageFull(m.clone()),
        StoreError::ReadOnly(m) => StoreError::ReadOnly(m.clone()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// `f` as a job of the queue, and where its answer will arrive.
fn job<T, E, F>(f: F) -> (Job, oneshot::Receiver<Result<T, E>>)
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
{
    // Whichever of the two closures runs takes the sender.
    let (sender, receiver) = oneshot::channel();
    let sender = Arc::new(Mutex::new(Some(sender)));
    let failed = sender.clone();
    let send = |sender: &Mutex<Option<oneshot::Sender<Result<T, E>>>>, answer| {
        if let Some(sender) = sender.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // A writer that stopped waiting (its request timed out) no longer needs it.
            let _ = sender.send(answer);
        }
    };
    let run = Box::new(move |conn: &mut DbConnection| {
        let outcome = conn.transaction(f);
        Ran {
            kept: outcome.is_ok(),
            answer: Box::new(move |committed: Result<(), &StoreError>| {
                let answer = match (outcome, committed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(error)) => Err(E::from(retold(error))),
                    // Rolled back to its savepoint: its own refusal, whatever became of the rest.
                    (Err(error), _) => Err(error),
                };
                send(&sender, answer);
            }),
        }
    });
    let fail = Box::new(move |error: &StoreError| send(&failed, Err(E::from(retold(error)))));
    (Job { run, fail }, receiver)
}

/// The duty to serve the queue until it is empty, handed to whoever found it without a leader.
/// A leader dropped without leading (its thread could not be started) serves the queue where
/// it is dropped: a queue marked as led must never be left without its leader.
#[must_use = "a queue without its leader is served only when the leader is dropped"]
pub struct Leader(Option<Db>);

impl Leader {
    /// Commits group after group until nobody waits.
    pub fn lead(mut self) {
        if let Some(db) = self.0.take() {
            serve(&db);
        }
    }
}

impl Drop for Leader {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            serve(&db);
        }
    }
}

fn serve(db: &Db) {
    // Should a group panic past its guards, the queue is left without a leader rather than
    // marked as led by nobody: the next writer leads and serves what waits.
    struct Unmark<'a>(&'a Queue);
    impl Drop for Unmark<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.lock().led = false;
            }
        }
    }
    let _unmark = Unmark(&db.queue);
    loop {
        // The database first, the group then: whoever queued while it was busy joins.
        let _writer = db.writers.lock().unwrap_or_else(|e| e.into_inner());
        let Some(group) = db.queue.next_group() else {
            return;
        };
        db.commit_group(group);
    }
}

/// Where a queued write's answer arrives, and the queue's leader when its writer must lead.
pub struct Queued<T, E> {
    pub answer: oneshot::Receiver<Result<T, E>>,
    pub leader: Option<Leader>,
}

impl Db {
    pub fn group_commits(&self) -> GroupCommits {
        GroupCommits {
            groups: self.queue.groups.load(Ordering::Relaxed),
            writes: self.queue.writes.load(Ordering::Relaxed),
            waiting: self.queue.lock().jobs.len(),
        }
    }

    /// Whether writes are committed in groups: on SQLite. PostgreSQL's server combines
    /// concurrent commits itself, and each transaction runs on its own connection there.
    pub fn commits_in_groups(&self) -> bool {
        self.backend() == Backend::Sqlite
    }

    /// Queues `f` for the next group (SQLite). The caller waits on the answer and, when it is
    /// handed the leader, has it lead on a thread that may block.
    pub fn queue_write<T, E, F>(&self, f: F) -> Queued<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        let (job, answer) = job(f);
        let leader = self.queue.push(job).then(|| Leader(Some(self.clone())));
        Queued { answer, leader }
    }

    /// Runs `f` in a write transaction, committed with the other writes waiting at the same
    /// moment on SQLite (see the module) and alone on PostgreSQL; answers once the commit is
    /// durable. Blocks the calling thread.
    pub fn write_grouped<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
    {
        if !self.commits_in_groups() {
            return self.write(f);
        }
        let Queued { answer, leader } = self.queue_write(f);
        if let Some(leader) = leader {
            leader.lead();
        }
        answer.blocking_recv().unwrap_or_else(|_| {
            Err(E::from(StoreError::corrupt(
                "the write transaction panicked",
            )))
        })
    }

    /// Runs `jobs` in one transaction on one connection and commits them together.
    fn commit_group(&self, jobs: Vec<Job>) {
        let mut conn = match self.conn() {
            Ok(conn) => conn,
            Err(error) => return fail_all(jobs, &error),
        };
        let begun = match &mut *conn {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
            }
            DbConnection::Pg(c) => AnsiTransactionManager::begin_transaction(c),
        };
        if let Err(error) = begun {
            return fail_all(jobs, &StoreError::from(error));
        }
        let mut ran = Vec::with_capacity(jobs.len());
        let mut jobs = jobs.into_iter();
        let mut panicked = false;
        for job in jobs.by_ref() {
            // A panic in one transaction leaves the savepoints in an unknown state: the group is
            // rolled back, the connection discarded (the pool finds it inside a transaction),
            // and the others are told to retry. The one that panicked gets no answer.
            match catch_unwind(AssertUnwindSafe(|| (job.run)(&mut conn))) {
                Ok(done) => ran.push(done),
                Err(_) => {
                    panicked = true;
                    break;
                }
            }
        }
        let kept = ran.iter().filter(|r| r.kept).count() as u64;
        let committed = if panicked {
            Err(StoreError::Unavailable(
                "another write of the same group failed; nothing of this one was written".into(),
            ))
        } else if kept > 0 {
            <DbConnection as Connection>::TransactionManager::commit_transaction(&mut conn)
                .map_err(StoreError::from)
        } else {
            Ok(())
        };
        match &committed {
            Ok(()) if kept > 0 => {
                self.queue.groups.fetch_add(1, Ordering::Relaxed);
                self.queue.writes.fetch_add(kept, Ordering::Relaxed);
            }
            // Nothing kept, or the commit failed: end the transaction. A connection that cannot
            // is discarded by the pool as broken.
            _ => {
                let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(
                    &mut conn,
                );
            }
        }
        for done in ran {
            (done.answer)(committed.as_ref().map(|_| ()));
        }
        if let Err(error) = &committed {
            fail_all(jobs.collect(), error);
        }
    }
}

fn fail_all(jobs: Vec<Job>, error: &StoreError) {
    for job in jobs {
        (job.fail)(error);
    }
}
