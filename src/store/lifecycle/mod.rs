//! A ticket's lifecycle on disk: its assignments, extension requests and supervisions, the
//! records beside them (replies, callbacks, urges), and saving a decision — the ticket's new
//! state, its records and its timeline entries — as the ticket's next version.

mod reads;
mod records;

use reads::deadlines_json;
pub use reads::*;
use records::write_record;
pub use records::*;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::domain::access::{Actor, TicketScope};
use crate::domain::lifecycle::{
    Decision, ExtensionRequest, ExtensionStatus, Lifecycle, Supervision, SupervisionStatus,
};
use crate::domain::ticket::{Assignment, AssignmentRole, AssignmentStatus, Ticket};
use crate::store::events::{self, NewEvent};
use crate::store::schema::{assignments, extension_requests, supervisions, tickets};
use crate::store::sql::{At, Id};
use crate::store::{DbConnection, StoreError};

/// A ticket's lifecycle state as stored.
pub fn load(conn: &mut DbConnection, ticket: &Ticket) -> Result<Lifecycle, StoreError> {
    Ok(Lifecycle {
        ticket_id: ticket.id,
        progress: ticket.progress.clone(),
        assignments: assignments(conn, ticket.id)?,
        extensions: extension_requests(conn, ticket.id)?,
        supervisions: supervisions(conn, ticket.id)?,
    })
}

/// A ticket locked for a change by this transaction, with its lifecycle as stored. Every change
/// to a ticket goes lock, (check the caller's version), decide, [`Locked::save`]: a person's
/// action, an edit and the ladder alike.
#[derive(Debug)]
pub struct Locked {
    pub ticket: Ticket,
    pub lifecycle: Lifecycle,
}

/// Locks a ticket in `scope` for the rest of the transaction and loads its lifecycle.
pub fn lock(conn: &mut DbConnection, id: Uuid, scope: TicketScope) -> Result<Locked, StoreError> {
    let ticket = super::tickets::lock(conn, id, scope)?;
    let lifecycle = load(conn, &ticket)?;
    Ok(Locked { ticket, lifecycle })
}

impl Locked {
    /// Saves a decision on the ticket: its next version, the rows that changed, the records the
    /// changes carry, and one timeline entry per change. Answers the ticket as it now is.
    pub fn save(
        self,
        conn: &mut DbConnection,
        decision: Decision,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Locked, StoreError> {
        let ticket = save(conn, &self.ticket, &self.lifecycle, &decision, actor, now)?;
        Ok(Locked {
            ticket,
            lifecycle: decision.next,
        })
    }
}

fn save(
    conn: &mut DbConnection,
    ticket: &Ticket,
    before: &Lifecycle,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Ticket, StoreError> {
    let saved = Ticket {
        progress: decision.next.progress.clone(),
        version: ticket.version + 1,
        updated_at: now,
        ..ticket.clone()
    };
    let updated = diesel::update(
        tickets::table
            .find(Id(ticket.id))
            .filter(tickets::version.eq(ticket.version)),
    )
    .set((
        super::tickets::ProgressColumns::from(&saved.progress),
        tickets::version.eq(saved.version),
        tickets::updated_at.eq(At(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Unavailable(
            "the ticket changed while it was being saved".into(),
        ));
    }
    let next = &decision.next;
    for assignment in &next.assignments {
        match before.assignments.iter().find(|a| a.id == assignment.id) {
            None => insert_assignment(conn, assignment)?,
            Some(old) if old != assignment => update_assignment(conn, assignment)?,
            Some(_) => {}
        }
    }
    for request in &next.extensions {
        match before.extensions.iter().find(|e| e.id == request.id) {
            None => insert_extension(conn, ticket.id, request)?,
            Some(old) if old != request => update_extension(conn, request)?,
            Some(_) => {}
        }
    }
    for supervision in &next.supervisions {
        match before.supervisions.iter().find(|s| s.id == supervision.id) {
            None => insert_supervision(conn, ticket.id, supervision)?,
            Some(old) if old != supervision => update_supervision(conn, supervision)?,
            Some(_) => {}
        }
    }
    for (change, notices) in decision.recorded() {
        if let Some(row) = record(ticket.id, change, decision, actor, now)? {
            write_record(conn, ticket.id, row)?;
        }
        super::notifications::insert(conn, ticket.id, notices, &change.details(), now)?;
        let kind = change.kind();
        events::append(
            conn,
            &NewEvent {
                ticket_id: ticket.id,
                ticket_version: saved.version,
                kind,
                actor,
                assignment_id: change.assignment_id(),
                details: &change.details(),
                at: now,
            },
        )?;
    }
    Ok(saved)
}

/// An assignment as its row is written.
#[derive(Insertable)]
#[diesel(table_name = assignments, treat_none_as_null = true)]
pub struct AssignmentInsert {
    id: Id,
    ticket_id: Id,
    unit_id: Id,
    round: i32,
    role: AssignmentRole,
    status: AssignmentStatus,
    forced: bool,
    dispatched_by: Id,
    dispatched_at: At,
    sign_due_at: At,
    due_at: At,
    original_due_at: At,
    signed_at: Option<At>,
    returned_at: Option<At>,
    return_reason: Option<String>,
    replied_at: Option<At>,
    closed_at: Option<At>,
    deadlines: String,
    forwarded_from_id: Option<Id>,
}

impl AssignmentInsert {
    pub fn new(a: &Assignment) -> Result<Self, StoreError> {
        Ok(Self {
            id: Id(a.id),
            ticket_id: Id(a.ticket_id),
            unit_id: Id(a.unit_id),
            round: a.round,
            role: a.role,
            status: a.status,
            forced: a.forced,
            dispatched_by: Id(a.dispatched_by),
            dispatched_at: At(a.dispatched_at),
            sign_due_at: At(a.sign_due_at()),
            due_at: At(a.due_at()),
            original_due_at: At(a.original_due_at),
            signed_at: a.signed_at.map(At),
            returned_at: a.returned_at.map(At),
            return_reason: a.return_reason.clone(),
            replied_at: a.replied_at.map(At),
            closed_at: a.closed_at.map(At),
            deadlines: deadlines_json(a)?,
            forwarded_from_id: a.forwarded_from.map(Id),
        })
    }
}

pub fn insert_assignment(conn: &mut DbConnection, a: &Assignment) -> Result<(), StoreError> {
    diesel::insert_into(assignments::table)
        .values(AssignmentInsert::new(a)?)
        .execute(conn)?;
    Ok(())
}

fn update_assignment(conn: &mut DbConnection, a: &Assignment) -> Result<(), StoreError> {
    diesel::update(assignments::table.find(Id(a.id)))
        .set((
            assignments::status.eq(a.status),
            assignments::sign_due_at.eq(At(a.sign_due_at())),
            assignments::due_at.eq(At(a.due_at())),
            assignments::deadlines.eq(deadlines_json(a)?),
            assignments::signed_at.eq(a.signed_at.map(At)),
            assignments::returned_at.eq(a.returned_at.map(At)),
            assignments::return_reason.eq(a.return_reason.as_deref()),
            assignments::replied_at.eq(a.replied_at.map(At)),
            assignments::closed_at.eq(a.closed_at.map(At)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An extension request as its row is written.
#[derive(Insertable)]
#[diesel(table_name = extension_requests, treat_none_as_null = true)]
pub struct ExtensionInsert {
    id: Id,
    ticket_id: Id,
    assignment_id: Id,
    unit_id: Id,
    requested_due_at: At,
    reason: String,
    status: ExtensionStatus,
    requested_by: Option<Id>,
    requested_at: At,
    decided_by: Option<Id>,
    decided_at: Option<At>,
    note: Option<String>,
}

impl ExtensionInsert {
    pub fn new(ticket_id: Uuid, e: &ExtensionRequest) -> Self {
        Self {
            id: Id(e.id),
            ticket_id: Id(ticket_id),
            assignment_id: Id(e.assignment_id),
            unit_id: Id(e.unit_id),
            requested_due_at: At(e.requested_due_at),
            reason: e.reason.clone(),
            status: e.status,
            requested_by: e.requested_by.map(Id),
            requested_at: At(e.requested_at),
            decided_by: e.decided_by.map(Id),
            decided_at: e.decided_at.map(At),
            note: e.note.clone(),
        }
    }
}

fn insert_extension(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    e: &ExtensionRequest,
) -> Result<(), StoreError> {
    diesel::insert_into(extension_requests::table)
        .values(ExtensionInsert::new(ticket_id, e))
        .execute(conn)?;
    Ok(())
}

fn update_extension(conn: &mut DbConnection, e: &ExtensionRequest) -> Result<(), StoreError> {
    diesel::update(extension_requests::table.find(Id(e.id)))
        .set((
            extension_requests::status.eq(e.status),
            extension_requests::decided_by.eq(e.decided_by.map(Id)),
            extension_requests::decided_at.eq(e.decided_at.map(At)),
            extension_requests::note.eq(e.note.as_deref()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A supervision as its row is written.
#[derive(Insertable)]
#[diesel(table_name = supervisions, treat_none_as_null = true)]
pub struct SupervisionInsert {
    id: Id,
    ticket_id: Id,
    unit_id: Id,
    reason: String,
    deadline: At,
    automatic: bool,
    status: SupervisionStatus,
    opened_by: Option<Id>,
    opened_at: At,
    outcome: Option<String>,
    closed_by: Option<Id>,
    closed_at: Option<At>,
}

impl SupervisionInsert {
    pub fn new(ticket_id: Uuid, s: &Supervision) -> Self {
        Self {
            id: Id(s.id),
            ticket_id: Id(ticket_id),
            unit_id: Id(s.unit_id),
            reason: s.reason.clone(),
            deadline: At(s.deadline),
            automatic: s.automatic,
            status: s.status,
            opened_by: s.opened_by.map(Id),
            opened_at: At(s.opened_at),
            outcome: s.outcome.clone(),
            closed_by: s.closed_by.map(Id),
            closed_at: s.closed_at.map(At),
        }
    }
}

fn insert_supervision(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    s: &Supervision,
) -> Result<(), StoreError> {
    diesel::insert_into(supervisions::table)
        .values(SupervisionInsert::new(ticket_id, s))
        .execute(conn)?;
    Ok(())
}

fn update_supervision(conn: &mut DbConnection, s: &Supervision) -> Result<(), StoreError> {
    diesel::update(supervisions::table.find(Id(s.id)))
        .set((
            supervisions::status.eq(s.status),
            supervisions::outcome.eq(s.outcome.as_deref()),
            supervisions::closed_by.eq(s.closed_by.map(Id)),
            supervisions::closed_at.eq(s.closed_at.map(At)),
        ))
        .execute(conn)?;
    Ok(())
}
