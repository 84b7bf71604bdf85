use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use uuid::Uuid;

use super::schema::ticket_events;
use super::sql::{At, Id, Uid, UtcTime, Written};
use super::{DbConnection, MultiBackend, StoreError};
use crate::domain::access::{Actor, EventScope, Role};
use crate::domain::feed::{FeedEvent, FeedFilter, FeedPosition, resume_after};
use crate::domain::ticket::{Channel, EventKind, Ticket, TicketEvent};

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
    ticket: &Ticket,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<TicketEvent>, StoreError> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(Id(ticket.id)))
        // Nothing happens to a ticket before its registration (imports refuse such steps); on
        // PostgreSQL the bound keeps the months before it out of the search.
        .filter(ticket_events::created_at.ge(At(ticket.created_at)))
        .filter(ticket_events::id.gt(after.unwrap_or(0)))
        .order(ticket_events::id.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// A page of the feed and where its follower resumes.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub events: Vec<FeedEvent>,
    pub resume_after: FeedPosition,
    /// Events already committed wait behind an older change still in progress: the follower
    /// has not caught up, and asks again shortly.
    pub held_back: bool,
}

#[derive(QueryableByName)]
struct FeedRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    transaction_id: i64,
    #[diesel(sql_type = Uid)]
    ticket_id: Uuid,
    #[diesel(sql_type = BigInt)]
    ticket_version: i64,
    #[diesel(sql_type = Text)]
    kind: EventKind,
    #[diesel(sql_type = Nullable<Uid>)]
    actor_user_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    actor_role: Option<Role>,
    #[diesel(sql_type = Nullable<Uid>)]
    actor_unit_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Uid>)]
    assignment_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    details: String,
    #[diesel(sql_type = UtcTime)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    number: String,
    #[diesel(sql_type = Text)]
    channel: Channel,
    #[diesel(sql_type = Nullable<Text>)]
    external_ref: Option<String>,
}

impl FeedRow {
    fn into_feed_event(self) -> Result<FeedEvent, StoreError> {
        let position = FeedPosition {
            transaction: self.transaction_id,
            event: self.id,
        };
        let (ticket_number, channel, external_ref) = (self.number, self.channel, self.external_ref);
        let event = EventRow {
            id: self.id,
            ticket_id: self.ticket_id,
            ticket_version: self.ticket_version,
            kind: self.kind,
            actor_user_id: self.actor_user_id,
            actor_role: self.actor_role,
            actor_unit_id: self.actor_unit_id,
            assignment_id: self.assignment_id,
            details: self.details,
            created_at: self.created_at,
        }
        .into_event()?;
        Ok(FeedEvent {
            position,
            event,
            ticket_number,
            channel,
            external_ref,
        })
    }
}

/// Where the feed ends in a snapshot: its newest event a follower may be served, and whether
/// committed events wait behind an older change still in progress.
#[derive(QueryableByName)]
struct FeedEnd {
    #[diesel(sql_type = Nullable<BigInt>)]
    transaction_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    held_back: bool,
}

/// PostgreSQL: the oldest transaction that may still write events when the statement's snapshot
/// was taken. Every older one has committed or rolled back, and every event still to commit
/// belongs to it or to a younger one. It is the oldest transaction then running that is not
/// known to run in another database of the same server (another database writes none of these
/// events, and a long transaction there must not hold this feed back); one that ended since the
/// snapshot is taken as running, so the horizon never passes an event the snapshot cannot see.
/// Nothing running: the first transaction the snapshot does not see.
const PG_HORIZON: &str = "(SELECT COALESCE(\
     (SELECT MIN(CAST(CAST(x AS TEXT) AS BIGINT)) FROM pg_snapshot_xip(pg_current_snapshot()) x \
      WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.backend_xid = CAST(x AS xid) \
      AND a.datname IS DISTINCT FROM current_database())), \
     CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT)))";

/// Up to `limit` events after `after` in commit order, within `scope` and `filter`, and where
/// their follower resumes. Read on one snapshot, so that where it resumes agrees with what it
/// was served.
///
/// PostgreSQL hands out event ids in the order transactions ask for them, not the order they
/// commit in: the feed serves only the events of transactions older than the oldest one that
/// may still write events ([`PG_HORIZON`]), ordered by transaction and id, so that an event
/// committed late still comes after everything its follower has already read. A long write
/// transaction in this database holds the feed back until it ends; none is skipped. SQLite commits one writer at a time, so there ids
/// are commit order.
pub fn feed(
    conn: &mut DbConnection,
    scope: EventScope,
    filter: &FeedFilter,
    after: FeedPosition,
    limit: i64,
) -> Result<FeedPage, StoreError> {
    let postgres = matches!(conn, DbConnection::Pg(_));
    let mut placeholders = 0;
    let mut next = || {
        placeholders += 1;
        format!("${placeholders}")
    };
    let mut conditions = Vec::new();
    if postgres {
        conditions.push(format!(
            "(e.transaction_id, e.id) > ({}, {})",
            next(),
            next()
        ));
        conditions.push(format!("e.transaction_id < {PG_HORIZON}"));
    } else {
        conditions.push(format!("e.id > {}", next()));
    }
    if !filter.kinds.is_empty() {
        let kinds: Vec<String> = filter.kinds.iter().map(|_| next()).collect();
        conditions.push(format!("e.kind IN ({})", kinds.join(", ")));
    }
    if filter.channel.is_some() {
        conditions.push(format!("t.channel = {}", next()));
    }
    match scope {
        EventScope::All => {}
        EventScope::Unit(_) => conditions.push(format!(
            "EXISTS (SELECT 1 FROM unit_tickets u WHERE u.ticket_id = e.ticket_id AND u.unit_id = {})",
            next()
        )),
        EventScope::Channel(_) => conditions.push(format!("t.channel = {}", next())),
    }
    let order = if postgres {
        "e.transaction_id, e.id"
    } else {
        "e.id"
    };
    let sql = format!(
        "SELECT e.id, e.transaction_id, e.ticket_id, e.ticket_version, e.kind, e.actor_user_id, \
         e.actor_role, e.actor_unit_id, e.assignment_id, e.details, e.created_at, \
         t.number, t.channel, t.external_ref \
         FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
         WHERE {} ORDER BY {order} LIMIT {}",
        conditions.join(" AND "),
        next()
    );
    let mut query = diesel::sql_query(sql).into_boxed::<MultiBackend>();
    if postgres {
        query = query.bind::<BigInt, _>(after.transaction);
    }
    query = query.bind::<BigInt, _>(after.event);
    for kind in &filter.kinds {
        query = query.bind::<Text, _>(*kind);
    }
    if let Some(channel) = filter.channel {
        query = query.bind::<Text, _>(channel);
    }
    match scope {
        EventScope::All => {}
        EventScope::Unit(unit) => query = query.bind::<Uid, _>(Id(unit)),
        EventScope::Channel(channel) => query = query.bind::<Text, _>(channel),
    }
    query = query.bind::<BigInt, _>(limit);
    // One statement, so that the horizon is read once for both.
    let end_sql = if postgres {
        format!(
            "WITH h AS (SELECT {PG_HORIZON} AS horizon) \
             SELECT n.transaction_id, n.id, EXISTS (SELECT 1 FROM ticket_events \
             WHERE transaction_id >= (SELECT horizon FROM h)) AS held_back \
             FROM (SELECT 1) one LEFT JOIN (SELECT transaction_id, id FROM ticket_events \
             WHERE transaction_id < (SELECT horizon FROM h) \
             ORDER BY transaction_id DESC, id DESC LIMIT 1) n ON TRUE"
        )
    } else {
        "SELECT n.transaction_id, n.id, 0 AS held_back FROM (SELECT 1) one LEFT JOIN \
         (SELECT transaction_id, id FROM ticket_events ORDER BY id DESC LIMIT 1) n ON 1"
            .to_owned()
    };
    conn.transaction(|c| {
        if let DbConnection::Pg(pg) = c {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(pg)?;
        }
        let rows: Vec<FeedRow> = query.load(c)?;
        let full = rows.len() as i64 >= limit;
        let (newest, held_back) = if full {
            (None, false)
        } else {
            let end: FeedEnd = diesel::sql_query(&end_sql).get_result(c)?;
            let newest = end
                .transaction_id
                .zip(end.id)
                .map(|(transaction, event)| FeedPosition { transaction, event });
            (newest, end.held_back)
        };
        let events = rows
            .into_iter()
            .map(FeedRow::into_feed_event)
            .collect::<Result<Vec<_>, _>>()?;
        let served: Vec<FeedPosition> = events.iter().map(|e| e.position).collect();
        Ok(FeedPage {
            resume_after: resume_after(after, &served, full, newest),
            events,
            held_back,
        })
    })
}

/// Where the feed ends now: the newest event a follower may be served (the start when there is
/// none). A new subscription starts here, with what happens from now on.
pub fn end(conn: &mut DbConnection) -> Result<FeedPosition, StoreError> {
    let sql = if matches!(conn, DbConnection::Pg(_)) {
        format!(
            "SELECT n.transaction_id, n.id, FALSE AS held_back FROM (SELECT 1) one LEFT JOIN \
             (SELECT transaction_id, id FROM ticket_events WHERE transaction_id < {PG_HORIZON} \
             ORDER BY transaction_id DESC, id DESC LIMIT 1) n ON TRUE"
        )
    } else {
        "SELECT n.transaction_id, n.id, 0 AS held_back FROM (SELECT 1) one LEFT JOIN \
         (SELECT transaction_id, id FROM ticket_events ORDER BY id DESC LIMIT 1) n ON 1"
            .to_owned()
    };
    let end: FeedEnd = diesel::sql_query(sql).get_result(conn)?;
    Ok(end
        .transaction_id
        .zip(end.id)
        .map(|(transaction, event)| FeedPosition { transaction, event })
        .unwrap_or_default())
}
