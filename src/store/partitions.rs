//! The months of the append-only tables on PostgreSQL (`ticket_events`, `audit_log`), each a
//! partition: made ahead of time by every instance, and for the past months an import writes
//! into. SQLite keeps each table whole and has nothing to make.

use chrono::{DateTime, Months, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Date, Integer, Text};

use super::{DbConnection, StoreError};

/// The tables partitioned by the month (UTC) their rows were written in.
pub const PARTITIONED: [&str; 2] = ["ticket_events", "audit_log"];

/// How many months after the current one always have their partitions, so that a month never
/// begins with its rows falling into the DEFAULT partition while instances are down or behind.
pub const MONTHS_AHEAD: u32 = 3;

#[derive(QueryableByName)]
struct Made {
    #[diesel(sql_type = Integer)]
    made: i32,
}

/// The partitions of every partitioned table for the months from `first` to `last` (UTC) that
/// do not exist yet; answers how many were made. Rows waiting in the DEFAULT partition for
/// those months move into them.
pub fn make_months(
    conn: &mut DbConnection,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(0);
    };
    let (first, last) = (first.date_naive(), last.date_naive());
    let mut made = 0;
    for table in PARTITIONED {
        let row: Made = diesel::sql_query("SELECT make_month_partitions($1, $2, $3) AS made")
            .bind::<Text, _>(table)
            .bind::<Date, _>(first)
            .bind::<Date, _>(last)
            .get_result(pg)?;
        made += row.made as usize;
    }
    Ok(made)
}

/// The current month's partitions and the next [`MONTHS_AHEAD`] months'.
pub fn make_ahead(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    make_months(conn, now, now + Months::new(MONTHS_AHEAD))
}

/// The partitions of `table` and the month each holds, oldest first (none on SQLite).
pub fn months(
    conn: &mut DbConnection,
    table: &str,
) -> Result<Vec<(String, NaiveDate)>, StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(Vec::new());
    };
    #[derive(QueryableByName)]
    struct Partition {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let partitions: Vec<Partition> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = to_regclass($1) ORDER BY c.relname",
    )
    .bind::<Text, _>(table)
    .load(pg)?;
    let prefix = format!("{table}_");
    Ok(partitions
        .into_iter()
        .filter_map(|p| {
            let month = p.name.strip_prefix(&prefix)?;
            let first_day = NaiveDate::parse_from_str(&format!("{month}_01"), "%Y_%m_%d").ok()?;
            Some((p.name, first_day))
        })
        .collect())
}
