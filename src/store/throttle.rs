//! The sign-in counters of `domain::throttle`, in the database so that every instance counts
//! the same failures.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::schema::sign_in_throttle;
use super::sql::At;
use super::{DbConnection, StoreError};
use crate::domain::throttle::{Counter, Policy};
use crate::per_backend;

/// Counters nobody has failed under for this long are forgotten.
const FORGET_AFTER: Duration = Duration::days(1);

#[derive(Queryable)]
struct Row {
    failures: i32,
    last_failure_at: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

impl From<Row> for Counter {
    fn from(row: Row) -> Self {
        Counter {
            failures: u32::try_from(row.failures).unwrap_or(0),
            last_failure_at: row.last_failure_at,
            blocked_until: row.blocked_until,
        }
    }
}

/// The counters under `keys`, in their order (`None` where there is none).
pub fn counters(
    conn: &mut DbConnection,
    keys: &[&str],
) -> Result<Vec<Option<Counter>>, StoreError> {
    keys.iter()
        .map(|key| {
            Ok(sign_in_throttle::table
                .find(*key)
                .select((
                    sign_in_throttle::failures,
                    sign_in_throttle::last_failure_at,
                    sign_in_throttle::blocked_until,
                ))
                .get_result::<Row>(conn)
                .optional()?
                .map(Counter::from))
        })
        .collect()
}

/// Counts one failure under each key by its policy, inside the caller's write transaction;
/// the row is locked while it is counted, so concurrent failures on several instances all
/// count.
pub fn fail(
    conn: &mut DbConnection,
    keys: &[(&str, Policy)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(
        sign_in_throttle::table
            .filter(sign_in_throttle::last_failure_at.lt(At(now - FORGET_AFTER))),
    )
    .execute(conn)?;
    for (key, policy) in keys {
        per_backend!(conn, |c| diesel::insert_into(sign_in_throttle::table)
            .values((
                sign_in_throttle::throttle_key.eq(*key),
                sign_in_throttle::failures.eq(0),
                sign_in_throttle::last_failure_at.eq(At(now)),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        let query = sign_in_throttle::table.find(*key).select((
            sign_in_throttle::failures,
            sign_in_throttle::last_failure_at,
            sign_in_throttle::blocked_until,
        ));
        // SQLite's writers already run one at a time (`BEGIN IMMEDIATE`).
        let before: Row = match conn {
            DbConnection::Pg(c) => query.for_update().get_result(c)?,
            DbConnection::Sqlite(c) => query.get_result(c)?,
        };
        let before = Counter::from(before);
        let after = policy.fail(Some(before).filter(|c| c.failures > 0), now);
        diesel::update(sign_in_throttle::table.find(*key))
            .set((
                sign_in_throttle::failures.eq(i32::try_from(after.failures).unwrap_or(i32::MAX)),
                sign_in_throttle::last_failure_at.eq(At(after.last_failure_at)),
                sign_in_throttle::blocked_until.eq(after.blocked_until.map(At)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets the failures under `key` (a person who signed in has stopped guessing).
pub fn clear(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(sign_in_throttle::table.find(key)).execute(conn)?;
    Ok(())
}
