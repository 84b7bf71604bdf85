//! The facts a period's figures are computed from, read from the records the lifecycle keeps
//! beside its timeline, and the exemptions granted appeals make.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    appeals, assignments, callbacks, replies, supervisions, ticket_events, tickets, urges,
};
use super::{DbConnection, StoreError, from_db, parse_opt_uuid, parse_text, parse_uuid, to_db};
use crate::domain::figures::{
    AssignmentFact, CallbackFact, ClosureFact, Exemptions, Facts, Occurrence, ReplyFact, UrgeFact,
};
use crate::domain::period::Period;
use crate::domain::ticket::{AssignmentRole, AssignmentStatus, TicketStatus};

type AssignmentRow = (
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    String,
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
    let (from, to) = (to_db(period.from), to_db(period.to));
    let rows: Vec<AssignmentRow> = assignments::table
        .inner_join(tickets::table)
        .filter(assignments::role.eq(AssignmentRole::Primary.as_str()))
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
    let closed = TicketStatus::Closed.as_str();
    let open = [
        AssignmentStatus::Dispatched.as_str(),
        AssignmentStatus::Signed.as_str(),
    ];
    let assignments = rows
        .into_iter()
        .map(
            |(
                ticket,
                unit,
                dispatched,
                sign_due,
                signed,
                returned,
                status,
                due,
                closed_at,
                ticket_status,
            )| {
                Ok(AssignmentFact {
                    ticket_id: parse_uuid(&ticket)?,
                    unit_id: parse_uuid(&unit)?,
                    dispatched_at: from_db(dispatched),
                    sign_due_at: from_db(sign_due),
                    signed_at: signed.map(from_db),
                    returned_at: returned.map(from_db),
                    open: open.contains(&status.as_str()),
                    due_at: from_db(due),
                    // `closed_at` also marks a merge or an invalidation; only a closure completes.
                    ticket_closed_at: closed_at.filter(|_| ticket_status == closed).map(from_db),
                })
            },
        )
        .collect::<Result<Vec<_>, StoreError>>()?;

    let reply_rows: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = replies::table
        .filter(replies::kind.eq("reply"))
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
    let replies = reply_rows
        .into_iter()
        .map(|(ticket, unit, at, due)| {
            Ok(ReplyFact {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: parse_uuid(&unit)?,
                at: from_db(at),
                // Replies recorded before due times were kept with them count as on time.
                due_at: from_db(due.unwrap_or(at)),
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let rework_rows: Vec<(String, Option<String>, NaiveDateTime)> = ticket_events::table
        .left_join(assignments::table)
        .filter(ticket_events::kind.eq_any(["review_rejected", "reopened"]))
        .filter(ticket_events::created_at.ge(from))
        .filter(ticket_events::created_at.lt(to))
        .select((
            ticket_events::ticket_id,
            assignments::unit_id.nullable(),
            ticket_events::created_at,
        ))
        .load(conn)?;
    let reworks = rework_rows
        .into_iter()
        .map(|(ticket, unit, at)| {
            Ok(Occurrence {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: parse_opt_uuid(unit.as_deref())?,
                at: from_db(at),
            })
        })
        .collect::<Result<_, StoreError>>()?;

    type CallbackRow = (
        String,
        Option<String>,
        NaiveDateTime,
        bool,
        Option<String>,
        Option<bool>,
    );
    let callback_rows: Vec<CallbackRow> = callbacks::table
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
    let callbacks = callback_rows
        .into_iter()
        .map(|(ticket, unit, at, reached, satisfaction, resolved)| {
            Ok(CallbackFact {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: parse_opt_uuid(unit.as_deref())?,
                at: from_db(at),
                reached,
                satisfaction: satisfaction.as_deref().map(parse_text).transpose()?,
                resolved,
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let urge_rows: Vec<(String, String, NaiveDateTime, String)> = urges::table
        .filter(urges::created_at.ge(from))
        .filter(urges::created_at.lt(to))
        .select((
            urges::ticket_id,
            urges::unit_id,
            urges::created_at,
            urges::kind,
        ))
        .load(conn)?;
    let urges = urge_rows
        .into_iter()
        .map(|(ticket, unit, at, kind)| {
            Ok(UrgeFact {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: parse_uuid(&unit)?,
                at: from_db(at),
                system: kind == "system",
            })
        })
        .collect::<Result<_, StoreError>>()?;

    let supervision_rows: Vec<(String, String, NaiveDateTime)> = supervisions::table
        .filter(supervisions::opened_at.ge(from))
        .filter(supervisions::opened_at.lt(to))
        .select((
            supervisions::ticket_id,
            supervisions::unit_id,
            supervisions::opened_at,
        ))
        .load(conn)?;
    let supervisions = supervision_rows
        .into_iter()
        .map(|(ticket, unit, at)| {
            Ok(Occurrence {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: Some(parse_uuid(&unit)?),
                at: from_db(at),
            })
        })
        .collect::<Result<_, StoreError>>()?;

    Ok(Facts {
        assignments,
        replies,
        reworks,
        callbacks,
        closures: Vec::new(),
        urges,
        supervisions,
    })
}

/// The tickets closed in `period`, and whether each was called back.
pub fn closures(conn: &mut DbConnection, period: &Period) -> Result<Vec<ClosureFact>, StoreError> {
    let (from, to) = (to_db(period.from), to_db(period.to));
    let closed = TicketStatus::Closed.as_str();
    let closure_rows: Vec<(String, Option<String>, Option<NaiveDateTime>, bool)> = tickets::table
        .filter(tickets::status.eq(closed))
        .filter(tickets::closed_at.ge(from))
        .filter(tickets::closed_at.lt(to))
        .select((
            tickets::id,
            tickets::primary_unit_id,
            tickets::closed_at,
            tickets::called_back,
        ))
        .load(conn)?;
    closure_rows
        .into_iter()
        .filter_map(|(ticket, unit, at, called_back)| at.map(|at| (ticket, unit, at, called_back)))
        .map(|(ticket, unit, at, called_back)| {
            Ok(ClosureFact {
                ticket_id: parse_uuid(&ticket)?,
                unit_id: parse_opt_uuid(unit.as_deref())?,
                at: from_db(at),
                called_back,
            })
        })
        .collect()
}

/// The (unit, ticket) pairs granted appeals take out of units' figures.
pub fn exemptions(conn: &mut DbConnection) -> Result<Exemptions, StoreError> {
    let rows: Vec<(String, String)> = appeals::table
        .filter(appeals::status.eq("granted"))
        .select((appeals::unit_id, appeals::ticket_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(unit, ticket)| Ok((parse_uuid(&unit)?, parse_uuid(&ticket)?)))
        .collect()
}
