use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::categories;
use super::sql::{At, Id};
use super::{DbConnection, StoreError, contains_pattern, lower};
use crate::domain::directory::{Category, CategoryPatch, category_full_name};

#[derive(Queryable, Selectable)]
#[diesel(table_name = categories)]
struct CategoryRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    full_name: String,
    level: i32,
    default_unit_id: Option<Uuid>,
    sort_order: i32,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CategoryRow {
    fn into_category(self) -> Result<Category, StoreError> {
        Ok(Category {
            id: self.id,
            parent_id: self.parent_id,
            name: self.name,
            full_name: self.full_name,
            level: self.level,
            default_unit_id: self.default_unit_id,
            sort_order: self.sort_order,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct CategoryFilter {
    pub parent_id: Option<Uuid>,
    pub level: Option<i32>,
    pub active: Option<bool>,
    pub q: Option<String>,
}

/// A new category under `parent` (a first-level category) or at the top.
pub struct NewCategory<'a> {
    pub name: &'a str,
    pub parent: Option<&'a Category>,
    pub default_unit_id: Option<Uuid>,
    pub sort_order: i32,
}

/// Inserts a category; `Duplicate { table: "categories" }` when its full name is taken.
pub fn insert(
    conn: &mut DbConnection,
    new: &NewCategory<'_>,
    now: DateTime<Utc>,
) -> Result<Category, StoreError> {
    let id = Uuid::now_v7();
    let full_name = category_full_name(new.parent.map(|p| p.full_name.as_str()), new.name);
    diesel::insert_into(categories::table)
        .values((
            categories::id.eq(Id(id)),
            categories::parent_id.eq(new.parent.map(|p| Id(p.id))),
            categories::name.eq(new.name),
            categories::full_name.eq(full_name),
            categories::level.eq(if new.parent.is_some() { 2 } else { 1 }),
            categories::default_unit_id.eq(new.default_unit_id.map(Id)),
            categories::sort_order.eq(new.sort_order),
            categories::active.eq(true),
            categories::created_at.eq(At(now)),
            categories::updated_at.eq(At(now)),
        ))
        .execute(conn)?;
    get(conn, id)
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Category, StoreError> {
    categories::table
        .find(Id(id))
        .select(CategoryRow::as_select())
        .get_result(conn)?
        .into_category()
}

pub fn find_by_full_name(
    conn: &mut DbConnection,
    full_name: &str,
) -> Result<Option<Category>, StoreError> {
    categories::table
        .filter(categories::full_name.eq(full_name))
        .select(CategoryRow::as_select())
        .get_result(conn)
        .optional()?
        .map(CategoryRow::into_category)
        .transpose()
}

/// Whether a category exists and is active (what a ticket needs to be filed under it).
pub fn is_active(conn: &mut DbConnection, id: Uuid) -> Result<bool, StoreError> {
    let active: Option<bool> = categories::table
        .find(Id(id))
        .select(categories::active)
        .get_result(conn)
        .optional()?;
    Ok(active == Some(true))
}

/// A category and, for a first-level one, its children: what "filed under it" means.
pub fn with_children(conn: &mut DbConnection, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let mut ids: Vec<Uuid> = categories::table
        .filter(categories::parent_id.eq(Id(id)))
        .select(categories::id)
        .load(conn)?;
    ids.push(id);
    Ok(ids)
}

/// Categories in full-name order (children right after their parent), after `after`.
pub fn list(
    conn: &mut DbConnection,
    filter: &CategoryFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Category>, StoreError> {
    let mut query = categories::table
        .select(CategoryRow::as_select())
        .into_boxed();
    if let Some(parent) = filter.parent_id {
        query = query.filter(categories::parent_id.eq(Id(parent)));
    }
    if let Some(level) = filter.level {
        query = query.filter(categories::level.eq(level));
    }
    if let Some(active) = filter.active {
        query = query.filter(categories::active.eq(active));
    }
    if let Some(q) = filter.q.as_deref() {
        query = query.filter(
            lower(categories::full_name)
                .like(contains_pattern(q))
                .escape('\\'),
        );
    }
    if let Some(after) = after {
        query = query.filter(categories::full_name.gt(after.to_owned()));
    }
    query
        .order(categories::full_name.asc())
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(CategoryRow::into_category)
        .collect()
}

/// Applies a patch; a renamed first-level category renames its children's full names too.
pub fn update(
    conn: &mut DbConnection,
    current: &Category,
    patch: &CategoryPatch,
    parent_full_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Category, StoreError> {
    #[derive(AsChangeset)]
    #[diesel(table_name = categories)]
    struct Changes<'a> {
        name: Option<&'a str>,
        full_name: Option<String>,
        default_unit_id: Option<Option<Id>>,
        sort_order: Option<i32>,
        active: Option<bool>,
        updated_at: At,
    }
    let full_name = patch
        .name
        .as_deref()
        .map(|name| category_full_name(parent_full_name, name));
    let changes = Changes {
        name: patch.name.as_deref(),
        full_name: full_name.clone(),
        default_unit_id: patch.default_unit_id.map(|u| u.map(Id)),
        sort_order: patch.sort_order,
        active: patch.active,
        updated_at: At(now),
    };
    diesel::update(categories::table.find(Id(current.id)))
        .set(&changes)
        .execute(conn)?;
    if let (Some(new_full_name), 1) = (full_name, current.level) {
        let children: Vec<(Uuid, String)> = categories::table
            .filter(categories::parent_id.eq(Id(current.id)))
            .select((categories::id, categories::name))
            .load(conn)?;
        for (child_id, child_name) in children {
            diesel::update(categories::table.find(Id(child_id)))
                .set((
                    categories::full_name.eq(category_full_name(Some(&new_full_name), &child_name)),
                    categories::updated_at.eq(At(now)),
                ))
                .execute(conn)?;
        }
    }
    get(conn, current.id)
}

/// Deletes a category nothing refers to; `MissingReference` when something does.
pub fn delete(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    let deleted = diesel::delete(categories::table.find(Id(id))).execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Every category's full name (`城市管理—市容市政`) by id: what exports print in place of ids.
pub fn full_names(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    let rows: Vec<(Uuid, String)> = categories::table
        .select((categories::id, categories::full_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
