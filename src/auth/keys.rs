//! The tokens this service signs and the secret it signs them with.

use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::domain::directory::User;
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::store::DatabaseUrl;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::Role;
    use crate::domain::directory::Attachment;
    use uuid::Uuid;

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
