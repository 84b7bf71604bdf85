//! The record of what happened, read out of the database and removed once archived: the rows
//! of `ticket_events`, `audit_log` and finished webhook deliveries written before a cutoff.
//! Each row is read as one line of JSON, the same on both backends, in id order, a page at a
//! time so that years of rows never sit in memory. Removal happens only when it removes exactly
//! the rows that were read: on PostgreSQL by dropping the months' partitions, on SQLite (and
//! for deliveries) by deleting.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::archives;
use super::sql::{At, Id, UtcTime};
use super::{DbConnection, MultiBackend, StoreError, partitions};

/// How a column is written into its JSON line.
#[derive(Clone, Copy)]
enum Field {
    /// A number or text as stored.
    Plain(&'static str),
    /// A time, as RFC 3339 in UTC.
    Time(&'static str),
    /// Text holding JSON, embedded as JSON.
    Json(&'static str),
}

/// A table whose old rows are archived.
pub struct Archived {
    pub table: &'static str,
    columns: &'static [Field],
    /// Rows that are still worked on, whatever their age, stay.
    still_needed: Option<&'static str>,
}

use Field::{Json, Plain, Time};

pub const ARCHIVED: [Archived; 3] = [
    Archived {
        table: "ticket_events",
        columns: &[
            Plain("id"),
            Plain("ticket_id"),
            Plain("ticket_version"),
            Plain("kind"),
            Plain("actor_user_id"),
            Plain("actor_role"),
            Plain("actor_unit_id"),
            Plain("assignment_id"),
            Json("details"),
            Time("created_at"),
            Plain("transaction_id"),
        ],
        still_needed: None,
    },
    Archived {
        table: "audit_log",
        columns: &[
            Plain("id"),
            Plain("user_id"),
            Plain("action"),
            Plain("ticket_id"),
            Plain("subject_id"),
            Json("details"),
            Time("created_at"),
        ],
        still_needed: None,
    },
    Archived {
        table: "webhook_deliveries",
        columns: &[
            Plain("id"),
            Plain("subscription_id"),
            Plain("event_id"),
            Plain("event_kind"),
            Plain("ticket_id"),
            Json("payload"),
            Plain("status"),
            Plain("attempts"),
            Time("next_attempt_at"),
            Time("last_attempt_at"),
            Plain("last_status"),
            Plain("last_error"),
            Plain("latency_ms"),
            Time("event_at"),
            Time("created_at"),
            Time("delivered_at"),
        ],
        still_needed: Some("status = 'pending'"),
    },
];

/// Rows read per statement.
const PAGE: i64 = 5_000;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

impl Archived {
    fn condition(&self) -> String {
        match self.still_needed {
            Some(needed) => format!("created_at < $1 AND NOT ({needed})"),
            None => "created_at < $1".to_owned(),
        }
    }

    fn line_expression(&self, postgres: bool) -> String {
        let fields: Vec<String> = self
            .columns
            .iter()
            .map(|column| match (column, postgres) {
                (Plain(name), _) => format!("'{name}', {name}"),
                (Time(name), true) => {
                    format!("'{name}', to_char({name}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
                }
                // Stored as `YYYY-MM-DD HH:MM:SS[.fraction]`, the fraction as long as it
                // needs to be: written with six digits, as PostgreSQL's are.
                (Time(name), false) => format!(
                    "'{name}', substr({name}, 1, 10) || 'T' || substr({name}, 12, 8) || '.' \
                     || substr(substr({name}, 21) || '000000', 1, 6) || 'Z'"
                ),
                (Json(name), true) => format!("'{name}', CAST({name} AS JSON)"),
                (Json(name), false) => format!("'{name}', json({name})"),
            })
            .collect();
        if postgres {
            format!("CAST(json_build_object({}) AS TEXT)", fields.join(", "))
        } else {
            format!("json_object({})", fields.join(", "))
        }
    }

    /// Reads every row written before `cutoff` (and no longer worked on) in id order, handing
    /// each JSON line to `write`; answers how many there were and the highest id.
    pub fn export(
        &self,
        conn: &mut DbConnection,
        cutoff: DateTime<Utc>,
        mut write: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(u64, i64), StoreError> {
        let postgres = matches!(conn, DbConnection::Pg(_));
        let sql = format!(
            "SELECT id, {} AS line FROM {} WHERE {} AND id > $2 ORDER BY id LIMIT $3",
            self.line_expression(postgres),
            self.table,
            self.condition()
        );
        let (mut rows, mut last) = (0u64, 0i64);
        loop {
            let page: Vec<Line> = diesel::sql_query(&sql)
                .into_boxed::<MultiBackend>()
                .bind::<UtcTime, _>(At(cutoff))
                .bind::<BigInt, _>(last)
                .bind::<BigInt, _>(PAGE)
                .load(conn)?;
            for row in &page {
                write(&row.line).map_err(|e| StoreError::StorageFull(e.to_string()))?;
            }
            rows += page.len() as u64;
            match page.last() {
                Some(row) if page.len() as i64 == PAGE => last = row.id,
                Some(row) => return Ok((rows, row.id)),
                None => return Ok((rows, last)),
            }
        }
    }

    /// Removes the rows `export` read: those written before `cutoff` with ids up to
    /// `highest_id`. Whole months go with their partitions. Answers how many rows went; the
    /// caller compares with what it exported and rolls back on any difference.
    pub fn remove(
        &self,
        conn: &mut DbConnection,
        cutoff: DateTime<Utc>,
        highest_id: i64,
    ) -> Result<u64, StoreError> {
        let mut removed = 0u64;
        let cutoff_day = cutoff.date_naive();
        for (partition, first_day) in partitions::months(conn, self.table)? {
            let next_month = first_day + chrono::Months::new(1);
            if next_month > cutoff_day {
                continue;
            }
            // A row written into an archived month after it was read would go unexported.
            let newer: Count = diesel::sql_query(format!(
                "SELECT count(*) AS count FROM {partition} WHERE id > $1"
            ))
            .bind::<BigInt, _>(highest_id)
            .get_result(conn)?;
            if newer.count > 0 {
                return Err(StoreError::corrupt(format!(
                    "{} rows were written into {partition} while it was being archived",
                    newer.count
                )));
            }
            let rows: Count =
                diesel::sql_query(format!("SELECT count(*) AS count FROM {partition}"))
                    .get_result(conn)?;
            diesel::sql_query(format!("DROP TABLE {partition}")).execute(conn)?;
            removed += rows.count as u64;
        }
        let deleted = diesel::sql_query(format!(
            "DELETE FROM {} WHERE {} AND id <= $2",
            self.table,
            self.condition()
        ))
        .into_boxed::<MultiBackend>()
        .bind::<UtcTime, _>(At(cutoff))
        .bind::<BigInt, _>(highest_id)
        .execute(conn)?;
        Ok(removed + deleted as u64)
    }
}

/// A run of `hotline archive`, recorded in the transaction that removes its rows.
#[derive(Insertable)]
#[diesel(table_name = archives)]
pub struct ArchiveRun {
    id: Id,
    before_month: String,
    cutoff: At,
    archived_rows: i64,
    manifest: String,
    archived_at: At,
}

impl ArchiveRun {
    pub fn new(
        before: crate::domain::period::Month,
        cutoff: DateTime<Utc>,
        rows: u64,
        manifest: String,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Id(uuid::Uuid::now_v7()),
            before_month: before.to_string(),
            cutoff: At(cutoff),
            archived_rows: rows as i64,
            manifest,
            archived_at: At(at),
        }
    }
}

pub fn record(conn: &mut DbConnection, run: &ArchiveRun) -> Result<(), StoreError> {
    diesel::insert_into(archives::table)
        .values(run)
        .execute(conn)?;
    Ok(())
}

/// Before when the record has been archived, if it has.
pub fn archived_before(conn: &mut DbConnection) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(archives::table
        .select(archives::cutoff)
        .order(archives::cutoff.desc())
        .first::<DateTime<Utc>>(conn)
        .optional()?)
}

/// Refuses a period that begins before the archived record ends: its figures would be
/// computed without the events that left.
pub fn refuse_archived(
    conn: &mut DbConnection,
    period: &crate::domain::period::Period,
) -> Result<(), StoreError> {
    match archived_before(conn)? {
        Some(cutoff) if period.from < cutoff => Err(StoreError::Archived { before: cutoff }),
        _ => Ok(()),
    }
}
