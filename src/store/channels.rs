use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::channels;
use super::sql::At;
use super::{DbConnection, StoreError};
use crate::domain::channel::{ChannelDefinition, ChannelDraft};
use crate::domain::ticket::Channel;

#[derive(Queryable, Selectable)]
#[diesel(table_name = channels)]
struct ChannelRow {
    code: String,
    name: String,
    kind: Channel,
    bulletin_row: String,
    own_section: bool,
    sort_order: i32,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ChannelRow> for ChannelDefinition {
    fn from(r: ChannelRow) -> Self {
        Self {
            code: r.code,
            name: r.name,
            kind: r.kind,
            bulletin_row: r.bulletin_row,
            own_section: r.own_section,
            sort_order: r.sort_order,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Every channel, in the order the office prints them.
pub fn all(conn: &mut DbConnection) -> Result<Vec<ChannelDefinition>, StoreError> {
    let rows: Vec<ChannelRow> = channels::table
        .order((channels::sort_order, channels::code))
        .select(ChannelRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub fn find(conn: &mut DbConnection, code: &str) -> Result<Option<ChannelDefinition>, StoreError> {
    Ok(channels::table
        .find(code)
        .select(ChannelRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Into::into))
}

/// Creates the channel or replaces its definition; `true` when it was created.
pub fn put(
    conn: &mut DbConnection,
    draft: &ChannelDraft,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(channels::table.find(&draft.code))
        .set((
            channels::name.eq(&draft.name),
            channels::bulletin_row.eq(&draft.bulletin_row),
            channels::own_section.eq(draft.own_section),
            channels::sort_order.eq(draft.sort_order),
            channels::active.eq(draft.active),
            channels::updated_at.eq(At(now)),
        ))
        .execute(conn)?;
    if changed > 0 {
        return Ok(false);
    }
    diesel::insert_into(channels::table)
        .values((
            channels::code.eq(&draft.code),
            channels::name.eq(&draft.name),
            channels::kind.eq(draft.kind),
            channels::bulletin_row.eq(&draft.bulletin_row),
            channels::own_section.eq(draft.own_section),
            channels::sort_order.eq(draft.sort_order),
            channels::active.eq(draft.active),
            channels::created_at.eq(At(now)),
            channels::updated_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(true)
}
