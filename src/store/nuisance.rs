//! Nuisance marks (恶意骚扰) on callers' numbers, kept by the number's keyed hash.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::nuisance_numbers as n;
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::caller::NuisanceMark;

#[derive(Queryable, Selectable)]
#[diesel(table_name = n)]
struct MarkRow {
    id: Uuid,
    phone_masked: String,
    reason: String,
    expires_at: DateTime<Utc>,
    marked_by: Uuid,
    marked_at: DateTime<Utc>,
    lifted_by: Option<Uuid>,
    lifted_at: Option<DateTime<Utc>>,
    lift_reason: Option<String>,
}

impl From<MarkRow> for NuisanceMark {
    fn from(row: MarkRow) -> Self {
        NuisanceMark {
            id: row.id,
            phone: row.phone_masked,
            reason: row.reason,
            expires_at: row.expires_at,
            marked_by: row.marked_by,
            marked_at: row.marked_at,
            lifted_by: row.lifted_by,
            lifted_at: row.lifted_at,
            lift_reason: row.lift_reason,
        }
    }
}

/// Files a mark on the number whose keyed hash is `phone_key`.
pub fn insert(
    conn: &mut DbConnection,
    mark: &NuisanceMark,
    phone_key: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(n::table)
        .values((
            n::id.eq(Id(mark.id)),
            n::phone_key.eq(phone_key),
            n::phone_masked.eq(&mark.phone),
            n::reason.eq(&mark.reason),
            n::expires_at.eq(At(mark.expires_at)),
            n::marked_by.eq(Id(mark.marked_by)),
            n::marked_at.eq(At(mark.marked_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The mark in force on the number at `now`, the latest to expire when there are several.
pub fn in_force(
    conn: &mut DbConnection,
    phone_key: &str,
    now: DateTime<Utc>,
) -> Result<Option<NuisanceMark>, StoreError> {
    Ok(n::table
        .filter(n::phone_key.eq(phone_key))
        .filter(n::lifted_at.is_null())
        .filter(n::expires_at.gt(At(now)))
        .order((n::expires_at.desc(), n::id.desc()))
        .select(MarkRow::as_select())
        .first(conn)
        .optional()?
        .map(NuisanceMark::from))
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<NuisanceMark, StoreError> {
    n::table
        .find(Id(id))
        .select(MarkRow::as_select())
        .first(conn)
        .optional()?
        .map(NuisanceMark::from)
        .ok_or(StoreError::NotFound)
}

/// Lifts a mark still in force at `now`; `false` when it is not (lifted or expired already).
pub fn lift(
    conn: &mut DbConnection,
    id: Uuid,
    by: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let lifted = diesel::update(
        n::table
            .find(Id(id))
            .filter(n::lifted_at.is_null())
            .filter(n::expires_at.gt(At(now))),
    )
    .set((
        n::lifted_by.eq(Id(by)),
        n::lifted_at.eq(At(now)),
        n::lift_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(lifted == 1)
}

/// The marks, newest first, after `after` (marked time and id); `in_force_at`: only those in
/// force then.
pub fn list(
    conn: &mut DbConnection,
    in_force_at: Option<DateTime<Utc>>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<NuisanceMark>, StoreError> {
    let mut query = n::table.select(MarkRow::as_select()).into_boxed();
    if let Some(now) = in_force_at {
        query = query
            .filter(n::lifted_at.is_null())
            .filter(n::expires_at.gt(At(now)));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            n::marked_at
                .lt(At(at))
                .or(n::marked_at.eq(At(at)).and(n::id.lt(Id(id)))),
        );
    }
    Ok(query
        .order((n::marked_at.desc(), n::id.desc()))
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(NuisanceMark::from)
        .collect())
}
