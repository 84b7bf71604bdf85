//! Reading a ticket's lifecycle records: its assignments, extension requests, supervisions,
//! replies, callbacks and urges.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::calendar::Due;
use crate::domain::ladder::{Rung, Timer};
use crate::domain::lifecycle::{
    ContactMethod, ContactRecord, ExtensionRequest, ExtensionStatus, ReplyKind, ReplyResult,
    Satisfaction, Supervision, SupervisionStatus, UrgeKind,
};
use crate::domain::ticket::{Assignment, AssignmentRole, AssignmentStatus};
use crate::store::schema::{
    assignments, callbacks, extension_requests, replies, supervisions, tickets, urges,
};
use crate::store::sql::{At, Id};
use crate::store::{DbConnection, StoreError};

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
    forwarded_from_id: Option<Uuid>,
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
            forwarded_from: self.forwarded_from_id,
        })
    }
}

pub(super) fn deadlines_json(assignment: &Assignment) -> Result<String, StoreError> {
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

/// Extension requests across tickets, to work through: oldest first, after
/// `(requested_at, id)`, each with its ticket's id, number and title.
pub fn extension_list(
    conn: &mut DbConnection,
    status: Option<ExtensionStatus>,
    unit_id: Option<Uuid>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(Uuid, String, String, ExtensionRequest)>, StoreError> {
    let mut query = extension_requests::table
        .inner_join(tickets::table)
        .select((
            extension_requests::ticket_id,
            tickets::number,
            tickets::title,
            ExtensionRow::as_select(),
        ))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(extension_requests::status.eq(status));
    }
    if let Some(unit) = unit_id {
        query = query.filter(extension_requests::unit_id.eq(Id(unit)));
    }
    if let Some((requested_at, id)) = after {
        let requested_at = At(requested_at);
        query = query.filter(
            extension_requests::requested_at
                .gt(requested_at)
                .or(extension_requests::requested_at
                    .eq(requested_at)
                    .and(extension_requests::id.gt(Id(id)))),
        );
    }
    let rows: Vec<(Uuid, String, String, ExtensionRow)> = query
        .order((
            extension_requests::requested_at.asc(),
            extension_requests::id.asc(),
        ))
        .limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(ticket_id, number, title, row)| Ok((ticket_id, number, title, row.into_request()?)))
        .collect()
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

/// A callback attempt, as stored and as the API lists it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
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

/// An urge, as stored and as the API lists it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
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
