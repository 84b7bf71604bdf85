use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::units;
use super::{
    DbConnection, StoreError, contains_pattern, from_db, lower, parse_opt_uuid, parse_text,
    parse_uuid, to_db,
};
use crate::domain::directory::{Unit, UnitDraft, UnitKind, UnitPatch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = units)]
struct UnitRow {
    id: String,
    code: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
    sort_order: i32,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl UnitRow {
    fn into_unit(self) -> Result<Unit, StoreError> {
        Ok(Unit {
            id: parse_uuid(&self.id)?,
            code: self.code,
            name: self.name,
            kind: parse_text(&self.kind)?,
            parent_id: parse_opt_uuid(self.parent_id.as_deref())?,
            sort_order: self.sort_order,
            active: self.active,
            created_at: from_db(self.created_at),
            updated_at: from_db(self.updated_at),
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct UnitFilter {
    pub kind: Option<UnitKind>,
    pub active: Option<bool>,
    pub parent_id: Option<Uuid>,
    pub q: Option<String>,
}

/// Inserts a unit; `Duplicate { table: "units" }` when the code is taken.
pub fn insert(
    conn: &mut DbConnection,
    draft: &UnitDraft,
    now: DateTime<Utc>,
) -> Result<Unit, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(units::table)
        .values((
            units::id.eq(id.to_string()),
            units::code.eq(&draft.code),
            units::name.eq(&draft.name),
            units::kind.eq(draft.kind.as_str()),
            units::parent_id.eq(draft.parent_id.map(|p| p.to_string())),
            units::sort_order.eq(draft.sort_order),
            units::active.eq(true),
            units::created_at.eq(to_db(now)),
            units::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    get(conn, id)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Unit, StoreError> {
    units::table
        .find(id.to_string())
        .select(UnitRow::as_select())
        .get_result(conn)?
        .into_unit()
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<Unit>, StoreError> {
    units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .get_result(conn)
        .optional()?
        .map(UnitRow::into_unit)
        .transpose()
}

/// Whether a unit exists and is active (what a new reference to it requires).
pub fn is_active(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    let active: Option<bool> = units::table
        .find(id.to_string())
        .select(units::active)
        .get_result(conn)
        .optional()?;
    Ok(active == Some(true))
}

/// The kind of an active unit; `None` when there is no such unit or it is deactivated.
pub fn active_kind(conn: &mut DbConnection, id: Uuid) -> Result<Option<UnitKind>, StoreError> {
    let row: Option<(String, bool)> = units::table
        .find(id.to_string())
        .select((units::kind, units::active))
        .get_result(conn)
        .optional()?;
    row.filter(|(_, active)| *active)
        .map(|(kind, _)| super::parse_text(&kind))
        .transpose()
}

/// Units ordered by code, after the code `after`, at most `limit` of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &UnitFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Unit>, StoreError> {
    let mut query = units::table.select(UnitRow::as_select()).into_boxed();
    if let Some(kind) = filter.kind {
        query = query.filter(units::kind.eq(kind.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(units::active.eq(active));
    }
    if let Some(parent) = filter.parent_id {
        query = query.filter(units::parent_id.eq(parent.to_string()));
    }
    if let Some(q) = filter.q.as_deref() {
        let pattern = contains_pattern(q);
        query = query.filter(
            lower(units::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(units::code).like(pattern).escape('\\')),
        );
    }
    if let Some(after) = after {
        query = query.filter(units::code.gt(after.to_owned()));
    }
    query
        .order(units::code.asc())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(UnitRow::into_unit)
        .collect()
}

/// Every unit's parent, to check the tree stays a tree.
pub fn parents(conn: &mut DbConnection) -> Result<Vec<(Uuid, Option<Uuid>)>, StoreError> {
    let rows: Vec<(String, Option<String>)> = units::table
        .select((units::id, units::parent_id))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, parent)| Ok((parse_uuid(&id)?, parse_opt_uuid(parent.as_deref())?)))
        .collect()
}

pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    patch: &UnitPatch,
    now: DateTime<Utc>,
) -> Result<Unit, StoreError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = units)]
    struct Changes<'a> {
        name: Option<&'a str>,
        kind: Option<&'static str>,
        parent_id: Option<Option<String>>,
        sort_order: Option<i32>,
        active: Option<bool>,
        updated_at: NaiveDateTime,
    }
    let changes = Changes {
        name: patch.name.as_deref(),
        kind: patch.kind.map(UnitKind::as_str),
        parent_id: patch.parent_id.map(|p| p.map(|id| id.to_string())),
        sort_order: patch.sort_order,
        active: patch.active,
        updated_at: to_db(now),
    };
    let updated = diesel::update(units::table.find(id.to_string()))
        .set(&changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    get(conn, id)
}

/// Deletes a unit nothing refers to; `MissingReference` (a foreign key) when something does.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    let deleted = diesel::delete(units::table.find(id.to_string())).execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
