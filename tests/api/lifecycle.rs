//! The lifecycle through HTTP: every action's success and refusals, the full walk with a return,
//! an extension, a rework and a reopened callback, conflicting actions at once, and the
//! timeline that replays to what is stored.

use std::sync::Arc;

use awc::http::Method;
use hotline::domain::access::Role;
use hotline::domain::clock::ManualClock;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use crate::openapi::assert_conforms;

#[actix_web::test]
async fn the_full_walk_from_registration_to_closure() {
    let w = world().await;
    let id = w.complaint().await;
    // Round 1: to 人社局 with 城管局 assisting; 人社局 hands it back.
    let dispatched = w
        .ok(
            &w.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id, "assisting_unit_ids": [w.unit_b.id]}),
        )
        .await;
    assert_eq!(dispatched["status"], "dispatched");
    assert_eq!(dispatched["current_round"], 1);
    let assignments = dispatched["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 2);
    assert_eq!(assignments[0]["role"], "primary");
    assert_eq!(
        assignments[0]["deadlines"]["reply"]["rule"],
        "complaint/normal reply"
    );
    assert_eq!(
        assignments[0]["deadlines"]["reply"]["limit"],
        json!({"unit": "working_days", "amount": 15})
    );
    // Dispatched on Monday 16 Nov 09:00: one working day to sign, fifteen to reply.
    assert_eq!(dispatched["sign_due_at"], "2026-11-17T01:00:00Z");
    assert_eq!(dispatched["due_at"], "2026-12-07T01:00:00Z");
    w.later(60);
    let returned = w
        .ok(
            &w.handler_a,
            &id,
            "return",
            json!({"reason": "属于城管职责"}),
        )
        .await;
    assert_eq!(
        (
            returned["status"].as_str(),
            returned["return_count"].as_i64()
        ),
        (Some("returned"), Some(1))
    );
    // Round 2 (二次转办): to 城管局.
    w.later(30);
    let redispatched = w
        .ok(
            &w.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_b.id, "note": "二次转办"}),
        )
        .await;
    assert_eq!(redispatched["current_round"], 2);
    assert_eq!(redispatched["primary_unit_id"], w.unit_b.id.to_string());
    w.later(30);
    let signed = w.ok(&w.handler_b, &id, "sign", json!({})).await;
    assert_eq!(signed["status"], "handling");
    // An extension: asked, approved, the due time moves and the original stays.
    let due_before = signed["due_at"].as_str().unwrap().to_owned();
    let asked = w
        .ok(
            &w.handler_b,
            &id,
            "extension-requests",
            json!({"due_at": "2026-12-20T10:00:00+08:00", "reason": "需要现场勘验"}),
        )
        .await;
    let request = asked["extension_requests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(asked["extension_requests"][0]["status"], "pending");
    let approved = w
        .ok(
            &w.dispatcher,
            &id,
            &format!("extension-requests/{request}/approve"),
            json!({"note": "同意"}),
        )
        .await;
    assert_eq!(approved["due_at"], "2026-12-20T02:00:00Z");
    let primary = approved["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["round"] == 2)
        .unwrap()
        .clone();
    assert_eq!(primary["original_due_at"], due_before);
    assert_eq!(primary["deadlines"]["reply"]["rule"], "extension approved");
    // Evidence, a reply with its contact record, a rejected review, a second reply.
    let upload = w
        .app
        .upload(&w.handler_b, &id, "现场照片.jpg", &jpeg())
        .await;
    assert_eq!(upload.status, 201, "{}", upload.text);
    let attachment = upload.body["id"].as_str().unwrap().to_owned();
    w.later(60);
    let mut reply = w.reply_body();
    reply["attachment_ids"] = json!([attachment]);
    let replied = w.ok(&w.handler_b, &id, "reply", reply).await;
    assert_eq!(replied["status"], "replied");
    let rejected = w
        .ok(
            &w.dispatcher,
            &id,
            "review",
            json!({"decision": "reject", "comment": "未上传通话记录"}),
        )
        .await;
    assert_eq!(
        (
            rejected["status"].as_str(),
            rejected["rework_count"].as_i64()
        ),
        (Some("handling"), Some(1))
    );
    w.later(60);
    w.ok(&w.handler_b, &id, "reply", w.reply_body()).await;
    let accepted = w
        .ok(&w.dispatcher, &id, "review", json!({"decision": "accept"}))
        .await;
    assert_eq!(accepted["status"], "awaiting_callback");
    assert!(accepted["callback_due_at"].is_string());
    // A dissatisfied citizen: reopened for rework, replied again, then satisfied.
    let reopened = w
        .ok(&w.agent, &id, "callbacks", json!({"reached": true, "satisfaction": "dissatisfied", "resolved": false, "reopen": true, "comment": "噪音仍在"}))
        .await;
    assert_eq!(
        (
            reopened["status"].as_str(),
            reopened["rework_count"].as_i64()
        ),
        (Some("handling"), Some(2))
    );
    w.later(60);
    w.ok(&w.handler_b, &id, "reply", w.reply_body()).await;
    w.ok(&w.dispatcher, &id, "review", json!({"decision": "accept"}))
        .await;
    let closed = w
        .ok(
            &w.agent,
            &id,
            "callbacks",
            json!({"reached": true, "satisfaction": "basically_satisfied", "resolved": true}),
        )
        .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["close_reason"], "satisfied");
    assert!(closed["closed_at"].is_string());
    assert_eq!(closed["due_at"], Value::Null);
    // What is on record beside the timeline.
    let replies = w
        .app
        .get(&format!("/api/v1/tickets/{id}/replies"), &w.dispatcher)
        .await;
    let replies = replies.body["items"].as_array().unwrap().clone();
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0]["attachment_ids"], json!([attachment]));
    assert_eq!(replies[0]["contact"]["method"], "phone");
    let callbacks = w
        .app
        .get(&format!("/api/v1/tickets/{id}/callbacks"), &w.agent)
        .await;
    assert_eq!(callbacks.body["items"].as_array().unwrap().len(), 2);
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events?limit=200"), &w.agent)
        .await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "registered",
            "dispatched",
            "returned",
            "dispatched",
            "signed",
            "extension_requested",
            "extension_approved",
            "replied",
            "review_rejected",
            "replied",
            "review_accepted",
            "callback_recorded",
            "reopened",
            "replied",
            "review_accepted",
            "callback_recorded",
            "closed"
        ]
    );
    assert_conforms(&events, "EventPage");
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn direct_answers_close_or_wait_for_a_callback() {
    let w = world().await;
    let consult = w
        .app
        .register(
            &w.agent,
            json!({"type": "consult", "title": "社保卡补办", "content": "在哪里补办"}),
        )
        .await;
    let consult = consult.body["id"].as_str().unwrap().to_owned();
    let answered = w
        .ok(
            &w.agent,
            &consult,
            "answer",
            json!({"text": "携带身份证到社保中心窗口办理"}),
        )
        .await;
    assert_eq!(
        (
            answered["status"].as_str(),
            answered["close_reason"].as_str()
        ),
        (Some("closed"), Some("answered"))
    );
    let complaint = w.complaint().await;
    let waiting = w
        .ok(&w.agent, &complaint, "answer", json!({"text": "已解释"}))
        .await;
    assert_eq!(waiting["status"], "awaiting_callback");
    // Monday 09:00 → due by the end of Tuesday.
    assert_eq!(waiting["callback_due_at"], "2026-11-17T16:00:00Z");
    for attempt in 1..=3 {
        let after = w
            .ok(
                &w.agent,
                &complaint,
                "callbacks",
                json!({"reached": false, "comment": "无人接听"}),
            )
            .await;
        assert_eq!(after["callback_attempts"], attempt);
    }
    let ticket = w
        .app
        .get(&format!("/api/v1/tickets/{complaint}"), &w.agent)
        .await;
    assert_eq!(
        (
            ticket.body["status"].as_str(),
            ticket.body["close_reason"].as_str()
        ),
        (Some("closed"), Some("unreachable"))
    );
    w.assert_timeline_replays(&complaint);
}

#[actix_web::test]
async fn merges_and_invalid_tickets_end_there() {
    let w = world().await;
    let original = w.complaint().await;
    let duplicate = w.complaint().await;
    let number = w
        .app
        .get(&format!("/api/v1/tickets/{original}"), &w.agent)
        .await
        .body["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let merged = w
        .ok(
            &w.agent,
            &duplicate,
            "merge",
            json!({"into_number": number}),
        )
        .await;
    assert_eq!(
        (merged["status"].as_str(), merged["merged_into_id"].as_str()),
        (Some("merged"), Some(original.as_str()))
    );
    let into_itself = w
        .act(
            &w.agent,
            &original,
            "merge",
            json!({"into_ticket_id": original}),
        )
        .await;
    assert_eq!(
        (into_itself.status, into_itself.fields()),
        (422, vec!["into_ticket_id".to_owned()])
    );
    let unknown = w
        .act(
            &w.agent,
            &original,
            "merge",
            json!({"into_number": "0000000000"}),
        )
        .await;
    assert_eq!(unknown.fields(), ["into_ticket_id"]);
    let into_merged = w
        .act(
            &w.agent,
            &original,
            "merge",
            json!({"into_ticket_id": duplicate}),
        )
        .await;
    assert_eq!(
        (into_merged.status, into_merged.code()),
        (409, "merge_target_closed")
    );
    let invalid = w
        .ok(
            &w.dispatcher,
            &original,
            "invalidate",
            json!({"reason": "骚扰电话"}),
        )
        .await;
    assert_eq!(invalid["status"], "invalid");
    let after = w
        .act(
            &w.dispatcher,
            &original,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id}),
        )
        .await;
    assert_eq!(
        (after.status, after.body["ticket_status"].as_str()),
        (409, Some("invalid"))
    );
}

#[actix_web::test]
async fn urges_and_supervisions_are_recorded_and_listed() {
    let w = world().await;
    let id = w.ticket_in("handling").await;
    let urged = w
        .ok(&w.agent, &id, "urges", json!({"note": "群众再次来电"}))
        .await;
    assert_eq!(urged["urge_count"], 1);
    let bare = w.act(&w.dispatcher, &id, "urges", Value::Null).await;
    assert_eq!(bare.status, 422, "null is not an object");
    let empty = w
        .app
        .send(
            Method::POST,
            &format!("/api/v1/tickets/{id}/urges"),
            Some(&w.dispatcher),
            &[],
            None,
        )
        .await;
    assert_eq!(empty.status, 200, "no body at all is fine: {}", empty.text);
    let urges = w
        .app
        .get(&format!("/api/v1/tickets/{id}/urges"), &w.handler_a)
        .await;
    assert_eq!(urges.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(urges.body["items"][0]["kind"], "manual");
    assert_eq!(urges.body["items"][0]["unit_id"], w.unit_a.id.to_string());
    let opened = w
        .ok(&w.supervisor, &id, "supervisions", json!({"unit_id": w.unit_a.id, "reason": "群众反复投诉", "deadline": "2026-11-20T18:00:00+08:00"}))
        .await;
    assert_eq!(opened["supervised"], true);
    let supervision = opened["supervisions"][0]["id"].as_str().unwrap().to_owned();
    let twice = w
        .act(&w.supervisor, &id, "supervisions", json!({"unit_id": w.unit_a.id, "reason": "再次", "deadline": "2026-11-21T18:00:00+08:00"}))
        .await;
    assert_eq!((twice.status, twice.code()), (409, "already_supervised"));
    let by_agent = w
        .act(
            &w.agent,
            &id,
            "supervisions",
            json!({"unit_id": w.unit_a.id, "reason": "x", "deadline": "2026-11-21T18:00:00+08:00"}),
        )
        .await;
    assert_eq!(by_agent.status, 403);
    let listed = w
        .app
        .get("/api/v1/supervisions?status=open", &w.supervisor)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["ticket_id"], id);
    assert_conforms(&listed, "SupervisionPage");
    let own = w.app.get("/api/v1/supervisions", &w.handler_a).await;
    assert_eq!(
        own.body["items"].as_array().unwrap().len(),
        1,
        "a unit sees its own"
    );
    let other = w.app.get("/api/v1/supervisions", &w.handler_b).await;
    assert!(
        other.body["items"].as_array().unwrap().is_empty(),
        "and not others'"
    );
    w.clock.advance(chrono::Duration::days(5));
    let overdue = w
        .app
        .get("/api/v1/supervisions?overdue=true", &w.supervisor)
        .await;
    assert_eq!(overdue.body["items"].as_array().unwrap().len(), 1);
    let flagged = w.app.get("/api/v1/tickets?supervised=true", &w.agent).await;
    assert_eq!(flagged.body["items"].as_array().unwrap().len(), 1);
    let closed = w
        .ok(
            &w.supervisor,
            &id,
            &format!("supervisions/{supervision}/close"),
            json!({"outcome": "已督促办结"}),
        )
        .await;
    assert_eq!(closed["supervised"], false);
    assert_eq!(closed["supervisions"][0]["status"], "closed");
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn a_units_inbox_is_its_current_work_by_due_time() {
    let w = world().await;
    let late = w.complaint().await;
    let early = w
        .app
        .register(
            &w.agent,
            json!({"type": "consult", "title": "咨询", "content": "c"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = w.complaint().await;
    w.dispatched(&late).await;
    w.dispatched(&early).await;
    w.dispatched(&elsewhere).await;
    w.ok(
        &w.handler_a,
        &elsewhere,
        "return",
        json!({"reason": "非本单位"}),
    )
    .await;
    w.ok(
        &w.dispatcher,
        &elsewhere,
        "dispatch",
        json!({"primary_unit_id": w.unit_b.id}),
    )
    .await;
    let inbox = w
        .app
        .get(
            "/api/v1/tickets?unit_id=me&status=dispatched,handling&sort=due",
            &w.handler_a,
        )
        .await;
    let ids: Vec<&str> = inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [early.as_str(), late.as_str()],
        "consultations are due sooner; a returned ticket has left the inbox"
    );
    let soon = w
        .app
        .get(
            &format!(
                "/api/v1/tickets?unit_id=me&sort=due&due_before={}",
                encode("2026-11-20T00:00:00Z")
            ),
            &w.handler_a,
        )
        .await;
    assert_eq!(soon.body["items"].as_array().unwrap().len(), 1);
    let page = w
        .app
        .get("/api/v1/tickets?unit_id=me&sort=due&limit=1", &w.handler_a)
        .await;
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = w
        .app
        .get(
            &format!("/api/v1/tickets?unit_id=me&sort=due&limit=1&cursor={cursor}"),
            &w.handler_a,
        )
        .await;
    assert_eq!(next.body["items"][0]["id"], late);
    let mixed = w
        .app
        .get(&format!("/api/v1/tickets?cursor={cursor}"), &w.handler_a)
        .await;
    assert_eq!(
        (mixed.status, mixed.fields()),
        (422, vec!["cursor".to_owned()])
    );
    let still_visible = w
        .app
        .get(&format!("/api/v1/tickets/{elsewhere}"), &w.handler_a)
        .await;
    assert_eq!(
        still_visible.status, 200,
        "a unit keeps seeing what it once handled"
    );
}

#[actix_web::test]
async fn every_action_refuses_what_it_must() {
    let w = world().await;
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        // (state to start in, action, body, token of a caller who may do it)
        ("registered", "answer", json!({"text": "已解答"}), "agent"),
        (
            "registered",
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id}),
            "agent",
        ),
        ("dispatched", "sign", json!({}), "handler_a"),
        (
            "dispatched",
            "return",
            json!({"reason": "非本单位"}),
            "handler_a",
        ),
        (
            "handling",
            "extension-requests",
            json!({"due_at": "2026-12-30T00:00:00Z", "reason": "勘验"}),
            "handler_a",
        ),
        ("handling", "reply", w.reply_body(), "handler_a"),
        (
            "replied",
            "review",
            json!({"decision": "accept"}),
            "dispatcher",
        ),
        (
            "awaiting_callback",
            "callbacks",
            json!({"reached": true, "satisfaction": "satisfied", "resolved": true}),
            "agent",
        ),
        ("registered", "merge", json!({"into_number": "x"}), "agent"),
        (
            "registered",
            "invalidate",
            json!({"reason": "骚扰"}),
            "agent",
        ),
        ("handling", "urges", json!({}), "agent"),
        (
            "handling",
            "supervisions",
            json!({"unit_id": w.unit_a.id, "reason": "督", "deadline": "2026-12-30T00:00:00Z"}),
            "supervisor",
        ),
    ];
    for (state, action, body, who) in cases {
        let id = w.ticket_in(state).await;
        // A contact record is made after the dispatch it answers.
        let body = if action == "reply" {
            w.reply_body()
        } else {
            body
        };
        let token = match who {
            "agent" => &w.agent,
            "dispatcher" => &w.dispatcher,
            "supervisor" => &w.supervisor,
            _ => &w.handler_a,
        };
        let path = format!("/api/v1/tickets/{id}/{action}");
        let version_before = w
            .app
            .get(&format!("/api/v1/tickets/{id}"), &w.agent)
            .await
            .body["version"]
            .clone();
        // 401 without a token.
        let anonymous = w
            .app
            .send(Method::POST, &path, None, &[], Some(&body))
            .await;
        assert_eq!(anonymous.status, 401, "{action}");
        // 403 for a role that may not: an administrator, and a unit for office work or the
        // office for unit work.
        let wrong_role = if who.starts_with("handler") {
            &w.dispatcher
        } else {
            &w.handler_a
        };
        let forbidden = w.act(&w.admin, &id, action, body.clone()).await;
        assert_eq!(
            forbidden.status, 403,
            "{action} by admin: {}",
            forbidden.text
        );
        // The role is refused before the ticket is looked for, so a 403 tells nothing of
        // whether the ticket exists.
        let refused = w.act(wrong_role, &id, action, body.clone()).await;
        assert_eq!(
            refused.status, 403,
            "{action} by the wrong role: {}",
            refused.text
        );
        // 404 for a unit the ticket was never given to (unit work; office work is refused to
        // any unit by its role), and for no ticket at all.
        let stranger = w
            .act(
                &w.handler_b,
                &w.ticket_in("registered").await,
                action,
                body.clone(),
            )
            .await;
        let expected = if who.starts_with("handler") { 404 } else { 403 };
        assert_eq!(stranger.status, expected, "{action}: {}", stranger.text);
        let missing = w
            .act(token, &Uuid::now_v7().to_string(), action, body.clone())
            .await;
        assert_eq!(missing.status, 404, "{action}");
        // 412 for an old version.
        let stale = w
            .app
            .send(
                Method::POST,
                &path,
                Some(token),
                &[("if-match", "\"0\"")],
                Some(&body),
            )
            .await;
        assert_eq!(
            (stale.status, stale.code()),
            (412, "version_mismatch"),
            "{action}"
        );
        // 422 for a body of the wrong shape.
        let shapeless = w.act(token, &id, action, json!({"unexpected": true})).await;
        assert_eq!(shapeless.status, 422, "{action}: {}", shapeless.text);
        // 409 in a state that does not allow it.
        let wrong_state = if state == "registered" {
            "closed"
        } else {
            "registered"
        };
        let other = w.ticket_in(wrong_state).await;
        if who.starts_with("handler") {
            // A unit cannot see a registered ticket at all; use a closed one it handled.
            let closed = w.ticket_in("closed").await;
            let conflict = w.act(token, &closed, action, body.clone()).await;
            assert_eq!(
                conflict.status, 409,
                "{action} on a closed ticket: {}",
                conflict.text
            );
            assert_eq!(conflict.body["ticket_status"], "closed");
        } else {
            let conflict = w.act(token, &other, action, body.clone()).await;
            assert_eq!(
                conflict.status, 409,
                "{action} in {wrong_state}: {}",
                conflict.text
            );
            assert_eq!(conflict.body["ticket_status"], wrong_state);
        }
        // None of it changed anything.
        let version_after = w
            .app
            .get(&format!("/api/v1/tickets/{id}"), &w.agent)
            .await
            .body["version"]
            .clone();
        assert_eq!(version_before, version_after, "{action}");
        // And the allowed caller succeeds, with If-Match on the current version.
        let done = w
            .app
            .send(
                Method::POST,
                &path,
                Some(token),
                &[("if-match", &format!("\"{version_after}\""))],
                Some(&body),
            )
            .await;
        if action == "merge" {
            assert_eq!(done.status, 422, "merge into a number that does not exist");
        } else {
            assert_eq!(done.status, 200, "{action}: {}", done.text);
            assert_conforms(&done, "Ticket");
        }
    }
}

#[actix_web::test]
async fn three_returns_need_a_forced_dispatch_by_the_office() {
    let w = world().await;
    let id = w.complaint().await;
    for _ in 0..3 {
        w.dispatched(&id).await;
        w.ok(&w.handler_a, &id, "return", json!({"reason": "非本单位"}))
            .await;
    }
    let plain = w
        .act(
            &w.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id}),
        )
        .await;
    assert_eq!(
        (plain.status, plain.code()),
        (409, "forced_dispatch_required")
    );
    let by_agent = w
        .act(
            &w.agent,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id, "forced": true}),
        )
        .await;
    assert_eq!(by_agent.status, 403);
    let forced = w
        .ok(
            &w.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id, "forced": true}),
        )
        .await;
    assert_eq!(forced["assignments"][3]["forced"], true);
    let refused = w
        .act(&w.handler_a, &id, "return", json!({"reason": "还是不属于"}))
        .await;
    assert_eq!((refused.status, refused.code()), (409, "forced_assignment"));
}

#[actix_web::test]
async fn a_reply_without_a_contact_record_is_refused() {
    let w = world().await;
    let id = w.ticket_in("handling").await;
    let bare = w
        .act(
            &w.handler_a,
            &id,
            "reply",
            json!({"result": "resolved", "text": "已处理"}),
        )
        .await;
    assert_eq!(
        (bare.status, bare.fields()),
        (422, vec!["contact".to_owned()])
    );
    let future = w
        .act(&w.handler_a, &id, "reply", json!({"result": "resolved", "text": "t", "contact": {"contacted_at": "2027-01-01T00:00:00Z", "method": "phone", "outcome": "o"}}))
        .await;
    assert_eq!(future.fields(), ["contact.contacted_at"]);
    let by_assisting = w.act(&w.handler_b, &id, "reply", w.reply_body()).await;
    assert_eq!(by_assisting.status, 409);
    let unreachable = w
        .ok(
            &w.handler_a,
            &id,
            "reply",
            json!({"result": "explained", "text": "已书面答复", "no_contact_reason": "空号"}),
        )
        .await;
    assert_eq!(unreachable["status"], "replied");
    let replies = w
        .app
        .get(&format!("/api/v1/tickets/{id}/replies"), &w.agent)
        .await;
    assert_eq!(replies.body["items"][0]["no_contact_reason"], "空号");
    assert_conforms(&replies, "ReplyPage");
}

#[actix_web::test]
async fn assisting_units_sign_and_give_opinions() {
    let w = world().await;
    let id = w.ticket_in("dispatched").await;
    let early = w
        .act(&w.handler_b, &id, "opinions", json!({"text": "同意"}))
        .await;
    assert_eq!((early.status, early.code()), (409, "not_signed"));
    let signed = w.ok(&w.handler_b, &id, "sign", json!({})).await;
    assert_eq!(
        signed["status"], "dispatched",
        "an assisting signature does not start the handling"
    );
    w.ok(
        &w.handler_b,
        &id,
        "opinions",
        json!({"text": "城管局配合夜间巡查"}),
    )
    .await;
    let again = w
        .act(&w.handler_b, &id, "opinions", json!({"text": "补充"}))
        .await;
    assert_eq!(again.status, 409);
    let primary = w
        .act(&w.handler_a, &id, "opinions", json!({"text": "x"}))
        .await;
    assert_eq!(primary.code(), "not_assisting");
}

#[actix_web::test]
async fn extension_requests_are_decided_once() {
    let w = world().await;
    let id = w.ticket_in("handling").await;
    let early = w
        .act(
            &w.handler_a,
            &id,
            "extension-requests",
            json!({"due_at": "2026-11-17T00:00:00Z", "reason": "x"}),
        )
        .await;
    assert_eq!(
        early.fields(),
        ["due_at"],
        "not later than the due time in force"
    );
    let asked = w
        .ok(
            &w.handler_a,
            &id,
            "extension-requests",
            json!({"due_at": "2026-12-31T00:00:00Z", "reason": "勘验"}),
        )
        .await;
    let request = asked["extension_requests"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = w
        .act(
            &w.handler_a,
            &id,
            "extension-requests",
            json!({"due_at": "2027-01-31T00:00:00Z", "reason": "x"}),
        )
        .await;
    assert_eq!(second.code(), "extension_pending");
    let by_unit = w
        .act(
            &w.handler_a,
            &id,
            &format!("extension-requests/{request}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(by_unit.status, 403);
    let due = asked["due_at"].clone();
    let rejected = w
        .ok(
            &w.dispatcher,
            &id,
            &format!("extension-requests/{request}/reject"),
            json!({"note": "时限充足"}),
        )
        .await;
    assert_eq!(rejected["due_at"], due);
    assert_eq!(rejected["extension_requests"][0]["status"], "rejected");
    let again = w
        .act(
            &w.dispatcher,
            &id,
            &format!("extension-requests/{request}/approve"),
            json!({}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "extension_decided"));
    let unknown = w
        .act(
            &w.dispatcher,
            &id,
            &format!("extension-requests/{}/approve", Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let listed = w
        .app
        .get(
            &format!("/api/v1/tickets/{id}/extension-requests"),
            &w.handler_a,
        )
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn fifty_conflicting_actions_at_once_apply_exactly_one() {
    let w = world().await;
    let id = w.complaint().await;
    let bodies: Vec<(String, Value)> = (0..50)
        .map(|i| match i % 4 {
            0 => (
                "dispatch".to_owned(),
                json!({"primary_unit_id": if i % 8 == 0 { w.unit_a.id } else { w.unit_b.id }}),
            ),
            1 => ("answer".to_owned(), json!({"text": format!("解答{i}")})),
            2 => (
                "invalidate".to_owned(),
                json!({"reason": format!("无效{i}")}),
            ),
            _ => (
                "dispatch".to_owned(),
                json!({"primary_unit_id": w.unit_a.id, "assisting_unit_ids": [w.unit_b.id]}),
            ),
        })
        .collect();
    let paths: Vec<String> = bodies
        .iter()
        .map(|(action, _)| format!("/api/v1/tickets/{id}/{action}"))
        .collect();
    let sends: Vec<_> = paths
        .iter()
        .zip(&bodies)
        .map(|(path, (_, body))| w.app.post(path, &w.dispatcher, body))
        .collect();
    let answers = futures_util::future::join_all(sends).await;
    let applied = answers.iter().filter(|a| a.status == 200).count();
    let refused = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        (applied, refused),
        (1, 49),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let ticket = w.app.get(&format!("/api/v1/tickets/{id}"), &w.agent).await;
    assert_eq!(ticket.body["version"], 2);
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.agent)
        .await;
    let after_registration = events.body["items"].as_array().unwrap().len() - 1;
    assert!(
        (1..=2).contains(&after_registration),
        "one action's events only"
    );
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn evidence_is_checked_stored_and_served_to_those_who_see_the_ticket() {
    let w = world().await;
    let id = w.ticket_in("handling").await;
    let other = w.ticket_in("handling").await;
    let photo = jpeg();
    let stored = w
        .app
        .upload(&w.handler_a, &id, "../现场照片.jpg", &photo)
        .await;
    assert_eq!(stored.status, 201, "{}", stored.text);
    assert_eq!(stored.body["file_name"], "现场照片.jpg");
    assert_eq!(stored.body["content_type"], "image/jpeg");
    assert_eq!(stored.body["size_bytes"], photo.len());
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(&photo)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(stored.body["sha256"], expected);
    assert_conforms(&stored, "Attachment");
    let location = stored.header("location").unwrap().to_owned();
    let download = w
        .app
        .send(Method::GET, &location, Some(&w.agent), &[], None)
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("image/jpeg"));
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    assert_eq!(download.bytes, photo);
    let stranger = w.app.token(&w.app.add_user("handler-c", Role::UnitHandler));
    let refused = w
        .app
        .send(Method::GET, &location, Some(&stranger), &[], None)
        .await;
    assert_eq!(refused.status, 404, "a unit that never had the ticket");
    let executable = w
        .app
        .upload(
            &w.handler_a,
            &id,
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00",
        )
        .await;
    assert_eq!(
        (executable.status, executable.code()),
        (415, "unsupported_media_type")
    );
    let empty = w.app.upload(&w.handler_a, &id, "x.jpg", b"").await;
    assert_eq!(empty.status, 422);
    // Evidence of this ticket only, uploaded by the replying unit.
    let theirs = w.app.upload(&w.handler_a, &other, "x.jpg", &photo).await;
    let mut reply = w.reply_body();
    reply["attachment_ids"] = json!([theirs.body["id"]]);
    let wrong = w.act(&w.handler_a, &id, "reply", reply).await;
    assert_eq!(wrong.fields(), ["attachment_ids"]);
    let listed = w
        .app
        .get(&format!("/api/v1/tickets/{id}/attachments"), &w.agent)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn evidence_above_the_size_limit_is_refused() {
    let clock = Arc::new(ManualClock::new(monday_morning()));
    let app = spawn_app_with(Options {
        env: vec![("HOTLINE_ATTACHMENT_MAX_BYTES", "1024".into())],
        clock: Some(clock),
        ..Options::default()
    })
    .await;
    let (_, agent) = app.login(Role::Agent);
    let id = app.ticket(&agent, "大文件").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut big = jpeg();
    big.resize(4096, 0);
    let refused = app.upload(&agent, &id, "big.jpg", &big).await;
    assert_eq!((refused.status, refused.code()), (413, "payload_too_large"));
    assert_eq!(app.count("attachments"), 0);
}

#[actix_web::test]
async fn deadlines_follow_the_calendar_in_the_database() {
    let w = world().await;
    // A holiday on Tuesday and a make-up working Saturday.
    w.app
        .set_calendar(&[("2026-11-17", "holiday"), ("2026-11-21", "workday")]);
    let id = w.complaint().await;
    let dispatched = w
        .ok(
            &w.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id}),
        )
        .await;
    assert_eq!(
        dispatched["sign_due_at"], "2026-11-18T01:00:00Z",
        "Tuesday is off: Wednesday 09:00"
    );
    let sign = &dispatched["assignments"][0]["deadlines"]["sign"];
    assert_eq!(
        sign["skipped"],
        json!([{"day": "2026-11-17", "reason": "holiday"}])
    );
    let urgent = w
        .app
        .register(
            &w.agent,
            json!({"type": "help", "title": "停水", "content": "整栋楼停水", "priority": "urgent"}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dispatched = w
        .ok(
            &w.dispatcher,
            &urgent,
            "dispatch",
            json!({"primary_unit_id": w.unit_a.id}),
        )
        .await;
    assert_eq!(
        dispatched["sign_due_at"], "2026-11-16T02:00:00Z",
        "urgent: one hour, around the clock"
    );
    assert_eq!(
        dispatched["due_at"], "2026-11-17T01:00:00Z",
        "urgent: 24 hours"
    );
}

/// The smallest file that passes for a JPEG.
pub fn jpeg() -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    bytes.extend(std::iter::repeat_n(0x42, 200));
    bytes.extend([0xFF, 0xD9]);
    bytes
}
