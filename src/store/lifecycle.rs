//! A ticket's lifecycle on disk: its assignments, extension requests and supervisions, the
//! records beside them (replies, callbacks, urges), and saving a decision — the ticket's new
//! state, its records and its timeline entries — as the ticket's next version.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::events::{self, NewEvent};
use super::schema::{
    assignments, attachments, callbacks, extension_requests, replies, supervisions, tickets, urges,
};
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, parse_text, parse_uuid, to_db};
use crate::domain::access::Actor;
use crate::domain::calendar::Due;
use crate::domain::ladder::{Rung, Timer};
use crate::domain::lifecycle::{
    Change, ContactRecord, Decision, ExtensionRequest, Lifecycle, ReplyResult, Satisfaction,
    Supervision, SupervisionStatus, UrgeKind,
};
use crate::domain::ticket::{Assignment, EventKind, Ticket};

/// How an assignment's deadlines came about, kept beside the due times themselves.
#[derive(Debug, Serialize, Deserialize)]
struct Deadlines {
    sign: Due,
    reply: Due,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = assignments)]
struct AssignmentRow {
    id: String,
    ticket_id: String,
    unit_id: String,
    round: i32,
    role: String,
    status: String,
    forced: bool,
    dispatched_by: String,
    dispatched_at: NaiveDateTime,
    original_due_at: NaiveDateTime,
    signed_at: Option<NaiveDateTime>,
    returned_at: Option<NaiveDateTime>,
    return_reason: Option<String>,
    replied_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    deadlines: String,
}

impl AssignmentRow {
    fn into_assignment(self) -> Result<Assignment, StoreError> {
        let deadlines: Deadlines =
            serde_json::from_str(&self.deadlines).map_err(StoreError::corrupt)?;
        Ok(Assignment {
            id: parse_uuid(&self.id)?,
            ticket_id: parse_uuid(&self.ticket_id)?,
            unit_id: parse_uuid(&self.unit_id)?,
            round: self.round,
            role: parse_text(&self.role)?,
            status: parse_text(&self.status)?,
            forced: self.forced,
            dispatched_by: parse_uuid(&self.dispatched_by)?,
            dispatched_at: from_db(self.dispatched_at),
            sign_deadline: deadlines.sign,
            reply_deadline: deadlines.reply,
            original_due_at: from_db(self.original_due_at),
            signed_at: self.signed_at.map(from_db),
            returned_at: self.returned_at.map(from_db),
            return_reason: self.return_reason,
            replied_at: self.replied_at.map(from_db),
            closed_at: self.closed_at.map(from_db),
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
    let key = ticket_id.to_string();
    let rows: Vec<AssignmentRow> = crate::per_backend!(conn, |c| assignments::table
        .filter(assignments::ticket_id.eq(&key))
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
    id: String,
    assignment_id: String,
    unit_id: String,
    requested_due_at: NaiveDateTime,
    reason: String,
    status: String,
    requested_by: Option<String>,
    requested_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    note: Option<String>,
}

impl ExtensionRow {
    fn into_request(self) -> Result<ExtensionRequest, StoreError> {
        Ok(ExtensionRequest {
            id: parse_uuid(&self.id)?,
            assignment_id: parse_uuid(&self.assignment_id)?,
            unit_id: parse_uuid(&self.unit_id)?,
            requested_due_at: from_db(self.requested_due_at),
            reason: self.reason,
            status: parse_text(&self.status)?,
            requested_by: parse_opt_uuid(self.requested_by.as_deref())?,
            requested_at: from_db(self.requested_at),
            decided_by: parse_opt_uuid(self.decided_by.as_deref())?,
            decided_at: self.decided_at.map(from_db),
            note: self.note,
        })
    }
}

/// A ticket's extension requests; read with every ticket, like [`assignments`].
pub fn extension_requests(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<ExtensionRequest>, StoreError> {
    let key = ticket_id.to_string();
    let rows: Vec<ExtensionRow> = crate::per_backend!(conn, |c| extension_requests::table
        .filter(extension_requests::ticket_id.eq(&key))
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
    id: String,
    ticket_id: String,
    unit_id: String,
    reason: String,
    deadline: NaiveDateTime,
    automatic: bool,
    status: String,
    opened_by: Option<String>,
    opened_at: NaiveDateTime,
    outcome: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<NaiveDateTime>,
}

impl SupervisionRow {
    fn into_supervision(self) -> Result<(Uuid, Supervision), StoreError> {
        Ok((
            parse_uuid(&self.ticket_id)?,
            Supervision {
                id: parse_uuid(&self.id)?,
                unit_id: parse_uuid(&self.unit_id)?,
                reason: self.reason,
                deadline: from_db(self.deadline),
                automatic: self.automatic,
                status: parse_text(&self.status)?,
                opened_by: parse_opt_uuid(self.opened_by.as_deref())?,
                opened_at: from_db(self.opened_at),
                outcome: self.outcome,
                closed_by: parse_opt_uuid(self.closed_by.as_deref())?,
                closed_at: self.closed_at.map(from_db),
            },
        ))
    }
}

/// A ticket's supervisions; read with every ticket, like [`assignments`].
pub fn supervisions(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<Supervision>, StoreError> {
    let key = ticket_id.to_string();
    let rows: Vec<SupervisionRow> = crate::per_backend!(conn, |c| supervisions::table
        .filter(supervisions::ticket_id.eq(&key))
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
        query = query.filter(supervisions::status.eq(status.as_str()));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(supervisions::unit_id.eq(unit.to_string()));
    }
    if let Some(now) = filter.overdue_at {
        query = query
            .filter(supervisions::status.eq(SupervisionStatus::Open.as_str()))
            .filter(supervisions::deadline.lt(to_db(now)));
    }
    if let Some((opened_at, id)) = after {
        let opened_at = to_db(opened_at);
        query = query.filter(
            supervisions::opened_at
                .lt(opened_at)
                .or(supervisions::opened_at
                    .eq(opened_at)
                    .and(supervisions::id.lt(id.to_string()))),
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
        status: ticket.status,
        round: ticket.current_round,
        assignments: assignments(conn, ticket.id)?,
        extensions: extension_requests(conn, ticket.id)?,
        supervisions: supervisions(conn, ticket.id)?,
        return_count: ticket.return_count,
        rework_count: ticket.rework_count,
        urge_count: ticket.urge_count,
        callback_attempts: ticket.callback_attempts,
        called_back: ticket.called_back,
        callback_due_at: ticket.callback_due_at,
        merged_into: ticket.merged_into_id,
        close_reason: ticket.close_reason.as_deref().map(parse_text).transpose()?,
        closed_at: ticket.closed_at,
        overdue: ticket.overdue,
        paused_at: ticket.paused_at,
        pause_reason: ticket.pause_reason.clone(),
    })
}

/// The ticket with the lifecycle's state written into its columns.
pub fn project(ticket: &Ticket, state: &Lifecycle, version: i64, now: DateTime<Utc>) -> Ticket {
    Ticket {
        status: state.status,
        current_round: state.round,
        primary_unit_id: state.primary_unit_id(),
        sign_due_at: state.sign_due_at(),
        due_at: state.due_at(),
        supervised: state.supervised(),
        return_count: state.return_count,
        rework_count: state.rework_count,
        urge_count: state.urge_count,
        merged_into_id: state.merged_into,
        close_reason: state.close_reason.map(|r| r.as_str().to_owned()),
        closed_at: state.closed_at,
        callback_attempts: state.callback_attempts,
        called_back: state.called_back,
        callback_due_at: state.callback_due_at,
        overdue: state.overdue,
        paused_at: state.paused_at,
        pause_reason: state.pause_reason.clone(),
        version,
        updated_at: now,
        ..ticket.clone()
    }
}

/// Saves a decision on `ticket` (whose lifecycle was `before`): the ticket's next version, the
/// rows that changed, the records the changes carry, and one timeline entry per change.
pub fn save(
    conn: &mut DbConnection,
    ticket: &Ticket,
    before: &Lifecycle,
    decision: &Decision,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<Ticket, StoreError> {
    let saved = project(ticket, &decision.next, ticket.version + 1, now);
    let updated = diesel::update(
        tickets::table
            .find(ticket.id.to_string())
            .filter(tickets::version.eq(ticket.version)),
    )
    .set((
        tickets::status.eq(saved.status.as_str()),
        tickets::current_round.eq(saved.current_round),
        tickets::primary_unit_id.eq(saved.primary_unit_id.map(|u| u.to_string())),
        tickets::sign_due_at.eq(saved.sign_due_at.map(to_db)),
        tickets::due_at.eq(saved.due_at.map(to_db)),
        tickets::supervised.eq(saved.supervised),
        tickets::return_count.eq(saved.return_count),
        tickets::rework_count.eq(saved.rework_count),
        tickets::urge_count.eq(saved.urge_count),
        tickets::merged_into_id.eq(saved.merged_into_id.map(|u| u.to_string())),
        tickets::close_reason.eq(saved.close_reason.as_deref()),
        tickets::closed_at.eq(saved.closed_at.map(to_db)),
        tickets::callback_attempts.eq(saved.callback_attempts),
        tickets::called_back.eq(saved.called_back),
        tickets::callback_due_at.eq(saved.callback_due_at.map(to_db)),
        tickets::overdue.eq(saved.overdue),
        tickets::paused_at.eq(saved.paused_at.map(to_db)),
        tickets::pause_reason.eq(saved.pause_reason.as_deref()),
        tickets::version.eq(saved.version),
        tickets::updated_at.eq(to_db(now)),
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
    for change in &decision.changes {
        if let Some(row) = record(ticket.id, change, decision, actor, now)? {
            write_record(conn, ticket.id, row)?;
        }
        let notices = crate::domain::notify::notices(change, &decision.next);
        super::notifications::insert(conn, ticket.id, &notices, &change.details(), now)?;
        let kind: EventKind = parse_text(change.kind())?;
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
    id: String,
    ticket_id: String,
    unit_id: String,
    round: i32,
    role: &'static str,
    status: &'static str,
    forced: bool,
    dispatched_by: String,
    dispatched_at: NaiveDateTime,
    sign_due_at: NaiveDateTime,
    due_at: NaiveDateTime,
    original_due_at: NaiveDateTime,
    signed_at: Option<NaiveDateTime>,
    returned_at: Option<NaiveDateTime>,
    return_reason: Option<String>,
    replied_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    deadlines: String,
}

impl AssignmentInsert {
    pub fn new(a: &Assignment) -> Result<Self, StoreError> {
        Ok(Self {
            id: a.id.to_string(),
            ticket_id: a.ticket_id.to_string(),
            unit_id: a.unit_id.to_string(),
            round: a.round,
            role: a.role.as_str(),
            status: a.status.as_str(),
            forced: a.forced,
            dispatched_by: a.dispatched_by.to_string(),
            dispatched_at: to_db(a.dispatched_at),
            sign_due_at: to_db(a.sign_due_at()),
            due_at: to_db(a.due_at()),
            original_due_at: to_db(a.original_due_at),
            signed_at: a.signed_at.map(to_db),
            returned_at: a.returned_at.map(to_db),
            return_reason: a.return_reason.clone(),
            replied_at: a.replied_at.map(to_db),
            closed_at: a.closed_at.map(to_db),
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
    diesel::update(assignments::table.find(a.id.to_string()))
        .set((
            assignments::status.eq(a.status.as_str()),
            assignments::sign_due_at.eq(to_db(a.sign_due_at())),
            assignments::due_at.eq(to_db(a.due_at())),
            assignments::deadlines.eq(deadlines_json(a)?),
            assignments::signed_at.eq(a.signed_at.map(to_db)),
            assignments::returned_at.eq(a.returned_at.map(to_db)),
            assignments::return_reason.eq(a.return_reason.as_deref()),
            assignments::replied_at.eq(a.replied_at.map(to_db)),
            assignments::closed_at.eq(a.closed_at.map(to_db)),
        ))
        .execute(conn)?;
    Ok(())
}

/// An extension request as its row is written.
#[derive(Insertable)]
#[diesel(table_name = extension_requests, treat_none_as_null = true)]
pub struct ExtensionInsert {
    id: String,
    ticket_id: String,
    assignment_id: String,
    unit_id: String,
    requested_due_at: NaiveDateTime,
    reason: String,
    status: &'static str,
    requested_by: Option<String>,
    requested_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    note: Option<String>,
}

impl ExtensionInsert {
    pub fn new(ticket_id: Uuid, e: &ExtensionRequest) -> Self {
        Self {
            id: e.id.to_string(),
            ticket_id: ticket_id.to_string(),
            assignment_id: e.assignment_id.to_string(),
            unit_id: e.unit_id.to_string(),
            requested_due_at: to_db(e.requested_due_at),
            reason: e.reason.clone(),
            status: e.status.as_str(),
            requested_by: e.requested_by.map(|u| u.to_string()),
            requested_at: to_db(e.requested_at),
            decided_by: e.decided_by.map(|u| u.to_string()),
            decided_at: e.decided_at.map(to_db),
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
    diesel::update(extension_requests::table.find(e.id.to_string()))
        .set((
            extension_requests::status.eq(e.status.as_str()),
            extension_requests::decided_by.eq(e.decided_by.map(|u| u.to_string())),
            extension_requests::decided_at.eq(e.decided_at.map(to_db)),
            extension_requests::note.eq(e.note.as_deref()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A supervision as its row is written.
#[derive(Insertable)]
#[diesel(table_name = supervisions, treat_none_as_null = true)]
pub struct SupervisionInsert {
    id: String,
    ticket_id: String,
    unit_id: String,
    reason: String,
    deadline: NaiveDateTime,
    automatic: bool,
    status: &'static str,
    opened_by: Option<String>,
    opened_at: NaiveDateTime,
    outcome: Option<String>,
    closed_by: Option<String>,
    closed_at: Option<NaiveDateTime>,
}

impl SupervisionInsert {
    pub fn new(ticket_id: Uuid, s: &Supervision) -> Self {
        Self {
            id: s.id.to_string(),
            ticket_id: ticket_id.to_string(),
            unit_id: s.unit_id.to_string(),
            reason: s.reason.clone(),
            deadline: to_db(s.deadline),
            automatic: s.automatic,
            status: s.status.as_str(),
            opened_by: s.opened_by.map(|u| u.to_string()),
            opened_at: to_db(s.opened_at),
            outcome: s.outcome.clone(),
            closed_by: s.closed_by.map(|u| u.to_string()),
            closed_at: s.closed_at.map(to_db),
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
    diesel::update(supervisions::table.find(s.id.to_string()))
        .set((
            supervisions::status.eq(s.status.as_str()),
            supervisions::outcome.eq(s.outcome.as_deref()),
            supervisions::closed_by.eq(s.closed_by.map(|u| u.to_string())),
            supervisions::closed_at.eq(s.closed_at.map(to_db)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = urges, treat_none_as_null = true)]
pub struct UrgeInsert {
    id: String,
    ticket_id: String,
    assignment_id: String,
    unit_id: String,
    kind: &'static str,
    note: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    rung: Option<&'static str>,
    timer: Option<&'static str>,
}

#[derive(Insertable)]
#[diesel(table_name = callbacks, treat_none_as_null = true)]
pub struct CallbackInsert {
    id: String,
    ticket_id: String,
    attempt: i32,
    reached: bool,
    satisfaction: Option<&'static str>,
    resolved: Option<bool>,
    comment: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    unit_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = replies, treat_none_as_null = true)]
pub struct ReplyInsert {
    id: String,
    ticket_id: String,
    assignment_id: String,
    unit_id: String,
    kind: &'static str,
    result: Option<&'static str>,
    body: String,
    contacted_at: Option<NaiveDateTime>,
    contact_method: Option<&'static str>,
    contact_outcome: Option<String>,
    no_contact_reason: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
    /// The due time in force when a primary unit replied, for the on-time rate.
    due_at: Option<NaiveDateTime>,
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
    let by = actor.user_id.map(|u| u.to_string());
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
            id: urge_id.to_string(),
            ticket_id: ticket_id.to_string(),
            assignment_id: assignment_id.to_string(),
            unit_id: unit_id.to_string(),
            kind: kind.as_str(),
            note: note.clone(),
            created_by: by,
            created_at: to_db(now),
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
            id: callback_id.to_string(),
            ticket_id: ticket_id.to_string(),
            attempt: *attempt,
            reached: *reached,
            satisfaction: satisfaction.map(Satisfaction::as_str),
            resolved: *resolved,
            comment: comment.clone(),
            created_by: by,
            created_at: to_db(now),
            unit_id: decision.next.primary_unit_id().map(|u| u.to_string()),
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
            Some(to_db(*at)),
            Some(method.as_str()),
            Some(outcome.clone()),
            None,
        ),
        Some(ContactRecord::Impossible { reason }) => (None, None, None, Some(reason.clone())),
        None => (None, None, None, None),
    };
    Ok(Record::Reply(
        ReplyInsert {
            id: reply_id.to_string(),
            ticket_id: ticket_id.to_string(),
            assignment_id: assignment_id.to_string(),
            unit_id: assignment.unit_id.to_string(),
            kind: if result.is_some() { "reply" } else { "opinion" },
            result: result.map(ReplyResult::as_str),
            body: content.text.clone(),
            contacted_at,
            contact_method: method,
            contact_outcome: outcome,
            no_contact_reason: no_contact,
            created_by: actor.user_id.map(|u| u.to_string()),
            created_at: to_db(now),
            due_at: result.is_some().then(|| to_db(assignment.due_at())),
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
            let reply_id = row.id.clone();
            diesel::insert_into(replies::table)
                .values(row)
                .execute(conn)?;
            if !attachment_ids.is_empty() {
                let ids: Vec<String> = attachment_ids.iter().map(Uuid::to_string).collect();
                let linked = diesel::update(
                    attachments::table
                        .filter(attachments::id.eq_any(&ids))
                        .filter(attachments::ticket_id.eq(ticket_id.to_string()))
                        .filter(attachments::reply_id.is_null()),
                )
                .set(attachments::reply_id.eq(reply_id))
                .execute(conn)?;
                if linked != ids.len() {
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
    id: String,
    assignment_id: String,
    unit_id: String,
    result: Option<String>,
    body: String,
    contacted_at: Option<NaiveDateTime>,
    contact_method: Option<String>,
    contact_outcome: Option<String>,
    no_contact_reason: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

pub fn replies(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<ReplyRecord>, StoreError> {
    let rows: Vec<ReplyRow> = replies::table
        .filter(replies::ticket_id.eq(ticket_id.to_string()))
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
                    at: from_db(at),
                    method: parse_text(&method)?,
                    outcome,
                }),
                (_, _, _, Some(reason)) => Some(ContactRecord::Impossible { reason }),
                _ => None,
            };
            Ok(ReplyRecord {
                id: parse_uuid(&r.id)?,
                assignment_id: parse_uuid(&r.assignment_id)?,
                unit_id: parse_uuid(&r.unit_id)?,
                result: r.result.as_deref().map(parse_text).transpose()?,
                text: r.body,
                contact,
                created_by: parse_opt_uuid(r.created_by.as_deref())?,
                created_at: from_db(r.created_at),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = callbacks)]
struct CallbackRow {
    id: String,
    attempt: i32,
    reached: bool,
    satisfaction: Option<String>,
    resolved: Option<bool>,
    comment: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

pub fn callbacks(
    conn: &mut DbConnection,
    ticket_id: Uuid,
) -> Result<Vec<CallbackRecord>, StoreError> {
    let rows: Vec<CallbackRow> = callbacks::table
        .filter(callbacks::ticket_id.eq(ticket_id.to_string()))
        .order((callbacks::created_at.asc(), callbacks::id.asc()))
        .select(CallbackRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(CallbackRecord {
                id: parse_uuid(&r.id)?,
                attempt: r.attempt,
                reached: r.reached,
                satisfaction: r.satisfaction.as_deref().map(parse_text).transpose()?,
                resolved: r.resolved,
                comment: r.comment,
                created_by: parse_opt_uuid(r.created_by.as_deref())?,
                created_at: from_db(r.created_at),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = urges)]
struct UrgeRow {
    id: String,
    assignment_id: String,
    unit_id: String,
    kind: String,
    note: Option<String>,
    timer: Option<String>,
    rung: Option<String>,
    created_by: Option<String>,
    created_at: NaiveDateTime,
}

pub fn urges(conn: &mut DbConnection, ticket_id: Uuid) -> Result<Vec<UrgeRecord>, StoreError> {
    let rows: Vec<UrgeRow> = urges::table
        .filter(urges::ticket_id.eq(ticket_id.to_string()))
        .order((urges::created_at.asc(), urges::id.asc()))
        .select(UrgeRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| {
            Ok(UrgeRecord {
                id: parse_uuid(&r.id)?,
                assignment_id: parse_uuid(&r.assignment_id)?,
                unit_id: parse_uuid(&r.unit_id)?,
                kind: parse_text(&r.kind)?,
                note: r.note,
                timer: r.timer.as_deref().map(parse_text).transpose()?,
                rung: r.rung.as_deref().map(parse_text).transpose()?,
                created_by: parse_opt_uuid(r.created_by.as_deref())?,
                created_at: from_db(r.created_at),
            })
        })
        .collect()
}
