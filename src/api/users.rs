//! User accounts, managed by administrators.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::directory::{self, Entry};
use super::{
    AppState, IdempotencyKey, JsonBody, PageParams, Query, Reply, blocking, check_active, found,
    parse_id, read, write, write_value,
};
use crate::api::Caller;
use crate::auth;
use crate::domain::access::{self, Role, Standing};
use crate::domain::audit::AuditAction;
use crate::domain::directory::{User, UserDraft, UserInput, UserPatch, UserPatchInput};
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::Channel;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::users::{NewUser, UserChanges, UserFilter};
use crate::store::{self, DbConnection, StoreError};

#[derive(Serialize)]
pub struct UserView {
    id: Uuid,
    username: String,
    display_name: String,
    role: Role,
    unit_id: Option<Uuid>,
    channel: Option<Channel>,
    active: bool,
    must_change_password: bool,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.attachment.role,
            unit_id: user.attachment.unit_id,
            channel: user.attachment.channel,
            active: user.active,
            must_change_password: user.must_change_password,
            last_login_at: user.last_login_at,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    role: Option<Role>,
    unit_id: Option<Uuid>,
    active: Option<bool>,
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
    let filter = UserFilter {
        role: params.role,
        unit_id: params.unit_id,
        active: params.active,
        q: params.q.filter(|q| !q.trim().is_empty()),
    };
    let rows = read(&state, move |c| {
        Ok(store::users::list(c, &filter, after.as_deref(), fetch)?)
    })
    .await?;
    let page = paging.page(rows, |u| u.username.clone(), |u| UserView::from(&u))?;
    Ok(HttpResponse::Ok().json(page))
}

fn check_unit(conn: &mut DbConnection, unit_id: Option<Uuid>) -> Result<(), ApiError> {
    let mut errors = ValidationErrors::new();
    check_active(&mut errors, "unit_id", "unit", unit_id, |id| {
        store::units::is_active(conn, id)
    })?;
    Ok(errors.finish()?)
}

pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    idempotency: IdempotencyKey,
    body: JsonBody<UserInput>,
) -> Result<Reply, ApiError> {
    let idempotency = idempotency.with_fingerprint(body.fingerprint());
    let draft = body.validate(UserDraft::parse)?;
    let hash = password_hash(&state, draft.password.clone()).await?;
    let by = caller.id();
    write(&state, &caller, idempotency, move |conn, now| {
        let user = add_user(conn, now, by, &draft, &hash)?;
        Reply::created(&UserView::from(&user), format!("/api/v1/users/{}", user.id))
    })
    .await
}

/// A password hashed off the async workers, within the request's budget.
pub(crate) async fn password_hash(
    state: &web::Data<AppState>,
    password: String,
) -> Result<String, ApiError> {
    blocking(state.request_budget(), move || {
        auth::hash_password(&password)
    })
    .await
}

/// Stores a new account, audited: the one way the API and the console create one.
pub(crate) fn add_user(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    draft: &UserDraft,
    hash: &str,
) -> Result<User, ApiError> {
    check_unit(conn, draft.attachment.unit_id)?;
    let new = NewUser {
        username: &draft.username,
        display_name: &draft.display_name,
        attachment: draft.attachment,
        password_hash: hash,
        must_change_password: draft.must_change_password,
    };
    let user = store::users::insert(conn, &new, now).map_err(|e| {
        directory::taken::<User>(e, || format!("the username `{}` is taken", &draft.username))
    })?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::UserCreated, now)
            .about(user.id)
            .with(serde_json::json!({"role": user.attachment.role})),
    )?;
    Ok(user)
}

pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<UserPatchInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "user")?;
    let patch = body.validate(UserPatch::parse)?;
    let user = change_user(&state, &caller, id, patch).await?;
    Reply::ok(&UserView::from(&user))
}

/// Changes an account, audited, and makes this instance's cached account read afresh: the one
/// way the API and the console change one. The last active administrator is never demoted or
/// deactivated.
pub(crate) async fn change_user(
    state: &web::Data<AppState>,
    caller: &Caller,
    id: Uuid,
    patch: UserPatch,
) -> Result<User, ApiError> {
    let hash = match patch.password.clone() {
        Some(password) => Some(password_hash(state, password).await?),
        None => None,
    };
    let by = caller.id();
    let user = write_value(state, caller, move |conn, now| {
        let current = found(store::users::get(conn, id), "user", id)?;
        let attachment = patch.attachment_after(current.attachment)?;
        check_unit(
            conn,
            attachment
                .unit_id
                .filter(|u| Some(*u) != current.attachment.unit_id),
        )?;
        let before = Standing {
            role: current.attachment.role,
            active: current.active,
        };
        let after = Standing {
            role: attachment.role,
            active: patch.active.unwrap_or(current.active),
        };
        if access::stops_administering(before, after) {
            let other_admins = store::users::list(
                conn,
                &UserFilter {
                    role: Some(Role::Admin),
                    active: Some(true),
                    ..UserFilter::default()
                },
                None,
                2,
            )?;
            if other_admins.iter().all(|u| u.id == id) {
                return Err(ApiError::conflict(
                    ProblemCode::LastAdmin,
                    "this is the last active administrator; make another one first",
                ));
            }
        }
        let changes = UserChanges {
            display_name: patch.display_name.as_deref(),
            attachment: (attachment != current.attachment).then_some(attachment),
            active: patch.active,
            password_hash: hash.as_deref(),
            must_change_password: patch.must_change_password,
        };
        let user = store::users::update(conn, id, &changes, now)?;
        let changed: Vec<&str> = [
            ("display_name", patch.display_name.is_some()),
            ("role", patch.role.is_some()),
            ("unit_id", patch.unit_id.is_some()),
            ("channel", patch.channel.is_some()),
            ("active", patch.active.is_some()),
            ("password", patch.password.is_some()),
            ("must_change_password", patch.must_change_password.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::UserUpdated, now)
                .about(user.id)
                .with(serde_json::json!({"fields": changed})),
        )?;
        Ok(user)
    })
    .await?;
    state.auth.gate.forget(id);
    Ok(user)
}

impl Entry for User {
    const NAME: &'static str = "user";
    const TABLE: &'static str = "users";
    type View = UserView;

    fn load(conn: &mut DbConnection, id: Uuid) -> Result<Self, StoreError> {
        store::users::get(conn, id)
    }

    fn view(&self) -> UserView {
        UserView::from(self)
    }
}
