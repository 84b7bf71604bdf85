//! The two-level category tree (事项分类): everyone reads it, administrators change it.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::{self, Entry, Removable};
use super::{
    AppState, IdempotencyKey, JsonBody, PageParams, Query, Reply, check_active, found, parse_id,
    read, write,
};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::directory::{
    Category, CategoryDraft, CategoryInput, CategoryPatch, CategoryPatchInput,
};
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::categories::{CategoryFilter, NewCategory};
use crate::store::{self, DbConnection, StoreError};

#[derive(Serialize)]
pub struct CategoryView {
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

impl From<&Category> for CategoryView {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id,
            parent_id: c.parent_id,
            name: c.name.clone(),
            full_name: c.full_name.clone(),
            level: c.level,
            default_unit_id: c.default_unit_id,
            sort_order: c.sort_order,
            active: c.active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    parent_id: Option<Uuid>,
    level: Option<i32>,
    active: Option<bool>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    Query(params): Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    if params.level.is_some_and(|l| !(1..=2).contains(&l)) {
        return Err(ApiError::invalid_field(
            "level",
            "categories have levels 1 and 2",
        ));
    }
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<String> = paging.after()?;
    let fetch = paging.fetch()?;
    let filter = CategoryFilter {
        parent_id: params.parent_id,
        level: params.level,
        active: params.active,
        q: params.q.filter(|q| !q.trim().is_empty()),
    };
    let rows = read(&state, move |c| {
        Ok(store::categories::list(
            c,
            &filter,
            after.as_deref(),
            fetch,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paging.page(
        rows,
        |c| c.full_name.clone(),
        |c| CategoryView::from(&c),
    )?))
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idempotency: IdempotencyKey,
    body: JsonBody<CategoryInput>,
) -> Result<Reply, ApiError> {
    let idempotency = idempotency.with_fingerprint(body.fingerprint());
    let draft = body.validate(CategoryDraft::parse)?;
    let by = caller.id();
    write(&state, &caller, idempotency, move |conn, now| {
        let category = add_category(conn, now, by, &draft)?;
        Reply::created(
            &CategoryView::from(&category),
            format!("/api/v1/categories/{}", category.id),
        )
    })
    .await
}

/// Stores a new category under an active first-level one or at the first level, audited: the
/// one way the API and the console create one.
pub(crate) fn add_category(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    draft: &CategoryDraft,
) -> Result<Category, ApiError> {
    let mut errors = ValidationErrors::new();
    let parent = match draft.parent_id {
        None => None,
        Some(parent_id) => match store::categories::get(conn, parent_id) {
            Ok(parent) if parent.level == 1 && parent.active => Some(parent),
            Ok(parent) if parent.level != 1 => {
                errors.add(
                    "parent_id",
                    "categories have two levels: the parent must be a first-level category",
                );
                None
            }
            Ok(_) | Err(StoreError::NotFound) => {
                errors.add(
                    "parent_id",
                    format!("no active category has the id {parent_id}"),
                );
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    check_active(
        &mut errors,
        "default_unit_id",
        "unit",
        draft.default_unit_id,
        |id| store::units::is_active(conn, id),
    )?;
    errors.finish()?;
    let new = NewCategory {
        name: &draft.name,
        parent: parent.as_ref(),
        default_unit_id: draft.default_unit_id,
        sort_order: draft.sort_order,
    };
    let category = store::categories::insert(conn, &new, now).map_err(|e| {
        directory::taken::<Category>(e, || format!("the category `{}` exists", &draft.name))
    })?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::CategoryCreated, now)
            .about(category.id)
            .with(serde_json::json!({"full_name": category.full_name})),
    )?;
    Ok(category)
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<CategoryPatchInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "category")?;
    let patch = body.validate(CategoryPatch::parse)?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let category = change_category(conn, now, by, id, &patch)?;
        Reply::ok(&CategoryView::from(&category))
    })
    .await
}

/// Changes a category, audited: the one way the API and the console change one.
pub(crate) fn change_category(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    id: Uuid,
    patch: &CategoryPatch,
) -> Result<Category, ApiError> {
    let current = found(store::categories::get(conn, id), "category", id)?;
    let mut errors = ValidationErrors::new();
    check_active(
        &mut errors,
        "default_unit_id",
        "unit",
        patch.default_unit_id.flatten(),
        |u| store::units::is_active(conn, u),
    )?;
    errors.finish()?;
    let parent_full_name = match current.parent_id {
        Some(parent) => Some(store::categories::get(conn, parent)?.full_name),
        None => None,
    };
    let category =
        store::categories::update(conn, &current, patch, parent_full_name.as_deref(), now)
            .map_err(|e| {
                directory::taken::<Category>(e, || {
                    format!(
                        "the category `{}` exists",
                        patch.name.as_deref().unwrap_or(&current.name)
                    )
                })
            })?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::CategoryUpdated, now)
            .about(id)
            .with(serde_json::json!({"full_name": category.full_name})),
    )?;
    Ok(category)
}

impl Entry for Category {
    const NAME: &'static str = "category";
    const TABLE: &'static str = "categories";
    type View = CategoryView;

    fn load(conn: &mut DbConnection, id: Uuid) -> Result<Self, StoreError> {
        store::categories::get(conn, id)
    }

    fn view(&self) -> CategoryView {
        CategoryView::from(self)
    }
}

impl Removable for Category {
    const REMOVED: AuditAction = AuditAction::CategoryDeleted;
    const IN_USE: &'static str = "the category has been used or has sub-categories; deactivate it instead (PATCH {\"active\": false})";

    fn remove(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
        store::categories::delete(conn, id)
    }
}
