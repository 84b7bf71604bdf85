//! Tickets written whole with their past: imported records and generated data, in batches of
//! many tickets, as the same rows the live path writes one change at a time. A past raises no
//! notifications: feeds are for what is happening, not for what happened.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::events::{EventInsert, NewEvent};
use super::lifecycle::{AssignmentInsert, ExtensionInsert, Record, SupervisionInsert, record};
use super::schema::{
    assignments, callbacks, extension_requests, replies, supervisions, ticket_events, tickets,
    urges,
};
use super::tickets::{TicketInsert, registered_details, reserve_numbers};
use super::{DbConnection, StoreError};
use crate::domain::access::Actor;
use crate::domain::history::Played;
use crate::domain::ticket::{EventKind, Ticket, ticket_number};

/// A ticket as it was registered (its number is given when it is written) and what happened
/// to it since.
pub struct Past {
    pub ticket: Ticket,
    pub registered_by: Actor,
    pub played: Played,
}

/// SQLite takes at most 32,766 bound values in one statement.
const VALUES_PER_STATEMENT: usize = 32_000;

macro_rules! insert_batched {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {
        for chunk in $rows.chunks(VALUES_PER_STATEMENT / $columns) {
            crate::per_backend!(&mut *$conn, |c| diesel::insert_into($table)
                .values(chunk)
                .execute(c))?;
        }
    };
}

/// Numbers the tickets by their registration day and writes them with everything that
/// happened to them, in one go.
pub fn write(
    conn: &mut DbConnection,
    pasts: &mut [Past],
    timezone: chrono_tz::Tz,
    digits: usize,
) -> Result<(), StoreError> {
    let mut per_day: std::collections::BTreeMap<NaiveDate, Vec<usize>> = Default::default();
    for (i, past) in pasts.iter().enumerate() {
        let day = past.ticket.created_at.with_timezone(&timezone).date_naive();
        per_day.entry(day).or_default().push(i);
    }
    for (day, members) in per_day {
        let numbers = reserve_numbers(conn, day, members.len() as i64)?;
        for (i, sequence) in members.into_iter().zip(numbers) {
            pasts[i].ticket.number = ticket_number(day, sequence, digits);
        }
    }
    let mut ticket_rows = Vec::with_capacity(pasts.len());
    let mut events = Vec::new();
    let mut assignment_rows = Vec::new();
    let mut extension_rows = Vec::new();
    let mut supervision_rows = Vec::new();
    let mut urge_rows = Vec::new();
    let mut callback_rows = Vec::new();
    let mut reply_rows = Vec::new();
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for past in pasts.iter() {
        let ticket = &past.ticket;
        let decisions = &past.played.decisions;
        let version = 1 + decisions.len() as i64;
        let updated_at: DateTime<Utc> =
            decisions.last().map_or(ticket.created_at, |(_, at, _)| *at);
        span = Some(
            span.map_or((ticket.created_at, updated_at), |(first, last)| {
                (first.min(ticket.created_at), last.max(updated_at))
            }),
        );
        ticket_rows.push(TicketInsert::new(&Ticket {
            progress: past.played.state.progress.clone(),
            version,
            updated_at,
            ..ticket.clone()
        }));
        events.push(EventInsert::new(&NewEvent {
            ticket_id: ticket.id,
            ticket_version: 1,
            kind: EventKind::Registered,
            actor: past.registered_by,
            assignment_id: None,
            details: &registered_details(ticket),
            at: ticket.created_at,
        }));
        for (i, (decision, at, actor)) in decisions.iter().enumerate() {
            for change in &decision.changes {
                events.push(EventInsert::new(&NewEvent {
                    ticket_id: ticket.id,
                    ticket_version: 2 + i as i64,
                    kind: change.kind(),
                    actor: *actor,
                    assignment_id: change.assignment_id(),
                    details: &change.details(),
                    at: *at,
                }));
                match record(ticket.id, change, decision, *actor, *at)? {
                    Some(Record::Urge(row)) => urge_rows.push(row),
                    Some(Record::Callback(row)) => callback_rows.push(row),
                    Some(Record::Reply(row, _)) => reply_rows.push(row),
                    // Imported answers name no articles of this knowledge base.
                    Some(Record::Citations { .. }) => {
                        return Err(StoreError::corrupt(
                            "an imported answer cites knowledge-base articles",
                        ));
                    }
                    None => {}
                }
            }
        }
        let state = &past.played.state;
        for a in &state.assignments {
            assignment_rows.push(AssignmentInsert::new(a)?);
        }
        for e in &state.extensions {
            extension_rows.push(ExtensionInsert::new(ticket.id, e));
        }
        for s in &state.supervisions {
            supervision_rows.push(SupervisionInsert::new(ticket.id, s));
        }
    }
    // In the order the foreign keys ask for.
    insert_batched!(conn, tickets::table, ticket_rows, 38);
    for past in pasts.iter() {
        super::tickets::index_words(conn, &past.ticket.id, &past.ticket.details)?;
    }
    insert_batched!(conn, assignments::table, assignment_rows, 18);
    insert_batched!(conn, extension_requests::table, extension_rows, 12);
    insert_batched!(conn, supervisions::table, supervision_rows, 12);
    // The past's months get their partitions first: rows of a month without one would wait in
    // the DEFAULT partition and be moved when the month's is made.
    if let Some((first, last)) = span {
        super::partitions::make_months(conn, first, last)?;
    }
    insert_batched!(conn, ticket_events::table, events, 9);
    insert_batched!(conn, urges::table, urge_rows, 10);
    insert_batched!(conn, callbacks::table, callback_rows, 10);
    insert_batched!(conn, replies::table, reply_rows, 14);
    Ok(())
}
