//! The office's actions on tickets in the wrong hands: recall and reassignment before a unit
//! signs (撤回/改派), deciding a unit's return (退单审核), and a supervisor reopening a closed
//! ticket within the policy's period (重新办理); their refusals and the units they tell.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

/// The kinds of the notifications in a feed.
async fn told(w: &World, token: &str) -> Vec<String> {
    let feed = w.app.get("/api/v1/notifications", token).await;
    assert_eq!(feed.status, 200, "{}", feed.text);
    feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn kinds(ticket: &Value) -> Vec<(String, String)> {
    ticket["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["unit_id"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_dispatch_not_yet_signed_is_recalled_or_reassigned() {
    let w = world().await;
    let id = w.complaint().await;
    w.dispatched(&id).await;
    // A reason is required, a unit cannot recall, and the units named must exist.
    let without = w
        .act(&w.dispatcher, &id, "recall", json!({"reason": ""}))
        .await;
    assert_eq!(
        (without.status, without.fields()),
        (422, vec!["reason".to_owned()])
    );
    let by_unit = w
        .act(&w.handler_a, &id, "recall", json!({"reason": "派错了"}))
        .await;
    assert_eq!(by_unit.status, 403);
    let nowhere = w
        .act(
            &w.dispatcher,
            &id,
            "recall",
            json!({"reason": "派错了", "primary_unit_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(nowhere.status, 422, "{}", nowhere.text);

    // 改派: unit A's assignment ends, unit B has the ticket in a new round.
    let reassigned = w
        .ok(
            &w.dispatcher,
            &id,
            "recall",
            json!({"reason": "应由城管办理", "primary_unit_id": w.unit_b.id}),
        )
        .await;
    assert_eq!(reassigned["status"], "dispatched");
    assert_eq!(reassigned["current_round"], 2);
    assert_eq!(reassigned["primary_unit_id"], json!(w.unit_b.id));
    assert_eq!(
        kinds(&reassigned),
        [
            (w.unit_a.id.to_string(), "closed".to_owned()),
            (w.unit_b.id.to_string(), "dispatched".to_owned())
        ]
    );
    assert!(
        told(&w, &w.handler_a)
            .await
            .contains(&"recalled".to_owned())
    );
    // Unit A no longer holds it: its inbox is empty and it cannot sign.
    let sign = w.act(&w.handler_a, &id, "sign", json!({})).await;
    assert!(matches!(sign.status, 403 | 404 | 409), "{}", sign.text);

    // 撤回 alone: back to registration, waiting for dispatch.
    let recalled = w
        .ok(
            &w.dispatcher,
            &id,
            "recall",
            json!({"reason": "需补充材料后再派"}),
        )
        .await;
    assert_eq!(recalled["status"], "registered");
    assert!(recalled["due_at"].is_null());
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.dispatcher)
        .await;
    assert!(events.text.contains("\"recalled\""), "{}", events.text);

    // Once signed, it is the unit's: no recall.
    w.dispatched(&id).await;
    w.signed(&id).await;
    let late = w
        .act(&w.dispatcher, &id, "recall", json!({"reason": "派错了"}))
        .await;
    assert_eq!((late.status, late.code()), (409, "invalid_transition"));
}

#[actix_web::test]
async fn the_office_decides_a_return() {
    let w = world().await;
    // Accepted: the ticket waits to be dispatched again.
    let id = w.complaint().await;
    w.dispatched(&id).await;
    w.ok(
        &w.handler_a,
        &id,
        "return",
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    let by_unit = w
        .act(
            &w.handler_a,
            &id,
            "return-decision",
            json!({"decision": "accept"}),
        )
        .await;
    assert_eq!(by_unit.status, 403);
    let accepted = w
        .ok(
            &w.dispatcher,
            &id,
            "return-decision",
            json!({"decision": "accept", "reason": "确属城管职责"}),
        )
        .await;
    assert_eq!(accepted["status"], "registered");
    assert_eq!(accepted["return_count"], 1);
    assert!(
        told(&w, &w.handler_a)
            .await
            .contains(&"return_accepted".to_owned())
    );
    let again = w
        .act(
            &w.dispatcher,
            &id,
            "return-decision",
            json!({"decision": "accept"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "invalid_transition"));

    // Refused: a reason is required, and the unit has the ticket again with the due time it
    // had (the default policy: a wrong return gains no time).
    let id = w.complaint().await;
    let dispatched = w.dispatched(&id).await;
    w.signed(&id).await;
    w.later(60);
    w.ok(
        &w.handler_a,
        &id,
        "return",
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    let bare = w
        .act(
            &w.dispatcher,
            &id,
            "return-decision",
            json!({"decision": "refuse"}),
        )
        .await;
    assert_eq!(
        (bare.status, bare.fields()),
        (422, vec!["reason".to_owned()])
    );
    let refused = w
        .ok(
            &w.dispatcher,
            &id,
            "return-decision",
            json!({"decision": "refuse", "reason": "属于你单位职责，请继续办理"}),
        )
        .await;
    assert_eq!(refused["status"], "handling");
    assert_eq!(refused["due_at"], dispatched["due_at"]);
    assert_eq!(refused["primary_unit_id"], json!(w.unit_a.id));
    assert!(
        told(&w, &w.handler_a)
            .await
            .contains(&"return_refused".to_owned())
    );
    // The unit replies as it would have.
    let replied = w.replied(&id).await;
    assert_eq!(replied["status"], "replied");
}

#[actix_web::test]
async fn a_refused_return_restarts_the_clock_when_the_policy_says_so() {
    let w = world().await;
    let policy = w.app.get("/api/v1/sla-policies", &w.admin).await;
    assert_eq!(policy.status, 200, "{}", policy.text);
    assert_eq!(policy.body["refused_return_clock"], "continues");
    let mut input = policy.body.clone();
    for key in ["version", "updated_by", "updated_at"] {
        input.as_object_mut().unwrap().remove(key);
    }
    input["refused_return_clock"] = json!("restarts");
    let put = w
        .app
        .send(
            awc::http::Method::PUT,
            "/api/v1/sla-policies",
            Some(&w.admin),
            &[],
            Some(&input),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);

    let id = w.complaint().await;
    let dispatched = w.dispatched(&id).await;
    w.signed(&id).await;
    w.ok(&w.handler_a, &id, "return", json!({"reason": "非本单位"}))
        .await;
    w.later(24 * 60);
    let refused = w
        .ok(
            &w.dispatcher,
            &id,
            "return-decision",
            json!({"decision": "refuse", "reason": "请继续办理"}),
        )
        .await;
    assert!(
        refused["due_at"].as_str().unwrap() > dispatched["due_at"].as_str().unwrap(),
        "{} after {}",
        refused["due_at"],
        dispatched["due_at"]
    );
}

#[actix_web::test]
async fn a_supervisor_reopens_a_closed_ticket_within_the_period() {
    let w = world().await;
    let id = w.ticket_in("closed").await;
    let by_dispatcher = w
        .act(
            &w.dispatcher,
            &id,
            "reopen",
            json!({"reason": "群众再次反映未解决"}),
        )
        .await;
    assert_eq!(by_dispatcher.status, 403);
    let bare = w
        .act(&w.supervisor, &id, "reopen", json!({"reason": " "}))
        .await;
    assert_eq!(bare.status, 422);
    let reopened = w
        .ok(
            &w.supervisor,
            &id,
            "reopen",
            json!({"reason": "群众再次反映未解决"}),
        )
        .await;
    assert_eq!(reopened["status"], "handling");
    assert!(reopened["closed_at"].is_null(), "{reopened}");
    assert!(reopened["due_at"].is_string());
    assert!(
        told(&w, &w.handler_a)
            .await
            .contains(&"reopened".to_owned())
    );
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.supervisor)
        .await;
    assert!(
        events.text.contains("群众再次反映未解决"),
        "{}",
        events.text
    );
    // It goes on as any ticket: replied, reviewed, called back, closed again.
    w.replied(&id).await;
    let open = w
        .act(&w.supervisor, &id, "reopen", json!({"reason": "再次"}))
        .await;
    assert_eq!((open.status, open.code()), (409, "invalid_transition"));

    // Past the period (20 working days by default, four weeks here): refused.
    let old = w.ticket_in("closed").await;
    w.later(29 * 24 * 60);
    let late = w
        .act(
            &w.supervisor,
            &old,
            "reopen",
            json!({"reason": "群众再次反映"}),
        )
        .await;
    assert_eq!((late.status, late.code()), (409, "reopen_period_over"));
}

#[actix_web::test]
async fn the_new_actions_answer_as_documented() {
    let w = world().await;
    let id = w.complaint().await;
    w.dispatched(&id).await;
    let answer = w
        .act(&w.dispatcher, &id, "recall", json!({"reason": "派错了"}))
        .await;
    assert_conforms(&answer, "Ticket");
}

#[actix_web::test]
async fn a_dispatched_duplicate_is_merged_and_the_kept_ticket_names_it() {
    let w = world().await;
    let kept = w.complaint().await;
    let duplicate = w.complaint().await;
    w.ok(
        &w.dispatcher,
        &duplicate,
        "dispatch",
        json!({"primary_unit_id": w.unit_a.id, "assisting_unit_ids": [w.unit_b.id]}),
    )
    .await;
    w.ok(&w.handler_a, &duplicate, "sign", json!({})).await;
    let before = w
        .app
        .get(&format!("/api/v1/tickets/{kept}"), &w.dispatcher)
        .await;
    let merged = w
        .ok(
            &w.dispatcher,
            &duplicate,
            "merge",
            json!({"into_ticket_id": kept}),
        )
        .await;
    assert_eq!(merged["status"], "merged");
    assert!(merged["due_at"].is_null());
    assert!(
        merged["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "closed"),
        "{merged}"
    );
    // Both units are told their assignments ended.
    for handler in [&w.handler_a, &w.handler_b] {
        assert!(told(&w, handler).await.contains(&"merged".to_owned()));
    }
    // The kept ticket's timeline names the duplicate, as its next version.
    let after = w
        .app
        .get(&format!("/api/v1/tickets/{kept}"), &w.dispatcher)
        .await;
    assert_eq!(
        after.body["version"].as_i64().unwrap(),
        before.body["version"].as_i64().unwrap() + 1
    );
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{kept}/events"), &w.dispatcher)
        .await;
    assert_conforms(&events, "EventPage");
    let last = events.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["kind"], "duplicate_merged");
    assert_eq!(last["details"]["ticket_id"], json!(duplicate));

    // Once a unit replied, the ticket is not a duplicate to merge away; nor is one merged
    // into itself, and a refused merge leaves the kept ticket as it was.
    let replied = w.ticket_in("replied").await;
    let late = w
        .act(
            &w.dispatcher,
            &replied,
            "merge",
            json!({"into_ticket_id": kept}),
        )
        .await;
    assert_eq!((late.status, late.code()), (409, "invalid_transition"));
    let unchanged = w
        .app
        .get(&format!("/api/v1/tickets/{kept}"), &w.dispatcher)
        .await;
    assert_eq!(unchanged.body["version"], after.body["version"]);
}

#[actix_web::test]
async fn a_dispatch_sheet_prints_the_ticket_for_whoever_may_read_it() {
    let w = world().await;
    let secret = w
        .app
        .register(
            &w.agent,
            json!({"type": "report", "title": "夜间<施工>", "content": "工地22点后仍在施工", "caller_name": "王五", "caller_phone": "13700002222", "confidential": true, "priority": "urgent"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/tickets/{secret}/dispatch-sheet");
    let (_, admin) = w.app.login(hotline::domain::access::Role::Admin);
    let category = w
        .app
        .post("/api/v1/categories", &admin, &json!({"name": "噪音扰民"}))
        .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let edited = w
        .app
        .patch(
            &format!("/api/v1/tickets/{secret}"),
            &w.dispatcher,
            &json!({"category_id": category.body["id"]}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);

    let before = w.app.get(&path, &w.dispatcher).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert!(before.text.contains("本工单尚未交办"), "{}", before.text);

    w.dispatched(&secret).await;
    let office = w.app.get(&path, &w.dispatcher).await;
    assert_eq!(office.status, 200);
    assert!(
        office
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    for printed in [
        "工单交办单",
        "夜间&lt;施工&gt;",
        "主办",
        "单位rsj",
        "紧急",
        "举报",
        "137****2222",
        "噪音扰民",
    ] {
        assert!(
            office.text.contains(printed),
            "{printed} in {}",
            office.text
        );
    }
    assert!(!office.text.contains("13700002222"));

    // The unit reads it without the confidential caller; another unit does not see it at all.
    let unit = w.app.get(&path, &w.handler_a).await;
    assert_eq!(unit.status, 200);
    assert!(unit.text.contains("单位rsj"));
    assert!(!unit.text.contains("137****2222") && !unit.text.contains("王*"));
    assert!(unit.text.contains("（保密）"));
    let other = w.app.get(&path, &w.handler_b).await;
    assert_eq!((other.status, other.code()), (404, "not_found"));
}

/// A sub-unit of unit A (a township's community, a bureau's office) with a handler.
async fn sub_unit_of_a(w: &World) -> (String, String) {
    let (_, admin) = w.app.login(hotline::domain::access::Role::Admin);
    let sub = w
        .app
        .post(
            "/api/v1/units",
            &admin,
            &json!({"code": "rsj-sqb", "name": "社区办", "kind": "department", "parent_id": w.unit_a.id}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.text);
    let sub_id = sub.body["id"].as_str().unwrap().to_owned();
    let user = w.app.add_user_in(
        "handler-sub",
        hotline::domain::access::Role::UnitHandler,
        Some(sub_id.parse().unwrap()),
    );
    (sub_id, w.app.token(&user))
}

#[actix_web::test]
async fn a_unit_forwards_to_its_sub_unit_which_replies_in_its_name() {
    let w = world().await;
    let (sub, sub_handler) = sub_unit_of_a(&w).await;
    let id = w.complaint().await;
    w.dispatched(&id).await;
    let path = format!("/api/v1/tickets/{id}");
    assert_eq!(w.app.get(&path, &sub_handler).await.status, 404);

    // Signed first, to a unit below it, by the unit itself.
    let unsigned = w
        .act(&w.handler_a, &id, "forward", json!({"unit_id": sub}))
        .await;
    assert_eq!((unsigned.status, unsigned.code()), (409, "not_signed"));
    w.signed(&id).await;
    let sideways = w
        .act(
            &w.handler_a,
            &id,
            "forward",
            json!({"unit_id": w.unit_b.id}),
        )
        .await;
    assert_eq!(
        (sideways.status, sideways.fields()),
        (422, vec!["unit_id".to_owned()])
    );
    let by_office = w
        .act(&w.dispatcher, &id, "forward", json!({"unit_id": sub}))
        .await;
    assert_eq!(by_office.status, 403);

    let answer = w
        .act(
            &w.handler_a,
            &id,
            "forward",
            json!({"unit_id": sub, "note": "请社区核实后答复"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_conforms(&answer, "Ticket");
    let forwarded = answer.body;
    let primary = forwarded["assignments"][0].clone();
    let forward = forwarded["assignments"][1].clone();
    assert_eq!(
        (&forward["unit_id"], &forward["role"], &forward["status"]),
        (&json!(sub), &json!("forwarded"), &json!("dispatched"))
    );
    assert_eq!(forward["forwarded_from_id"], primary["id"]);
    assert_eq!(forward["due_at"], primary["due_at"]);
    assert_eq!(forwarded["primary_unit_id"], json!(w.unit_a.id));
    assert!(
        told(&w, &sub_handler)
            .await
            .contains(&"forwarded".to_owned())
    );

    // The sub-unit sees the ticket in its list; unit B still does not.
    let inbox = w.app.get("/api/v1/tickets", &sub_handler).await;
    assert_eq!(inbox.status, 200, "{}", inbox.text);
    assert_eq!(inbox.body["items"][0]["id"], json!(id));
    assert_eq!(w.app.get(&path, &w.handler_b).await.status, 404);

    let early = w.act(&sub_handler, &id, "reply", w.reply_body()).await;
    assert_eq!((early.status, early.code()), (409, "not_signed"));
    w.ok(&sub_handler, &id, "sign", json!({})).await;
    let again = w
        .act(
            &sub_handler,
            &id,
            "forward",
            json!({"unit_id": w.unit_b.id}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "not_forwardable"));
    let replied = w.ok(&sub_handler, &id, "reply", w.reply_body()).await;
    assert_eq!(replied["status"], "replied");
    assert_eq!(replied["assignments"][0]["status"], "replied");
    assert_eq!(replied["assignments"][1]["status"], "closed");
    // The reply is unit A's: it answers for the ticket and the figures count it.
    let replies = w
        .app
        .get(&format!("/api/v1/tickets/{id}/replies"), &w.dispatcher)
        .await;
    assert_eq!(replies.body["items"][0]["unit_id"], json!(w.unit_a.id));
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.dispatcher)
        .await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"forwarded"), "{kinds:?}");
}

#[actix_web::test]
async fn a_sub_unit_hands_a_forward_back_to_its_unit() {
    let w = world().await;
    let (sub, sub_handler) = sub_unit_of_a(&w).await;
    let id = w.complaint().await;
    w.dispatched(&id).await;
    w.signed(&id).await;
    w.ok(&w.handler_a, &id, "forward", json!({"unit_id": sub}))
        .await;
    let without = w
        .act(&sub_handler, &id, "return", json!({"reason": ""}))
        .await;
    assert_eq!(without.status, 422);
    let back = w
        .ok(
            &sub_handler,
            &id,
            "return",
            json!({"reason": "不在本社区辖区"}),
        )
        .await;
    assert_eq!(back["status"], "handling");
    assert_eq!(back["return_count"], 0);
    assert_eq!(back["assignments"][1]["status"], "returned");
    assert!(
        told(&w, &w.handler_a)
            .await
            .contains(&"forward_returned".to_owned())
    );
    // The office hears nothing of it; the unit replies itself.
    assert!(
        !told(&w, &w.dispatcher)
            .await
            .contains(&"forward_returned".to_owned())
    );
    w.replied(&id).await;
}
