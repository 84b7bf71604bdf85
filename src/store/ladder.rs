//! The ladder's view of the database: the deadlines being worked against, the rungs already
//! fired, and claiming a rung — which succeeds for exactly one pass, whichever instance runs it.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use super::schema::{assignments, ladder_rungs, tickets};
use super::sql::{At, Id, Uid, UtcTime};
use super::{DbConnection, StoreError};
use crate::domain::ladder::{
    Rung, Timer, Watch, WatchedAssignment, assignment_watches, callback_watch,
};
use crate::domain::ticket::{AssignmentRole, AssignmentStatus, Priority, TicketStatus};

/// Every deadline being worked against, and every rung already fired for one of them.
pub struct Scan {
    pub watches: Vec<Watch>,
    pub fired: HashSet<FiredRung>,
}

/// A rung of one deadline: the subject, the deadline, the rung and the due time.
pub type FiredRung = (Uuid, Timer, Rung, DateTime<Utc>);

type AssignmentColumns = (
    Uuid,
    Uuid,
    Uuid,
    AssignmentRole,
    AssignmentStatus,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    Priority,
);

pub fn scan(conn: &mut DbConnection) -> Result<Scan, StoreError> {
    let open = [AssignmentStatus::Dispatched, AssignmentStatus::Signed];
    let working = [TicketStatus::Dispatched, TicketStatus::Handling];
    let rows: Vec<AssignmentColumns> = assignments::table
        .inner_join(tickets::table)
        .filter(assignments::status.eq_any(open))
        .filter(assignments::round.eq(tickets::current_round))
        .filter(tickets::status.eq_any(working))
        .filter(tickets::paused_at.is_null())
        .select((
            assignments::id,
            assignments::ticket_id,
            assignments::unit_id,
            assignments::role,
            assignments::status,
            assignments::dispatched_at,
            assignments::sign_due_at,
            assignments::due_at,
            tickets::priority,
        ))
        .load(conn)?;
    let mut watches = Vec::with_capacity(rows.len() * 2);
    for (id, ticket_id, unit_id, role, status, dispatched_at, sign_due_at, due_at, priority) in rows
    {
        watches.extend(assignment_watches(&WatchedAssignment {
            ticket_id,
            assignment_id: id,
            unit_id,
            role,
            status,
            dispatched_at,
            sign_due_at,
            due_at,
            urgent: priority == Priority::Urgent,
        }));
    }
    let awaiting: Vec<(Uuid, Option<DateTime<Utc>>, Priority)> = tickets::table
        .filter(tickets::status.eq(TicketStatus::AwaitingCallback))
        .filter(tickets::callback_due_at.is_not_null())
        .filter(tickets::paused_at.is_null())
        .select((tickets::id, tickets::callback_due_at, tickets::priority))
        .load(conn)?;
    for (id, due_at, priority) in awaiting {
        if let Some(due_at) = due_at {
            watches.push(callback_watch(id, due_at, priority == Priority::Urgent));
        }
    }
    let fired: Vec<FiredRung> = ladder_rungs::table
        .inner_join(tickets::table)
        .filter(tickets::status.eq_any([
            TicketStatus::Dispatched,
            TicketStatus::Handling,
            TicketStatus::AwaitingCallback,
        ]))
        .select((
            ladder_rungs::subject_id,
            ladder_rungs::timer,
            ladder_rungs::rung,
            ladder_rungs::due_at,
        ))
        .load(conn)?;
    Ok(Scan {
        watches,
        fired: fired.into_iter().collect(),
    })
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[allow(dead_code)]
    id: i64,
}

/// Records that `rung` of `watch` fired now, unless it already did: `true` for the one caller
/// that gets to fire it. The unique key decides, not timing.
pub fn claim(
    conn: &mut DbConnection,
    watch: &Watch,
    rung: Rung,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let claimed: Vec<Claimed> = diesel::sql_query(
        "INSERT INTO ladder_rungs (subject_id, ticket_id, timer, rung, due_at, fired_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (subject_id, timer, rung, due_at) DO NOTHING RETURNING id",
    )
    .bind::<Uid, _>(Id(watch.subject_id))
    .bind::<Uid, _>(Id(watch.ticket_id))
    .bind::<Text, _>(watch.timer)
    .bind::<Text, _>(rung)
    .bind::<UtcTime, _>(At(watch.due_at))
    .bind::<UtcTime, _>(At(now))
    .load(conn)?;
    Ok(!claimed.is_empty())
}

/// How many tickets are overdue now.
pub fn overdue_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(tickets::table
        .filter(tickets::overdue.eq(true))
        .count()
        .get_result(conn)?)
}
