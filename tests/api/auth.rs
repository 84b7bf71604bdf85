//! Signing in, the first administrator, password changes and revocation.

use hotline::domain::access::Role;
use hotline::domain::clock::SystemClock;
use hotline::startup;
use serde_json::json;

use crate::helpers::*;

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Answer {
    app.send(
        awc::http::Method::POST,
        "/api/v1/auth/token",
        None,
        &[],
        Some(&json!({"username": username, "password": password})),
    )
    .await
}

#[actix_web::test]
async fn a_password_gets_a_bearer_token() {
    let app = spawn_app().await;
    app.add_user("wang.fang", Role::Agent);
    let answer = sign_in(&app, "Wang.Fang", PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 3600);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let token = answer.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/auth/me", token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["username"], "wang.fang");
    assert_eq!(me.body["role"], "agent");
    assert!(me.body["last_login_at"].is_string());
    assert!(me.body.get("password_hash").is_none());
}

#[actix_web::test]
async fn wrong_passwords_and_unknown_users_look_alike() {
    let app = spawn_app().await;
    app.add_user("agent1", Role::Agent);
    let wrong = sign_in(&app, "agent1", "not the password").await;
    let unknown = sign_in(&app, "nobody", PASSWORD).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    assert_eq!(
        (unknown.status, unknown.code()),
        (401, "invalid_credentials")
    );
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
}

#[actix_web::test]
async fn repeated_wrong_passwords_are_throttled() {
    let app = spawn_app().await;
    app.add_user("agent1", Role::Agent);
    for _ in 0..5 {
        assert_eq!(sign_in(&app, "agent1", "guess").await.status, 401);
    }
    let locked = sign_in(&app, "agent1", PASSWORD).await;
    assert_eq!((locked.status, locked.code()), (429, "rate_limited"));
    assert!(
        locked
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    app.add_user("agent2", Role::Agent);
    assert_eq!(sign_in(&app, "agent2", PASSWORD).await.status, 200);
}

#[actix_web::test]
async fn the_first_administrator_must_change_the_printed_password() {
    let app = spawn_app().await;
    let password = startup::bootstrap_admin(app.db(), &SystemClock)
        .unwrap()
        .expect("an admin is created");
    assert_eq!(
        startup::bootstrap_admin(app.db(), &SystemClock).unwrap(),
        None,
        "only once"
    );
    let first = sign_in(&app, "admin", &password).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["must_change_password"], true);
    let token = first.body["access_token"].as_str().unwrap().to_owned();
    let blocked = app.get("/api/v1/users", &token).await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (403, "password_change_required")
    );
    let weak = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": password, "new_password": "short"}),
        )
        .await;
    assert_eq!(
        (weak.status, weak.fields()),
        (422, vec!["new_password".to_owned()])
    );
    let wrong = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": "nope", "new_password": "a much better password"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.fields()),
        (422, vec!["current_password".to_owned()])
    );
    let changed = app
        .post(
            "/api/v1/auth/password",
            &token,
            &json!({"current_password": password, "new_password": "a much better password"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["must_change_password"], false);
    let fresh = changed.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users", fresh).await.status, 200);
    assert_eq!(sign_in(&app, "admin", &password).await.status, 401);
    assert_eq!(
        sign_in(&app, "admin", "a much better password")
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn deactivation_and_role_changes_take_effect_at_once() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (agent, token) = app.login(Role::Agent);
    assert_eq!(app.get("/api/v1/tickets", &token).await.status, 200);
    let demoted = app
        .patch(
            &format!("/api/v1/users/{}", agent.id),
            &admin,
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(demoted.status, 200, "{}", demoted.text);
    let revoked = app.get("/api/v1/tickets", &token).await;
    assert_eq!((revoked.status, revoked.code()), (401, "token_revoked"));
    let retoken =
        app.token(&hotline::store::users::get(&mut app.db().conn().unwrap(), agent.id).unwrap());
    let as_admin = app.get("/api/v1/tickets", &retoken).await;
    assert_eq!(as_admin.status, 403, "administrators see no tickets");
    app.patch(
        &format!("/api/v1/users/{}", agent.id),
        &admin,
        &json!({"active": false}),
    )
    .await;
    let disabled = app.get("/api/v1/units", &retoken).await;
    assert_eq!(disabled.status, 401);
    assert_eq!(sign_in(&app, &agent.username, PASSWORD).await.status, 401);
}

#[actix_web::test]
async fn an_administrator_resetting_a_password_ends_old_tokens() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (agent, token) = app.login(Role::Agent);
    let reset = app
        .patch(
            &format!("/api/v1/users/{}", agent.id),
            &admin,
            &json!({"password": "a brand new password", "must_change_password": true}),
        )
        .await;
    assert_eq!(reset.status, 200);
    assert_eq!(
        app.get("/api/v1/units", &token).await.code(),
        "token_revoked"
    );
    let signed_in = sign_in(&app, &agent.username, "a brand new password").await;
    assert_eq!(signed_in.body["must_change_password"], true);
}
