//! The caller of a request: the account the route gate admitted, as handlers take it.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use uuid::Uuid;

use super::AppState;
use crate::domain::access::{Actor, Permission, Role, TicketScope};
use crate::domain::directory::User;
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::{Channel, Registrant};
use crate::error::ApiError;
use crate::store::{self, StoreError};

/// A signed-in user, whether or not they still have to change their password.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
}

/// The caller of a request: a signed-in, active user with nothing pending. A handler that takes
/// one cannot run unauthenticated.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
}

impl Caller {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.attachment.role
    }

    pub fn unit_id(&self) -> Option<Uuid> {
        self.user.attachment.unit_id
    }

    /// 403 unless the caller's role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role().may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                ProblemCode::Forbidden,
                format!("the role `{}` may not do this", self.role()),
            ))
        }
    }

    /// The tickets this caller may see (403 for roles that see none).
    pub fn ticket_scope(&self) -> Result<TicketScope, ApiError> {
        self.require(Permission::ReadTickets)?;
        self.role()
            .ticket_scope(self.id(), self.unit_id())
            .ok_or_else(|| {
                ApiError::forbidden(ProblemCode::Forbidden, "this account sees no tickets")
            })
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.id(), self.role(), self.unit_id())
    }

    pub fn registrant(&self) -> Registrant {
        Registrant {
            role: self.role(),
            own_channel: self.user.attachment.channel,
        }
    }

    pub fn channel(&self) -> Option<Channel> {
        self.user.attachment.channel
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            ProblemCode::MissingToken,
            "send Authorization: Bearer <token>",
        )
    })?;
    let text = value.to_str().map_err(|_| {
        ApiError::unauthorized(
            ProblemCode::InvalidToken,
            "the Authorization header is not text",
        )
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::unauthorized(
            ProblemCode::InvalidToken,
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// The account a request's bearer token stands for, as it is now: 401 for a token this service
/// did not sign, one that expired or is not valid yet, and one of an account that is gone,
/// deactivated, or whose password or access changed since.
pub async fn authenticate(
    state: &web::Data<AppState>,
    headers: &HeaderMap,
) -> Result<User, ApiError> {
    authenticate_token(state, bearer_token(headers)?).await
}

/// [`authenticate`] for a token that came another way (Open311's `api_key` form field).
pub async fn authenticate_token(
    state: &web::Data<AppState>,
    token: &str,
) -> Result<User, ApiError> {
    let claims = state.auth.keys.verify(token, state.now())?;
    let id = Uuid::parse_str(&claims.sub).map_err(|_| {
        ApiError::unauthorized(
            ProblemCode::InvalidToken,
            "the token's subject is not a user id",
        )
    })?;
    let user = match state.auth.gate.cached(id) {
        Some(user) => user,
        None => {
            let state = state.clone();
            let budget = state.request_budget();
            super::blocking(budget, move || current_account(&state, id))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        ProblemCode::InvalidToken,
                        "the token's user does not exist",
                    )
                })?
        }
    };
    if !user.active {
        return Err(ApiError::unauthorized(
            ProblemCode::AccountDisabled,
            "this account is deactivated",
        ));
    }
    if claims.generation != user.token_generation {
        return Err(ApiError::unauthorized(
            ProblemCode::TokenRevoked,
            "the account's password or access changed after this token was issued",
        ));
    }
    Ok(user)
}

/// The account `id` as this instance knows it: from the account cache (stale by at most its
/// time to live), else read and remembered; `None` when there is no such account. It blocks:
/// call it off the async workers.
pub fn current_account(state: &AppState, id: Uuid) -> Result<Option<User>, ApiError> {
    if let Some(user) = state.auth.gate.cached(id) {
        return Ok(Some(user));
    }
    match state.db.read(|c| store::users::get(c, id)) {
        Ok(user) => {
            state.auth.gate.remember(&user);
            Ok(Some(user))
        }
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// The account the route gate let through, kept with the request for the handler.
#[derive(Debug, Clone)]
pub struct Admitted(pub User);

/// The account the gate admitted, taken from the request (a handler has one caller).
fn admitted(req: &HttpRequest) -> Result<User, ApiError> {
    req.extensions_mut()
        .remove::<Admitted>()
        .map(|a| a.0)
        .ok_or_else(|| {
            ApiError::internal(format!(
                "{} {} takes a signed-in caller but its route is public",
                req.method(),
                req.path()
            ))
        })
}

/// 403 while the account's one-time password has not been changed.
pub fn refuse_pending_password_change(user: &User) -> Result<(), ApiError> {
    if user.must_change_password {
        Err(ApiError::forbidden(
            ProblemCode::PasswordChangeRequired,
            "change the password first: POST /api/v1/auth/password",
        ))
    } else {
        Ok(())
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(admitted(req).map(|user| Authenticated { user }))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(admitted(req).and_then(|user| {
            refuse_pending_password_change(&user)?;
            Ok(Caller { user })
        }))
    }
}
