//! Signing in and out of a password.

use std::sync::atomic::Ordering;

use std::net::IpAddr;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::users::UserView;
use super::{AppState, JsonBody, blocking};
use super::{Authenticated, Caller};
use crate::auth;
use crate::domain::problem::ProblemCode;
use crate::domain::validation::{ValidationErrors, has_control_characters};
use crate::domain::{directory, throttle};
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
    ApiError::unauthorized(
        ProblemCode::InvalidCredentials,
        "the username or password is wrong",
    )
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

/// Where a request comes from: the peer, or behind one of the trusted proxies the address it
/// forwarded for (the last one in `X-Forwarded-For` that is not a trusted proxy itself; a client
/// can write anything before that).
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    if !trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    req.headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|a| !trusted_proxies.contains(a))
        .unwrap_or(peer)
        .to_string()
}

/// Keys are bounded: a username of any length must not make a counter of any size.
fn throttle_keys(address: &str, username: &str) -> (String, String) {
    let name: String = username
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    (
        format!("address {address}"),
        format!("pair {address} {name}"),
    )
}

/// `POST /api/v1/auth/token`: a short-lived token for a username and password. Wrong
/// attempts slow down the address they come from (`domain::throttle`); while it must wait,
/// the answer is 429 before any password is checked.
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<Credentials>,
) -> Result<HttpResponse, ApiError> {
    // Text with control characters is nobody's username or password: refused like any wrong
    // one, without asking the database about it.
    let credentials = if body.has_control_characters() {
        let (credentials, _) = body.into_parts();
        credentials
    } else {
        body.into_inner()?
    };
    let address = client_address(&req, &state.trusted_proxies);
    match sign_in(
        &state,
        &address,
        &credentials.username,
        credentials.password,
    )
    .await?
    {
        SignIn::Welcome(user) => token_answer(&state, &user),
        SignIn::Refused => Err(invalid_credentials()),
        SignIn::Wait(seconds) => Err(ApiError::rate_limited(
            seconds,
            "too many wrong sign-ins from this address; wait before trying again",
        )),
    }
}

/// What signing in with a username and password comes to.
pub enum SignIn {
    Welcome(directory::User),
    Refused,
    /// The address must wait this many seconds before it may try again.
    Wait(u64),
}

/// Signs in with a username and password from `address`, for a token or a console session
/// alike: under the throttle of `domain::throttle` (while the address must wait, no password is
/// checked), as slow for an unknown username as for a wrong password, counted in the metrics.
pub async fn sign_in(
    state: &web::Data<AppState>,
    address: &str,
    username: &str,
    password: String,
) -> Result<SignIn, ApiError> {
    let garbled = has_control_characters(username) || has_control_characters(&password);
    let username = username.trim().to_lowercase();
    let (by_address, by_pair) = throttle_keys(address, &username);
    let checked = state.clone();
    let outcome = blocking(state.request_budget(), move || {
        let db = &checked.db;
        let now = checked.now();
        let counters = db.read(|c| store::throttle::counters(c, &[&by_address, &by_pair]))?;
        if let Some(wait) = throttle::wait(&counters, now) {
            return Ok(SignIn::Wait(throttle::retry_after_seconds(wait)));
        }
        let found = if garbled {
            None
        } else {
            db.read(|c| store::users::find_credentials(c, &username))?
        };
        let user = match found {
            Some((user, hash)) if auth::verify_password(&password, &hash) && user.active => {
                Some(user)
            }
            Some(_) => None,
            None => {
                auth::verify_nothing(&password);
                None
            }
        };
        match user {
            Some(user) => {
                db.write(|c| -> Result<(), ApiError> {
                    store::users::record_login(c, user.id, now)?;
                    Ok(store::throttle::clear(c, &by_pair)?)
                })?;
                Ok(SignIn::Welcome(user))
            }
            None => {
                db.write(|c| {
                    store::throttle::fail(
                        c,
                        &[(&by_address, throttle::ADDRESS), (&by_pair, throttle::PAIR)],
                        now,
                    )
                })?;
                Ok(SignIn::Refused)
            }
        }
    })
    .await?;
    let counter = match outcome {
        SignIn::Welcome(_) => &state.metrics.logins_succeeded,
        SignIn::Refused => &state.metrics.logins_failed,
        SignIn::Wait(_) => &state.metrics.logins_throttled,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    Ok(outcome)
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
    let change = body.into_inner()?;
    let user = change_own_password(
        &state,
        caller.user.id,
        change.current_password,
        change.new_password,
    )
    .await?;
    token_answer(&state, &user)
}

/// Changes the password of the account `id` to `new_password` given its `current_password`
/// (422 naming the field that is wrong); every token and session the account had ends.
pub async fn change_own_password(
    state: &web::Data<AppState>,
    id: uuid::Uuid,
    current_password: String,
    new_password: String,
) -> Result<directory::User, ApiError> {
    let new_password = directory::password(&new_password)
        .map_err(|m| ApiError::validation(ValidationErrors::single("new_password", m)))?;
    if new_password == current_password {
        return Err(ApiError::invalid_field(
            "new_password",
            "must differ from the current password",
        ));
    }
    let writer = state.clone();
    let user = blocking(state.request_budget(), move || {
        let hash = writer.db.read(|c| store::users::password_hash(c, id))?;
        if !auth::verify_password(&current_password, &hash) {
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
    Ok(user)
}

/// `GET /api/v1/auth/me`: the caller's account.
pub async fn me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&caller.user))
}
