//! Signing in and out of the console. A session is a random secret in an HttpOnly, SameSite
//! cookie (Secure over TLS), known to the database only by its SHA-256 (see
//! [`crate::store::sessions`]); every form of the session carries its own random token back,
//! and a post without it changes nothing. Signing in passes the same throttle and checks as the
//! API's tokens ([`crate::api::auth::sign_in`]).

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Chrome, ConsoleError, Person, render};
use crate::api::auth::{SignIn, client_address};
use crate::api::{AppState, blocking, current_account};
use crate::auth;
use crate::domain::directory::{PASSWORD_MIN, User};
use crate::domain::session::{self as rules, SessionStanding, SessionTimes};
use crate::error::ApiError;
use crate::store::{self, sessions::Session};

const COOKIE: &str = "hotline_session";

/// The database's name for a session: the SHA-256 of its cookie's secret.
fn key_of(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A signed-in account with its session, whether or not its password must still be changed:
/// what changing it and signing out take.
pub struct Account {
    pub user: User,
    pub form_token: String,
    key: String,
}

/// A signed-in account with nothing pending: what every other page takes. Without a session the
/// browser is sent to sign in; with a password change pending, to change it.
pub struct Signed {
    pub user: User,
    pub form_token: String,
}

impl Signed {
    pub fn person(&self) -> Person {
        Person::of(&self.user, &self.form_token)
    }
}

impl FromRequest for Account {
    type Error = ConsoleError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = req.cookie(COOKIE).map(|c| c.value().to_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| {
                ConsoleError::Api(ApiError::internal(
                    "the application state is not configured",
                ))
            })?;
            let secret = secret.ok_or(ConsoleError::SignIn)?;
            let key = key_of(&secret);
            let now = state.now();
            let looked_up = key.clone();
            let budget = state.request_budget();
            let found = blocking(budget, move || {
                let db = &state.db;
                let Some(session) = db.read(|c| store::sessions::find(c, &looked_up))? else {
                    return Ok(None);
                };
                // The account as the API's bearer tokens see it: the same cache, the same bound
                // on staleness.
                let Some(user) = current_account(&state, session.user_id)? else {
                    return Ok(None);
                };
                let account_changed =
                    !user.active || user.token_generation != session.token_generation;
                match session.times.standing(now) {
                    SessionStanding::Live { record_use } if !account_changed => {
                        if record_use {
                            db.write(|c| store::sessions::record_use(c, &looked_up, now))?;
                        }
                        Ok(Some((user, session.form_token)))
                    }
                    _ => {
                        db.write(|c| store::sessions::delete(c, &looked_up))?;
                        Ok(None)
                    }
                }
            })
            .await
            .map_err(ConsoleError::Api)?;
            let (user, form_token) = found.ok_or(ConsoleError::SignIn)?;
            Ok(Account {
                user,
                form_token,
                key,
            })
        })
    }
}

impl FromRequest for Signed {
    type Error = ConsoleError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let account = Account::from_request(req, payload);
        Box::pin(async move {
            let account = account.await?;
            if account.user.must_change_password {
                return Err(ConsoleError::ChangePassword);
            }
            Ok(Signed {
                user: account.user,
                form_token: account.form_token,
            })
        })
    }
}

/// A form's own copy of its session's token, compared in constant time.
pub fn check_form_token(sent: &str, expected: &str) -> Result<(), ConsoleError> {
    let same = sent.len() == expected.len()
        && sent
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ConsoleError::Api(ApiError::forbidden(
            crate::domain::problem::ProblemCode::Forbidden,
            "this form is not from this session: reload the page and send it again",
        )))
    }
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage<'a> {
    chrome: Chrome,
    message: Option<&'a str>,
    username: &'a str,
}

/// `GET /sign-in`.
pub async fn sign_in_page(state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    render(
        HttpResponse::Ok(),
        &SignInPage {
            chrome: Chrome::anonymous(&state),
            message: None,
            username: "",
        },
    )
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

/// `POST /sign-in`: a session for a username and password, under the API's throttle.
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, ConsoleError> {
    let Credentials { username, password } = form.into_inner();
    let address = client_address(&req, &state.trusted_proxies);
    let refused = |status: actix_web::http::StatusCode, message: &str| {
        render(
            HttpResponse::build(status),
            &SignInPage {
                chrome: Chrome::anonymous(&state),
                message: Some(message),
                username: &username,
            },
        )
    };
    match crate::api::auth::sign_in(&state, &address, &username, password)
        .await
        .map_err(ConsoleError::Api)?
    {
        SignIn::Refused => refused(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "用户名或密码错误。",
        ),
        SignIn::Wait(seconds) => {
            let mut page = refused(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                &format!("错误次数过多，请 {seconds} 秒后再试。"),
            )?;
            page.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            Ok(page)
        }
        SignIn::Welcome(user) => {
            let target = if user.must_change_password {
                "/password"
            } else {
                "/"
            };
            start_session(&state, &req, &user, None, target).await
        }
    }
}

/// Starts a session for `user`, ending `replacing` (the one it takes over from), and sends the
/// browser to `target` with its cookie. Sessions that ended unused are forgotten on the way.
async fn start_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    user: &User,
    replacing: Option<String>,
    target: &str,
) -> Result<HttpResponse, ConsoleError> {
    let secret = auth::random_token();
    let now = state.now();
    let session = Session {
        user_id: user.id,
        form_token: auth::random_token(),
        token_generation: user.token_generation,
        times: SessionTimes {
            started_at: now,
            used_at: now,
        },
    };
    let key = key_of(&secret);
    let db = state.db.clone();
    blocking(state.request_budget(), move || {
        db.write(|c| {
            if let Some(old) = &replacing {
                store::sessions::delete(c, old)?;
            }
            store::sessions::forget_ended(c, now - rules::IDLE, now - rules::LONGEST)?;
            store::sessions::insert(c, &key, &session)
        })
        .map_err(ApiError::from)
    })
    .await
    .map_err(ConsoleError::Api)?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target))
        .cookie(session_cookie(req, secret))
        .finish())
}

fn session_cookie(req: &HttpRequest, secret: String) -> Cookie<'static> {
    Cookie::build(COOKIE, secret)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(CookieDuration::seconds(rules::LONGEST.num_seconds()))
        .finish()
}

#[derive(Deserialize)]
pub struct FormToken {
    /// Missing: refused as a wrong one is.
    #[serde(default)]
    csrf: String,
}

/// `POST /sign-out`: the session ends, here and on every instance.
pub async fn sign_out(
    state: web::Data<AppState>,
    account: Account,
    form: web::Form<FormToken>,
) -> Result<HttpResponse, ConsoleError> {
    check_form_token(&form.csrf, &account.form_token)?;
    let db = state.db.clone();
    let key = account.key;
    blocking(state.request_budget(), move || {
        db.write(|c| store::sessions::delete(c, &key))
            .map_err(ApiError::from)
    })
    .await
    .map_err(ConsoleError::Api)?;
    let mut gone = Cookie::build(COOKIE, "").path("/").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/sign-in"))
        .cookie(gone)
        .finish())
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage<'a> {
    chrome: Chrome,
    required: bool,
    message: Option<&'a str>,
    form_token: &'a str,
    password_min: usize,
}

/// `GET /password`.
pub async fn password_page(
    state: web::Data<AppState>,
    account: Account,
) -> Result<HttpResponse, ConsoleError> {
    render(
        HttpResponse::Ok(),
        &PasswordPage {
            chrome: Chrome::of(&state, Person::of(&account.user, &account.form_token)),
            required: account.user.must_change_password,
            message: None,
            form_token: &account.form_token,
            password_min: PASSWORD_MIN,
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

/// `POST /password`: the account's own password, as the API changes it. The session goes on
/// under the new password; every other session and token of the account ends.
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    account: Account,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let PasswordForm {
        csrf,
        current_password,
        new_password,
    } = form.into_inner();
    check_form_token(&csrf, &account.form_token)?;
    let changed = crate::api::auth::change_own_password(
        &state,
        account.user.id,
        current_password,
        new_password,
    )
    .await;
    let user = match changed {
        Ok(user) => user,
        Err(refusal) if refusal.status().is_client_error() => {
            let message = if refusal.names_field("current_password") {
                "当前密码不正确。".to_owned()
            } else {
                format!("新密码须至少 {PASSWORD_MIN} 个字符，且不同于当前密码。")
            };
            return render(
                HttpResponse::UnprocessableEntity(),
                &PasswordPage {
                    chrome: Chrome::of(&state, Person::of(&account.user, &account.form_token)),
                    required: account.user.must_change_password,
                    message: Some(&message),
                    form_token: &account.form_token,
                    password_min: PASSWORD_MIN,
                },
            );
        }
        Err(failure) => return Err(ConsoleError::Api(failure)),
    };
    // The change ended every session of the account, this one with them: it goes on as a new
    // one, so that a session taken before the change cannot.
    start_session(&state, &req, &user, Some(account.key), "/").await
}
