//! The first successful answer to a `POST` with an `Idempotency-Key`, kept so that a retry gets
//! the same answer instead of a second change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::idempotency_keys;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status_code: u16,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct Row {
    request_hash: String,
    status_code: i32,
    response_body: String,
    location: Option<String>,
    etag: Option<String>,
    created_at: DateTime<Utc>,
}

/// The answer stored under `key` for `user` since `not_before`, if any.
pub fn find(
    conn: &mut DbConnection,
    user: Uuid,
    key: &str,
    not_before: DateTime<Utc>,
) -> Result<Option<StoredResponse>, StoreError> {
    let row: Option<Row> = idempotency_keys::table
        .find((Id(user), key))
        .select(Row::as_select())
        .get_result(conn)
        .optional()?;
    Ok(row
        .filter(|r| r.created_at >= not_before)
        .map(|r| StoredResponse {
            request_hash: r.request_hash,
            status_code: u16::try_from(r.status_code).unwrap_or(200),
            body: r.response_body,
            location: r.location,
            etag: r.etag,
        }))
}

/// Stores an answer. An expired entry under the same key is replaced; a live one makes this
/// fail with `Duplicate { table: "idempotency_keys" }` (a concurrent request won).
pub fn insert(
    conn: &mut DbConnection,
    user: Uuid,
    key: &str,
    response: &StoredResponse,
    not_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::delete(
        idempotency_keys::table
            .find((Id(user), key))
            .filter(idempotency_keys::created_at.lt(At(not_before))),
    )
    .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(Id(user)),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(&response.request_hash),
            idempotency_keys::status_code.eq(i32::from(response.status_code)),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::location.eq(response.location.as_deref()),
            idempotency_keys::etag.eq(response.etag.as_deref()),
            idempotency_keys::created_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets answers older than `before`; returns how many.
pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(At(before))))
            .execute(conn)?,
    )
}
