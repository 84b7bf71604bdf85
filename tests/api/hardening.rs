//! What a careless client or an attacker sends gets a clear, documented answer and changes
//! nothing: control characters anywhere, several problems at once, query parameters a route
//! does not take, tokens of accounts that are gone, every role on every route, guessed passwords.

use std::sync::Arc;

use awc::http::Method;
use chrono::{TimeZone, Utc};
use hotline::api::ROUTES;
use hotline::auth::{AUDIENCE, Claims, ISSUER};
use hotline::domain::access::{Access, Role};
use hotline::domain::clock::ManualClock;
use hotline::domain::directory::UnitKind;
use hotline::store::users::UserChanges;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[actix_web::test]
async fn control_characters_are_refused_wherever_a_client_can_put_text() {
    let app = spawn_app().await;
    let (agent, token) = app.login(Role::Agent);
    let registered = app.ticket(&token, "路灯不亮").await;
    let id = registered["id"].as_str().unwrap();
    let number = registered["number"].as_str().unwrap();

    // JSON text, at any depth: 422 naming each field, nothing stored.
    let answer = app
        .register(
            &token,
            json!({"type": "help", "title": "a\u{0}b", "content": "c\u{7}", "caller_name": "\u{1b}[31m"}),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    assert_eq!(answer.fields(), ["caller_name", "content", "title"]);
    assert_eq!(app.count("tickets"), 1);
    let edit = app
        .send(
            Method::PATCH,
            &format!("/api/v1/tickets/{id}"),
            Some(&token),
            &[],
            Some(&json!({"address": "滨河路\u{0}18号"})),
        )
        .await;
    assert_eq!(
        (edit.status, edit.fields()),
        (422, vec!["address".to_owned()])
    );
    let merge = app
        .post(
            &format!("/api/v1/tickets/{id}/merge"),
            &token,
            &json!({"into_number": "26\u{0}113"}),
        )
        .await;
    assert_eq!(
        (merge.status, merge.fields()),
        (422, vec!["into_number".to_owned()])
    );
    // Tabs and line breaks are text.
    let multiline = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "第一行\n第二行\t完"}),
        )
        .await;
    assert_eq!(multiline.status, 201, "{}", multiline.text);

    // Query parameters: 422 naming the parameter.
    for (path, field) in [
        ("/api/v1/tickets?q=a%00b", "q"),
        ("/api/v1/units?q=%00", "q"),
        ("/api/v1/categories?q=x%1Fy", "q"),
        ("/api/v1/tickets?status=registered&q=%7F", "q"),
    ] {
        let answer = app.get(path, &token).await;
        assert_eq!(answer.status, 422, "{path}: {}", answer.text);
        assert_eq!(answer.fields(), [field], "{path}");
    }

    // Path segments: they name nothing, 404.
    for path in [
        "/api/v1/tickets/by-number/26%00113".to_owned(),
        format!("/api/v1/tickets/by-number/{number}%00"),
        "/api/v1/calendar/20%0026".to_owned(),
    ] {
        let answer = app.get(&path, &token).await;
        assert_eq!((answer.status, answer.code()), (404, "not_found"), "{path}");
    }

    // Signing in: like any wrong password.
    for body in [
        json!({"username": format!("{}\u{0}", agent.username), "password": PASSWORD}),
        json!({"username": agent.username, "password": format!("{PASSWORD}\u{0}")}),
        json!({"username": "\u{0}", "password": "\u{0}"}),
    ] {
        let answer = app
            .send(Method::POST, "/api/v1/auth/token", None, &[], Some(&body))
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "invalid_credentials"),
            "{body}"
        );
    }
    assert_eq!(app.count("tickets"), 2);
}

#[actix_web::test]
async fn one_answer_names_every_problem_of_a_body() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let answer = app
        .register(
            &token,
            json!({"type": "bogus", "title": "", "latitude": 100, "caller_phone": "abc", "content": "c", "priority": 3, "colour": "red"}),
        )
        .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    let fields = answer.fields();
    for field in [
        "type",
        "title",
        "latitude",
        "caller_phone",
        "priority",
        "colour",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} missing: {}",
            answer.text
        );
    }
    assert_eq!(app.count("tickets"), 0);
    // A missing field and a wrong type in an action's body, with a rule broken beside them.
    let ticket = app.ticket(&token, "噪音").await;
    let dispatch = app
        .post(
            &format!(
                "/api/v1/tickets/{}/dispatch",
                ticket["id"].as_str().unwrap()
            ),
            &token,
            &json!({"assisting_unit_ids": "all", "forced": "yes"}),
        )
        .await;
    assert_eq!(dispatch.status, 422, "{}", dispatch.text);
    let fields = dispatch.fields();
    for field in ["assisting_unit_ids", "forced", "primary_unit_id"] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field}: {}",
            dispatch.text
        );
    }
}

#[actix_web::test]
async fn a_route_refuses_query_parameters_it_does_not_take() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let dry = app
        .send(
            Method::POST,
            "/api/v1/tickets?dry_run=true",
            Some(&token),
            &[],
            Some(&json!({"type": "help", "title": "t", "content": "c"})),
        )
        .await;
    assert_eq!(
        (dry.status, dry.fields()),
        (422, vec!["dry_run".to_owned()])
    );
    assert_eq!(app.count("tickets"), 0, "nothing was registered");
    let ticket = app.ticket(&token, "t").await;
    let id = ticket["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/tickets/{id}?expand=all"),
        "/healthz?verbose=1".to_owned(),
        "/api/v1/auth/me?x=".to_owned(),
    ] {
        let answer = app.get(&path, &token).await;
        assert_eq!(answer.status, 422, "{path}: {}", answer.text);
    }
    let sign_in = app
        .send(
            Method::POST,
            "/api/v1/auth/token?remember=1",
            None,
            &[],
            Some(&json!({"username": "x", "password": "y"})),
        )
        .await;
    assert_eq!(sign_in.status, 422, "{}", sign_in.text);
    // Routes with parameters still take theirs.
    assert_eq!(app.get("/api/v1/tickets?limit=1", &token).await.status, 200);
}

#[actix_web::test]
async fn a_ticket_happens_in_a_township_or_street() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let town = app.add_unit("town", UnitKind::Township);
    for kind in [UnitKind::Department, UnitKind::Enterprise, UnitKind::Center] {
        let unit = app.add_unit(&format!("u-{kind}"), kind);
        let answer = app
            .register(
                &token,
                json!({"type": "help", "title": "t", "content": "c", "area_unit_id": unit.id}),
            )
            .await;
        assert_eq!(
            (answer.status, answer.fields()),
            (422, vec!["area_unit_id".to_owned()]),
            "{kind}: {}",
            answer.text
        );
    }
    let ticket = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "c", "area_unit_id": town.id}),
        )
        .await;
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    let department = app.add_unit("dept", UnitKind::Department);
    let moved = app
        .patch(
            &format!("/api/v1/tickets/{}", ticket.body["id"].as_str().unwrap()),
            &token,
            &json!({"area_unit_id": department.id}),
        )
        .await;
    assert_eq!(
        (moved.status, moved.fields()),
        (422, vec!["area_unit_id".to_owned()])
    );
}

/// A bad token is answered 401 before anything else about the request is looked at, whether
/// or not its account is in this instance's cache.
#[actix_web::test]
async fn authentication_is_decided_before_anything_else() {
    let app = spawn_app().await;
    let bad_body = json!({"type": "bogus"});
    let expect_401 = |answer: &Answer, what: &str| {
        assert_eq!(answer.status, 401, "{what}: {}", answer.text);
    };

    // An account that never existed.
    let ghost = app.add_user("ghost", Role::Agent);
    let ghost_token = app.token(&ghost);
    app.db()
        .write(|c| {
            use diesel::prelude::*;
            diesel::delete(
                hotline::store::schema::users::table.filter(
                    hotline::store::schema::users::id.eq(hotline::store::sql::Id(ghost.id)),
                ),
            )
            .execute(c)
            .map_err(hotline::store::StoreError::from)
        })
        .unwrap();
    expect_401(
        &app.register(&ghost_token, bad_body.clone()).await,
        "unknown account",
    );

    // A deactivated account, read fresh and from the cache.
    for cached in [false, true] {
        let (user, token) = app.login(Role::Agent);
        if cached {
            assert_eq!(app.get("/api/v1/auth/me", &token).await.status, 200);
        }
        app.db()
            .write(|c| {
                hotline::store::users::update(
                    c,
                    user.id,
                    &UserChanges {
                        active: Some(false),
                        ..UserChanges::default()
                    },
                    app.now(),
                )
            })
            .unwrap();
        app.state.auth.gate.forget(user.id);
        expect_401(&app.register(&token, bad_body.clone()).await, "deactivated");
        let upload = app
            .upload(&token, &Uuid::now_v7().to_string(), "x.jpg", b"")
            .await;
        expect_401(&upload, "deactivated, multipart");
    }

    // A token issued before the password changed.
    let (user, old_token) = app.login(Role::Agent);
    let changed = app
        .send(
            Method::POST,
            "/api/v1/auth/password",
            Some(&old_token),
            &[],
            Some(&json!({"current_password": PASSWORD, "new_password": "a new long passphrase"})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    expect_401(
        &app.register(&old_token, bad_body.clone()).await,
        "old token",
    );
    expect_401(
        &app.send(
            Method::POST,
            "/api/v1/tickets?dry_run=1",
            Some(&old_token),
            &[],
            Some(&bad_body),
        )
        .await,
        "old token, query",
    );
    expect_401(
        &app.get("/api/v1/tickets/by-number/26%00113", &old_token)
            .await,
        "old token, path",
    );
    let _ = user;

    // A token that is not valid yet.
    let (user, _) = app.login(Role::Agent);
    let now = app.now().timestamp();
    let claims = Claims {
        sub: user.id.to_string(),
        role: "agent".into(),
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + 3600,
        nbf: Some(now + 600),
        generation: user.token_generation,
    };
    let early = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let answer = app.get("/api/v1/auth/me", &early).await;
    assert_eq!((answer.status, answer.code()), (401, "invalid_token"));
}

/// A route's path with every parameter filled in with something of the right form.
fn sample_path(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| match segment {
            "{year}" => "2026".to_owned(),
            "{month}" => "2026-10".to_owned(),
            "{number}" => "2610010001".to_owned(),
            s if s.starts_with('{') => Uuid::now_v7().to_string(),
            s => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every role on every route of the table: refused with 403 exactly where `domain::access`
/// says the role may not, and never refused as a role where it may. A route added without a
/// rule does not compile; one whose handler decides otherwise fails here.
#[actix_web::test]
async fn every_role_meets_the_route_table_on_every_route() {
    let app = spawn_app().await;
    let tokens: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|role| (*role, app.login(*role).1))
        .collect();
    let mut checked = 0;
    for route in ROUTES {
        let path = sample_path(route.path);
        let method = Method::from_bytes(route.method.to_uppercase().as_bytes()).unwrap();
        let body = matches!(route.method, "post" | "put" | "patch").then(|| json!({}));
        if route.rule.access == Access::Public {
            let answer = app
                .send(method.clone(), &path, None, &[], body.as_ref())
                .await;
            assert!(
                ![401, 403].contains(&answer.status),
                "{} {path} is public: {}",
                route.method,
                answer.text
            );
            continue;
        }
        let anonymous = app
            .send(method.clone(), &path, None, &[], body.as_ref())
            .await;
        assert_eq!(
            anonymous.status, 401,
            "{} {path} without a token",
            route.method
        );
        for (role, token) in &tokens {
            let answer = app
                .send(method.clone(), &path, Some(token), &[], body.as_ref())
                .await;
            let admitted = route.rule.access.admits(*role);
            if admitted {
                assert!(
                    ![401, 403].contains(&answer.status) && answer.status < 500,
                    "{role} may {} {}: {} {}",
                    route.method,
                    route.path,
                    answer.status,
                    answer.text
                );
            } else {
                assert_eq!(
                    (answer.status, answer.code()),
                    (403, "forbidden"),
                    "{role} may not {} {}: {}",
                    route.method,
                    route.path,
                    answer.text
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked} pairs checked");
}

/// Signing in from behind the test's own address, as a proxy in front of the service would
/// forward it.
async fn sign_in_from(app: &TestApp, address: &str, username: &str, password: &str) -> Answer {
    app.send(
        Method::POST,
        "/api/v1/auth/token",
        None,
        &[("x-forwarded-for", address)],
        Some(&json!({"username": username, "password": password})),
    )
    .await
}

fn behind_a_proxy(clock: Arc<ManualClock>, database_url: Option<String>) -> Options {
    Options {
        env: vec![("HOTLINE_TRUSTED_PROXIES", "127.0.0.1".into())],
        clock: Some(clock),
        database_url,
    }
}

#[actix_web::test]
async fn wrong_passwords_slow_the_guesser_down_and_never_lock_the_owner_out() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(behind_a_proxy(clock.clone(), None)).await;
    app.add_user("agent1", Role::Agent);
    let attacker = "203.0.113.7";
    // Four wrong guesses are free; the fifth makes the next attempt wait a second.
    for _ in 0..5 {
        let answer = sign_in_from(&app, attacker, "agent1", "guess").await;
        assert_eq!((answer.status, answer.code()), (401, "invalid_credentials"));
    }
    let waiting = sign_in_from(&app, attacker, "agent1", PASSWORD).await;
    assert_eq!((waiting.status, waiting.code()), (429, "rate_limited"));
    assert_eq!(waiting.header("retry-after"), Some("1"));
    // The owner, elsewhere, is not kept out.
    let owner = sign_in_from(&app, "198.51.100.20", "agent1", PASSWORD).await;
    assert_eq!(owner.status, 200, "{}", owner.text);
    // Each further wrong guess doubles the wait.
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        sign_in_from(&app, attacker, "agent1", "guess").await.status,
        401
    );
    let longer = sign_in_from(&app, attacker, "agent1", "guess").await;
    assert_eq!(longer.header("retry-after"), Some("2"));
    clock.advance(chrono::Duration::seconds(2));
    // Once the wait is over, the right password works again, and is a fresh start.
    assert_eq!(
        sign_in_from(&app, attacker, "agent1", PASSWORD)
            .await
            .status,
        200
    );
    for _ in 0..4 {
        assert_eq!(
            sign_in_from(&app, attacker, "agent1", "guess").await.status,
            401
        );
    }
    // Without a trusted proxy, X-Forwarded-For says nothing: one address, one counter.
    let direct = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    direct.add_user("agent2", Role::Agent);
    for i in 0..5 {
        let answer = sign_in_from(&direct, &format!("192.0.2.{i}"), "agent2", "guess").await;
        assert_eq!(answer.status, 401);
    }
    let refused = sign_in_from(&direct, "192.0.2.99", "agent2", PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
}

#[actix_web::test]
async fn one_address_trying_many_usernames_is_stopped_before_any_hashing() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(behind_a_proxy(clock.clone(), None)).await;
    app.add_user("agent1", Role::Agent);
    let mut answers = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..1_000 {
        let answer = sign_in_from(&app, "203.0.113.9", &format!("user{i}"), "guess").await;
        *answers.entry(answer.status).or_default() += 1;
    }
    // Thirty failures are free, the thirty-first starts the waits; everything after waits
    // without a password being checked.
    assert_eq!(answers, [(401, 31), (429, 969)].into_iter().collect());
    let metrics = app
        .send(Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    assert!(
        metrics.contains("hotline_logins_failed_total 31"),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_logins_throttled_total 969"),
        "{metrics}"
    );
    assert_eq!(
        sign_in_from(&app, "198.51.100.20", "agent1", PASSWORD)
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn every_instance_counts_the_same_failures() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap(),
    ));
    let one = spawn_app_with(behind_a_proxy(clock.clone(), None)).await;
    let two = spawn_app_with(behind_a_proxy(
        clock.clone(),
        Some(one.database_url.clone()),
    ))
    .await;
    one.add_user("agent1", Role::Agent);
    for app in [&one, &two, &one, &two, &one] {
        assert_eq!(
            sign_in_from(app, "203.0.113.7", "agent1", "guess")
                .await
                .status,
            401
        );
    }
    let refused = sign_in_from(&two, "203.0.113.7", "agent1", PASSWORD).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
}

#[actix_web::test]
async fn patching_null_into_what_cannot_be_empty_is_refused() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    let unit = app.add_unit("u1", UnitKind::Department);
    let ticket = app.ticket(&agent, "t").await;
    for (path, token, body, field) in [
        (
            format!("/api/v1/units/{}", unit.id),
            &admin,
            json!({"name": null}),
            "name",
        ),
        (
            format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            &agent,
            json!({"title": null}),
            "title",
        ),
    ] {
        let answer = app.patch(&path, token, &body).await;
        assert_eq!(
            (answer.status, answer.fields()),
            (422, vec![field.to_owned()]),
            "{path}: {}",
            answer.text
        );
    }
}
