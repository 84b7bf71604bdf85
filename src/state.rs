//! What every request shares: the service's state, and the way blocking work (the database,
//! password hashing) runs off the async workers within a time budget.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use chrono::{DateTime, Utc};

use crate::auth::AuthState;
use crate::domain::clock::Clock;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::store::Db;
use crate::store::tickets::Numbering;

/// Everything a handler may need, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub auth: AuthState,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
    pub numbering: Numbering,
    /// The key of the callers' phone-number index.
    pub phone_index: crate::domain::caller::PhoneIndex,
    pub body_limit: usize,
    pub files: crate::store::files::FileStore,
    pub attachment_max_bytes: usize,
    pub hotline_name: String,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Loopback, link-local or private addresses webhooks may reach all the same.
    pub webhook_targets: Vec<crate::domain::webhook::AddressRange>,
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The hotline's date now, in its own time zone: what is in force and what is due are
    /// dates there.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now()
            .with_timezone(&self.numbering.timezone)
            .date_naive()
    }

    /// How long a request's database work may take before it is answered 503.
    pub fn request_budget(&self) -> Duration {
        self.db.options().statement_timeout
    }

    /// The same for reports, which read a whole month.
    pub fn report_budget(&self) -> Duration {
        self.db.options().report_timeout
    }
}

/// Runs blocking work (Diesel, password hashing) off the async workers, inside the request's
/// tracing span so that its log lines keep the request id, and answers 503 once `budget` has
/// passed without a result: a database that stops answering (a frozen network path, a disk
/// that hangs) must not hold the client for as long as it lasts. The work itself runs on until
/// the database answers or the connection's own timeouts end it.
pub async fn blocking<T, F>(budget: Duration, f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    match actix_web::rt::time::timeout(budget, web::block(move || span.in_scope(f))).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(ApiError::internal(format!("blocking task failed: {e}"))),
        Err(_) => Err(ApiError::database_timeout(format!(
            "no answer within {} ms",
            budget.as_millis()
        ))),
    }
}
