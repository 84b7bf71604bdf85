//! A ticket's lifecycle on disk: its assignments, extension requests and supervisions, the
//! records beside them (replies, callbacks, urges), and saving a decision — the ticket's new
//! state, its records and its timeline entries — as the ticket's next version.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{self, NewEvent};
use super::schema::{
    assignments, attachments, callbacks, extension_requests, replies, supervisions, tickets, urges,
};
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::access::{Actor, TicketScope};
use crate::domain::calendar::Due;
use crate::domain::ladder::{Rung, Timer};
use crate::domain::lifecycle::{
    Change, ContactMethod, ContactRecord, Decision, ExtensionRequest, ExtensionStatus, Lifecycle,
    ReplyKind, ReplyResult, Satisfaction, Supervision, SupervisionStatus, UrgeKind,
};
use crate::domain::ticket::{Assignment, AssignmentRole, AssignmentStatus, Ticket};

/// How an assignment's deadlines came about, kept beside the due times themselves.
#[derive(Debug, Serialize, Deserialize)]
struct Deadlines {
    sign: Due,
    reply: Due,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = assignments)]
struct AssignmentRow {
    id: Uuid,
    ticket_id: Uuid,
    unit_id: Uuid,
    round: i32,
    role: AssignmentRole,
    status: AssignmentStatus,
    forced: bool,
    dispatched_by: Uuid,
    dispatched_at: DateTime<Utc>,
    original_due_at: DateTime<Utc>,
    signed_at: Option<DateTime<Utc>>,
    returned_at: Option<DateTime<Utc>>,
    return_reason: Option<String>,
    replied_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    deadlines: String,
}

impl AssignmentRow {
    fn into_assignment(self) -> Result<Assignment, StoreError> {
        let deadlines: Deadlines =
            serde_json::from_str(&self.deadlines).map_err(StoreError::corrupt)?;
        Ok(Assignment {
            id: self.id,
            ticket_id: self.ticket_id,
            unit_id: self.unit_id,
            round: self.round,
            role: self.role,
            status: self.status,
            forced: self.forced,
            dispatched_by: self.dispatched_by,
            dispatched_at: self.dispatched_at,
            sign_deadline: deadlines.sign,
            reply_deadline: deadlines.reply,
            original_due_at: self.original_due_at,
            signed_at: self.signed_at,
            returned_at: self.returned_at,
            return_reason: self.return_reason,
            replied_at: self.replied_at,
            closed_at: self.closed_at,
        })
    }
}

fn deadlines_json(assignment: &Assignment) -> Result<String, StoreError> {
    serde_json::to_string(&serde_json::json!({
        "sign": assignment.sign_deadline,
        "reply": assignment.reply_deadline,
    }))
    .map_err(StoreError::corrupt)
}

/// A ticket's assignments, round by round. Read with every ticket, so it runs on the backend's
/// own connection (see `tickets::get`).
pub fn assignments(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<Assignment>, StoreError> {
    let key = Id(ticket_id);
    let rows: Vec<AssignmentRow> = crate::per_backend!(conn, |c| assignments::table
        .filter(assignments::ticket_id.eq(key))
        .order((
            assignments::round.asc(),
            assignments::dispatched_at.asc(),
            assignments::id.asc()
        ))
        .select(AssignmentRow::as_select())
        .load(c))?;
    rows.into_iter()
        .map(AssignmentRow::into_assignment)
        .collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = extension_requests)]
struct ExtensionRow {
    id: Uuid,
    assignment_id: Uuid,
    unit_id: Uuid,
    requested_due_at: DateTime<Utc>,
    reason: String,
    status: ExtensionStatus,
    requested_by: Option<Uuid>,
    requested_at: DateTime<Utc>,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    note: Option<String>,
}

impl ExtensionRow {
    fn into_request(self) -> Result<ExtensionRequest, StoreError> {
        Ok(ExtensionRequest {
            id: self.id,
            assignment_id: self.assignment_id,
            unit_id: self.unit_id,
            requested_due_at: self.requested_due_at,
            reason: self.reason,
            status: self.status,
            requested_by: self.requested_by,
            requested_at: self.requested_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            note: self.note,
        })
    }
}

/// A ticket's extension requests; read with every ticket, like [`assignments`].
pub fn extension_requests(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<ExtensionRequest>, StoreError> {
    let key = Id(ticket_id);
    let rows: Vec<ExtensionRow> = crate::per_backend!(conn, |c| extension_requests::table
        .filter(extension_requests::ticket_id.eq(key))
        .order((
            extension_requests::requested_at.asc(),
            extension_requests::id.asc()
        ))
        .select(ExtensionRow::as_select())
        .load(c))?;
    rows.into_iter().map(ExtensionRow::into_request).collect()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = supervisions)]
struct SupervisionRow {
    id: Uuid,
    ticket_id: Uuid,
    unit_id: Uuid,
    reason: String,
    deadline: DateTime<Utc>,
    automatic: bool,
    status: SupervisionStatus,
    opened_by: Option<Uuid>,
    opened_at: DateTime<Utc>,
    outcome: Option<String>,
    closed_by: Option<Uuid>,
    closed_at: Option<DateTime<Utc>>,
}

impl SupervisionRow {
    fn into_supervision(self) -> Result<(Uuid, Supervision), StoreError> {
        Ok((
            self.ticket_id,
            Supervision {
                id: self.id,
                unit_id: self.unit_id,
                reason: self.reason,
                deadline: self.deadline,
                automatic: self.automatic,
                status: self.status,
                opened_by: self.opened_by,
                opened_at: self.opened_at,
                outcome: self.outcome,
                closed_by: self.closed_by,
                closed_at: self.closed_at,
            },
        ))
    }
}

/// A ticket's supervisions; read with every ticket, like [`assignments`].
pub fn supervisions(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<Supervision>, StoreError> {
    let key = Id(ticket_id);
    let rows: Vec<SupervisionRow> = crate::per_backend!(conn, |c| supervisions::table
        .filter(supervisions::ticket_id.eq(key))
        .order((supervisions::opened_at.asc(), supervisions::id.asc()))
        .select(SupervisionRow::as_select())
        .load(c))?;
    rows.into_iter()
        .map(|row| row.into_supervision().map(|(_, s)| s))
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct SupervisionFilter {
    pub status: Option<SupervisionStatus>,
    pub unit_id: Option<Uuid>,
    /// Only those whose deadline has passed (at this instant) while still open.
    pub overdue_at: Option<DateTime<Utc>>,
}

/// Supervisions across tickets, newest first, after `(opened_at, id)`, each with its ticket's
/// id, number and title.
pub fn supervision_list(
    conn: &mut DbConnection,
    filter: &SupervisionFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(Uuid, String, String, Supervision)>, StoreError> {
    let mut query = supervisions::table
        .inner_join(tickets::table)
        .select((SupervisionRow::as_select(), tickets::number, tickets::title))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(supervisions::status.eq(status));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(supervisions::unit_id.eq(Id(unit)));
    }
    if let Some(now) = filter.overdue_at {
        query = query
            .filter(supervisions::status.eq(SupervisionStatus::Open))
            .filter(supervisions::deadline.lt(At(now)));
    }
    if let Some((opened_at, id)) = after {
        let opened_at = At(opened_at);
        query = query.filter(
            supervisions::opened_at
                .lt(opened_at)
                .or(supervisions::opened_at
                    .eq(opened_at)
                    .and(supervisions::id.lt(Id(id)))),
        );
    }
    let rows: Vec<(SupervisionRow, String, String)> = query
        .order((supervisions::opened_at.desc(), supervisions::id.desc()))
        .limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(row, number, title)| {
            let (ticket_id, supervision) = row.into_supervision()?;
            Ok((ticket_id, number, title, supervision))
        })
        .collect()
}

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

#[derive(Insertable)]
#[diesel(table_name = urges, treat_none_as_null = true)]
pub struct UrgeInsert {
    id: Id,
    ticket_id: Id,
    assignment_id: Id,
    unit_id: Id,
    kind: UrgeKind,
    note: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    rung: Option<&'static str>,
    timer: Option<&'static str>,
}

#[derive(Insertable)]
#[diesel(table_name = callbacks, treat_none_as_null = true)]
pub struct CallbackInsert {
    id: Id,
    ticket_id: Id,
    attempt: i32,
    reached: bool,
    satisfaction: Option<&'static str>,
    resolved: Option<bool>,
    comment: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    unit_id: Option<Id>,
}

#[derive(Insertable)]
#[diesel(table_name = replies, treat_none_as_null = true)]
pub struct ReplyInsert {
    id: Id,
    ticket_id: Id,
    assignment_id: Id,
    unit_id: Id,
    kind: ReplyKind,
    result: Option<&'static str>,
    body: String,
    contacted_at: Option<At>,
    contact_method: Option<&'static str>,
    contact_outcome: Option<String>,
    no_contact_reason: Option<String>,
    created_by: Option<Id>,
    created_at: At,
    /// The due time in force when a primary unit replied, for the on-time rate.
    due_at: Option<At>,
}

/// A row a change carries beside the timeline.
pub enum Record {
    Urge(UrgeInsert),
    Callback(CallbackInsert),
    /// A reply or an opinion, with the evidence to link to it.
    Reply(ReplyInsert, Vec<Uuid>),
}

/// The row a change carries beside the timeline, if any: an urge, a callback, or the text of a
/// reply or an opinion.
pub fn record(
    ticket_id: Uuid,
    change: &Change,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Option<Record>, StoreError> {
    let by = actor.user_id.map(Id);
    Ok(match change {
        Change::Urged {
            urge_id,
            assignment_id,
            unit_id,
            kind,
            note,
            rung,
            timer,
        } => Some(Record::Urge(UrgeInsert {
            id: Id(*urge_id),
            ticket_id: Id(ticket_id),
            assignment_id: Id(*assignment_id),
            unit_id: Id(*unit_id),
            kind: *kind,
            note: note.clone(),
            created_by: by,
            created_at: At(now),
            rung: rung.map(|r| r.as_str()),
            timer: timer.map(|t| t.as_str()),
        })),
        Change::CallbackRecorded {
            callback_id,
            attempt,
            reached,
            satisfaction,
            resolved,
            comment,
        } => Some(Record::Callback(CallbackInsert {
            id: Id(*callback_id),
            ticket_id: Id(ticket_id),
            attempt: *attempt,
            reached: *reached,
            satisfaction: satisfaction.map(Satisfaction::as_str),
            resolved: *resolved,
            comment: comment.clone(),
            created_by: by,
            created_at: At(now),
            unit_id: decision.next.primary_unit_id().map(Id),
        })),
        Change::Replied {
            assignment_id,
            reply_id,
            result,
            ..
        } => Some(reply(
            ticket_id,
            *assignment_id,
            *reply_id,
            Some(*result),
            decision,
            actor,
            now,
        )?),
        Change::OpinionAdded {
            assignment_id,
            reply_id,
        } => Some(reply(
            ticket_id,
            *assignment_id,
            *reply_id,
            None,
            decision,
            actor,
            now,
        )?),
        _ => None,
    })
}

#[allow(clippy::too_many_arguments)]
fn reply(
    ticket_id: Uuid,
    assignment_id: Uuid,
    reply_id: Uuid,
    result: Option<ReplyResult>,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Record, StoreError> {
    let (_, content) = decision
        .content
        .as_ref()
        .filter(|(id, _)| *id == reply_id)
        .ok_or_else(|| StoreError::corrupt("a reply without its text"))?;
    let assignment = decision
        .next
        .assignments
        .iter()
        .find(|a| a.id == assignment_id)
        .ok_or_else(|| StoreError::corrupt("a reply to an unknown assignment"))?;
    let (contacted_at, method, outcome, no_contact) = match &content.contact {
        Some(ContactRecord::Reached {
            at,
            method,
            outcome,
        }) => (
            Some(At(*at)),
            Some(method.as_str()),
            Some(outcome.clone()),
            None,
        ),
        Some(ContactRecord::Impossible { reason }) => (None, None, None, Some(reason.clone())),
        None => (None, None, None, None),
    };
    Ok(Record::Reply(
        ReplyInsert {
            id: Id(reply_id),
            ticket_id: Id(ticket_id),
            assignment_id: Id(assignment_id),
            unit_id: Id(assignment.unit_id),
            kind: ReplyKind::of(result),
            result: result.map(ReplyResult::as_str),
            body: content.text.clone(),
            contacted_at,
            contact_method: method,
            contact_outcome: outcome,
            no_contact_reason: no_contact,
            created_by: actor.user_id.map(Id),
            created_at: At(now),
            due_at: result.is_some().then(|| At(assignment.due_at())),
        },
        content.attachment_ids.clone(),
    ))
}

/// Writes a change's record, linking a reply's evidence to it.
fn write_record(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    record: Record,
) -> Result<(), StoreError> {
    match record {
        Record::Urge(row) => {
            diesel::insert_into(urges::table)
                .values(row)
                .execute(conn)?;
        }
        Record::Callback(row) => {
            diesel::insert_into(callbacks::table)
                .values(row)
                .execute(conn)?;
        }
        Record::Reply(row, attachment_ids) => {
            let reply_id = row.id;
            diesel::insert_into(replies::table)
                .values(row)
                .execute(conn)?;
            if !attachment_ids.is_empty() {
                let ids: Vec<Id> = attachment_ids.iter().copied().map(Id).collect();
                let wanted = ids.len();
                let linked = diesel::update(
                    attachments::table
                        .filter(attachments::id.eq_any(ids))
                        .filter(attachments::ticket_id.eq(Id(ticket_id)))
                        .filter(attachments::reply_id.is_null()),
                )
                .set(attachments::reply_id.eq(reply_id))
                .execute(conn)?;
                if linked != wanted {
                    return Err(StoreError::corrupt(
                        "attachments were checked but could not be linked",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A reply or an opinion as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyRecord {
    pub id: Uuid,
    pub kind: ReplyKind,
    pub assignment_id: Uuid,
    pub unit_id: Uuid,
    pub result: Option<ReplyResult>,
    pub text: String,
    pub contact: Option<ContactRecord>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = replies)]
struct ReplyRow {
    id: Uuid,
    kind: ReplyKind,
    assignment_id: Uuid,
    unit_id: Uuid,
    result: Option<ReplyResult>,
    body: String,
    contacted_at: Option<DateTime<Utc>>,
    contact_method: Option<ContactMethod>,
    contact_outcome: Option<String>,
    no_contact_reason: Option<String>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
}

pub fn replies(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<ReplyRecord>, StoreError> {
    let rows: Vec<ReplyRow> = replies::table
        .filter(replies::ticket_id.eq(Id(ticket_id)))
        .order((replies::created_at.asc(), replies::id.asc()))
        .select(ReplyRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            let contact = match (
                r.contacted_at,
                r.contact_method,
                r.contact_outcome,
                r.no_contact_reason,
            ) {
                (Some(at), Some(method), Some(outcome), _) => Some(ContactRecord::Reached {
                    at,
                    method,
                    outcome,
                }),
                (_, _, _, Some(reason)) => Some(ContactRecord::Impossible { reason }),
                _ => None,
            };
            Ok(ReplyRecord {
                id: r.id,
                kind: r.kind,
                assignment_id: r.assignment_id,
                unit_id: r.unit_id,
                result: r.result,
                text: r.body,
                contact,
                created_by: r.created_by,
                created_at: r.created_at,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = callbacks)]
pub struct CallbackRecord {
    pub id: Uuid,
    pub attempt: i32,
    pub reached: bool,
    pub satisfaction: Option<Satisfaction>,
    pub resolved: Option<bool>,
    pub comment: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn callbacks(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<CallbackRecord>, StoreError> {
    Ok(callbacks::table
        .filter(callbacks::ticket_id.eq(Id(ticket_id)))
        .order((callbacks::created_at.asc(), callbacks::id.asc()))
        .select(CallbackRecord::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = urges)]
pub struct UrgeRecord {
    pub id: Uuid,
    pub assignment_id: Uuid,
    pub unit_id: Uuid,
    pub kind: UrgeKind,
    pub note: Option<String>,
    /// For the ladder's urges: which deadline and how close it was.
    pub timer: Option<Timer>,
    pub rung: Option<Rung>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn urges(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<UrgeRecord>, StoreError> {
    Ok(urges::table
        .filter(urges::ticket_id.eq(Id(ticket_id)))
        .order((urges::created_at.asc(), urges::id.asc()))
        .select(UrgeRecord::as_select())
        .load(conn)?)
}
