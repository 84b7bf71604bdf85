//! Signing in and out of a password.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::users::UserView;
use super::{AppState, JsonBody, blocking};
use crate::auth::{self, Authenticated, Caller};
use crate::domain::directory;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::{self, users::UserChanges};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    must_change_password: bool,
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "the username or password is wrong")
}

fn token_answer(state: &AppState, user: &directory::User) -> Result<HttpResponse, ApiError> {
    let ttl = state.auth.token_ttl;
    let token = state.auth.keys.issue(user, state.now(), ttl)?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(TokenAnswer {
            access_token: token,
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
            must_change_password: user.must_change_password,
        }))
}

/// `POST /api/v1/auth/token`: a short-lived token for a username and password.
pub async fn issue_token(
    state: web::Data<AppState>,
    body: JsonBody<Credentials>,
) -> Result<HttpResponse, ApiError> {
    let credentials = body.into_inner();
    let username = credentials.username.trim().to_lowercase();
    if let Err(wait) = state.auth.throttle.check(&username) {
        return Err(ApiError::rate_limited(
            wait,
            "too many wrong passwords for this username; wait before trying again",
        ));
    }
    let checked = state.clone();
    let name = username.clone();
    let user = blocking(move || {
        let found = checked
            .db
            .read(|c| store::users::find_credentials(c, &name))?;
        Ok(match found {
            Some((user, hash))
                if auth::verify_password(&credentials.password, &hash) && user.active =>
            {
                checked
                    .db
                    .write(|c| store::users::record_login(c, user.id, checked.now()))?;
                Some(user)
            }
            Some(_) => None,
            None => {
                auth::verify_nothing(&credentials.password);
                None
            }
        })
    })
    .await?;
    match user {
        Some(user) => {
            state.auth.throttle.succeeded(&username);
            state
                .metrics
                .logins_succeeded
                .fetch_add(1, Ordering::Relaxed);
            token_answer(&state, &user)
        }
        None => {
            state.auth.throttle.failed(&username);
            state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
            Err(invalid_credentials())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/auth/password`: the caller's own password; earlier tokens stop working and a
/// new one is returned. Allowed while a password change is pending.
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner();
    let new_password = directory::password(&change.new_password)
        .map_err(|m| ApiError::validation(ValidationErrors::single("new_password", m)))?;
    if new_password == change.current_password {
        return Err(ApiError::invalid_field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let id = caller.user.id;
    let writer = state.clone();
    let user = blocking(move || {
        let hash = writer.db.read(|c| store::users::password_hash(c, id))?;
        if !auth::verify_password(&change.current_password, &hash) {
            return Err(ApiError::invalid_field("current_password", "is wrong"));
        }
        let new_hash = auth::hash_password(&new_password)?;
        let changes = UserChanges {
            password_hash: Some(&new_hash),
            must_change_password: Some(false),
            ..UserChanges::default()
        };
        Ok(writer
            .db
            .write(|c| store::users::update(c, id, &changes, writer.now()))?)
    })
    .await?;
    state.auth.gate.forget(id);
    token_answer(&state, &user)
}

/// `GET /api/v1/auth/me`: the caller's account.
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&caller.user))
}
