use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::ticket_events;
use super::sql::{At, Id, Written};
use super::{DbConnection, StoreError};
use crate::domain::access::{Actor, Role};
use crate::domain::ticket::{EventKind, TicketEvent};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ticket_events)]
struct EventRow {
    id: i64,
    ticket_id: Uuid,
    ticket_version: i64,
    kind: EventKind,
    actor_user_id: Option<Uuid>,
    actor_role: Option<Role>,
    actor_unit_id: Option<Uuid>,
    assignment_id: Option<Uuid>,
    details: String,
    created_at: DateTime<Utc>,
}

impl EventRow {
    fn into_event(self) -> Result<TicketEvent, StoreError> {
        Ok(TicketEvent {
            id: self.id,
            ticket_id: self.ticket_id,
            ticket_version: self.ticket_version,
            kind: self.kind,
            actor: Actor {
                user_id: self.actor_user_id,
                role: self.actor_role,
                unit_id: self.actor_unit_id,
            },
            assignment_id: self.assignment_id,
            details: serde_json::from_str(&self.details).map_err(StoreError::corrupt)?,
            created_at: self.created_at,
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
    ticket_id: Id,
    ticket_version: i64,
    kind: EventKind,
    actor_user_id: Option<Id>,
    actor_role: Option<&'static str>,
    actor_unit_id: Option<Id>,
    assignment_id: Option<Id>,
    details: String,
    created_at: At,
}

impl EventInsert {
    pub fn new(event: &NewEvent<'_>) -> Self {
        Self {
            ticket_id: Id(event.ticket_id),
            ticket_version: event.ticket_version,
            kind: event.kind,
            actor_user_id: event.actor.user_id.map(Id),
            actor_role: event.actor.role.written(),
            actor_unit_id: event.actor.unit_id.map(Id),
            assignment_id: event.assignment_id.map(Id),
            details: event.details.to_string(),
            created_at: At(event.at),
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
        .filter(ticket_events::ticket_id.eq(Id(ticket_id)))
        .filter(ticket_events::id.gt(after.unwrap_or(0)))
        .order(ticket_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}
