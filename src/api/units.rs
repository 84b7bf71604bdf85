//! Responsible units: everyone reads them, administrators change them. A unit that has been used
//! is deactivated, never deleted.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::{self, Entry, Removable};
use super::{
    AppState, IdempotencyKey, JsonBody, PageParams, Query, Reply, found, parse_id, read, write,
};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::directory::{
    Unit, UnitDraft, UnitInput, UnitKind, UnitPatch, UnitPatchInput, creates_cycle,
};
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::units::UnitFilter;
use crate::store::{self, DbConnection, StoreError};

#[derive(Serialize)]
pub struct UnitView {
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

impl From<&Unit> for UnitView {
    fn from(unit: &Unit) -> Self {
        Self {
            id: unit.id,
            code: unit.code.clone(),
            name: unit.name.clone(),
            kind: unit.kind,
            parent_id: unit.parent_id,
            sort_order: unit.sort_order,
            active: unit.active,
            created_at: unit.created_at,
            updated_at: unit.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    kind: Option<UnitKind>,
    active: Option<bool>,
    parent_id: Option<Uuid>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    Query(params): Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<String> = paging.after()?;
    let fetch = paging.fetch()?;
    let filter = UnitFilter {
        kind: params.kind,
        active: params.active,
        parent_id: params.parent_id,
        q: params.q.filter(|q| !q.trim().is_empty()),
    };
    let rows = read(&state, move |c| {
        Ok(store::units::list(c, &filter, after.as_deref(), fetch)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(paging.page(rows, |u| u.code.clone(), |u| UnitView::from(&u))?))
}

fn check_parent(conn: &mut DbConnection, unit: Option<Uuid>, parent: Uuid) -> Result<(), ApiError> {
    if !store::units::is_active(conn, parent)? {
        return Err(ApiError::invalid_field(
            "parent_id",
            format!("no active unit has the id {parent}"),
        ));
    }
    if let Some(unit) = unit {
        let parents: std::collections::HashMap<Uuid, Option<Uuid>> =
            store::units::parents(conn)?.into_iter().collect();
        if creates_cycle(unit, parent, |id| parents.get(&id).copied().flatten()) {
            return Err(ApiError::invalid_field(
                "parent_id",
                "a unit cannot be placed under itself or its own sub-units",
            ));
        }
    }
    Ok(())
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idempotency: IdempotencyKey,
    body: JsonBody<UnitInput>,
) -> Result<Reply, ApiError> {
    let idempotency = idempotency.with_fingerprint(body.fingerprint());
    let draft = body.validate(UnitDraft::parse)?;
    let by = caller.id();
    write(&state, &caller, idempotency, move |conn, now| {
        let unit = add_unit(conn, now, by, &draft)?;
        Reply::created(&UnitView::from(&unit), format!("/api/v1/units/{}", unit.id))
    })
    .await
}

/// Stores a new unit, audited: the one way the API and the console create one.
pub(crate) fn add_unit(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    draft: &UnitDraft,
) -> Result<Unit, ApiError> {
    if let Some(parent) = draft.parent_id {
        check_parent(conn, None, parent)?;
    }
    let unit = store::units::insert(conn, draft, now).map_err(|e| {
        directory::taken::<Unit>(e, || format!("the unit code `{}` is taken", draft.code))
    })?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::UnitCreated, now)
            .about(unit.id)
            .with(serde_json::json!({"code": unit.code})),
    )?;
    Ok(unit)
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<UnitPatchInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "unit")?;
    let patch = body.validate(UnitPatch::parse)?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let unit = change_unit(conn, now, by, id, &patch)?;
        Reply::ok(&UnitView::from(&unit))
    })
    .await
}

/// Changes a unit, audited: the one way the API and the console change one.
pub(crate) fn change_unit(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    id: Uuid,
    patch: &UnitPatch,
) -> Result<Unit, ApiError> {
    found(store::units::get(conn, id), "unit", id)?;
    if let Some(Some(parent)) = patch.parent_id {
        check_parent(conn, Some(id), parent)?;
    }
    let unit = store::units::update(conn, id, patch, now)?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::UnitUpdated, now)
            .about(id)
            .with(serde_json::json!({"active": unit.active})),
    )?;
    Ok(unit)
}

impl Entry for Unit {
    const NAME: &'static str = "unit";
    const TABLE: &'static str = "units";
    type View = UnitView;

    fn load(conn: &mut DbConnection, id: Uuid) -> Result<Self, StoreError> {
        store::units::get(conn, id)
    }

    fn view(&self) -> UnitView {
        UnitView::from(self)
    }
}

impl Removable for Unit {
    const REMOVED: AuditAction = AuditAction::UnitDeleted;
    const IN_USE: &'static str =
        "the unit has been used; deactivate it instead (PATCH {\"active\": false})";

    fn remove(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
        store::units::delete(conn, id)
    }
}
