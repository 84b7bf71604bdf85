//! One pass of the urge ladder over every deadline being worked against, and the thread that
//! runs a pass every so often inside the server.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::Connection;
use uuid::Uuid;

use crate::domain::access::{Actor, TicketScope};
use crate::domain::calendar::WorkCalendar;
use crate::domain::ladder::{self, Firing, Rung, Timer};
use crate::domain::lifecycle::Decision;
use crate::domain::policy::Policy;
use crate::metrics::Metrics;
use crate::store::{self, Db, DbConnection, StoreError};

/// How many tickets' rungs one transaction fires.
const TICKETS_PER_TRANSACTION: usize = 64;

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PassReport {
    /// Deadlines looked at.
    pub watched: usize,
    /// Rungs fired by this pass, by deadline and rung.
    pub fired: BTreeMap<(Timer, Rung), usize>,
    /// Tickets that had rungs due.
    pub tickets: usize,
    /// Tickets that failed and will be tried again by the next pass.
    pub failed: usize,
    pub overdue_now: i64,
    /// Knowledge-base articles whose units this pass told that their review date passed.
    pub reviews_flagged: usize,
}

impl PassReport {
    pub fn total(&self) -> usize {
        self.fired.values().sum()
    }
}

/// Fires whatever rungs of one ticket are due and not fired yet, in one transaction with the
/// changes they record. The ticket is read again under its lock, so a reply that came in since
/// the scan is seen.
fn fire(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    now: DateTime<Utc>,
    calendar: &WorkCalendar,
    policy: &Policy,
) -> Result<Vec<Firing>, StoreError> {
    let locked = store::lifecycle::lock(conn, ticket_id, TicketScope::All)?;
    let before = &locked.lifecycle;
    let mut firings = Vec::new();
    for watch in ladder::watches(before, locked.ticket.details.priority) {
        for rung in ladder::due_rungs(&watch, now, calendar, &policy.ladder) {
            if store::ladder::claim(conn, &watch, rung, now)? {
                firings.push(Firing {
                    watch: watch.clone(),
                    rung,
                });
            }
        }
    }
    let changes = ladder::changes(
        before,
        &firings,
        now,
        calendar,
        &policy.ladder,
        &mut Uuid::now_v7,
    );
    if !changes.is_empty() {
        let decision = Decision::new(before, changes, None, now, Actor::system());
        locked.save(conn, decision, Actor::system(), now)?;
    }
    Ok(firings)
}

/// One pass at `now`: scan every deadline, then fire what is due ticket by ticket.
pub fn run_pass(db: &Db, timezone: Tz, now: DateTime<Utc>) -> Result<PassReport, StoreError> {
    let (policy, calendar, scan) = db.read(|c| -> Result<_, StoreError> {
        Ok((
            store::policy::current(c)?.policy,
            store::calendar::load(c, timezone)?,
            store::ladder::scan(c)?,
        ))
    })?;
    let mut report = PassReport {
        watched: scan.watches.len(),
        ..PassReport::default()
    };
    let due: BTreeSet<Uuid> = scan
        .watches
        .iter()
        .filter(|w| {
            ladder::due_rungs(w, now, &calendar, &policy.ladder)
                .into_iter()
                .any(|rung| {
                    !scan
                        .fired
                        .contains(&(w.subject_id, w.timer, rung, w.due_at))
                })
        })
        .map(|w| w.ticket_id)
        .collect();
    report.tickets = due.len();
    // Tickets are fired in batches, one savepoint each: a ticket that fails is left for the next
    // pass without holding up the rest, and a backlog costs one commit per batch rather than
    // one per ticket. Every instance locks tickets in the same (id) order, so batches running
    // at once on two instances wait for each other instead of deadlocking.
    let due: Vec<Uuid> = due.into_iter().collect();
    for batch in due.chunks(TICKETS_PER_TRANSACTION) {
        let fired = db.write(|c| -> Result<Vec<_>, StoreError> {
            Ok(batch
                .iter()
                .map(|&ticket| c.transaction(|c| fire(c, ticket, now, &calendar, &policy)))
                .collect())
        });
        match fired {
            Ok(outcomes) => {
                for (ticket, outcome) in batch.iter().zip(outcomes) {
                    match outcome {
                        Ok(firings) => {
                            for firing in firings {
                                *report
                                    .fired
                                    .entry((firing.watch.timer, firing.rung))
                                    .or_default() += 1;
                            }
                        }
                        Err(error) => {
                            report.failed += 1;
                            tracing::warn!(%ticket, %error, "the ladder could not fire a ticket's rungs; the next pass retries");
                        }
                    }
                }
            }
            Err(error) => {
                report.failed += batch.len();
                tracing::warn!(%error, tickets = batch.len(), "the ladder could not commit a batch; the next pass retries");
            }
        }
    }
    report.overdue_now = db.read(store::ladder::overdue_count)?;
    report.reviews_flagged = flag_reviews_due(db, timezone, now)?;
    Ok(report)
}

/// How many passed review dates one pass tells of; a backlog is told over the next passes.
const REVIEWS_PER_PASS: i64 = 500;

/// Tells each unit (the office, for its own articles) of its published articles whose review
/// date has passed, once per review date whichever instances run the ladder: the flag and the
/// notification are written together, and only by the transaction that sets the flag.
fn flag_reviews_due(db: &Db, timezone: Tz, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let today = now.with_timezone(&timezone).date_naive();
    let due = db.read(|c| store::knowledge::reviews_due(c, today, REVIEWS_PER_PASS))?;
    if due.is_empty() {
        return Ok(0);
    }
    db.write(|c| -> Result<usize, StoreError> {
        let mut flagged = 0;
        for article in &due {
            if !store::knowledge::claim_review_flag(c, article.id, article.review_due_on)? {
                continue;
            }
            let audience = article
                .unit_id
                .map_or(crate::domain::notify::Audience::Office, |unit| {
                    crate::domain::notify::Audience::Unit(unit)
                });
            let details = serde_json::json!({
                "title": article.title,
                "review_due_on": article.review_due_on,
            });
            store::notifications::insert_for_article(c, article.id, audience, &details, now)?;
            flagged += 1;
        }
        Ok(flagged)
    })
}

/// How many callers' numbers one transaction indexes, and how many transactions a pass runs at
/// most, so that a large import is indexed over a few passes without holding the writer long.
const PHONES_PER_TRANSACTION: i64 = 1_000;
const PHONE_BATCHES_PER_PASS: usize = 20;

/// Indexes the callers' numbers of tickets written without their index (imported, generated,
/// or older than the index), a bounded number per pass; answers how many.
pub fn index_phones(
    db: &Db,
    index: &crate::domain::caller::PhoneIndex,
) -> Result<usize, StoreError> {
    let mut indexed = 0;
    for _ in 0..PHONE_BATCHES_PER_PASS {
        let batch = db.write(|c| {
            store::tickets::index_phones(c, |phone| index.key_of(phone), PHONES_PER_TRANSACTION)
        })?;
        indexed += batch;
        if batch < PHONES_PER_TRANSACTION as usize {
            break;
        }
    }
    Ok(indexed)
}

/// Counts a pass into the metrics.
pub fn record(metrics: &Metrics, report: &PassReport) {
    metrics.ladder_passes.fetch_add(1, Ordering::Relaxed);
    metrics
        .tickets_overdue
        .store(report.overdue_now, Ordering::Relaxed);
    for ((timer, rung), count) in &report.fired {
        metrics.count_rung(timer.as_str(), rung.as_str(), *count as u64);
    }
}

/// The ladder's thread inside a server: a pass every `interval`, until stopped.
pub struct Runner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn start(
        db: Db,
        clock: Arc<dyn crate::domain::clock::Clock>,
        metrics: Arc<Metrics>,
        phone_index: crate::domain::caller::PhoneIndex,
        timezone: Tz,
        interval: Duration,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("urge-ladder".into())
            .spawn(move || {
                let mut partitions_checked_on = None;
                while !stopping.load(Ordering::Relaxed) {
                    let today = clock.now().date_naive();
                    if partitions_checked_on != Some(today) {
                        match db.write(|c| store::partitions::make_ahead(c, clock.now())) {
                            Ok(made) => {
                                partitions_checked_on = Some(today);
                                if made > 0 {
                                    tracing::info!(made, "made the partitions of months ahead");
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "making the partitions of months ahead failed; the next pass retries")
                            }
                        }
                    }
                    match run_pass(&db, timezone, clock.now()) {
                        Ok(report) => {
                            record(&metrics, &report);
                            if report.total() > 0 || report.failed > 0 {
                                tracing::info!(
                                    fired = report.total(),
                                    failed = report.failed,
                                    overdue = report.overdue_now,
                                    "urge ladder pass"
                                );
                            }
                        }
                        Err(error) => tracing::warn!(%error, "urge ladder pass failed"),
                    }
                    if let Err(error) = index_phones(&db, &phone_index) {
                        tracing::warn!(%error, "indexing callers' numbers failed; the next pass retries");
                    }
                    std::thread::park_timeout(interval);
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}
