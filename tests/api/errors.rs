//! Bad input gets a documented 4xx problem, never a 5xx, and changes nothing.

use awc::http::Method;
use hotline::domain::access::Role;
use serde_json::json;

use crate::helpers::*;

fn assert_problem(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    assert_eq!(answer.code(), code, "{}", answer.text);
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(answer.body["status"], status);
    assert!(answer.body["title"].is_string() && answer.body["detail"].is_string());
    assert_eq!(answer.body["type"], format!("/problems/{code}"));
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    for body in [
        &b"{"[..],
        b"{\"type\": \"help\",}",
        b"",
        b"   ",
        b"not json",
        b"{\"title\":\"x\"} {}",
    ] {
        let answer = app
            .send_raw(
                Method::POST,
                "/api/v1/tickets",
                Some(&token),
                "application/json",
                body.to_vec(),
            )
            .await;
        assert_problem(&answer, 400, "malformed_json");
    }
    assert_eq!(app.count("tickets"), 0);
}

#[actix_web::test]
async fn wrong_types_unknown_and_missing_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let cases = [
        (json!({"type": "help", "title": 5, "content": "c"}), "title"),
        (
            json!({"type": "help", "title": "t", "content": "c", "confidential": "yes"}),
            "confidential",
        ),
        (
            json!({"type": "help", "title": "t", "content": "c", "latitude": "north", "longitude": 113.5}),
            "latitude",
        ),
        (
            json!({"type": "nonsense", "title": "t", "content": "c"}),
            "type",
        ),
        (
            json!({"type": "help", "title": "t", "content": "c", "priority": "asap"}),
            "priority",
        ),
        (
            json!({"type": "help", "title": "t", "content": "c", "category_id": "not-a-uuid"}),
            "category_id",
        ),
        (
            json!({"type": "help", "title": "t", "content": "c", "caller_age": 40}),
            "caller_age",
        ),
        (json!({"type": "help", "title": "t"}), "content"),
        (
            json!({"type": "help", "title": null, "content": "c"}),
            "title",
        ),
        (json!(["type", "help"]), "body"),
    ];
    for (body, field) in cases {
        let answer = app.register(&token, body.clone()).await;
        assert_problem(&answer, 422, "validation_failed");
        assert_eq!(answer.fields(), [field], "{body} → {}", answer.text);
    }
    assert_eq!(app.count("tickets"), 0);
}

#[actix_web::test]
async fn semantic_errors_are_reported_together() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let answer = app
        .register(
            &token,
            json!({"type": "help", "title": "  ", "content": "", "caller_phone": "call me", "latitude": 95.0, "longitude": 10.0}),
        )
        .await;
    assert_problem(&answer, 422, "validation_failed");
    assert_eq!(
        answer.fields(),
        ["title", "content", "caller_phone", "latitude"]
    );
    assert_eq!(app.count("tickets"), 0);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let answer = app
        .send_raw(
            Method::POST,
            "/api/v1/tickets",
            Some(&token),
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_problem(&answer, 415, "unsupported_media_type");
    let vendor = app
        .send_raw(
            Method::POST,
            "/api/v1/tickets",
            Some(&token),
            "application/vnd.hotline+json; charset=utf-8",
            br#"{"type":"help","title":"t","content":"c"}"#.to_vec(),
        )
        .await;
    assert_eq!(vendor.status, 201, "{}", vendor.text);
}

#[actix_web::test]
async fn oversized_bodies_are_413_and_change_nothing() {
    let app = spawn_app_with(Options {
        env: vec![("HOTLINE_BODY_LIMIT_BYTES", "2048".into())],
        ..Options::default()
    })
    .await;
    let (_, token) = app.login(Role::Agent);
    let big = json!({"type": "help", "title": "t", "content": "长".repeat(2000)});
    let answer = app.register(&token, big).await;
    assert_problem(&answer, 413, "payload_too_large");
    assert_eq!(app.count("tickets"), 0);
    let small = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "短"}),
        )
        .await;
    assert_eq!(small.status, 201);
}

#[actix_web::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let missing = app.get("/api/v1/nothing-here", &token).await;
    assert_problem(&missing, 404, "route_not_found");
    let wrong_method = app
        .send(Method::PUT, "/api/v1/tickets", Some(&token), &[], None)
        .await;
    assert_problem(&wrong_method, 405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
}

#[actix_web::test]
async fn ids_that_are_not_uuids_name_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    for path in [
        "/api/v1/tickets/42",
        "/api/v1/tickets/by-number/nope",
        "/api/v1/units/x",
        "/api/v1/tickets/%27%20OR%201=1/events",
    ] {
        let answer = app.get(path, &token).await;
        assert_problem(&answer, 404, "not_found");
    }
}

#[actix_web::test]
async fn unknown_query_parameters_are_refused() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let answer = app.get("/api/v1/tickets?stauts=registered", &token).await;
    assert_problem(&answer, 422, "validation_failed");
    assert_eq!(answer.fields(), ["stauts"]);
    let bad_bool = app.get("/api/v1/tickets?overdue=perhaps", &token).await;
    assert_problem(&bad_bool, 422, "validation_failed");
    assert_eq!(bad_bool.fields(), ["overdue"]);
}
