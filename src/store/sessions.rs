//! Console sessions, in the database so that every instance knows every session and a sign-out
//! ends it everywhere. A session is found by the SHA-256 of its cookie's secret: a copy of the
//! table signs nobody in.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::console_sessions as s;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::session::SessionTimes;

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: Uuid,
    /// The token every form of the session carries back (CSRF).
    pub form_token: String,
    /// The account's token generation at sign-in: a change of password or access ends it.
    pub token_generation: i64,
    pub times: SessionTimes,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = s)]
struct SessionRow {
    user_id: Uuid,
    form_token: String,
    token_generation: i64,
    started_at: DateTime<Utc>,
    used_at: DateTime<Utc>,
}

pub fn insert(conn: &mut DbConnection, key: &str, session: &Session) -> Result<(), StoreError> {
    diesel::insert_into(s::table)
        .values((
            s::key.eq(key),
            s::user_id.eq(Id(session.user_id)),
            s::form_token.eq(&session.form_token),
            s::token_generation.eq(session.token_generation),
            s::started_at.eq(At(session.times.started_at)),
            s::used_at.eq(At(session.times.used_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, key: &str) -> Result<Option<Session>, StoreError> {
    let row = s::table
        .find(key)
        .select(SessionRow::as_select())
        .get_result(conn)
        .optional()?;
    Ok(row.map(|row| Session {
        user_id: row.user_id,
        form_token: row.form_token,
        token_generation: row.token_generation,
        times: SessionTimes {
            started_at: row.started_at,
            used_at: row.used_at,
        },
    }))
}

pub fn record_use(conn: &mut DbConnection, key: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(s::table.find(key))
        .set(s::used_at.eq(At(at)))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(s::table.find(key)).execute(conn)?;
    Ok(())
}

/// Forgets every session last used before `used_before` or started before `started_before`:
/// those that ended unused or too old (see [`crate::domain::session`]); answers how many.
pub fn forget_ended(
    conn: &mut DbConnection,
    used_before: DateTime<Utc>,
    started_before: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        s::table.filter(
            s::used_at
                .lt(At(used_before))
                .or(s::started_at.lt(At(started_before))),
        ),
    )
    .execute(conn)?)
}
