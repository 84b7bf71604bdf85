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

/// `hotline tick --at` runs one pass of the ladder as of a chosen instant, so an office can see
/// on its own data what the ladder will do.
#[actix_web::test]
async fn tick_runs_a_pass_at_a_chosen_instant() {
    use chrono::TimeZone;
    let clock = std::sync::Arc::new(hotline::domain::clock::ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 10, 8, 1, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(Options {
        clock: Some(clock),
        ..Options::default()
    })
    .await;
    let (_, agent) = app.login(Role::Agent);
    let unit = app.add_unit("cgj", hotline::domain::directory::UnitKind::Department);
    let ticket = app.ticket(&agent, "路灯不亮").await;
    app.dispatch(&agent, ticket["id"].as_str().unwrap(), unit.id)
        .await;
    let tick = |at: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["tick", "--at", at])
            .env("DATABASE_URL", &app.database_url)
            .env("HOTLINE_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    // The signature was due Friday 9 October at 09:00; an hour later it is late.
    let late = tick("2026-10-09T10:00:00+08:00");
    let out = String::from_utf8_lossy(&late.stdout);
    assert!(
        late.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&late.stderr)
    );
    assert!(
        out.contains("ladder pass at 2026-10-09T10:00:00+08:00"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["sign", "red", "1"]),
        "{out}"
    );
    let events = app
        .get(
            &format!("/api/v1/tickets/{}/events", ticket["id"].as_str().unwrap()),
            &agent,
        )
        .await;
    let urged = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "urged")
        .expect("an urge");
    assert_eq!(urged["created_at"], "2026-10-09T02:00:00Z");
    let wrong = tick("tomorrow");
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("RFC 3339"));
}
