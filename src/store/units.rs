use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::units;
use super::sql::{At, Id};
use super::{DbConnection, StoreError, contains_pattern, lower};
use crate::domain::directory::{Unit, UnitDraft, UnitKind, UnitPatch};

#[derive(Queryable, Selectable)]
#[diesel(table_name = units)]
struct UnitRow {
    id: Uuid,
    code: String,
    name: String,
    kind: UnitKind,
    parent_id: Option<Uuid>,
    sort_order: i32,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UnitRow {
    fn into_unit(self) -> Result<Unit, StoreError> {
        Ok(Unit {
            id: self.id,
            code: self.code,
            name: self.name,
            kind: self.kind,
            parent_id: self.parent_id,
            sort_order: self.sort_order,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
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
            units::id.eq(Id(id)),
            units::code.eq(&draft.code),
            units::name.eq(&draft.name),
            units::kind.eq(draft.kind),
            units::parent_id.eq(draft.parent_id.map(Id)),
            units::sort_order.eq(draft.sort_order),
            units::active.eq(true),
            units::created_at.eq(At(now)),
            units::updated_at.eq(At(now)),
        ))
        .execute(conn)?;
    get(conn, id)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Unit, StoreError> {
    units::table
        .find(Id(id))
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
        .find(Id(id))
        .select(units::active)
        .get_result(conn)
        .optional()?;
    Ok(active == Some(true))
}

/// The kind of an active unit; `None` when there is no such unit or it is deactivated.
pub fn active_kind(conn: &mut DbConnection, id: Uuid) -> Result<Option<UnitKind>, StoreError> {
    let row: Option<(UnitKind, bool)> = units::table
        .find(Id(id))
        .select((units::kind, units::active))
        .get_result(conn)
        .optional()?;
    Ok(row.filter(|(_, active)| *active).map(|(kind, _)| kind))
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
        query = query.filter(units::kind.eq(kind));
    }
    if let Some(active) = filter.active {
        query = query.filter(units::active.eq(active));
    }
    if let Some(parent) = filter.parent_id {
        query = query.filter(units::parent_id.eq(Id(parent)));
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
    Ok(units::table
        .select((units::id, units::parent_id))
        .load(conn)?)
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
        kind: Option<UnitKind>,
        parent_id: Option<Option<Id>>,
        sort_order: Option<i32>,
        active: Option<bool>,
        updated_at: At,
    }
    let changes = Changes {
        name: patch.name.as_deref(),
        kind: patch.kind,
        parent_id: patch.parent_id.map(|p| p.map(Id)),
        sort_order: patch.sort_order,
        active: patch.active,
        updated_at: At(now),
    };
    let updated = diesel::update(units::table.find(Id(id)))
        .set(&changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    get(conn, id)
}

/// Deletes a unit nothing refers to; `MissingReference` (a foreign key) when something does.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    let deleted = diesel::delete(units::table.find(Id(id))).execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Every unit's name by id: what exports print in place of ids.
pub fn names(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let rows: Vec<(Uuid, String)> = units::table.select((units::id, units::name)).load(conn)?;
    Ok(rows.into_iter().collect())
}
