//! Who saw personal information whole, and who changed the directory: kept apart from the
//! ticket timeline because reading is not a change to the ticket.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::audit_log;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::audit::AuditAction;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub user_id: Option<Uuid>,
    pub action: AuditAction,
    pub ticket_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl AuditEntry {
    /// What `user_id` did at `at`; [`about`](Self::about), [`on_ticket`](Self::on_ticket) and
    /// [`with`](Self::with) say what it concerned.
    pub fn new(user_id: Uuid, action: AuditAction, at: DateTime<Utc>) -> Self {
        Self {
            user_id: Some(user_id),
            action,
            ticket_id: None,
            subject_id: None,
            details: serde_json::json!({}),
            at,
        }
    }

    /// The record (unit, user, category …) the action changed.
    pub fn about(self, subject_id: Uuid) -> Self {
        Self {
            subject_id: Some(subject_id),
            ..self
        }
    }

    pub fn on_ticket(self, ticket_id: Uuid) -> Self {
        Self {
            ticket_id: Some(ticket_id),
            ..self
        }
    }

    pub fn with(self, details: serde_json::Value) -> Self {
        Self { details, ..self }
    }
}

pub fn record(conn: &mut DbConnection, entry: &AuditEntry) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::user_id.eq(entry.user_id.map(Id)),
            audit_log::action.eq(entry.action),
            audit_log::ticket_id.eq(entry.ticket_id.map(Id)),
            audit_log::subject_id.eq(entry.subject_id.map(Id)),
            audit_log::details.eq(entry.details.to_string()),
            audit_log::created_at.eq(At(entry.at)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable)]
struct AuditRow {
    user_id: Option<Uuid>,
    action: AuditAction,
    subject_id: Option<Uuid>,
    details: String,
    created_at: DateTime<Utc>,
}

/// The entries about one ticket, oldest first.
pub fn for_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::ticket_id.eq(Id(ticket_id)))
        .order(audit_log::id.asc())
        .select((
            audit_log::user_id,
            audit_log::action,
            audit_log::subject_id,
            audit_log::details,
            audit_log::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            Ok(AuditEntry {
                user_id: row.user_id,
                action: row.action,
                ticket_id: Some(ticket_id),
                subject_id: row.subject_id,
                details: serde_json::from_str(&row.details).map_err(StoreError::corrupt)?,
                at: row.created_at,
            })
        })
        .collect()
}

/// What a reading of the audit log is narrowed to; `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actions: Vec<AuditAction>,
    pub user_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// An entry as the office reads it: with its place in the log, and the number of the ticket it
/// concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEntry {
    pub id: i64,
    pub entry: AuditEntry,
    pub ticket_number: Option<String>,
}

/// Entries matching the filter, newest first, before the entry `before`.
pub fn list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<LoggedEntry>, StoreError> {
    use super::schema::tickets;
    let mut query = audit_log::table
        .left_join(tickets::table)
        .select((
            audit_log::id,
            audit_log::user_id,
            audit_log::action,
            audit_log::ticket_id,
            audit_log::subject_id,
            audit_log::details,
            audit_log::created_at,
            tickets::number.nullable(),
        ))
        .into_boxed();
    if !filter.actions.is_empty() {
        query = query.filter(audit_log::action.eq_any(filter.actions.clone()));
    }
    if let Some(user) = filter.user_id {
        query = query.filter(audit_log::user_id.eq(Id(user)));
    }
    if let Some(ticket) = filter.ticket_id {
        query = query.filter(audit_log::ticket_id.eq(Id(ticket)));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::created_at.ge(At(from)));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::created_at.lt(At(to)));
    }
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    type Row = (
        i64,
        Option<Uuid>,
        AuditAction,
        Option<Uuid>,
        Option<Uuid>,
        String,
        DateTime<Utc>,
        Option<String>,
    );
    let rows: Vec<Row> = query.order(audit_log::id.desc()).limit(limit).load(conn)?;
    rows.into_iter()
        .map(
            |(id, user_id, action, ticket_id, subject_id, details, at, ticket_number)| {
                Ok(LoggedEntry {
                    id,
                    entry: AuditEntry {
                        user_id,
                        action,
                        ticket_id,
                        subject_id,
                        details: serde_json::from_str(&details).map_err(StoreError::corrupt)?,
                        at,
                    },
                    ticket_number,
                })
            },
        )
        .collect()
}
