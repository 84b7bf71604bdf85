//! `Idempotency-Key`: a retry gets the first answer and changes nothing; the same key with another
//! body is refused; concurrent retries register once.

use awc::http::Method;
use hotline::domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> Answer {
    app.send(
        Method::POST,
        "/api/v1/tickets",
        Some(token),
        &[("idempotency-key", key)],
        Some(body),
    )
    .await
}

#[actix_web::test]
async fn a_retry_gets_the_first_answer() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let body = json!({"type": "help", "title": "重试", "content": "c"});
    let first = post_with_key(&app, &token, "retry-1", &body).await;
    let second = post_with_key(&app, &token, "retry-1", &body).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.body, second.body);
    assert_eq!(first.header("location"), second.header("location"));
    assert_eq!(first.header("etag"), second.header("etag"));
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("tickets"), 1);
    let other_key = post_with_key(&app, &token, "retry-2", &body).await;
    assert_ne!(other_key.body["id"], first.body["id"]);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    post_with_key(
        &app,
        &token,
        "k",
        &json!({"type": "help", "title": "一", "content": "c"}),
    )
    .await;
    let reused = post_with_key(
        &app,
        &token,
        "k",
        &json!({"type": "help", "title": "二", "content": "c"}),
    )
    .await;
    assert_eq!(
        (reused.status, reused.code()),
        (422, "idempotency_key_reused")
    );
    assert_eq!(app.count("tickets"), 1);
}

#[actix_web::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_app().await;
    let (_, first) = app.login(Role::Agent);
    let (_, second) = app.login(Role::Agent);
    let body = json!({"type": "help", "title": "同一个键", "content": "c"});
    let a = post_with_key(&app, &first, "shared", &body).await;
    let b = post_with_key(&app, &second, "shared", &body).await;
    assert_eq!((a.status, b.status), (201, 201));
    assert_ne!(a.body["id"], b.body["id"]);
}

#[actix_web::test]
async fn failures_are_not_remembered() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let bad = post_with_key(
        &app,
        &token,
        "fix-and-retry",
        &json!({"type": "help", "title": "", "content": "c"}),
    )
    .await;
    assert_eq!(bad.status, 422);
    let fixed = post_with_key(
        &app,
        &token,
        "fix-and-retry",
        &json!({"type": "help", "title": "改好了", "content": "c"}),
    )
    .await;
    assert_eq!(fixed.status, 201);
}

#[actix_web::test]
async fn concurrent_retries_register_once() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let body = json!({"type": "help", "title": "并发重试", "content": "c"});
    let sends: Vec<_> = (0..12)
        .map(|_| post_with_key(&app, &token, "burst", &body))
        .collect();
    let answers = futures_util::future::join_all(sends).await;
    assert!(
        answers.iter().all(|a| a.status == 201),
        "{:?}",
        answers.iter().map(|a| &a.text).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .all(|a| a.body["id"] == answers[0].body["id"])
    );
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.header("idempotent-replayed").is_none())
            .count(),
        1
    );
    assert_eq!(app.count("tickets"), 1);
    assert_eq!(app.count("idempotency_keys"), 1);
}

#[actix_web::test]
async fn keys_are_bounded() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let long = "k".repeat(256);
    let answer = post_with_key(
        &app,
        &token,
        &long,
        &json!({"type": "help", "title": "t", "content": "c"}),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, "invalid_idempotency_key")
    );
    assert_eq!(app.count("tickets"), 0);
}
