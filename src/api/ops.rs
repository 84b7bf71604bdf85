//! Operations: liveness, readiness, metrics and the contract.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;

use super::{AppState, blocking};
use crate::error::ApiError;
use crate::metrics::Snapshot;
use crate::store::Backend;

pub const OPENAPI: &str = include_str!("../../openapi.yaml");

/// The process is up; says nothing about the database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// How long a probe waits for a pooled connection, and for the whole answer: load balancers
/// give up on a probe after a couple of seconds, and a late "ready" is worth nothing.
const READY_CHECKOUT: Duration = Duration::from_millis(1_000);
const READY_BUDGET: Duration = Duration::from_millis(1_500);

/// The database answers a query.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    blocking(READY_BUDGET, move || {
        let mut conn = db.conn_within(READY_CHECKOUT)?;
        conn.batch_execute("SELECT 1").map_err(ApiError::from)
    })
    .await?;
    let backend = match state.db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": backend})))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (connections, idle) = state.db.pool_state();
    let text = state.metrics.render(&Snapshot {
        db_connections: connections,
        db_idle_connections: idle,
        db_max_connections: state.db.max_connections(),
        write_groups: state.db.group_commits(),
        replica_reads: state.db.replica_reads(),
    });
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/yaml; charset=utf-8")
        .body(OPENAPI)
}
