//! The event feed: every event once, in commit order, from where the follower left off, within
//! what the follower's role lets it follow.

use diesel::RunQueryDsl;
use hotline::domain::access::{Actor, Role};
use hotline::domain::ticket::EventKind;
use hotline::store::{self, Backend};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::{assert_conforms, value_conforms};

/// One page of the feed, which must be served.
async fn page(app: &TestApp, token: &str, query: &str) -> Value {
    let answer = app.get(&format!("/api/v1/events?{query}"), token).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.text);
    assert_conforms(&answer, "FeedPage");
    answer.body
}

/// Pages a follower may have to ask for while other changes of the database (the service's
/// own background passes, the server's statistics) hold committed events back for a moment.
const POLLS_AT_MOST: usize = 10_000;

/// Follows the feed from `cursor` (the start with `None`) until it has caught up, `limit`
/// events a page; answers the events' kinds and ids and the cursor to resume from.
async fn follow(
    app: &TestApp,
    token: &str,
    cursor: Option<&str>,
    limit: usize,
    filter: &str,
) -> (Vec<Value>, String) {
    let mut events = Vec::new();
    let mut cursor = cursor.map(str::to_owned);
    for _ in 0..POLLS_AT_MOST {
        let after = cursor
            .as_deref()
            .map(|c| format!("&after={c}"))
            .unwrap_or_default();
        let body = page(app, token, &format!("limit={limit}{filter}{after}")).await;
        let items = body["items"].as_array().unwrap();
        events.extend(items.iter().cloned());
        cursor = Some(body["next_cursor"].as_str().unwrap().to_owned());
        if items.len() < limit && body["held_back"] == false {
            return (events, cursor.unwrap());
        }
    }
    panic!("the feed stayed held back for {POLLS_AT_MOST} pages");
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["data"]["kind"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn a_follower_gets_every_event_once_in_order_and_resumes_where_it_stopped() {
    let w = world().await;
    let registered = w
        .app
        .register(
            &w.agent,
            json!({"type": "complaint", "title": "噪音扰民", "content": "内容",
                   "caller_name": "张三丰", "caller_phone": "13812345678"}),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let id = registered.body["id"].as_str().unwrap().to_owned();
    w.dispatched(&id).await;
    w.signed(&id).await;

    let (events, cursor) = follow(&w.app, &w.dispatcher, None, 2, "").await;
    assert_eq!(kinds(&events), ["registered", "dispatched", "signed"]);
    let event = &events[0];
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], "hotline.ticket.registered");
    assert_eq!(event["source"], format!("/api/v1/tickets/{id}"));
    assert_eq!(event["data"]["ticket_id"], json!(id));
    assert_eq!(event["subject"], event["data"]["ticket_number"]);
    assert_eq!(event["data"]["channel"], "phone");
    assert_eq!(event["data"]["actor_role"], "agent");
    // The caller's name and phone are never in an event.
    let whole = json!(events).to_string();
    assert!(
        !whole.contains("13812345678") && !whole.contains("张三丰"),
        "{whole}"
    );

    // Caught up: nothing more, and the same place to resume from.
    let (none, again) = follow(&w.app, &w.dispatcher, Some(&cursor), 2, "").await;
    assert!(none.is_empty());
    assert_eq!(again, cursor);

    w.replied(&id).await;
    let (new, _) = follow(&w.app, &w.dispatcher, Some(&cursor), 2, "").await;
    assert_eq!(kinds(&new), ["replied"]);
    assert!(!events.iter().any(|seen| seen["id"] == new[0]["id"]));
}

#[actix_web::test]
async fn each_role_follows_its_own_tickets_and_filters_narrow_without_stalling() {
    let w = world().await;
    let phoned = w.complaint().await;
    w.dispatched(&phoned).await;
    let (_, platform) = w.app.login(Role::Integration);
    let handed_down = w
        .app
        .register(
            &platform,
            json!({"type": "consult", "title": "医保报销", "content": "c", "external_ref": "SJ-2026-0001"}),
        )
        .await;
    assert_eq!(handed_down.status, 201, "{}", handed_down.text);

    let (all, end) = follow(&w.app, &w.supervisor, None, 50, "").await;
    assert_eq!(kinds(&all), ["registered", "dispatched", "registered"]);
    let (unit_a, _) = follow(&w.app, &w.handler_a, None, 50, "").await;
    assert_eq!(kinds(&unit_a), ["registered", "dispatched"]);
    let (unit_b, _) = follow(&w.app, &w.handler_b, None, 50, "").await;
    assert!(unit_b.is_empty());
    let (items, _) = follow(&w.app, &platform, None, 50, "").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["data"]["external_ref"], "SJ-2026-0001");
    assert_eq!(items[0]["data"]["channel"], "upper_platform");
    let admin = w.app.get("/api/v1/events", &w.admin).await;
    assert_eq!(admin.status, 403);

    let (dispatches, _) = follow(&w.app, &w.supervisor, None, 50, "&kind=dispatched").await;
    assert_eq!(kinds(&dispatches), ["dispatched"]);
    let (by_channel, _) = follow(&w.app, &w.supervisor, None, 50, "&channel=upper_platform").await;
    assert_eq!(kinds(&by_channel), ["registered"]);
    // A follower of what never happened still moves on to the end: it does not read the same
    // events again on every poll.
    let (closures, passed) = follow(&w.app, &w.supervisor, None, 50, "&kind=closed").await;
    assert!(closures.is_empty());
    assert_eq!(passed, end);

    for (query, field) in [
        ("after=not-a-cursor", "after"),
        ("kind=dispatched,teleported", "kind"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("channel=carrier-pigeon", "channel"),
    ] {
        let refused = w
            .app
            .get(&format!("/api/v1/events?{query}"), &w.supervisor)
            .await;
        assert_eq!(refused.status, 422, "{query}: {}", refused.text);
        assert_eq!(refused.fields(), [field], "{query}");
    }
}

#[actix_web::test]
async fn an_event_committed_late_is_served_after_what_committed_before_it_exactly_once() {
    let w = world().await;
    if w.app.db().backend() == Backend::Sqlite {
        // SQLite commits one writer at a time: no transaction can commit after a later one.
        return;
    }
    // A write transaction in another database of the server, open throughout, holds nothing
    // back: it cannot write these events.
    let server = std::env::var("TEST_DATABASE_URL").expect("the server the test database is on");
    let mut elsewhere = <diesel::PgConnection as diesel::Connection>::establish(&server).unwrap();
    diesel::sql_query("BEGIN").execute(&mut elsewhere).unwrap();
    diesel::sql_query("SELECT pg_current_xact_id()")
        .execute(&mut elsewhere)
        .unwrap();

    let id = w.complaint().await;
    let (first, cursor) = follow(&w.app, &w.dispatcher, None, 10, "").await;
    assert_eq!(kinds(&first), ["registered"]);

    // A change that starts first (and so takes the smaller event id) and commits last.
    let mut held = w.app.db().conn().unwrap();
    diesel::sql_query("BEGIN").execute(&mut *held).unwrap();
    store::events::append(
        &mut held,
        &store::events::NewEvent {
            ticket_id: id.parse().unwrap(),
            ticket_version: 1,
            kind: EventKind::Urged,
            actor: Actor::system(),
            assignment_id: None,
            details: &json!({"note": "late"}),
            at: w.app.now(),
        },
    )
    .unwrap();
    let second = w.complaint().await;

    // Polled in between: the later change is held back until the earlier one has committed,
    // and the follower is told so.
    let between = page(&w.app, &w.dispatcher, &format!("limit=10&after={cursor}")).await;
    assert_eq!(between["items"], json!([]), "{between}");
    assert_eq!(between["held_back"], true);
    let cursor = between["next_cursor"].as_str().unwrap().to_owned();

    diesel::sql_query("COMMIT").execute(&mut *held).unwrap();
    drop(held);
    let (after, cursor) = follow(&w.app, &w.dispatcher, Some(&cursor), 10, "").await;
    assert_eq!(kinds(&after), ["urged", "registered"]);
    let (whole, _) = follow(&w.app, &w.dispatcher, None, 10, "").await;
    let tickets: Vec<&str> = whole
        .iter()
        .map(|e| e["data"]["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, [id.as_str(), id.as_str(), second.as_str()]);
    let (nothing, _) = follow(&w.app, &w.dispatcher, Some(&cursor), 10, "").await;
    assert!(nothing.is_empty());
    diesel::sql_query("ROLLBACK")
        .execute(&mut elsewhere)
        .unwrap();
}

#[actix_web::test]
async fn every_kinds_details_are_as_the_contract_documents_them() {
    let w = world().await;
    for status in ["closed", "awaiting_callback", "registered"] {
        w.ticket_in(status).await;
    }
    let handling = w.ticket_in("handling").await;
    w.ok(
        &w.handler_a,
        &handling,
        "extension-requests",
        json!({"due_at": "2026-12-20T10:00:00+08:00", "reason": "需要现场勘验"}),
    )
    .await;
    w.ok(
        &w.supervisor,
        &handling,
        "supervisions",
        json!({"unit_id": w.unit_a.id, "reason": "群众反映强烈", "deadline": "2026-12-01T17:00:00+08:00"}),
    )
    .await;
    w.ok(&w.agent, &handling, "urges", json!({"note": "请尽快办理"}))
        .await;
    w.ticket_in("merged").await;
    w.ticket_in("invalid").await;
    let returned = w.ticket_in("returned").await;
    w.ok(
        &w.dispatcher,
        &returned,
        "return-decision",
        json!({"decision": "accept"}),
    )
    .await;
    let edited = w.complaint().await;
    let patched = w
        .app
        .send(
            actix_web::http::Method::PATCH,
            &format!("/api/v1/tickets/{edited}"),
            Some(&w.agent),
            &[("if-match", "\"1\"")],
            Some(&json!({"title": "噪音扰民（夜间）", "caller_phone": "13900000000"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);

    let (events, _) = follow(&w.app, &w.supervisor, None, 200, "").await;
    let mut seen = std::collections::BTreeSet::new();
    for item in &events {
        let kind = item["data"]["kind"].as_str().unwrap();
        let schema = format!("EventDetails_{kind}");
        if let Err(problem) = value_conforms(&item["data"]["details"], &schema) {
            panic!("{problem}\n{item}");
        }
        seen.insert(kind.to_owned());
    }
    for kind in [
        "registered",
        "edited",
        "dispatched",
        "signed",
        "returned",
        "return_accepted",
        "extension_requested",
        "replied",
        "review_accepted",
        "callback_recorded",
        "closed",
        "merged",
        "invalidated",
        "supervision_opened",
        "urged",
    ] {
        assert!(seen.contains(kind), "{kind} not among {seen:?}");
    }
}
