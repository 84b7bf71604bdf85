use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::ticket_events;
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, parse_text, parse_uuid, to_db};
use crate::domain::access::Actor;
use crate::domain::ticket::{EventKind, TicketEvent};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
struct EventRow {
    id: i64,
    ticket_id: String,
    ticket_version: i64,
    kind: String,
    actor_user_id: Option<String>,
    actor_role: Option<String>,
    actor_unit_id: Option<String>,
    assignment_id: Option<String>,
    details: String,
    created_at: NaiveDateTime,
}

impl EventRow {
    fn into_event(self) -> Result<TicketEvent, StoreError> {
        Ok(TicketEvent {
            id: self.id,
            ticket_id: parse_uuid(&self.ticket_id)?,
            ticket_version: self.ticket_version,
            kind: parse_text(&self.kind)?,
            actor: Actor {
                user_id: parse_opt_uuid(self.actor_user_id.as_deref())?,
                role: self.actor_role.as_deref().map(parse_text).transpose()?,
                unit_id: parse_opt_uuid(self.actor_unit_id.as_deref())?,
            },
            assignment_id: parse_opt_uuid(self.assignment_id.as_deref())?,
            details: serde_json::from_str(&self.details).map_err(StoreError::corrupt)?,
            created_at: from_db(self.created_at),
        })
    }
}

/// An event to append; written in the same transaction as the change it records.
pub struct NewEvent<'a> {
    pub ticket_id: Uuid,
    pub ticket_version: i64,
    pub kind: EventKind,
    pub actor: Actor,
    pub assignment_id: Option<Uuid>,
    pub details: &'a serde_json::Value,
    pub at: DateTime<Utc>,
}

/// An event as its row is written, alone or with many others.
#[derive(Insertable)]
#[diesel(table_name = ticket_events, treat_none_as_null = true)]
pub struct EventInsert {
    ticket_id: String,
    ticket_version: i64,
    kind: &'static str,
    actor_user_id: Option<String>,
    actor_role: Option<&'static str>,
    actor_unit_id: Option<String>,
    assignment_id: Option<String>,
    details: String,
    created_at: NaiveDateTime,
}

impl EventInsert {
    pub fn new(event: &NewEvent<'_>) -> Self {
        Self {
            ticket_id: event.ticket_id.to_string(),
            ticket_version: event.ticket_version,
            kind: event.kind.as_str(),
            actor_user_id: event.actor.user_id.map(|u| u.to_string()),
            actor_role: event.actor.role.map(|r| r.as_str()),
            actor_unit_id: event.actor.unit_id.map(|u| u.to_string()),
            assignment_id: event.assignment_id.map(|a| a.to_string()),
            details: event.details.to_string(),
            created_at: to_db(event.at),
        }
    }
}

pub fn append(conn: &mut DbConnection, event: &NewEvent<'_>) -> Result<(), StoreError> {
    diesel::insert_into(ticket_events::table)
        .values(EventInsert::new(event))
        .execute(conn)?;
    Ok(())
}

/// A ticket's timeline in the order it happened, after event `after`.
pub fn list(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id.to_string()))
        .filter(ticket_events::id.gt(after.unwrap_or(0)))
        .order(ticket_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}
