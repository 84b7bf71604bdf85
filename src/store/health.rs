//! What each pooled connection learns about itself from its own queries, so that a connection
//! the server dropped leaves the pool at once instead of failing one request after another.
//!
//! Diesel reports every query's outcome to a connection's instrumentation; ours watches for the
//! errors that mean the connection is gone. Once one connection has been lost, the others may
//! have been lost with it (a server restart ends them all), so each is checked with a cheap
//! query the next time it is handed out; connections that have not seen a loss since they were
//! last checked are handed out as they are.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Connection, Instrumentation, InstrumentationEvent};

use super::DbConnection;
use super::error::{Outage, outage};

/// How many connection losses this pool has seen; a connection checked before the latest one
/// must be checked again.
#[derive(Debug, Clone, Default)]
pub struct LossCounter(Arc<AtomicU64>);

impl LossCounter {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    fn record(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// One connection's health, kept as its Diesel instrumentation.
pub struct Health {
    lost: bool,
    /// The pool's loss count when this connection last proved alive.
    checked_at_loss: u64,
    losses: LossCounter,
}

impl Health {
    pub fn new(losses: LossCounter) -> Self {
        Self {
            lost: false,
            checked_at_loss: losses.current(),
            losses,
        }
    }
}

impl Instrumentation for Health {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery {
            error: Some(error), ..
        } = event
            && outage(error) == Some(Outage::ConnectionLost)
            && !self.lost
        {
            self.lost = true;
            self.losses.record();
        }
    }
}

fn health(conn: &mut DbConnection) -> Option<&mut Health> {
    conn.instrumentation().downcast_mut::<Health>()
}

/// Whether the connection saw its server go away.
pub fn is_lost(conn: &mut DbConnection) -> bool {
    health(conn).is_some_and(|h| h.lost)
}

/// Whether the connection may have gone with another one since it was last known alive.
pub fn needs_check(conn: &mut DbConnection) -> bool {
    health(conn).is_some_and(|h| h.checked_at_loss < h.losses.current())
}

/// Records that the connection just answered a query.
pub fn checked(conn: &mut DbConnection) {
    if let Some(h) = health(conn) {
        h.checked_at_loss = h.losses.current();
    }
}
