//! The counts a dashboard shows, each read from an index that holds exactly what it counts, so
//! that a dashboard costs the same whatever the number of closed tickets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use uuid::Uuid;

use super::sql::{At, Id, Prepared, Uid, UtcTime};
use super::{DbConnection, StoreError};
use crate::domain::period::Period;

/// The hotline's work in hand at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OfficeCounts {
    /// Registered and not yet dispatched.
    pub to_dispatch: i64,
    /// Handed back by their unit, waiting for the office to dispatch them again.
    pub returned: i64,
    /// Dispatched, the primary unit not signed yet.
    pub awaiting_sign: i64,
    pub handling: i64,
    /// Being worked on with the reply due today.
    pub due_today: i64,
    pub overdue: i64,
    /// Replied, waiting for the office's review.
    pub awaiting_review: i64,
    pub awaiting_callback: i64,
    /// Waiting for a callback past its due time.
    pub callbacks_overdue: i64,
    pub extension_requests_pending: i64,
    pub supervisions_open: i64,
}

/// One unit's work in hand: the tickets it holds in their current round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UnitCounts {
    /// Its assignments on tickets being worked on that wait for it to sign (primary or
    /// assisting).
    pub awaiting_sign: i64,
    /// Tickets it holds that are being worked on.
    pub open: i64,
    pub due_today: i64,
    pub overdue: i64,
    pub extension_requests_pending: i64,
    pub supervisions_open: i64,
}

#[derive(QueryableByName)]
struct OfficeRow {
    #[diesel(sql_type = BigInt)]
    to_dispatch: i64,
    #[diesel(sql_type = BigInt)]
    returned: i64,
    #[diesel(sql_type = BigInt)]
    awaiting_sign: i64,
    #[diesel(sql_type = BigInt)]
    handling: i64,
    #[diesel(sql_type = BigInt)]
    due_today: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
    #[diesel(sql_type = BigInt)]
    awaiting_review: i64,
    #[diesel(sql_type = BigInt)]
    awaiting_callback: i64,
    #[diesel(sql_type = BigInt)]
    callbacks_overdue: i64,
    #[diesel(sql_type = BigInt)]
    extension_requests_pending: i64,
    #[diesel(sql_type = BigInt)]
    supervisions_open: i64,
}

/// The whole hotline's counts, in one statement: each a count over the status index or a
/// partial index that holds only the open work.
pub fn office(
    conn: &mut DbConnection,
    today: Period,
    now: DateTime<Utc>,
) -> Result<OfficeCounts, StoreError> {
    let row: OfficeRow = Prepared(diesel::sql_query(
        "SELECT \
         (SELECT COUNT(*) FROM tickets WHERE status = 'registered') AS to_dispatch, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'returned') AS returned, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'dispatched') AS awaiting_sign, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'handling') AS handling, \
         (SELECT COUNT(*) FROM tickets WHERE due_at >= $1 AND due_at < $2) AS due_today, \
         (SELECT COUNT(*) FROM tickets WHERE overdue) AS overdue, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'replied') AS awaiting_review, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'awaiting_callback') AS awaiting_callback, \
         (SELECT COUNT(*) FROM tickets WHERE status = 'awaiting_callback' AND callback_due_at < $3) \
             AS callbacks_overdue, \
         (SELECT COUNT(*) FROM extension_requests WHERE status = 'pending') \
             AS extension_requests_pending, \
         (SELECT COUNT(*) FROM supervisions WHERE status = 'open') AS supervisions_open",
    )
    .bind::<UtcTime, _>(At(today.from))
    .bind::<UtcTime, _>(At(today.to))
    .bind::<UtcTime, _>(At(now)))
    .get_result(conn)?;
    Ok(OfficeCounts {
        to_dispatch: row.to_dispatch,
        returned: row.returned,
        awaiting_sign: row.awaiting_sign,
        handling: row.handling,
        due_today: row.due_today,
        overdue: row.overdue,
        awaiting_review: row.awaiting_review,
        awaiting_callback: row.awaiting_callback,
        callbacks_overdue: row.callbacks_overdue,
        extension_requests_pending: row.extension_requests_pending,
        supervisions_open: row.supervisions_open,
    })
}

#[derive(QueryableByName)]
struct UnitRow {
    #[diesel(sql_type = Uid)]
    unit_id: Uuid,
    #[diesel(sql_type = BigInt)]
    open: i64,
    #[diesel(sql_type = BigInt)]
    due_today: i64,
    #[diesel(sql_type = BigInt)]
    overdue: i64,
}

#[derive(QueryableByName)]
struct UnitCount {
    #[diesel(sql_type = Uid)]
    unit_id: Uuid,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Each unit's counts (`unit`: that unit's alone), for the units that have work in hand.
pub fn by_unit(
    conn: &mut DbConnection,
    unit: Option<Uuid>,
    today: Period,
) -> Result<BTreeMap<Uuid, UnitCounts>, StoreError> {
    // Placeholders are numbered in the order they appear, as SQLite binds them: the unit comes
    // after whatever the statement binds before it.
    let only = |column: &str, placeholder: usize| match unit {
        Some(_) => format!(" AND {column} = ${placeholder}"),
        None => String::new(),
    };
    let with_unit = |query: diesel::query_builder::BoxedSqlQuery<
        'static,
        super::MultiBackend,
        diesel::query_builder::SqlQuery,
    >| match unit {
        Some(unit) => query.bind::<Uid, _>(Id(unit)),
        None => query,
    };
    // The unit's open work is what `unit_tickets_due_idx` holds: the rows with a due time.
    let open: Vec<UnitRow> = Prepared(with_unit(
        diesel::sql_query(format!(
            "SELECT unit_id, COUNT(*) AS open, \
             CAST(SUM(CASE WHEN due_at >= $1 AND due_at < $2 THEN 1 ELSE 0 END) AS BIGINT) AS due_today, \
             CAST(SUM(CASE WHEN overdue THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
             FROM unit_tickets WHERE due_at IS NOT NULL AND holding{} GROUP BY unit_id",
            only("unit_id", 3)
        ))
        .into_boxed()
        .bind::<UtcTime, _>(At(today.from))
        .bind::<UtcTime, _>(At(today.to)),
    ))
    .load(conn)?;
    let count = |conn: &mut DbConnection, sql: String| -> Result<Vec<UnitCount>, StoreError> {
        Ok(Prepared(with_unit(diesel::sql_query(sql).into_boxed())).load(conn)?)
    };
    let awaiting_sign = count(
        conn,
        format!(
            "SELECT a.unit_id, COUNT(*) AS count FROM assignments a \
             JOIN tickets t ON t.id = a.ticket_id AND t.current_round = a.round \
             WHERE a.status = 'dispatched' AND t.due_at IS NOT NULL{} GROUP BY a.unit_id",
            only("a.unit_id", 1)
        ),
    )?;
    let extensions = count(
        conn,
        format!(
            "SELECT unit_id, COUNT(*) AS count FROM extension_requests \
             WHERE status = 'pending'{} GROUP BY unit_id",
            only("unit_id", 1)
        ),
    )?;
    let supervisions = count(
        conn,
        format!(
            "SELECT unit_id, COUNT(*) AS count FROM supervisions \
             WHERE status = 'open'{} GROUP BY unit_id",
            only("unit_id", 1)
        ),
    )?;
    let mut units: BTreeMap<Uuid, UnitCounts> = BTreeMap::new();
    for row in open {
        let counts = units.entry(row.unit_id).or_default();
        counts.open = row.open;
        counts.due_today = row.due_today;
        counts.overdue = row.overdue;
    }
    let mut merge = |rows: Vec<UnitCount>, set: fn(&mut UnitCounts, i64)| {
        for row in rows {
            set(units.entry(row.unit_id).or_default(), row.count);
        }
    };
    merge(awaiting_sign, |c, n| c.awaiting_sign = n);
    merge(extensions, |c, n| c.extension_requests_pending = n);
    merge(supervisions, |c, n| c.supervisions_open = n);
    Ok(units)
}
