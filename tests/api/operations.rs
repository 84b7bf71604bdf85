//! Liveness, readiness, metrics, request ids, and a database that cannot be reached.

use hotline::domain::access::Role;

use crate::helpers::*;

#[actix_web::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app
        .send(awc::http::Method::GET, "/healthz", None, &[], None)
        .await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app
        .send(awc::http::Method::GET, "/readyz", None, &[], None)
        .await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let ticket = app.ticket(&token, "路灯不亮").await;
    let id = ticket["id"].as_str().unwrap();
    app.get(&format!("/api/v1/tickets/{id}"), &token).await;
    let metrics = app
        .send(awc::http::Method::GET, "/metrics", None, &[], None)
        .await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(metrics.text.contains(
        "hotline_http_requests_total{method=\"GET\",route=\"/api/v1/tickets/{id}\",status=\"200\"} 1"
    ), "{}", metrics.text);
    assert!(
        !metrics.text.contains(id),
        "raw paths must not become labels"
    );
    assert!(metrics.text.contains("hotline_tickets_registered_total 1"));
}

#[actix_web::test]
async fn the_contract_is_served() {
    let app = spawn_app().await;
    let spec = app
        .send(awc::http::Method::GET, "/openapi.yaml", None, &[], None)
        .await;
    assert_eq!(spec.status, 200);
    assert!(spec.text.starts_with("openapi: 3.1"));
}

#[actix_web::test]
async fn request_ids_are_kept_or_made() {
    let app = spawn_app().await;
    let given = app
        .send(
            awc::http::Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "call-center-42")],
            None,
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("call-center-42"));
    let made = app
        .send(
            awc::http::Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "bad id with spaces")],
            None,
        )
        .await;
    let id = made.header("x-request-id").unwrap();
    assert_eq!(id.len(), 32, "{id}");
}

#[actix_web::test]
async fn an_exhausted_pool_answers_503_with_retry_after() {
    let app = spawn_app_with(Options {
        env: vec![
            ("HOTLINE_DB_POOL_SIZE", "1".into()),
            ("HOTLINE_DB_TIMEOUT_MS", "200".into()),
        ],
        ..Options::default()
    })
    .await;
    let (_, token) = app.login(Role::Agent);
    let held = app.db().conn().unwrap();
    let ready = app
        .send(awc::http::Method::GET, "/readyz", None, &[], None)
        .await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.header("retry-after"), Some("1"));
    assert_eq!(ready.code(), "unavailable");
    let write = app
        .register(
            &token,
            serde_json::json!({"type": "help", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(write.status, 503, "{}", write.text);
    drop(held);
    assert_eq!(app.count("tickets"), 0);
    let again = app
        .send(awc::http::Method::GET, "/readyz", None, &[], None)
        .await;
    assert_eq!(again.status, 200);
}

#[actix_web::test]
async fn a_short_signing_secret_stops_the_start() {
    let (url, _database) = fresh_database();
    let env = std::collections::HashMap::from([
        ("DATABASE_URL", url),
        ("HOTLINE_BIND", "127.0.0.1:0".to_owned()),
        ("HOTLINE_JWT_SECRET", "only-twenty-bytes-ok".to_owned()),
    ]);
    let settings = hotline::config::Settings::from_lookup(|k| env.get(k).cloned()).unwrap();
    let refused = hotline::startup::Application::build(settings)
        .err()
        .expect("refused");
    assert!(
        refused.to_string().contains("at least 32 bytes"),
        "{refused}"
    );
}
