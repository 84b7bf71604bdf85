//! Signing in: the tokens and their secret, passwords, and the cache of the accounts tokens
//! stand for. A token only says who is calling; what they may do is read from their account
//! (cached for a couple of seconds), so that deactivating a user or changing a role takes effect
//! at once rather than when the token expires. The caller of a request is `api::Caller`; the
//! permission table and ticket scopes live in `domain::access`.

use std::time::Duration;

mod accounts;
mod keys;
mod passwords;

pub use accounts::UserGate;
pub use keys::{
    AUDIENCE, Claims, ISSUER, MIN_SECRET_BYTES, TokenKeys, resolve_secret, secret_path,
};
pub use passwords::{
    generate_password, hash_password, random_token, verify_nothing, verify_password,
};

/// What authentication needs from the application.
pub struct AuthState {
    pub keys: TokenKeys,
    pub gate: UserGate,
    pub token_ttl: Duration,
}
