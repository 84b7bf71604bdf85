//! Tickets counted by township (area), by category or by day of registration, in one grouped
//! read.

use chrono::{NaiveDate, Offset, TimeZone};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::sql::{At, UtcTime};
use super::{DbConnection, StoreError};
use crate::domain::period::Period;
use crate::domain::ticket::TicketStatus;

/// What tickets are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBy {
    /// The township (乡镇/街道) or other unit the matter is located in.
    Area,
    Category,
    /// The hotline's day of registration.
    Day,
}

/// The counts of one group: registered in the period, and of those, how many are still open,
/// closed, and overdue now.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName, serde::Serialize)]
pub struct GroupCounts {
    /// The group's key: a unit or category id, or a day (`YYYY-MM-DD`); none for tickets
    /// without an area or a category.
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub registered: i64,
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    #[diesel(sql_type = BigInt)]
    pub closed: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// The tickets registered in `period`, counted by `by`, the largest group first (days in
/// order). Days are the hotline's, by the offset of `timezone` at the period's start (the zones
/// of China keep one offset all year).
pub fn count(
    conn: &mut DbConnection,
    by: CountBy,
    period: &Period,
    timezone: chrono_tz::Tz,
) -> Result<Vec<GroupCounts>, StoreError> {
    let offset_minutes = timezone
        .offset_from_utc_datetime(&period.from.naive_utc())
        .fix()
        .local_minus_utc()
        / 60;
    let ended: Vec<String> = TicketStatus::ALL
        .iter()
        .filter(|s| s.is_final())
        .map(|s| format!("'{s}'"))
        .collect();
    let (key, order) = match (by, &*conn) {
        (CountBy::Area, _) => ("area_unit_id".to_owned(), "registered DESC, key"),
        (CountBy::Category, _) => ("category_id".to_owned(), "registered DESC, key"),
        (CountBy::Day, DbConnection::Sqlite(_)) => (
            format!("date(created_at, '{offset_minutes:+} minutes')"),
            "key",
        ),
        (CountBy::Day, DbConnection::Pg(_)) => (
            format!("CAST(CAST(created_at + INTERVAL '{offset_minutes} minutes' AS DATE) AS TEXT)"),
            "key",
        ),
    };
    let sql = format!(
        "SELECT {key} AS key, COUNT(*) AS registered, \
         SUM(CASE WHEN status IN ({ended}) THEN 0 ELSE 1 END) AS open, \
         SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) AS closed, \
         SUM(CASE WHEN overdue THEN 1 ELSE 0 END) AS overdue \
         FROM tickets WHERE created_at >= $1 AND created_at < $2 \
         GROUP BY {key} ORDER BY {order}",
        ended = ended.join(", "),
    );
    Ok(crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<UtcTime, _>(At(period.from))
        .bind::<UtcTime, _>(At(period.to))
        .load(c))?)
}

/// Every day of `period` in the hotline's calendar, for a list by day that names the days
/// without tickets too.
pub fn days_of(period: &Period, timezone: chrono_tz::Tz) -> Vec<NaiveDate> {
    let first = period.from.with_timezone(&timezone).date_naive();
    let last = (period.to - chrono::Duration::seconds(1))
        .with_timezone(&timezone)
        .date_naive();
    first.iter_days().take_while(|d| *d <= last).collect()
}
