//! Registering, reading, listing and correcting tickets; scopes and personal information.

use awc::http::Method;
use hotline::domain::access::Role;
use hotline::domain::directory::UnitKind;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

fn ids(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn registering_writes_the_ticket_and_its_event() {
    let app = spawn_app().await;
    let (agent, token) = app.login(Role::Agent);
    let answer = app
        .register(
            &token,
            json!({
                "type": "complaint", "title": "夜间施工噪音", "content": "每晚十一点后仍在施工",
                "caller_name": "张三", "caller_phone": "138 1234 5678", "address": "城关镇滨河路",
                "latitude": 34.42, "longitude": 112.43, "priority": "urgent"
            }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let ticket = &answer.body;
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(
        answer.header("location").unwrap(),
        format!("/api/v1/tickets/{id}")
    );
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(ticket["status"], "registered");
    assert_eq!(ticket["channel"], "phone");
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["version"], 1);
    assert_eq!(ticket["created_by"], agent.id.to_string());
    assert_eq!(ticket["caller_phone"], "138****5678");
    assert_eq!(ticket["caller_name"], "张*");
    assert_eq!(ticket["assignments"], json!([]));
    let number = ticket["number"].as_str().unwrap();
    let today = app
        .now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%y%m%d")
        .to_string();
    assert_eq!(number, format!("{today}0001"));
    let events = app
        .get(&format!("/api/v1/tickets/{id}/events"), &token)
        .await;
    let events = events.body["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "registered");
    assert_eq!(events[0]["ticket_version"], 1);
    assert_eq!(events[0]["actor"]["user_id"], agent.id.to_string());
    assert!(
        !events[0].to_string().contains("13812345678"),
        "no personal data on the timeline"
    );
    let second = app.ticket(&token, "第二件").await;
    assert_eq!(second["number"], format!("{today}0002"));
}

#[actix_web::test]
async fn tickets_are_found_by_id_and_number() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let ticket = app.ticket(&token, "路灯不亮").await;
    let by_id = app
        .get(
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(by_id.status, 200);
    assert_eq!(by_id.header("etag"), Some("\"1\""));
    assert_eq!(by_id.body["title"], "路灯不亮");
    let by_number = app
        .get(
            &format!(
                "/api/v1/tickets/by-number/{}",
                ticket["number"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(by_number.body["id"], ticket["id"]);
    let missing = app
        .get(&format!("/api/v1/tickets/{}", uuid::Uuid::now_v7()), &token)
        .await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
}

#[actix_web::test]
async fn references_must_be_active() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let answer = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "c", "category_id": uuid::Uuid::now_v7(), "area_unit_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(answer.status, 422);
    assert_eq!(answer.fields(), ["category_id", "area_unit_id"]);
    assert_eq!(app.count("tickets"), 0);

    // Each reference is judged on its own, whichever of them a registration gives.
    let (_, admin) = app.login(Role::Admin);
    let category = app
        .post("/api/v1/categories", &admin, &json!({"name": "城市管理"}))
        .await
        .body["id"]
        .clone();
    let retired = app
        .post("/api/v1/categories", &admin, &json!({"name": "旧类"}))
        .await
        .body["id"]
        .clone();
    let retired_path = format!("/api/v1/categories/{}", retired.as_str().unwrap());
    let deactivated = app
        .patch(&retired_path, &admin, &json!({"active": false}))
        .await;
    assert_eq!(deactivated.status, 200);
    let town = app.add_unit("town", UnitKind::Township).id;
    let department = app.add_unit("dept", UnitKind::Department).id;
    let cases = [
        (
            json!({"category_id": category, "area_unit_id": town}),
            vec![],
        ),
        (json!({"category_id": category}), vec![]),
        (json!({"area_unit_id": town}), vec![]),
        (
            json!({"category_id": retired, "area_unit_id": town}),
            vec!["category_id"],
        ),
        (
            json!({"category_id": category, "area_unit_id": department}),
            vec!["area_unit_id"],
        ),
        (json!({"category_id": retired}), vec!["category_id"]),
        (json!({"area_unit_id": department}), vec!["area_unit_id"]),
    ];
    let mut registered = 0;
    for (references, refused) in cases {
        let mut body = json!({"type": "help", "title": "t", "content": "c"});
        body.as_object_mut()
            .unwrap()
            .extend(references.as_object().unwrap().clone());
        let answer = app.register(&token, body).await;
        if refused.is_empty() {
            assert_eq!(answer.status, 201, "{references}: {}", answer.text);
            registered += 1;
        } else {
            assert_eq!(answer.fields(), refused, "{references}");
        }
        assert_eq!(app.count("tickets"), registered);
    }
}

#[actix_web::test]
async fn integrations_register_on_their_channel_and_see_their_own() {
    let app = spawn_app().await;
    let (_, platform) = app.login(Role::Integration);
    let (_, agent) = app.login(Role::Agent);
    let mine = app
        .register(&platform, json!({"type": "consult", "title": "医保报销", "content": "c", "external_ref": "SJ-2026-0001"}))
        .await;
    assert_eq!(mine.status, 201);
    assert_eq!(mine.body["channel"], "upper_platform");
    let wrong_channel = app
        .register(
            &platform,
            json!({"type": "consult", "title": "t", "content": "c", "channel": "wechat"}),
        )
        .await;
    assert_eq!(wrong_channel.fields(), ["channel"]);
    let theirs = app.ticket(&agent, "别人的").await;
    let listed = app.get("/api/v1/tickets", &platform).await;
    assert_eq!(ids(&listed), [mine.body["id"].as_str().unwrap()]);
    let hidden = app
        .get(
            &format!("/api/v1/tickets/{}", theirs["id"].as_str().unwrap()),
            &platform,
        )
        .await;
    assert_eq!(hidden.status, 404);
}

#[actix_web::test]
async fn an_external_reference_is_registered_once() {
    let app = spawn_app().await;
    let (_, platform) = app.login(Role::Integration);
    let body =
        json!({"type": "complaint", "title": "停水", "content": "c", "external_ref": "SJ-77"});
    let first = app.register(&platform, body.clone()).await;
    let again = app.register(&platform, body).await;
    assert_eq!((first.status, again.status), (201, 200));
    assert_eq!(first.body["id"], again.body["id"]);
    let futures: Vec<_> = (0..8)
        .map(|_| app.register(&platform, json!({"type": "complaint", "title": "并发", "content": "c", "external_ref": "SJ-88"})))
        .collect();
    let answers = futures_util::future::join_all(futures).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let replayed = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(
        (created, replayed),
        (1, 7),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .all(|a| a.body["id"] == answers[0].body["id"])
    );
    assert_eq!(app.count("tickets"), 2);
    assert_eq!(app.count("ticket_events"), 2);
}

#[actix_web::test]
async fn unit_handlers_see_only_their_units_tickets() {
    let app = spawn_app().await;
    let (_, agent_token) = app.login(Role::Agent);
    let (handler, handler_token) = app.login(Role::UnitHandler);
    let (_, other_token) = app.login(Role::UnitHandler);
    let ours = app.ticket(&agent_token, "给我们的").await;
    let not_ours = app.ticket(&agent_token, "不是我们的").await;
    let ours_id = ours["id"].as_str().unwrap();
    app.dispatch(&agent_token, ours_id, handler.attachment.unit_id.unwrap())
        .await;
    assert_eq!(
        ids(&app.get("/api/v1/tickets", &handler_token).await),
        [ours_id]
    );
    assert_eq!(
        ids(&app.get("/api/v1/tickets?unit_id=me", &handler_token).await),
        [ours_id]
    );
    assert!(ids(&app.get("/api/v1/tickets", &other_token).await).is_empty());
    let other_unit = format!("/api/v1/tickets?unit_id={}", uuid::Uuid::now_v7());
    assert!(
        ids(&app.get(&other_unit, &handler_token).await).is_empty(),
        "asking for another unit widens nothing"
    );
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{ours_id}"), &handler_token)
            .await
            .status,
        200
    );
    for path in [
        format!("/api/v1/tickets/{}", not_ours["id"].as_str().unwrap()),
        format!("/api/v1/tickets/{ours_id}/events")
            .replace(ours_id, not_ours["id"].as_str().unwrap()),
        format!(
            "/api/v1/tickets/by-number/{}",
            not_ours["number"].as_str().unwrap()
        ),
    ] {
        assert_eq!(app.get(&path, &handler_token).await.status, 404, "{path}");
    }
    assert_eq!(
        app.get(&format!("/api/v1/tickets/{ours_id}"), &other_token)
            .await
            .status,
        404
    );
    let me_without_unit = app.get("/api/v1/tickets?unit_id=me", &agent_token).await;
    assert_eq!(me_without_unit.fields(), ["unit_id"]);
}

#[actix_web::test]
async fn callers_are_masked_hidden_or_revealed_with_an_audit() {
    let app = spawn_app().await;
    let (agent, agent_token) = app.login(Role::Agent);
    let (handler, handler_token) = app.login(Role::UnitHandler);
    let (_, admin_token) = app.login(Role::Admin);
    let open = app
        .register(&agent_token, json!({"type": "help", "title": "open", "content": "c", "caller_name": "李四", "caller_phone": "13900001111"}))
        .await
        .body;
    let secret = app
        .register(
            &agent_token,
            json!({"type": "report", "title": "举报", "content": "c", "caller_name": "王五", "caller_phone": "13700002222", "confidential": true}),
        )
        .await
        .body;
    for ticket in [&open, &secret] {
        app.dispatch(
            &agent_token,
            ticket["id"].as_str().unwrap(),
            handler.attachment.unit_id.unwrap(),
        )
        .await;
    }
    // A queue shows the caller's masked name and never a phone, masked or not.
    let listed = app.get("/api/v1/tickets", &agent_token).await;
    assert!(!listed.text.contains("13900001111") && !listed.text.contains("****"));
    assert!(listed.text.contains("李*") && listed.text.contains("王*"));
    let unit_view = app
        .get(
            &format!("/api/v1/tickets/{}", secret["id"].as_str().unwrap()),
            &handler_token,
        )
        .await;
    assert_eq!(unit_view.body["caller_hidden"], true);
    assert_eq!(unit_view.body["caller_phone"], Value::Null);
    assert_eq!(unit_view.body["caller_name"], Value::Null);
    let unit_list = app.get("/api/v1/tickets", &handler_token).await;
    assert!(unit_list.text.contains("李*") && !unit_list.text.contains("王*"));
    assert_eq!(unit_list.body["items"].as_array().unwrap().len(), 2);

    let reveal = |id: &str| format!("/api/v1/tickets/{id}/caller");
    let whole = app
        .get(&reveal(open["id"].as_str().unwrap()), &agent_token)
        .await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body["caller_phone"], "13900001111");
    assert_eq!(whole.header("cache-control"), Some("no-store"));
    let unit_whole = app
        .get(&reveal(open["id"].as_str().unwrap()), &handler_token)
        .await;
    assert_eq!(unit_whole.body["caller_name"], "李四");
    let refused = app
        .get(&reveal(secret["id"].as_str().unwrap()), &handler_token)
        .await;
    assert_eq!((refused.status, refused.code()), (403, "confidential"));
    let admin = app
        .get(&reveal(open["id"].as_str().unwrap()), &admin_token)
        .await;
    assert_eq!(admin.status, 403);
    let audit = app
        .db()
        .read(|c| {
            hotline::store::audit::for_ticket(
                c,
                uuid::Uuid::parse_str(open["id"].as_str().unwrap()).unwrap(),
            )
        })
        .unwrap();
    assert_eq!(audit.len(), 2, "one entry per whole view");
    assert!(audit.iter().all(|e| e.action.as_str() == "caller_revealed"));
    assert_eq!(audit[0].user_id, Some(agent.id));
    assert_eq!(audit[1].user_id, Some(handler.id));

    // The office reads who looked, at what, when and why, by person and by time.
    let (_, supervisor) = app.login(Role::Supervisor);
    let open_id = open["id"].as_str().unwrap();
    let with_reason = app
        .get(
            &format!("{}?reason=%E5%9B%9E%E8%AE%BF", reveal(open_id)),
            &agent_token,
        )
        .await;
    assert_eq!(with_reason.status, 200);
    let too_long = format!("{}?reason={}", reveal(open_id), "x".repeat(201));
    assert_eq!(app.get(&too_long, &agent_token).await.fields(), ["reason"]);
    let log = app
        .get(
            &format!(
                "/api/v1/audit-log?action=caller_revealed&user_id={}",
                agent.id
            ),
            &supervisor,
        )
        .await;
    assert_conforms(&log, "AuditEntryPage");
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", log.text);
    assert_eq!(entries[0]["details"]["reason"], "回访");
    assert_eq!(entries[0]["ticket_number"], open["number"]);
    assert_eq!(entries[1]["details"]["reason"], Value::Null);
    let later = (app.now() + chrono::Duration::hours(1)).to_rfc3339();
    let none_later = app
        .get(
            &format!("/api/v1/audit-log?from={}", encode(&later)),
            &supervisor,
        )
        .await;
    assert_eq!(none_later.body["items"], serde_json::json!([]));
    let paged = app
        .get(
            "/api/v1/audit-log?action=caller_revealed&limit=2",
            &supervisor,
        )
        .await;
    let cursor = paged.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/audit-log?action=caller_revealed&limit=2&cursor={cursor}"),
            &supervisor,
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/audit-log", &agent_token).await.status, 403);
}

#[actix_web::test]
async fn lists_filter_on_every_field() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (_, token) = app.login(Role::Agent);
    let town = app.add_unit("town", UnitKind::Township);
    let parent = app
        .post("/api/v1/categories", &admin, &json!({"name": "城市管理"}))
        .await
        .body;
    let child = app
        .post(
            "/api/v1/categories",
            &admin,
            &json!({"name": "市容市政", "parent_id": parent["id"]}),
        )
        .await
        .body;
    let a = app
        .register(&token, json!({"type": "complaint", "title": "Broken STREET light", "content": "c", "category_id": child["id"], "area_unit_id": town.id, "priority": "urgent"}))
        .await
        .body;
    let b = app
        .register(&token, json!({"type": "consult", "title": "社保查询", "content": "百分之50%的补贴", "channel": "wechat"}))
        .await
        .body;
    let c = app
        .register(&token, json!({"type": "help", "title": "下水道堵塞", "content": "c", "address": "利民街_12号", "category_id": parent["id"]}))
        .await
        .body;
    let (handler, _) = app.login(Role::UnitHandler);
    app.dispatch(
        &token,
        c["id"].as_str().unwrap(),
        handler.attachment.unit_id.unwrap(),
    )
    .await;
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    let cases: Vec<(String, Vec<String>)> = vec![
        ("".into(), vec![id(&c), id(&b), id(&a)]),
        ("type=complaint,consult".into(), vec![id(&b), id(&a)]),
        ("channel=wechat".into(), vec![id(&b)]),
        ("priority=urgent".into(), vec![id(&a)]),
        ("status=dispatched".into(), vec![id(&c)]),
        (
            "status=registered,dispatched".into(),
            vec![id(&c), id(&b), id(&a)],
        ),
        (
            format!("category_id={}", child["id"].as_str().unwrap()),
            vec![id(&a)],
        ),
        (
            format!("category_id={}", parent["id"].as_str().unwrap()),
            vec![id(&c), id(&a)],
        ),
        (
            format!("unit_id={}", handler.attachment.unit_id.unwrap()),
            vec![id(&c)],
        ),
        ("q=street".into(), vec![id(&a)]),
        (format!("q={}", encode("50%")), vec![id(&b)]),
        (format!("q={}", encode("%")), vec![id(&b)]),
        (format!("q={}", encode("街_12")), vec![id(&c)]),
        (format!("q={}", encode("利民")), vec![id(&c)]),
        ("overdue=true".into(), vec![]),
        ("overdue=false".into(), vec![id(&c), id(&b), id(&a)]),
        ("supervised=true".into(), vec![]),
        (
            format!("created_from={}", encode(a["created_at"].as_str().unwrap())),
            vec![id(&c), id(&b), id(&a)],
        ),
        (
            format!("created_to={}", encode(a["created_at"].as_str().unwrap())),
            vec![],
        ),
        (
            "created_from=2000-01-01&created_to=2000-01-02".into(),
            vec![],
        ),
        (
            format!("due_before={}", encode("2999-01-01T00:00:00Z")),
            vec![id(&c)],
        ),
    ];
    for (query, expected) in cases {
        let answer = app.get(&format!("/api/v1/tickets?{query}"), &token).await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.text);
        assert_eq!(ids(&answer), expected, "{query}");
    }
    for (query, field) in [
        ("status=lost", "status"),
        ("type=compliment", "type"),
        ("created_from=yesterday", "created_from"),
        ("unit_id=ours", "unit_id"),
        ("priority=high", "priority"),
    ] {
        let answer = app.get(&format!("/api/v1/tickets?{query}"), &token).await;
        assert_eq!(
            (answer.status, answer.fields()),
            (422, vec![field.to_owned()]),
            "{query}"
        );
    }
}

#[actix_web::test]
async fn lists_page_without_gaps_or_repeats() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let mut registered = Vec::new();
    for i in 0..7 {
        registered.push(
            app.ticket(&token, &format!("第{i}件")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    registered.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/v1/tickets?limit=3".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path, &token).await;
        pages += 1;
        assert!(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t.get("content").is_none()),
            "lists carry summaries"
        );
        seen.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/tickets?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, registered);
}

#[actix_web::test]
async fn edits_before_dispatch_honour_if_match() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let ticket = app
        .register(
            &token,
            json!({"type": "help", "title": "路灯", "content": "c", "caller_phone": "13800000000"}),
        )
        .await
        .body;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());
    let edited = app
        .send(
            Method::PATCH,
            &path,
            Some(&token),
            &[("if-match", "\"1\"")],
            Some(&json!({"title": "路灯不亮", "type": "complaint", "caller_phone": "13900000000"})),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["version"], 2);
    assert_eq!(edited.body["type"], "complaint");
    assert_eq!(edited.header("etag"), Some("\"2\""));
    let stale = app
        .send(
            Method::PATCH,
            &path,
            Some(&token),
            &[("if-match", "\"1\"")],
            Some(&json!({"title": "又改"})),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (412, "version_mismatch"));
    assert_eq!(stale.body["current_version"], 2);
    let garbage = app
        .send(
            Method::PATCH,
            &path,
            Some(&token),
            &[("if-match", "yesterday")],
            Some(&json!({"title": "又改"})),
        )
        .await;
    assert_eq!(garbage.status, 400);
    let unchanged = app
        .patch(&path, &token, &json!({"title": "路灯不亮"}))
        .await;
    assert_eq!(
        unchanged.body["version"], 2,
        "an edit that changes nothing is no new version"
    );
    let invalid = app
        .patch(&path, &token, &json!({"title": "", "latitude": 30.0}))
        .await;
    assert_eq!(invalid.fields(), ["title", "longitude"]);
    let events = app.get(&format!("{path}/events"), &token).await.body["items"].clone();
    assert_eq!(events.as_array().unwrap().len(), 2);
    assert_eq!(events[1]["kind"], "edited");
    assert_eq!(
        events[1]["details"]["title"],
        json!({"from": "路灯", "to": "路灯不亮"})
    );
    assert_eq!(
        events[1]["details"]["caller_phone"],
        json!({"changed": true})
    );
    assert!(!events.to_string().contains("1390000"));
    app.dispatch(
        &token,
        ticket["id"].as_str().unwrap(),
        app.add_unit("cgj", UnitKind::Department).id,
    )
    .await;
    let late = app.patch(&path, &token, &json!({"title": "派单后"})).await;
    assert_eq!((late.status, late.code()), (409, "invalid_transition"));
    assert_eq!(late.body["ticket_status"], "dispatched");
    let (_, handler) = app.login(Role::UnitHandler);
    assert_eq!(
        app.patch(&path, &handler, &json!({"title": "x"}))
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn concurrent_edits_with_the_same_version_have_one_winner() {
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    let ticket = app.ticket(&token, "并发修改").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());
    let bodies: Vec<Value> = (0..10)
        .map(|i| json!({"title": format!("版本{i}")}))
        .collect();
    let edits: Vec<_> = bodies
        .iter()
        .map(|body| {
            app.send(
                Method::PATCH,
                &path,
                Some(&token),
                &[("if-match", "\"1\"")],
                Some(body),
            )
        })
        .collect();
    let answers = futures_util::future::join_all(edits).await;
    let won = answers.iter().filter(|a| a.status == 200).count();
    let lost = answers.iter().filter(|a| a.status == 412).count();
    assert_eq!((won, lost), (1, 9));
    let events = app.get(&format!("{path}/events"), &token).await;
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2);
}

/// Registrations at once each get a number of their own, and a day's numbers continue after
/// what the day's counter handed out before (a database numbered by an earlier version).
#[actix_web::test]
async fn concurrent_registrations_get_numbers_of_their_own_after_the_days_counter() {
    use diesel::prelude::*;
    use hotline::store::schema::ticket_number_days;

    let w = crate::helpers::world().await;
    w.app
        .db()
        .write(|c| {
            hotline::per_backend!(c, |c| diesel::insert_into(ticket_number_days::table)
                .values((
                    ticket_number_days::day.eq("2026-11-16"),
                    ticket_number_days::last_value.eq(41_i64),
                ))
                .execute(c))
            .map_err(hotline::store::StoreError::from)
        })
        .unwrap();
    let answers = futures_util::future::join_all((0..24).map(|i| {
        w.app.register(
            &w.agent,
            json!({"type": "consult", "title": format!("第{i}件"), "content": "c"}),
        )
    }))
    .await;
    let mut numbers: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 201, "{}", a.text);
            a.body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (42..42 + 24).map(|n| format!("261116{n:04}")).collect();
    assert_eq!(numbers, expected);
}

#[actix_web::test]
async fn internal_notes_stay_between_the_office_and_the_tickets_units() {
    let w = world().await;
    let id = w.ticket_in("handling").await;
    let notes = format!("/api/v1/tickets/{id}/notes");
    let written = w
        .app
        .post(
            &notes,
            &w.dispatcher,
            &json!({"body": "来电人情绪激动，回访注意措辞"}),
        )
        .await;
    assert_eq!(written.status, 201, "{}", written.text);
    assert_conforms(&written, "Note");
    let reply = w
        .app
        .post(&notes, &w.handler_a, &json!({"body": "已约定周五上门"}))
        .await;
    assert_eq!(reply.body["unit_id"], json!(w.unit_a.id));
    assert_eq!(
        w.app
            .post(&notes, &w.agent, &json!({"body": " "}))
            .await
            .fields(),
        ["body"]
    );

    let read = w.app.get(&notes, &w.handler_b).await;
    assert_conforms(&read, "NotePage");
    let bodies: Vec<&str> = read.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["来电人情绪激动，回访注意措辞", "已约定周五上门"]);
    // Not on the timeline, and not for a unit the ticket was never assigned to.
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.dispatcher)
        .await;
    assert!(!events.text.contains("回访注意措辞"));
    let stranger = w.app.add_unit("other", UnitKind::Department);
    let outsider = w.app.token(&w.app.add_user_in(
        "outsider",
        Role::UnitHandler,
        Some(stranger.id),
    ));
    assert_eq!(w.app.get(&notes, &outsider).await.status, 404);
    assert_eq!(
        w.app
            .post(&notes, &outsider, &json!({"body": "x"}))
            .await
            .status,
        404
    );
    let (_, platform) = w.app.login(Role::Integration);
    assert_eq!(w.app.get(&notes, &platform).await.status, 403);
    assert_eq!(w.app.count("ticket_notes"), 2);
}

#[actix_web::test]
async fn intake_finds_open_tickets_about_the_same_matter_nearby() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    let (_, handler) = app.login(Role::UnitHandler);
    let category = |name: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.post("/api/v1/categories", &admin, &json!({"name": name}))
                .await
                .body["id"]
                .clone()
        }
    };
    let noise = category("噪音").await;
    let water = category("供水").await;
    let town = app.add_unit("town", UnitKind::Township).id;
    let other_town = app.add_unit("other-town", UnitKind::Township).id;
    let register = |title: &'static str, category: &Value, area, address: &'static str| {
        let body = json!({"type": "complaint", "title": title, "content": "c", "category_id": category, "area_unit_id": area, "address": address});
        let app = &app;
        let agent = agent.clone();
        async move {
            let answer = app.register(&agent, body).await;
            assert_eq!(answer.status, 201, "{}", answer.text);
            answer.body["id"].as_str().unwrap().to_owned()
        }
    };
    let same_place = register("夜间施工", &noise, town, "人民路12号").await;
    let nearby = register("广场舞", &noise, other_town, "城关镇人民路12号").await;
    let _elsewhere = register("酒吧", &noise, other_town, "解放路88号").await;
    let _other_matter = register("停水", &water, town, "人民路12号").await;
    let ended = register("夜间施工", &noise, town, "人民路12号").await;
    let invalidated = app
        .post(
            &format!("/api/v1/tickets/{ended}/invalidate"),
            &agent,
            &json!({"reason": "重复来电"}),
        )
        .await;
    assert_eq!(invalidated.status, 200, "{}", invalidated.text);

    let path = format!(
        "/api/v1/tickets/possible-duplicates?category_id={}&area_unit_id={town}&address={}",
        noise.as_str().unwrap(),
        encode("人民路 12号")
    );
    let found = app.get(&path, &agent).await;
    assert_conforms(&found, "PossibleDuplicates");
    let ids: Vec<&str> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [same_place.as_str(), nearby.as_str()]);
    assert_eq!(found.body["items"][0]["same_area"], true);
    assert_eq!(found.body["items"][1]["same_area"], false);

    let too_far = format!("{path}&within_days=0");
    assert_eq!(app.get(&too_far, &agent).await.fields(), ["within_days"]);
    assert_eq!(app.get(&path, &handler).await.status, 403);
}

#[actix_web::test]
async fn a_filtered_list_is_exported_whole_masked_and_audited() {
    let w = world().await;
    let registered = w.ticket_in("registered").await;
    let _handling = w.ticket_in("handling").await;
    let _closed = w.ticket_in("closed").await;
    w.app
        .patch(
            &format!("/api/v1/tickets/{registered}"),
            &w.agent,
            &json!({"caller_name": "张三", "caller_phone": "13800001111"}),
        )
        .await;
    let csv = w
        .app
        .get(
            "/api/v1/tickets?status=registered,handling&format=csv",
            &w.agent,
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.header("content-disposition").unwrap().contains(".csv"));
    assert!(csv.text.starts_with('\u{FEFF}'));
    let lines: Vec<&str> = csv.text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "a header and two tickets: {}", csv.text);
    assert!(lines[0].contains("编号") && lines[0].contains("主办单位"));
    assert!(
        csv.text.contains("张*") && !csv.text.contains("13800001111") && !csv.text.contains("张三")
    );
    assert!(csv.text.contains("待派发") && csv.text.contains("办理中"));
    assert!(
        csv.text.contains(&w.unit_a.name),
        "unit names in place of ids"
    );

    let xlsx = w.app.get("/api/v1/tickets?format=xlsx", &w.handler_a).await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"), "a zip container");
    let refused = w
        .app
        .get("/api/v1/tickets?format=csv&limit=5", &w.agent)
        .await;
    assert_eq!(refused.fields(), ["format"]);

    let audit = w
        .app
        .db()
        .read(|c| {
            hotline::store::audit::list(
                c,
                &hotline::store::audit::AuditFilter {
                    actions: vec![hotline::domain::audit::AuditAction::TicketsExported],
                    ..Default::default()
                },
                None,
                10,
            )
        })
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].entry.details["rows"], 2);
    assert_eq!(audit[1].entry.details["format"], "csv");
}

#[actix_web::test]
async fn an_agent_sees_the_callers_earlier_tickets_by_number_and_the_look_up_is_audited() {
    let app = spawn_app().await;
    let (agent, token) = app.login(Role::Agent);
    let (_, handler) = app.login(Role::UnitHandler);
    let mut ids = Vec::new();
    for (title, phone) in [
        ("第一次", "13800001111"),
        ("第二次", "+86 138-0000-1111"),
        ("别人", "13900002222"),
        ("第三次", "0086 13800001111"),
    ] {
        let answer = app
            .register(
                &token,
                json!({"type": "complaint", "title": title, "content": "c", "caller_phone": phone}),
            )
            .await;
        ids.push(answer.body["id"].as_str().unwrap().to_owned());
    }
    app.register(
        &token,
        json!({"type": "consult", "title": "无号码", "content": "c"}),
    )
    .await;
    let look_up = |phone: &str| {
        let body = json!({ "phone": phone });
        let app = &app;
        let token = token.clone();
        async move { app.post("/api/v1/caller-history", &token, &body).await }
    };
    let history = look_up("138 0000 1111").await;
    assert_eq!(history.status, 200, "{}", history.text);
    assert_conforms(&history, "CallerHistory");
    assert_eq!(history.header("cache-control"), Some("no-store"));
    assert_eq!(history.body["count"], 3);
    let titles: Vec<&str> = history.body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["第三次", "第二次", "第一次"]);
    assert_eq!(look_up("110").await.fields(), ["phone"]);
    let refused = app
        .post(
            "/api/v1/caller-history",
            &handler,
            &json!({"phone": "13800001111"}),
        )
        .await;
    assert_eq!(refused.status, 403);

    // A number changed before dispatch moves the ticket to the new number's history.
    app.patch(
        &format!("/api/v1/tickets/{}", ids[0]),
        &token,
        &json!({"caller_phone": "13900002222"}),
    )
    .await;
    assert_eq!(look_up("13900002222").await.body["count"], 2);
    // Tickets written without the index (imported, or older than it) are indexed by the
    // background pass.
    app.db()
        .write(|c| {
            diesel::connection::SimpleConnection::batch_execute(
                c,
                "UPDATE tickets SET caller_phone_key = NULL",
            )
            .map_err(hotline::store::StoreError::from)
        })
        .unwrap();
    assert_eq!(look_up("13800001111").await.body["count"], 0);
    let indexed = hotline::jobs::ladder::index_phones(app.db(), &app.state.phone_index).unwrap();
    assert_eq!(indexed, 4);
    assert_eq!(look_up("13800001111").await.body["count"], 2);
    assert_eq!(
        hotline::jobs::ladder::index_phones(app.db(), &app.state.phone_index).unwrap(),
        0
    );

    let audit = app
        .db()
        .read(|c| {
            hotline::store::audit::list(
                c,
                &hotline::store::audit::AuditFilter {
                    actions: vec![hotline::domain::audit::AuditAction::CallerLookedUp],
                    user_id: Some(agent.id),
                    ..Default::default()
                },
                None,
                20,
            )
        })
        .unwrap();
    assert_eq!(audit.len(), 4, "every look-up that reached the index");
    let first = &audit.last().unwrap().entry.details;
    assert_eq!(
        (first["phone"].as_str(), first["found"].as_i64()),
        (Some("138****1111"), Some(3))
    );
    assert!(
        audit
            .iter()
            .all(|e| !e.entry.details.to_string().contains("13800001111"))
    );
}
