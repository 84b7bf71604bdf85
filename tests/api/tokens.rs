//! A corpus of forged and broken tokens: each is a 401 problem, never a 5xx, and none gets a
//! ticket registered.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hotline::domain::access::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn sign(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn forged_tokens_are_refused() {
    let app = spawn_app().await;
    let (user, good) = app.login(Role::Agent);
    let now = chrono::Utc::now().timestamp();
    let claims = |changes: Value| {
        let mut base = json!({
            "sub": user.id.to_string(), "role": "agent", "iss": "hotline", "aud": "hotline-api",
            "iat": now, "exp": now + 600,
        });
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    };
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let corpus: Vec<(&str, String)> = vec![
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims(json!({})))
            ),
        ),
        (
            "alg none, signature kept",
            format!(
                "{}.{payload}.{signature}",
                b64(&json!({"alg": "none", "typ": "JWT"}))
            ),
        ),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, JWT_SECRET, &claims(json!({}))),
        ),
        (
            "HS384 with the right secret",
            sign(Algorithm::HS384, JWT_SECRET, &claims(json!({}))),
        ),
        (
            "RS256 header on an HMAC signature",
            format!(
                "{}.{payload}.{signature}",
                b64(&json!({"alg": "RS256", "typ": "JWT"}))
            ),
        ),
        (
            "another secret",
            sign(
                Algorithm::HS256,
                "another-secret-that-is-long-enough-0000",
                &claims(json!({})),
            ),
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"iss": "someone-else"})),
            ),
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"aud": "another-api"})),
            ),
        ),
        (
            "missing issuer",
            sign(Algorithm::HS256, JWT_SECRET, &claims(json!({"iss": null}))),
        ),
        (
            "missing audience",
            sign(Algorithm::HS256, JWT_SECRET, &claims(json!({"aud": null}))),
        ),
        (
            "missing exp",
            sign(Algorithm::HS256, JWT_SECRET, &claims(json!({"exp": null}))),
        ),
        (
            "expired",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"iat": now - 7200, "exp": now - 3600})),
            ),
        ),
        (
            "string exp",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"exp": (now + 600).to_string()})),
            ),
        ),
        (
            "missing subject",
            sign(Algorithm::HS256, JWT_SECRET, &claims(json!({"sub": null}))),
        ),
        (
            "subject not a uuid",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"sub": "admin"})),
            ),
        ),
        (
            "subject of nobody",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &claims(json!({"sub": uuid::Uuid::now_v7().to_string()})),
            ),
        ),
        ("truncated signature", good[..good.len() - 5].to_owned()),
        (
            "signature of another payload",
            format!(
                "{head}.{}.{signature}",
                b64(&claims(json!({"role": "admin"})))
            ),
        ),
        ("two parts", format!("{head}.{payload}")),
        ("garbage", "not.a.token".to_owned()),
        ("base64 garbage", "!!!.???.***".to_owned()),
        ("empty", String::new()),
    ];
    for (name, token) in &corpus {
        let answer = app
            .send(
                awc::http::Method::POST,
                "/api/v1/tickets",
                None,
                &[("authorization", &format!("Bearer {token}"))],
                Some(&json!({"type": "help", "title": "t", "content": "c"})),
            )
            .await;
        assert_eq!(answer.status, 401, "{name}: {}", answer.text);
        assert!(
            answer.code() == "invalid_token" || answer.code() == "missing_token",
            "{name}: {}",
            answer.text
        );
        assert_eq!(
            answer.header("content-type"),
            Some("application/problem+json"),
            "{name}"
        );
        assert!(
            answer
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer"),
            "{name}"
        );
    }
    assert_eq!(app.count("tickets"), 0);
    let accepted = app
        .register(&good, json!({"type": "help", "title": "t", "content": "c"}))
        .await;
    assert_eq!(accepted.status, 201, "the genuine token still works");
}

#[actix_web::test]
async fn missing_or_malformed_authorization_is_401() {
    let app = spawn_app().await;
    let none = app
        .send(awc::http::Method::GET, "/api/v1/tickets", None, &[], None)
        .await;
    assert_eq!((none.status, none.code()), (401, "missing_token"));
    for header in [
        "Basic YWdlbnQ6cGFzcw==",
        "Bearer",
        "Bearer    ",
        "token abc",
    ] {
        let answer = app
            .send(
                awc::http::Method::GET,
                "/api/v1/tickets",
                None,
                &[("authorization", header)],
                None,
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "invalid_token"),
            "{header}"
        );
    }
}
