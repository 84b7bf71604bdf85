//! Who saw personal information whole, and who changed the directory: kept apart from the
//! ticket timeline because reading is not a change to the ticket.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::audit_log;
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, to_db};

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub user_id: Option<Uuid>,
    pub action: String,
    pub ticket_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

pub fn record(conn: &mut DbConnection, entry: &AuditEntry) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::user_id.eq(entry.user_id.map(|u| u.to_string())),
            audit_log::action.eq(&entry.action),
            audit_log::ticket_id.eq(entry.ticket_id.map(|t| t.to_string())),
            audit_log::subject_id.eq(entry.subject_id.map(|s| s.to_string())),
            audit_log::details.eq(entry.details.to_string()),
            audit_log::created_at.eq(to_db(entry.at)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable)]
struct AuditRow {
    user_id: Option<String>,
    action: String,
    subject_id: Option<String>,
    details: String,
    created_at: NaiveDateTime,
}

/// The entries about one ticket, oldest first.
pub fn for_ticket(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::ticket_id.eq(ticket_id.to_string()))
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
                user_id: parse_opt_uuid(row.user_id.as_deref())?,
                action: row.action,
                ticket_id: Some(ticket_id),
                subject_id: parse_opt_uuid(row.subject_id.as_deref())?,
                details: serde_json::from_str(&row.details).map_err(StoreError::corrupt)?,
                at: from_db(row.created_at),
            })
        })
        .collect()
}
