//! A streaming replica for the reads that may be a little stale (reports, figures, dashboard
//! counts), so that a month's bulletin does not compete with registrations on the primary.
//!
//! Whether the replica is used is decided per instance, at most once per check interval: it must
//! answer, and be behind the primary by no more than the configured bound. Anything else (down,
//! lagging, failing halfway through a read) sends the read to the primary, which always has the
//! answer; the client sees no error. Reads that follow a write never come here.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Double, Nullable};

use super::{DatabaseUrl, Db, DbConnection, PoolOptions, StoreError};

/// How long a check may wait for a replica connection: a replica that is down costs this much,
/// once per check interval, and then nothing until the next check.
const CHECK_WAIT: Duration = Duration::from_millis(500);

pub struct Replica {
    db: Db,
    max_lag: Duration,
    verdict: Mutex<Option<(Instant, bool)>>,
    served: AtomicU64,
    fell_back: AtomicU64,
}

/// How far a standby is behind, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq, QueryableByName)]
pub struct Position {
    /// Not a standby at all (promoted, or a primary named as the replica): nothing to lag.
    #[diesel(sql_type = Bool)]
    pub in_recovery: bool,
    /// Connected to the primary and streaming from it.
    #[diesel(sql_type = Bool)]
    pub streaming: bool,
    /// Everything received has been replayed.
    #[diesel(sql_type = Bool)]
    pub caught_up: bool,
    /// Seconds since the primary committed the last transaction replayed here.
    #[diesel(sql_type = Nullable<Double>)]
    pub replay_age_seconds: Option<f64>,
}

impl Position {
    /// Whether reads may be served from here. A standby that streams and has replayed what it
    /// received is as current as the network makes it; otherwise the last replayed commit
    /// tells how old its data may be.
    pub fn fresh_enough(&self, max_lag: Duration) -> bool {
        !self.in_recovery
            || (self.streaming && self.caught_up)
            || self
                .replay_age_seconds
                .is_some_and(|age| age <= max_lag.as_secs_f64())
    }
}

const POSITION: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming, \
     COALESCE(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false) AS caught_up, \
     EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age_seconds";

/// Served from the replica and sent to the primary instead, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaReads {
    pub served: u64,
    pub fell_back: u64,
}

impl Replica {
    /// A pool on the replica that connects when first used: a replica that is down when the
    /// service starts only sends reads to the primary until it is back.
    pub fn open(
        url: &DatabaseUrl,
        options: &PoolOptions,
        max_lag: Duration,
    ) -> Result<Self, StoreError> {
        if !matches!(url, DatabaseUrl::Postgres(_)) {
            return Err(StoreError::Config(
                "a read replica is a PostgreSQL standby: DATABASE_REPLICA_URL must be postgres://…"
                    .into(),
            ));
        }
        Ok(Self {
            db: Db::open_lazily(url, options),
            max_lag,
            verdict: Mutex::new(None),
            served: AtomicU64::new(0),
            fell_back: AtomicU64::new(0),
        })
    }

    /// Checked at most this often; half the bound, so that a lag is noticed before it doubles.
    fn check_interval(&self) -> Duration {
        (self.max_lag / 2).clamp(Duration::from_millis(100), Duration::from_secs(1))
    }

    fn usable(&self) -> bool {
        let mut verdict = self.verdict.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, usable)) = *verdict
            && at.elapsed() < self.check_interval()
        {
            return usable;
        }
        let usable = self.check();
        *verdict = Some((Instant::now(), usable));
        usable
    }

    fn check(&self) -> bool {
        let position = self.db.conn_within(CHECK_WAIT).and_then(|mut conn| {
            Ok(diesel::sql_query(POSITION).get_result::<Position>(&mut *conn)?)
        });
        match position {
            Ok(position) if position.fresh_enough(self.max_lag) => true,
            Ok(position) => {
                tracing::warn!(
                    ?position,
                    max_lag_ms = self.max_lag.as_millis() as u64,
                    "the read replica lags; reading from the primary"
                );
                false
            }
            Err(error) => {
                tracing::warn!(%error, "the read replica does not answer; reading from the primary");
                false
            }
        }
    }

    fn failed(&self) {
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), false));
    }

    pub fn reads(&self) -> ReplicaReads {
        ReplicaReads {
            served: self.served.load(Ordering::Relaxed),
            fell_back: self.fell_back.load(Ordering::Relaxed),
        }
    }
}

/// Whether a failed read failed for the database's sake (worth the primary's try) or the
/// request's own (a 404 is a 404 on the primary too).
pub trait Outage {
    fn is_outage(&self) -> bool;
}

impl Outage for StoreError {
    fn is_outage(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::Timeout(_) | StoreError::Query(_)
        )
    }
}

impl Db {
    /// Runs `read` on the replica when it is usable, and on this (the primary) when it is not,
    /// or when the replica fails on the way.
    pub fn prefer_replica<T, E: Outage + std::fmt::Display>(
        &self,
        read: impl Fn(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some(replica) = &self.replica {
            if replica.usable() {
                match read(&replica.db) {
                    Ok(answer) => {
                        replica.served.fetch_add(1, Ordering::Relaxed);
                        return Ok(answer);
                    }
                    Err(error) if error.is_outage() => {
                        tracing::warn!(%error, "the read replica failed a read; reading from the primary");
                        replica.failed();
                    }
                    Err(error) => return Err(error),
                }
            }
            replica.fell_back.fetch_add(1, Ordering::Relaxed);
        }
        read(self)
    }

    /// [`Db::read`] on the replica when it is usable.
    pub fn read_stale<T, E: Outage + std::fmt::Display + From<StoreError>>(
        &self,
        read: impl Fn(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        self.prefer_replica(|db| db.read(&read))
    }

    /// What the replica served and what went to the primary instead; `None` without one.
    pub fn replica_reads(&self) -> Option<ReplicaReads> {
        self.replica.as_ref().map(|r| r.reads())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(10);

    fn standby(streaming: bool, caught_up: bool, age: Option<f64>) -> Position {
        Position {
            in_recovery: true,
            streaming,
            caught_up,
            replay_age_seconds: age,
        }
    }

    #[test]
    fn a_streaming_standby_that_replayed_all_it_received_is_current_however_idle() {
        assert!(standby(true, true, Some(86_400.0)).fresh_enough(BOUND));
        assert!(standby(true, true, None).fresh_enough(BOUND));
    }

    #[test]
    fn otherwise_its_last_replayed_commit_must_be_within_the_bound() {
        assert!(standby(true, false, Some(3.0)).fresh_enough(BOUND));
        assert!(!standby(true, false, Some(11.0)).fresh_enough(BOUND));
        // Cut off from the primary: what it replayed may be all it will ever have.
        assert!(!standby(false, true, Some(60.0)).fresh_enough(BOUND));
        assert!(standby(false, true, Some(1.0)).fresh_enough(BOUND));
        assert!(!standby(false, false, None).fresh_enough(BOUND));
    }

    #[test]
    fn a_server_not_in_recovery_has_nothing_to_catch_up() {
        let promoted = Position {
            in_recovery: false,
            streaming: false,
            caught_up: false,
            replay_age_seconds: None,
        };
        assert!(promoted.fresh_enough(BOUND));
    }
}
