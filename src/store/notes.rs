//! Internal notes (内部备注) on tickets: kept apart from the timeline, which is what leaves the
//! hotline.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::ticket_notes;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ticket_notes)]
pub struct Note {
    pub id: Uuid,
    pub ticket_id: Uuid,
    pub body: String,
    pub written_by: Uuid,
    /// The writer's unit, when a unit's handler wrote it; none for the hotline office.
    pub unit_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConnection, note: &Note) -> Result<(), StoreError> {
    diesel::insert_into(ticket_notes::table)
        .values((
            ticket_notes::id.eq(Id(note.id)),
            ticket_notes::ticket_id.eq(Id(note.ticket_id)),
            ticket_notes::body.eq(&note.body),
            ticket_notes::written_by.eq(Id(note.written_by)),
            ticket_notes::unit_id.eq(note.unit_id.map(Id)),
            ticket_notes::created_at.eq(At(note.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A ticket's notes, oldest first, after the note `after`.
pub fn for_ticket(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Note>, StoreError> {
    let mut query = ticket_notes::table
        .filter(ticket_notes::ticket_id.eq(Id(ticket_id)))
        .select(Note::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(ticket_notes::id.gt(Id(after)));
    }
    Ok(query
        .order(ticket_notes::id.asc())
        .limit(limit)
        .load(conn)?)
}
