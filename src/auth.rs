//! Signing in, tokens, and the caller of a request.
//!
//! A token only says who is calling; what they may do is read from their account (cached for a
//! couple of seconds), so that deactivating a user or changing a role takes effect at once rather
//! than when the token expires. Every handler that takes a [`Caller`] is authenticated; the
//! permission table and ticket scopes live in `domain::access`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::AppState;
use crate::config::Secret;
use crate::domain::access::{Actor, Permission, Role, TicketScope};
use crate::domain::directory::User;
use crate::domain::problem::ProblemCode;
use crate::domain::ticket::{Channel, Registrant};
use crate::error::ApiError;
use crate::store::{self, DatabaseUrl, StoreError};

pub const ISSUER: &str = "hotline";
pub const AUDIENCE: &str = "hotline-api";
/// HS256 keys shorter than the hash are guessable offline from any token.
pub const MIN_SECRET_BYTES: usize = 32;
/// Clocks of the issuing and the checking instance may differ this much.
const EXPIRY_LEEWAY_SECONDS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Not valid before; this service does not set it, but honours it when a token has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The account's token generation at issue.
    pub generation: i64,
}

/// The signing key and the one way tokens are checked: HS256 only, `exp`, `iss`, `aud` required.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &Secret) -> Result<Self, String> {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "HOTLINE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes, it has {}",
                bytes.len()
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        // Expiry and `nbf` are checked against the service's clock (see `verify`), not the
        // library's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        })
    }

    pub fn issue(
        &self,
        user: &User,
        issued_at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.attachment.role.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: issued_at.timestamp(),
            exp: issued_at.timestamp() + ttl.as_secs() as i64,
            nbf: None,
            generation: user.token_generation,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("cannot sign a token: {e}")))
    }

    /// The claims of a token this service signed and that has not expired at `now`; 401
    /// otherwise.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let detail = match e.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidAlgorithm => "the token is not signed with HS256",
                    ErrorKind::InvalidSignature => "the token's signature is invalid",
                    ErrorKind::InvalidIssuer => "the token was not issued by this service",
                    ErrorKind::InvalidAudience => "the token is not meant for this service",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    ErrorKind::InvalidClaimFormat(_) => "a claim of the token has the wrong type",
                    _ => "the token is malformed",
                };
                ApiError::unauthorized(ProblemCode::InvalidToken, detail)
            })?;
        if claims.exp + EXPIRY_LEEWAY_SECONDS < now.timestamp() {
            return Err(ApiError::unauthorized(
                ProblemCode::InvalidToken,
                "the token has expired",
            ));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf - EXPIRY_LEEWAY_SECONDS > now.timestamp())
        {
            return Err(ApiError::unauthorized(
                ProblemCode::InvalidToken,
                "the token is not valid yet",
            ));
        }
        Ok(claims)
    }
}

/// The signing secret: the configured one, or on the embedded default one generated at first
/// start and kept beside the database (mode 0600) so that tokens survive restarts. PostgreSQL
/// deployments run several instances that must share it, so there it has to be configured.
pub fn resolve_secret(
    configured: Option<&Secret>,
    database: &DatabaseUrl,
) -> Result<Secret, String> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    match database {
        DatabaseUrl::Postgres(_) => Err(
            "HOTLINE_JWT_SECRET is required with PostgreSQL: every instance must sign with the same secret"
                .into(),
        ),
        DatabaseUrl::Sqlite { path, .. } => load_or_create_secret(&secret_path(path)),
    }
}

pub fn secret_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".jwt-secret");
    PathBuf::from(name)
}

fn load_or_create_secret(path: &Path) -> Result<Secret, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(Secret::new(text.trim())),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {e}", path.display()));
        }
        Err(_) => {}
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(secret.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(Secret::new(secret))
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_secret(path),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

fn argon2() -> Argon2<'static> {
    Argon2::default()
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("cannot hash a password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification, so that an unknown username answers as slowly as a
/// wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

/// A random password of `length` characters from an alphabet without look-alikes.
pub fn generate_password(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = vec![0u8; length];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of the alphabet's size; re-draw the few bytes that would bias it.
    let limit = 256 - 256 % ALPHABET.len();
    bytes
        .into_iter()
        .map(|mut b| {
            while usize::from(b) >= limit {
                let mut one = [0u8; 1];
                OsRng.fill_bytes(&mut one);
                b = one[0];
            }
            ALPHABET[usize::from(b) % ALPHABET.len()] as char
        })
        .collect()
}

/// Accounts as last read, so that most requests need no database round trip to authenticate.
pub struct UserGate {
    ttl: Duration,
    cache: Mutex<HashMap<Uuid, (User, Instant)>>,
}

impl UserGate {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, id: Uuid) -> Option<User> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&id)
            .filter(|(_, read_at)| read_at.elapsed() < self.ttl)
            .map(|(user, _)| user.clone())
    }

    fn remember(&self, user: &User) {
        if self.ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 50_000 {
            cache.clear();
        }
        cache.insert(user.id, (user.clone(), Instant::now()));
    }

    /// Forgets an account at once on this instance (after a change made through it).
    pub fn forget(&self, id: Uuid) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

/// What authentication needs from the application.
pub struct AuthState {
    pub keys: TokenKeys,
    pub gate: UserGate,
    pub token_ttl: Duration,
}

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
    let claims = state
        .auth
        .keys
        .verify(bearer_token(headers)?, state.now())?;
    let id = Uuid::parse_str(&claims.sub).map_err(|_| {
        ApiError::unauthorized(
            ProblemCode::InvalidToken,
            "the token's subject is not a user id",
        )
    })?;
    let user = match state.auth.gate.cached(id) {
        Some(user) => user,
        None => {
            let db = state.db.clone();
            let budget = state.request_budget();
            let found = crate::api::blocking(budget, move || {
                match db.read(|c| store::users::get(c, id)) {
                    Ok(user) => Ok(Some(user)),
                    Err(StoreError::NotFound) => Ok(None),
                    Err(e) => Err(ApiError::from(e)),
                }
            })
            .await?;
            let user = found.ok_or_else(|| {
                ApiError::unauthorized(ProblemCode::InvalidToken, "the token's user does not exist")
            })?;
            state.auth.gate.remember(&user);
            user
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::Attachment;

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("0123456789abcdef0123456789abcdef")).unwrap()
    }

    fn user() -> User {
        let now = Utc::now();
        User {
            id: Uuid::now_v7(),
            username: "agent".into(),
            display_name: "Agent".into(),
            attachment: Attachment {
                role: Role::Agent,
                unit_id: None,
                channel: None,
            },
            active: true,
            must_change_password: false,
            token_generation: 0,
            last_login_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(&Secret::new("too short")).is_err());
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let keys = keys();
        let user = user();
        let token = keys
            .issue(&user, Utc::now(), Duration::from_secs(60))
            .unwrap();
        assert_eq!(
            keys.verify(&token, Utc::now()).unwrap().sub,
            user.id.to_string()
        );
        let old = keys
            .issue(
                &user,
                Utc::now() - chrono::Duration::hours(2),
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(
            keys.verify(&old, Utc::now()).unwrap_err().code(),
            ProblemCode::InvalidToken
        );
        let then = Utc::now() - chrono::Duration::hours(2);
        assert!(keys.verify(&old, then).is_ok(), "the clock decides");
    }

    #[test]
    fn a_token_is_not_valid_before_its_nbf() {
        let keys = keys();
        let user = user();
        let now = Utc::now();
        let sign = |nbf: i64| {
            let claims = Claims {
                sub: user.id.to_string(),
                role: "agent".into(),
                iss: ISSUER.into(),
                aud: AUDIENCE.into(),
                iat: now.timestamp(),
                exp: now.timestamp() + 3600,
                nbf: Some(nbf),
                generation: 0,
            };
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap()
        };
        let later = sign(now.timestamp() + 600);
        assert_eq!(
            keys.verify(&later, now).unwrap_err().to_string(),
            "401 invalid_token: the token is not valid yet"
        );
        assert!(
            keys.verify(&later, now + chrono::Duration::seconds(600))
                .is_ok()
        );
        assert!(keys.verify(&sign(now.timestamp() - 5), now).is_ok());
    }

    #[test]
    fn another_key_does_not_verify() {
        let other = TokenKeys::new(&Secret::new("fedcba9876543210fedcba9876543210")).unwrap();
        let token = other
            .issue(&user(), Utc::now(), Duration::from_secs(60))
            .unwrap();
        assert!(keys().verify(&token, Utc::now()).is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_use_the_alphabet() {
        let password = generate_password(16);
        assert_eq!(password.len(), 16);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(!password.contains(['0', 'O', 'l', '1', 'I']));
        assert_ne!(generate_password(16), password);
    }

    #[test]
    fn the_secret_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("hotline.db");
        let url = DatabaseUrl::parse(db.to_str().unwrap()).unwrap();
        let first = resolve_secret(None, &url).unwrap();
        let second = resolve_secret(None, &url).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(secret_path(&db))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn postgres_needs_a_configured_secret() {
        let url = DatabaseUrl::parse("postgres://u@h/db").unwrap();
        assert!(resolve_secret(None, &url).is_err());
        let configured = Secret::new("x".repeat(40));
        assert_eq!(resolve_secret(Some(&configured), &url).unwrap(), configured);
    }
}
