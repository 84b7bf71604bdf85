//! What the Open311 façade reads: requests (tickets that are not confidential) and their
//! updates (the events a citizen's client shows).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{ticket_events as e, tickets as t};
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::ticket::{EventKind, TicketStatus};

/// A ticket as Open311 shows it: never the caller's name or phone.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct RequestRow {
    pub id: Uuid,
    pub number: String,
    pub status: TicketStatus,
    pub category_id: Option<Uuid>,
    pub content: String,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub primary_unit_id: Option<Uuid>,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which requests a list holds.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Ticket numbers; when given, nothing else narrows.
    pub numbers: Vec<String>,
    pub category_ids: Vec<Uuid>,
    pub statuses: Vec<TicketStatus>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Requests newest first, at most `limit`.
pub fn requests(
    conn: &mut DbConnection,
    filter: &RequestFilter,
    limit: i64,
) -> Result<Vec<RequestRow>, StoreError> {
    let mut query = t::table
        .filter(t::confidential.eq(false))
        .select(RequestRow::as_select())
        .order((t::created_at.desc(), t::id.desc()))
        .limit(limit)
        .into_boxed();
    if filter.numbers.is_empty() {
        if !filter.category_ids.is_empty() {
            let ids: Vec<Id> = filter.category_ids.iter().copied().map(Id).collect();
            query = query.filter(t::category_id.eq_any(ids));
        }
        if !filter.statuses.is_empty() {
            let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
            query = query.filter(t::status.eq_any(statuses));
        }
        if let Some(from) = filter.from {
            query = query.filter(t::created_at.ge(At(from)));
        }
        if let Some(to) = filter.to {
            query = query.filter(t::created_at.le(At(to)));
        }
    } else {
        query = query.filter(t::number.eq_any(&filter.numbers));
    }
    Ok(query.load(conn)?)
}

/// One request by its ticket's id, when it may be shown.
pub fn request_by_id(conn: &mut DbConnection, id: Uuid) -> Result<RequestRow, StoreError> {
    Ok(t::table
        .find(Id(id))
        .filter(t::confidential.eq(false))
        .select(RequestRow::as_select())
        .first(conn)?)
}

/// An event that may be an update, with its request's number.
#[derive(Debug, Clone, Queryable)]
pub struct UpdateRow {
    pub event_id: i64,
    pub number: String,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
}

/// Events of `kinds` written between `from` and `to`, of requests that may be shown, oldest
/// first, at most `limit`.
pub fn updates(
    conn: &mut DbConnection,
    kinds: &[EventKind],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<UpdateRow>, StoreError> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(e::table
        .inner_join(t::table)
        .filter(e::kind.eq_any(kinds))
        .filter(e::created_at.ge(At(from)))
        .filter(e::created_at.le(At(to)))
        .filter(t::confidential.eq(false))
        .order((e::created_at.asc(), e::id.asc()))
        .limit(limit)
        .select((e::id, t::number, e::kind, e::created_at))
        .load(conn)?)
}
