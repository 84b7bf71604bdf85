//! Nuisance callers (恶意骚扰): the office marks a number with a reason and an expiry, agents are
//! warned while the call is live, tickets from the number record the mark, and every mark,
//! lift and reading of the list is audited.

use chrono::Duration;
use hotline::domain::clock::Clock;
use serde_json::json;

use crate::helpers::*;
use crate::openapi::assert_conforms;

#[actix_web::test]
async fn a_marked_number_is_warned_about_and_recorded_until_lifted() {
    let w = world().await;
    let in_days = |days: i64| (w.clock.now() + Duration::days(days)).to_rfc3339();
    let mark = json!({"phone": "+86 138-0013-8000", "reason": "多次辱骂话务员", "expires_at": in_days(30)});

    // Only the office marks, with a reason and an expiry ahead and within a year.
    let by_agent = w
        .app
        .post("/api/v1/nuisance-numbers", &w.agent, &mark)
        .await;
    assert_eq!(by_agent.status, 403);
    for (body, field) in [
        (
            json!({"phone": "12", "reason": "x", "expires_at": in_days(1)}),
            "phone",
        ),
        (
            json!({"phone": "13800138000", "reason": " ", "expires_at": in_days(1)}),
            "reason",
        ),
        (
            json!({"phone": "13800138000", "reason": "x", "expires_at": in_days(-1)}),
            "expires_at",
        ),
        (
            json!({"phone": "13800138000", "reason": "x", "expires_at": in_days(400)}),
            "expires_at",
        ),
    ] {
        let refused = w
            .app
            .post("/api/v1/nuisance-numbers", &w.dispatcher, &body)
            .await;
        assert_eq!(
            (refused.status, refused.fields()),
            (422, vec![field.to_owned()]),
            "{body}"
        );
    }
    let marked = w
        .app
        .post("/api/v1/nuisance-numbers", &w.dispatcher, &mark)
        .await;
    assert_eq!(marked.status, 201, "{}", marked.text);
    assert_conforms(&marked, "NuisanceNumber");
    assert_eq!(marked.body["phone"], "138****8000");
    assert_eq!(marked.body["in_force"], true);
    let id = marked.body["id"].as_str().unwrap().to_owned();

    // The agent looks the caller up while the call is live: warned.
    let history = w
        .app
        .post(
            "/api/v1/caller-history",
            &w.agent,
            &json!({"phone": "13800138000"}),
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_conforms(&history, "CallerHistory");
    assert_eq!(history.body["nuisance"]["id"], json!(id));
    assert_eq!(history.body["nuisance"]["reason"], "多次辱骂话务员");

    // The call is registered all the same, and the ticket records the mark.
    let registered = w
        .app
        .register(
            &w.agent,
            json!({"type": "complaint", "title": "骚扰", "content": "无理要求", "caller_phone": "138 0013 8000"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    assert_eq!(registered.body["nuisance_number_id"], json!(id));
    let ticket = registered.body["id"].as_str().unwrap();
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{ticket}/events"), &w.dispatcher)
        .await;
    assert_eq!(
        events.body["items"][0]["details"]["nuisance_number_id"],
        json!(id)
    );
    // Another number: nothing recorded.
    let other = w
        .app
        .register(
            &w.agent,
            json!({"type": "consult", "title": "咨询", "content": "社保", "caller_phone": "13900139000"}),
        )
        .await;
    assert!(other.body["nuisance_number_id"].is_null());

    // The list, for the office only.
    assert_eq!(
        w.app.get("/api/v1/nuisance-numbers", &w.agent).await.status,
        403
    );
    let list = w.app.get("/api/v1/nuisance-numbers", &w.supervisor).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_conforms(&list, "NuisanceNumberPage");
    assert_eq!(list.body["items"][0]["id"], json!(id));

    // Lifted: in force no more, and new tickets record nothing.
    let lift = format!("/api/v1/nuisance-numbers/{id}/lift");
    let bare = w
        .app
        .post(&lift, &w.dispatcher, &json!({"reason": ""}))
        .await;
    assert_eq!(bare.status, 422);
    let lifted = w
        .app
        .post(&lift, &w.dispatcher, &json!({"reason": "经核实系误判"}))
        .await;
    assert_eq!(lifted.status, 200, "{}", lifted.text);
    assert_eq!(lifted.body["in_force"], false);
    assert_eq!(lifted.body["lift_reason"], "经核实系误判");
    let again = w
        .app
        .post(&lift, &w.dispatcher, &json!({"reason": "再次"}))
        .await;
    assert_eq!((again.status, again.code()), (409, "nuisance_mark_ended"));
    let after = w
        .app
        .register(
            &w.agent,
            json!({"type": "complaint", "title": "再来电", "content": "内容", "caller_phone": "13800138000"}),
        )
        .await;
    assert!(after.body["nuisance_number_id"].is_null());
    let in_force = w.app.get("/api/v1/nuisance-numbers", &w.dispatcher).await;
    assert!(in_force.body["items"].as_array().unwrap().is_empty());
    let all = w
        .app
        .get("/api/v1/nuisance-numbers?status=all", &w.dispatcher)
        .await;
    assert_eq!(all.body["items"][0]["id"], json!(id));
    let missing = w
        .app
        .post(
            &format!("/api/v1/nuisance-numbers/{}/lift", uuid::Uuid::now_v7()),
            &w.dispatcher,
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(missing.status, 404);

    // Every mark, lift and reading is in the audit log.
    let log = w.app.get("/api/v1/audit-log", &w.supervisor).await;
    assert_eq!(log.status, 200, "{}", log.text);
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["nuisance_marked", "nuisance_lifted", "nuisance_listed"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(!log.text.contains("13800138000"), "{}", log.text);
}

#[actix_web::test]
async fn an_expired_mark_warns_no_more() {
    let w = world().await;
    let expires = (w.clock.now() + Duration::days(2)).to_rfc3339();
    let marked = w
        .app
        .post(
            "/api/v1/nuisance-numbers",
            &w.dispatcher,
            &json!({"phone": "13700137000", "reason": "反复骚扰", "expires_at": expires}),
        )
        .await;
    assert_eq!(marked.status, 201, "{}", marked.text);
    w.later(3 * 24 * 60);
    let history = w
        .app
        .post(
            "/api/v1/caller-history",
            &w.agent,
            &json!({"phone": "13700137000"}),
        )
        .await;
    assert!(history.body["nuisance"].is_null(), "{}", history.text);
    let registered = w
        .app
        .register(
            &w.agent,
            json!({"type": "complaint", "title": "来电", "content": "内容", "caller_phone": "13700137000"}),
        )
        .await;
    assert!(registered.body["nuisance_number_id"].is_null());
}
