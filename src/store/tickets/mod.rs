use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use super::events::{self, NewEvent};
use super::schema::{assignments, categories, tickets, units};
use super::sql::{At, Day, Id, Written};
use super::{DbConnection, StoreError};
use crate::domain::access::{Actor, TicketScope};
use crate::domain::directory::UnitKind;
use crate::domain::ticket::{
    Channel, EventKind, GeoPoint, Priority, Progress, Ticket, TicketDetails, TicketDraft,
    TicketStatus, TicketType, ticket_number,
};

#[derive(Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tickets)]
struct TicketRow {
    id: Uuid,
    number: String,
    channel: Channel,
    external_ref: Option<String>,
    ticket_type: TicketType,
    category_id: Option<Uuid>,
    title: String,
    content: String,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    confidential: bool,
    address: Option<String>,
    area_unit_id: Option<Uuid>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    priority: Priority,
    #[diesel(embed)]
    progress: ProgressRow,
    created_by: Uuid,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    nuisance_number_id: Option<Uuid>,
    channel_code: String,
}

/// The columns that keep a ticket's [`Progress`]: read as the domain's values, written through
/// their column forms ([`Written`]).
macro_rules! progress_columns {
    ($($(#[$meaning:meta])* $field:ident: $type:ty,)+) => {
        #[derive(Queryable, QueryableByName, Selectable)]
        #[diesel(table_name = tickets)]
        struct ProgressRow {
            $($field: $type,)+
        }

        impl From<ProgressRow> for Progress {
            fn from(row: ProgressRow) -> Self {
                Progress {
                    $($field: row.$field,)+
                }
            }
        }

        /// A ticket's [`Progress`] as its columns are written, on registration or with every
        /// change.
        #[derive(Insertable, AsChangeset)]
        #[diesel(table_name = tickets, treat_none_as_null = true)]
        pub struct ProgressColumns {
            $($field: <$type as Written>::Column,)+
        }

        impl From<&Progress> for ProgressColumns {
            fn from(progress: &Progress) -> Self {
                ProgressColumns {
                    $($field: progress.$field.written(),)+
                }
            }
        }
    };
}

crate::domain::ticket::progress_fields!(progress_columns);

mod list;
pub use list::{ListCursor, TicketFilter, list};

impl TicketRow {
    fn into_ticket(self) -> Result<Ticket, StoreError> {
        let location = match (self.latitude, self.longitude) {
            (Some(latitude), Some(longitude)) => Some(GeoPoint {
                latitude,
                longitude,
            }),
            _ => None,
        };
        Ok(Ticket {
            id: self.id,
            number: self.number,
            channel: self.channel,
            channel_code: self.channel_code,
            external_ref: self.external_ref,
            details: TicketDetails {
                ticket_type: self.ticket_type,
                category_id: self.category_id,
                title: self.title,
                content: self.content,
                caller_name: self.caller_name,
                caller_phone: self.caller_phone,
                confidential: self.confidential,
                address: self.address,
                area_unit_id: self.area_unit_id,
                location,
                priority: self.priority,
            },
            progress: self.progress.into(),
            created_by: self.created_by,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            nuisance_number_id: self.nuisance_number_id,
        })
    }
}

/// A ticket as its row is written: on registration, or whole with its history.
#[derive(Insertable)]
#[diesel(table_name = tickets, treat_none_as_null = true)]
pub struct TicketInsert {
    id: Id,
    number: String,
    channel: Channel,
    external_ref: Option<String>,
    ticket_type: TicketType,
    category_id: Option<Id>,
    title: String,
    content: String,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    confidential: bool,
    address: Option<String>,
    area_unit_id: Option<Id>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    priority: Priority,
    #[diesel(embed)]
    progress: ProgressColumns,
    created_by: Id,
    version: i64,
    created_at: At,
    updated_at: At,
    caller_phone_key: Option<String>,
    nuisance_number_id: Option<Id>,
    channel_code: String,
}

impl TicketInsert {
    /// With the indexed form of the caller's number (`domain::caller::PhoneIndex`); rows
    /// written without one are indexed by the background pass.
    pub fn with_phone_key(self, caller_phone_key: Option<String>) -> Self {
        Self {
            caller_phone_key,
            ..self
        }
    }

    pub fn new(t: &Ticket) -> Self {
        let d = &t.details;
        Self {
            id: Id(t.id),
            number: t.number.clone(),
            channel: t.channel,
            external_ref: t.external_ref.clone(),
            ticket_type: d.ticket_type,
            category_id: d.category_id.map(Id),
            title: d.title.clone(),
            content: d.content.clone(),
            caller_name: d.caller_name.clone(),
            caller_phone: d.caller_phone.clone(),
            confidential: d.confidential,
            address: d.address.clone(),
            area_unit_id: d.area_unit_id.map(Id),
            latitude: d.location.map(|l| l.latitude),
            longitude: d.location.map(|l| l.longitude),
            priority: d.priority,
            progress: (&t.progress).into(),
            created_by: Id(t.created_by),
            version: t.version,
            created_at: At(t.created_at),
            updated_at: At(t.updated_at),
            caller_phone_key: None,
            nuisance_number_id: t.nuisance_number_id.map(Id),
            channel_code: t.channel_code.clone(),
        }
    }
}

/// What the `registered` event of a ticket records.
pub fn registered_details(ticket: &Ticket) -> serde_json::Value {
    let d = &ticket.details;
    let mut details = serde_json::json!({
        "number": ticket.number,
        "channel": ticket.channel,
        "channel_code": ticket.channel_code,
        "external_ref": ticket.external_ref,
        "type": d.ticket_type,
        "category_id": d.category_id,
        "priority": d.priority,
        "confidential": d.confidential,
        "area_unit_id": d.area_unit_id,
    });
    if let Some(mark) = ticket.nuisance_number_id {
        details["nuisance_number_id"] = serde_json::json!(mark);
    }
    details
}

/// How ticket numbers are made: the day is the hotline's local day.
#[derive(Debug, Clone, Copy)]
pub struct Numbering {
    pub timezone: chrono_tz::Tz,
    pub digits: usize,
}

/// The outcome of a registration: a new ticket, or the one already registered under the same
/// `(channel, external_ref)`.
#[derive(Debug)]
pub struct Registration {
    pub ticket: Ticket,
    pub created: bool,
}

#[derive(QueryableByName)]
struct Sequence {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// The next sequence number of `day`. On PostgreSQL the day's sequence hands it out without a
/// lock held until commit, so a number taken by a registration that fails is not used again
/// (numbers may have gaps). On SQLite the day's counter row is counted up inside the write
/// transaction: numbers of one day are gap-free.
fn next_sequence(conn: &mut DbConnection, day: NaiveDate) -> Result<i64, StoreError> {
    reserve_numbers(conn, day, 1)?
        .first()
        .copied()
        .ok_or_else(|| StoreError::corrupt("no ticket number was handed out"))
}

/// Reserves `count` sequence numbers of `day` at once, in increasing order.
pub fn reserve_numbers(
    conn: &mut DbConnection,
    day: NaiveDate,
    count: i64,
) -> Result<Vec<i64>, StoreError> {
    match conn {
        DbConnection::Pg(pg) => {
            let numbers: Vec<Sequence> = diesel::sql_query(
                "SELECT nextval(s) AS value FROM ticket_sequence(CAST($1 AS date)) s, \
                 generate_series(1, $2)",
            )
            .bind::<Text, _>(Day(day))
            .bind::<diesel::sql_types::BigInt, _>(count)
            .load(pg)?;
            let mut numbers: Vec<i64> = numbers.into_iter().map(|n| n.value).collect();
            numbers.sort_unstable();
            Ok(numbers)
        }
        DbConnection::Sqlite(sqlite) => {
            let row: Sequence = diesel::sql_query(
                "INSERT INTO ticket_number_days (day, last_value) VALUES ($1, $2) \
                 ON CONFLICT (day) DO UPDATE SET last_value = ticket_number_days.last_value + excluded.last_value \
                 RETURNING last_value AS value",
            )
            .bind::<Text, _>(Day(day))
            .bind::<diesel::sql_types::BigInt, _>(count)
            .get_result(sqlite)?;
            Ok((row.value - count + 1..=row.value).collect())
        }
    }
}

/// Registers a ticket and its `registered` event, on a channel of kind `kind` (the draft's
/// channel resolved); `phone_key` is the indexed form of the caller's number.
pub fn register(
    conn: &mut DbConnection,
    draft: &TicketDraft,
    kind: Channel,
    actor: Actor,
    numbering: Numbering,
    phone_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Registration, StoreError> {
    let insert = |c: &mut DbConnection| {
        insert_registration(c, draft, kind, actor, numbering, phone_key, now)
    };
    let Some(external_ref) = draft.external_ref.as_deref() else {
        // Nothing to collide with: no look-up, no savepoint, two round trips fewer.
        return insert(conn).map(|ticket| Registration {
            ticket,
            created: true,
        });
    };
    if let Some(ticket) = find_by_external_ref(conn, kind, external_ref)? {
        return Ok(Registration {
            ticket,
            created: false,
        });
    }
    // A savepoint: when a concurrent registration with the same external reference commits
    // first, the unique key refuses this one and the transaction goes on to answer theirs.
    match conn.transaction(insert) {
        Err(e) if e.is_duplicate_in("tickets") => {
            let ticket = find_by_external_ref(conn, kind, external_ref)?
                .ok_or_else(|| StoreError::corrupt("a duplicate external reference vanished"))?;
            Ok(Registration {
                ticket,
                created: false,
            })
        }
        result => result.map(|ticket| Registration {
            ticket,
            created: true,
        }),
    }
}

fn insert_registration(
    conn: &mut DbConnection,
    draft: &TicketDraft,
    kind: Channel,
    actor: Actor,
    numbering: Numbering,
    phone_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Ticket, StoreError> {
    let created_by = actor
        .user_id
        .ok_or_else(|| StoreError::corrupt("a ticket is registered by a user"))?;
    let day = now.with_timezone(&numbering.timezone).date_naive();
    let number = ticket_number(day, next_sequence(conn, day)?, numbering.digits);
    let nuisance_number_id = match phone_key {
        Some(key) if !key.is_empty() => super::nuisance::in_force(conn, key, now)?.map(|m| m.id),
        _ => None,
    };
    let ticket = Ticket {
        nuisance_number_id,
        ..draft
            .clone()
            .registered(kind, Uuid::now_v7(), number, created_by, now)
    };
    diesel::insert_into(tickets::table)
        .values(TicketInsert::new(&ticket).with_phone_key(phone_key.map(str::to_owned)))
        .execute(conn)?;
    index_words(conn, &ticket.id, &ticket.details)?;
    let details = registered_details(&ticket);
    events::append(
        conn,
        &NewEvent {
            ticket_id: ticket.id,
            ticket_version: ticket.version,
            kind: EventKind::Registered,
            actor,
            assignment_id: None,
            details: &details,
            at: now,
        },
    )?;
    Ok(ticket)
}

/// What a ticket's references point at, read in one round trip: whether its category is
/// active, and the kind of its area's unit when that unit is active. `None` for a reference not
/// given or not found.
pub fn referenced(
    conn: &mut DbConnection,
    category: Option<Uuid>,
    area: Option<Uuid>,
) -> Result<(Option<bool>, Option<UnitKind>), StoreError> {
    let category_active = category.map(|id| {
        categories::table
            .find(Id(id))
            .select(categories::active)
            .single_value()
    });
    let area_kind = area.map(|id| {
        units::table
            .find(Id(id))
            .filter(units::active)
            .select(units::kind)
            .single_value()
    });
    Ok(match (category_active, area_kind) {
        (None, None) => (None, None),
        (Some(active), None) => (diesel::select(active).get_result(conn)?, None),
        (None, Some(kind)) => (None, diesel::select(kind).get_result(conn)?),
        (Some(active), Some(kind)) => diesel::select((active, kind)).get_result(conn)?,
    })
}

/// An open ticket as intake compares a new call with it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct OpenTicket {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub status: TicketStatus,
    pub area_unit_id: Option<Uuid>,
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The open tickets of a category registered since `since`, newest first, at most `limit`:
/// read along the category's index, so that the cost is that of the category's recent tickets.
pub fn open_in_category_since(
    conn: &mut DbConnection,
    category: Uuid,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OpenTicket>, StoreError> {
    let ended = [
        TicketStatus::Closed,
        TicketStatus::Merged,
        TicketStatus::Invalid,
    ];
    Ok(tickets::table
        .filter(tickets::category_id.eq(Id(category)))
        .filter(tickets::created_at.ge(At(since)))
        .filter(tickets::status.ne_all(ended))
        .order((tickets::created_at.desc(), tickets::id.desc()))
        .select((
            tickets::id,
            tickets::number,
            tickets::title,
            tickets::status,
            tickets::area_unit_id,
            tickets::address,
            tickets::created_at,
        ))
        .limit(limit)
        .load(conn)?)
}

/// A ticket as a caller's history shows it.
#[derive(Debug, Clone, PartialEq, Queryable, serde::Serialize)]
pub struct CallerTicket {
    pub id: Uuid,
    pub number: String,
    pub created_at: DateTime<Utc>,
    pub status: TicketStatus,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    pub category_id: Option<Uuid>,
    pub title: String,
}

/// The tickets of the caller whose number is indexed as `phone_key`: how many, and the newest
/// `limit` of them.
pub fn by_caller(
    conn: &mut DbConnection,
    phone_key: &str,
    limit: i64,
) -> Result<(i64, Vec<CallerTicket>), StoreError> {
    let count: i64 = tickets::table
        .filter(tickets::caller_phone_key.eq(phone_key))
        .count()
        .get_result(conn)?;
    let newest = tickets::table
        .filter(tickets::caller_phone_key.eq(phone_key))
        .order((tickets::created_at.desc(), tickets::id.desc()))
        .select((
            tickets::id,
            tickets::number,
            tickets::created_at,
            tickets::status,
            tickets::ticket_type,
            tickets::category_id,
            tickets::title,
        ))
        .limit(limit)
        .load(conn)?;
    Ok((count, newest))
}

/// Indexes up to `limit` callers' numbers not indexed yet (tickets imported, or written before
/// the index existed), with `key_of` the index's hash; answers how many rows it looked at.
pub fn index_phones(
    conn: &mut DbConnection,
    key_of: impl Fn(&str) -> Option<String>,
    limit: i64,
) -> Result<usize, StoreError> {
    let rows: Vec<(Uuid, Option<String>)> = tickets::table
        .filter(tickets::caller_phone_key.is_null())
        .filter(tickets::caller_phone.is_not_null())
        .select((tickets::id, tickets::caller_phone))
        .order(tickets::id.asc())
        .limit(limit)
        .load(conn)?;
    for (id, phone) in &rows {
        // A number too short to identify a caller is marked with an empty key, so that it is
        // not looked at again and matches no look-up.
        let key = phone.as_deref().and_then(&key_of).unwrap_or_default();
        diesel::update(tickets::table.find(Id(*id)))
            .filter(tickets::caller_phone_key.is_null())
            .set(tickets::caller_phone_key.eq(key))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// Which of these `(channel, external reference)` pairs are registered already.
pub fn existing_refs(
    conn: &mut DbConnection,
    keys: &[(Channel, String)],
) -> Result<std::collections::HashSet<(Channel, String)>, StoreError> {
    let mut found = std::collections::HashSet::new();
    // Well below SQLite's limit on bound values per statement.
    for chunk in keys.chunks(5_000) {
        let refs: Vec<&str> = chunk.iter().map(|(_, r)| r.as_str()).collect();
        // Both columns, so that the unique index on (channel, external_ref) is searched rather
        // than the whole table scanned.
        let channels: std::collections::BTreeSet<Channel> = chunk.iter().map(|(c, _)| *c).collect();
        let rows: Vec<(Channel, Option<String>)> = tickets::table
            .filter(tickets::channel.eq_any(channels))
            .filter(tickets::external_ref.eq_any(refs))
            .select((tickets::channel, tickets::external_ref))
            .load(conn)?;
        for (channel, external_ref) in rows {
            if let Some(external_ref) = external_ref {
                found.insert((channel, external_ref));
            }
        }
    }
    // A reference asked for under one channel and found under another is not the same record.
    let asked: std::collections::HashSet<&(Channel, String)> = keys.iter().collect();
    found.retain(|key| asked.contains(key));
    Ok(found)
}

pub fn find_by_external_ref(
    conn: &mut DbConnection,
    channel: Channel,
    external_ref: &str,
) -> Result<Option<Ticket>, StoreError> {
    tickets::table
        .filter(tickets::channel.eq(channel))
        .filter(tickets::external_ref.eq(external_ref))
        .select(TicketRow::as_select())
        .get_result(conn)
        .optional()?
        .map(TicketRow::into_ticket)
        .transpose()
}

/// Whether `ticket` lies inside `scope`; outside it a ticket does not exist for the caller.
fn in_scope(
    conn: &mut DbConnection,
    ticket: &Ticket,
    scope: TicketScope,
) -> Result<bool, StoreError> {
    Ok(match scope {
        TicketScope::All => true,
        TicketScope::CreatedBy(user) => ticket.created_by == user,
        TicketScope::Unit(unit) => diesel::select(exists(
            assignments::table
                .filter(assignments::ticket_id.eq(Id(ticket.id)))
                .filter(assignments::unit_id.eq(Id(unit))),
        ))
        .get_result(conn)?,
    })
}

fn scoped(
    conn: &mut DbConnection,
    row: Option<TicketRow>,
    scope: TicketScope,
) -> Result<Ticket, StoreError> {
    let ticket = row.ok_or(StoreError::NotFound)?.into_ticket()?;
    if in_scope(conn, &ticket, scope)? {
        Ok(ticket)
    } else {
        Err(StoreError::NotFound)
    }
}

/// A ticket by id. This is the hottest read of the service, so it runs on the backend's own
/// connection: through the connection enum every execution rebuilds the SQL text, here a
/// prepared statement found by the query's type is reused as is.
pub fn get(conn: &mut DbConnection, id: Uuid, scope: TicketScope) -> Result<Ticket, StoreError> {
    let key = Id(id);
    let row = crate::per_backend!(&mut *conn, |c| tickets::table
        .find(key)
        .select(TicketRow::as_select())
        .get_result(c)
        .optional())?;
    scoped(conn, row, scope)
}

pub fn get_by_number(
    conn: &mut DbConnection,
    number: &str,
    scope: TicketScope,
) -> Result<Ticket, StoreError> {
    let row = tickets::table
        .filter(tickets::number.eq(number))
        .select(TicketRow::as_select())
        .get_result(conn)
        .optional()?;
    scoped(conn, row, scope)
}

/// Reads a ticket for changing it: on PostgreSQL the row stays locked until the transaction
/// ends; on SQLite the write transaction already holds the database.
pub fn lock(conn: &mut DbConnection, id: Uuid, scope: TicketScope) -> Result<Ticket, StoreError> {
    let key = Id(id);
    let row = match conn {
        DbConnection::Pg(pg) => tickets::table
            .find(key)
            .for_update()
            .select(TicketRow::as_select())
            .get_result(pg)
            .optional()?,
        DbConnection::Sqlite(_) => tickets::table
            .find(key)
            .select(TicketRow::as_select())
            .get_result(conn)
            .optional()?,
    };
    scoped(conn, row, scope)
}

/// Records on the kept ticket's timeline that `duplicate` was merged into it, as its next
/// version (so that a reader holding the old version learns of it).
pub fn record_duplicate(
    conn: &mut DbConnection,
    kept: Uuid,
    duplicate: &Ticket,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let version: i64 = diesel::update(tickets::table.find(Id(kept)))
        .set((
            tickets::version.eq(tickets::version + 1),
            tickets::updated_at.eq(At(now)),
        ))
        .returning(tickets::version)
        .get_result(conn)?;
    events::append(
        conn,
        &NewEvent {
            ticket_id: kept,
            ticket_version: version,
            kind: EventKind::DuplicateMerged,
            actor,
            assignment_id: None,
            details: &serde_json::json!({
                "ticket_id": duplicate.id,
                "number": duplicate.number,
            }),
            at: now,
        },
    )
}

/// The contents of these tickets, by id.
pub fn contents(
    conn: &mut DbConnection,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(Uuid, String)> = tickets::table
        .filter(tickets::id.eq_any(ids.iter().copied().map(Id)))
        .select((tickets::id, tickets::content))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Indexes the words a ticket is searched by: its title, content and address.
pub fn index_words(
    conn: &mut DbConnection,
    id: &Uuid,
    details: &TicketDetails,
) -> Result<(), StoreError> {
    super::search::index(
        conn,
        super::search::Corpus::Tickets,
        *id,
        [
            details.title.as_str(),
            details.content.as_str(),
            details.address.as_deref().unwrap_or_default(),
        ],
    )
}

/// Stores new registration details as the next version and appends the event recording them.
pub fn save_details(
    conn: &mut DbConnection,
    ticket: &Ticket,
    details: &TicketDetails,
    phone_key: Option<&str>,
    actor: Actor,
    event_details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Ticket, StoreError> {
    let next_version = ticket.version + 1;
    let updated = diesel::update(
        tickets::table
            .find(Id(ticket.id))
            .filter(tickets::version.eq(ticket.version)),
    )
    .set((
        (
            tickets::ticket_type.eq(details.ticket_type),
            tickets::category_id.eq(details.category_id.map(Id)),
            tickets::title.eq(&details.title),
            tickets::content.eq(&details.content),
            tickets::caller_name.eq(details.caller_name.as_deref()),
            tickets::caller_phone.eq(details.caller_phone.as_deref()),
            tickets::confidential.eq(details.confidential),
            tickets::address.eq(details.address.as_deref()),
            tickets::area_unit_id.eq(details.area_unit_id.map(Id)),
            tickets::latitude.eq(details.location.map(|l| l.latitude)),
            tickets::longitude.eq(details.location.map(|l| l.longitude)),
            tickets::priority.eq(details.priority),
        ),
        tickets::caller_phone_key.eq(phone_key),
        tickets::version.eq(next_version),
        tickets::updated_at.eq(At(now)),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::Unavailable(
            "the ticket changed while it was being saved".into(),
        ));
    }
    index_words(conn, &ticket.id, details)?;
    events::append(
        conn,
        &NewEvent {
            ticket_id: ticket.id,
            ticket_version: next_version,
            kind: EventKind::Edited,
            actor,
            assignment_id: None,
            details: event_details,
            at: now,
        },
    )?;
    Ok(Ticket {
        details: details.clone(),
        version: next_version,
        updated_at: now,
        ..ticket.clone()
    })
}
