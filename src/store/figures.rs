//! The facts a period's figures are computed from, read from the records the lifecycle keeps
//! beside its timeline, and the exemptions granted appeals make.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::{
    appeals, assignments, callbacks, replies, supervisions, ticket_events, tickets, urges,
};
use super::sql::At;
use super::{DbConnection, StoreError};
use crate::domain::assessment::AppealStatus;
use crate::domain::figures::{
    AssignmentFact, CallbackFact, ClosureFact, Exemptions, Facts, Occurrence, ReplyFact, UrgeFact,
};
use crate::domain::lifecycle::{ReplyKind, Satisfaction, UrgeKind};
use crate::domain::period::Period;
use crate::domain::ticket::{AssignmentRole, AssignmentStatus, EventKind, TicketStatus};
use uuid::Uuid;

type AssignmentRow = (
    Uuid,
    Uuid,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    AssignmentStatus,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    TicketStatus,
);

/// Every fact that may count in `period`.
pub fn facts(conn: &mut DbConnection, period: &Period) -> Result<Facts, StoreError> {
    Ok(Facts {
        closures: closures(conn, period)?,
        ..work(conn, period)?
    })
}

/// Every fact but the closures, which a long read takes on another connection at once.
pub fn work(conn: &mut DbConnection, period: &Period) -> Result<Facts, StoreError> {
    super::archive::refuse_archived(conn, period)?;
    let (from, to) = (At(period.from), At(period.to));
    Ok(Facts {
        assignments: assignment_facts(conn, from, to)?,
        replies: reply_facts(conn, from, to)?,
        reworks: rework_facts(conn, from, to)?,
        callbacks: callback_facts(conn, from, to)?,
        closures: Vec::new(),
        urges: urge_facts(conn, from, to)?,
        supervisions: supervision_facts(conn, from, to)?,
    })
}

/// Primary assignments dispatched, due or returned in the period.
fn assignment_facts(
    conn: &mut DbConnection,
    from: At,
    to: At,
) -> Result<Vec<AssignmentFact>, StoreError> {
    let rows: Vec<AssignmentRow> = assignments::table
        .inner_join(tickets::table)
        .filter(assignments::role.eq(AssignmentRole::Primary))
        .filter(
            assignments::dispatched_at
                .ge(from)
                .and(assignments::dispatched_at.lt(to))
                .or(assignments::due_at.ge(from).and(assignments::due_at.lt(to)))
                .or(assignments::returned_at
                    .ge(from)
                    .and(assignments::returned_at.lt(to))),
        )
        .select((
            assignments::ticket_id,
            assignments::unit_id,
            assignments::dispatched_at,
            assignments::sign_due_at,
            assignments::signed_at,
            assignments::returned_at,
            assignments::status,
            assignments::due_at,
            tickets::closed_at.nullable(),
            tickets::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(
                ticket_id,
                unit_id,
                dispatched_at,
                sign_due_at,
                signed_at,
                returned_at,
                status,
                due_at,
                closed_at,
                ticket_status,
            )| AssignmentFact {
                ticket_id,
                unit_id,
                dispatched_at,
                sign_due_at,
                signed_at,
                returned_at,
                open: matches!(
                    status,
                    AssignmentStatus::Dispatched | AssignmentStatus::Signed
                ),
                due_at,
                // `closed_at` also marks a merge or an invalidation; only a closure completes.
                ticket_closed_at: closed_at.filter(|_| ticket_status == TicketStatus::Closed),
            },
        )
        .collect())
}

type ReplyRow = (Uuid, Uuid, DateTime<Utc>, Option<DateTime<Utc>>);

/// Replies made or due in the period.
fn reply_facts(conn: &mut DbConnection, from: At, to: At) -> Result<Vec<ReplyFact>, StoreError> {
    let rows: Vec<ReplyRow> = replies::table
        .filter(replies::kind.eq(ReplyKind::Reply))
        .filter(
            replies::created_at
                .ge(from)
                .and(replies::created_at.lt(to))
                .or(replies::due_at.ge(from).and(replies::due_at.lt(to))),
        )
        .select((
            replies::ticket_id,
            replies::unit_id,
            replies::created_at,
            replies::due_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, unit_id, at, due)| ReplyFact {
            ticket_id,
            unit_id,
            at,
            // Replies recorded before due times were kept with them count as on time.
            due_at: due.unwrap_or(at),
        })
        .collect())
}

/// Replies sent back for rework, by review or by a reopening callback, in the period.
fn rework_facts(conn: &mut DbConnection, from: At, to: At) -> Result<Vec<Occurrence>, StoreError> {
    let rows: Vec<(Uuid, Option<Uuid>, DateTime<Utc>)> = ticket_events::table
        .left_join(assignments::table)
        .filter(ticket_events::kind.eq_any([EventKind::ReviewRejected, EventKind::Reopened]))
        .filter(ticket_events::created_at.ge(from))
        .filter(ticket_events::created_at.lt(to))
        .select((
            ticket_events::ticket_id,
            assignments::unit_id.nullable(),
            ticket_events::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, unit_id, at)| Occurrence {
            ticket_id,
            unit_id,
            at,
        })
        .collect())
}

type CallbackRow = (
    Uuid,
    Option<Uuid>,
    DateTime<Utc>,
    bool,
    Option<Satisfaction>,
    Option<bool>,
);

/// Callbacks made in the period.
fn callback_facts(
    conn: &mut DbConnection,
    from: At,
    to: At,
) -> Result<Vec<CallbackFact>, StoreError> {
    let rows: Vec<CallbackRow> = callbacks::table
        .filter(callbacks::created_at.ge(from))
        .filter(callbacks::created_at.lt(to))
        .select((
            callbacks::ticket_id,
            callbacks::unit_id,
            callbacks::created_at,
            callbacks::reached,
            callbacks::satisfaction,
            callbacks::resolved,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(ticket_id, unit_id, at, reached, satisfaction, resolved)| CallbackFact {
                ticket_id,
                unit_id,
                at,
                reached,
                satisfaction,
                resolved,
            },
        )
        .collect())
}

/// Urges made in the period.
fn urge_facts(conn: &mut DbConnection, from: At, to: At) -> Result<Vec<UrgeFact>, StoreError> {
    let rows: Vec<(Uuid, Uuid, DateTime<Utc>, UrgeKind)> = urges::table
        .filter(urges::created_at.ge(from))
        .filter(urges::created_at.lt(to))
        .select((
            urges::ticket_id,
            urges::unit_id,
            urges::created_at,
            urges::kind,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, unit_id, at, kind)| UrgeFact {
            ticket_id,
            unit_id,
            at,
            system: kind == UrgeKind::System,
        })
        .collect())
}

/// Supervisions opened in the period.
fn supervision_facts(
    conn: &mut DbConnection,
    from: At,
    to: At,
) -> Result<Vec<Occurrence>, StoreError> {
    let rows: Vec<(Uuid, Uuid, DateTime<Utc>)> = supervisions::table
        .filter(supervisions::opened_at.ge(from))
        .filter(supervisions::opened_at.lt(to))
        .select((
            supervisions::ticket_id,
            supervisions::unit_id,
            supervisions::opened_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, unit_id, at)| Occurrence {
            ticket_id,
            unit_id: Some(unit_id),
            at,
        })
        .collect())
}

type ClosureRow = (Uuid, Option<Uuid>, Option<DateTime<Utc>>, bool);

/// The tickets closed in `period`, and whether each was called back.
pub fn closures(conn: &mut DbConnection, period: &Period) -> Result<Vec<ClosureFact>, StoreError> {
    let (from, to) = (At(period.from), At(period.to));
    let rows: Vec<ClosureRow> = tickets::table
        .filter(tickets::status.eq(TicketStatus::Closed))
        .filter(tickets::closed_at.ge(from))
        .filter(tickets::closed_at.lt(to))
        .select((
            tickets::id,
            tickets::primary_unit_id,
            tickets::closed_at,
            tickets::called_back,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(ticket_id, unit_id, at, called_back)| {
            at.map(|at| ClosureFact {
                ticket_id,
                unit_id,
                at,
                called_back,
            })
        })
        .collect())
}

/// The (unit, ticket) pairs granted appeals take out of units' figures.
pub fn exemptions(conn: &mut DbConnection) -> Result<Exemptions, StoreError> {
    let rows: Vec<(Uuid, Uuid)> = appeals::table
        .filter(appeals::status.eq(AppealStatus::Granted))
        .select((appeals::unit_id, appeals::ticket_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
