//! The knowledge base: units write, the office reviews and publishes, agents read what is in
//! force, direct answers cite articles, and the ladder tells units when a review is due.

use std::sync::Arc;

use awc::http::Method;
use chrono::{Duration, TimeZone, Utc};
use hotline::domain::access::Role;
use hotline::domain::clock::ManualClock;
use hotline::domain::directory::UnitKind;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

fn id(answer: &Answer) -> String {
    answer.body["id"].as_str().unwrap().to_owned()
}

fn titles(answer: &Answer) -> Vec<String> {
    answer.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {}", answer.text))
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

fn article(title: &str) -> Value {
    json!({"title": title, "body": "住院费用报销比例为70%，门诊为50%。", "keywords": ["医保", "报销"]})
}

#[actix_web::test]
async fn an_article_goes_from_its_unit_through_review_to_agents() {
    let app = spawn_app().await;
    let (handler, unit_token) = app.login(Role::UnitHandler);
    let (_, office) = app.login(Role::Dispatcher);
    let (_, agent) = app.login(Role::Agent);
    let (_, other_unit) = {
        let unit = app.add_unit("other", UnitKind::Department);
        let user = app.add_user_in("other-handler", Role::UnitHandler, Some(unit.id));
        let token = app.token(&user);
        (user, token)
    };

    let created = app
        .post("/api/v1/articles", &unit_token, &article("医保报销比例"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_conforms(&created, "Article");
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["unit_id"], json!(handler.attachment.unit_id));
    let path = format!("/api/v1/articles/{}", id(&created));

    // A draft is its unit's and the office's: agents and other units do not see it.
    assert_eq!(app.get(&path, &agent).await.status, 404);
    assert_eq!(app.get(&path, &other_unit).await.status, 404);
    assert_eq!(app.get(&path, &office).await.status, 200);
    assert!(titles(&app.get("/api/v1/articles", &agent).await).is_empty());

    // The unit may not publish; another unit may not touch it; the office may not reject a draft.
    let publish = format!("{path}/publish");
    let refused = app.post(&publish, &unit_token, &json!({})).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    assert_eq!(
        app.post(&format!("{path}/submit"), &other_unit, &json!({}))
            .await
            .status,
        404
    );
    let early = app
        .post(&format!("{path}/reject"), &office, &json!({"reason": "x"}))
        .await;
    assert_eq!((early.status, early.code()), (409, "invalid_transition"));

    let submitted = app
        .post(&format!("{path}/submit"), &unit_token, &json!({}))
        .await;
    assert_eq!(submitted.body["status"], "in_review");
    let rejected = app
        .post(
            &format!("{path}/reject"),
            &office,
            &json!({"reason": "比例需写明年份"}),
        )
        .await;
    assert_eq!(rejected.body["status"], "draft");
    let mut edited_body = article("医保报销比例（2026年）");
    edited_body["keywords"] = json!(["医保", "报销", "2026"]);
    let edited = app
        .send(
            Method::PUT,
            &path,
            Some(&unit_token),
            &[],
            Some(&edited_body),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert_eq!(edited.body["title"], "医保报销比例（2026年）");
    app.post(&format!("{path}/submit"), &unit_token, &json!({}))
        .await;
    let published = app.post(&publish, &office, &json!({})).await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.body["status"], "published");
    assert_eq!(published.body["in_force"], true);

    // Published and in force: agents and other units read it, and find it by a word in it.
    assert_eq!(app.get(&path, &agent).await.status, 200);
    assert_eq!(app.get(&path, &other_unit).await.status, 200);
    assert_eq!(
        titles(
            &app.get("/api/v1/articles?q=%E6%8A%A5%E9%94%80", &agent)
                .await
        ),
        ["医保报销比例（2026年）"]
    );
    assert!(
        titles(
            &app.get("/api/v1/articles?q=%E5%81%9C%E6%B0%B4", &agent)
                .await
        )
        .is_empty()
    );

    // Every change is a version, with who made it and why.
    let versions = app.get(&format!("{path}/versions"), &unit_token).await;
    assert_conforms(&versions, "ArticleVersionPage");
    let changes: Vec<&str> = versions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "created",
            "submitted",
            "rejected",
            "edited",
            "submitted",
            "published"
        ]
    );
    assert_eq!(versions.body["items"][2]["note"], "比例需写明年份");
    assert_eq!(versions.body["items"][0]["title"], "医保报销比例");
    assert_eq!(
        app.get(&format!("{path}/versions"), &agent).await.status,
        403
    );

    // A unit's edit of a published article goes back to review and out of the agents' sight.
    let unit_edit = app
        .send(
            Method::PUT,
            &path,
            Some(&unit_token),
            &[],
            Some(&article("医保报销比例（修订）")),
        )
        .await;
    assert_eq!(unit_edit.body["status"], "in_review");
    assert_eq!(app.get(&path, &agent).await.status, 404);
    let stale = app
        .send(
            Method::POST,
            &publish,
            Some(&office),
            &[("if-match", "\"1\"")],
            Some(&json!({})),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (412, "version_mismatch"));
    assert_eq!(
        app.post(&publish, &office, &json!({})).await.body["status"],
        "published"
    );
    let archived = app
        .post(&format!("{path}/archive"), &unit_token, &json!({}))
        .await;
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(app.get(&path, &agent).await.status, 404);
    let again = app
        .post(&format!("{path}/archive"), &office, &json!({}))
        .await;
    assert_eq!((again.status, again.code()), (409, "invalid_transition"));
    assert_eq!(again.body["article_status"], "archived");
    assert_conforms(&again, "Problem");
}

#[actix_web::test]
async fn writing_articles_is_checked_and_refused_without_a_trace() {
    let app = spawn_app().await;
    let (_, unit_token) = app.login(Role::UnitHandler);
    let (_, office) = app.login(Role::Supervisor);
    let (_, agent) = app.login(Role::Agent);
    let (_, admin) = app.login(Role::Admin);
    let other = app.add_unit("other", UnitKind::Department);
    let department = app.add_unit("dept", UnitKind::Department);

    let bad = app
        .post(
            "/api/v1/articles",
            &unit_token,
            &json!({"title": "", "body": "b", "effective_on": "2026-12-10", "expires_on": "2026-12-01"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields(), ["title", "expires_on"]);
    let for_another = app
        .post(
            "/api/v1/articles",
            &unit_token,
            &json!({"title": "t", "body": "b", "unit_id": other.id}),
        )
        .await;
    assert_eq!(for_another.status, 403);
    let filed_badly = app
        .post(
            "/api/v1/articles",
            &office,
            &json!({"title": "t", "body": "b", "area_unit_id": department.id, "category_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(filed_badly.fields(), ["category_id", "area_unit_id"]);
    assert_eq!(
        app.post("/api/v1/articles", &agent, &article("t"))
            .await
            .status,
        403
    );
    assert_eq!(app.get("/api/v1/articles", &admin).await.status, 403);
    assert_eq!(app.count("knowledge_articles"), 0);
    assert_eq!(app.count("knowledge_article_versions"), 0);

    // The office writes for any unit, or for itself.
    let for_unit = app
        .post(
            "/api/v1/articles",
            &office,
            &json!({"title": "t", "body": "b", "unit_id": other.id}),
        )
        .await;
    assert_eq!(for_unit.body["unit_id"], json!(other.id));
    let own = app
        .post("/api/v1/articles", &office, &article("热线自有"))
        .await;
    assert_eq!(own.body["unit_id"], Value::Null);
    let moved = app
        .send(
            Method::PUT,
            &format!("/api/v1/articles/{}", id(&own)),
            Some(&office),
            &[],
            Some(&json!({"title": "t", "body": "b", "unit_id": other.id})),
        )
        .await;
    assert_eq!(moved.fields(), ["unit_id"]);
}

#[actix_web::test]
async fn agents_see_only_articles_in_force() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (_, office) = app.login(Role::Dispatcher);
    let (_, agent) = app.login(Role::Agent);
    let mut ids = Vec::new();
    for (title, from, to) in [
        ("已生效", None, None),
        ("未生效", Some("2026-12-05"), None),
        ("已过期", None, Some("2026-11-30")),
        ("今天到期", Some("2026-12-01"), Some("2026-12-01")),
    ] {
        let mut body = article(title);
        body["effective_on"] = json!(from);
        body["expires_on"] = json!(to);
        let created = app.post("/api/v1/articles", &office, &body).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let path = format!("/api/v1/articles/{}", id(&created));
        assert_eq!(
            app.post(&format!("{path}/publish"), &office, &json!({}))
                .await
                .status,
            200
        );
        ids.push(path);
    }
    let mut shown = titles(&app.get("/api/v1/articles", &agent).await);
    shown.sort();
    assert_eq!(shown, ["今天到期", "已生效"]);
    assert_eq!(app.get(&ids[1], &agent).await.status, 404);
    assert_eq!(app.get(&ids[2], &agent).await.status, 404);
    // The office sees all four, and which are in force.
    let all = app.get("/api/v1/articles?status=published", &office).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 4);
    clock.advance(Duration::days(5));
    let mut shown = titles(&app.get("/api/v1/articles", &agent).await);
    shown.sort();
    assert_eq!(shown, ["已生效", "未生效"]);
}

#[actix_web::test]
async fn a_direct_answer_cites_articles_and_counts_their_use() {
    let app = spawn_app().await;
    let (_, office) = app.login(Role::Dispatcher);
    let (_, agent) = app.login(Role::Agent);
    let created = app
        .post("/api/v1/articles", &office, &article("医保报销比例"))
        .await;
    let path = format!("/api/v1/articles/{}", id(&created));
    let draft = app
        .post("/api/v1/articles", &office, &article("草稿"))
        .await;
    app.post(&format!("{path}/publish"), &office, &json!({}))
        .await;

    let ticket = app.ticket(&agent, "报销比例多少").await;
    let answer_path = format!("/api/v1/tickets/{}/answer", ticket["id"].as_str().unwrap());
    let refused = app
        .post(
            &answer_path,
            &agent,
            &json!({"text": "答", "article_ids": [id(&draft)]}),
        )
        .await;
    assert_eq!(refused.fields(), ["article_ids"]);
    assert_eq!(app.count("knowledge_citations"), 0);
    let answered = app
        .post(
            &answer_path,
            &agent,
            &json!({"text": "按70%报销", "article_ids": [id(&created), id(&created)]}),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let used = app.get(&path, &agent).await;
    assert_eq!(used.body["use_count"], 1);
    assert!(used.body["last_used_at"].is_string());
    let events = app
        .get(
            &format!("/api/v1/tickets/{}/events", ticket["id"].as_str().unwrap()),
            &agent,
        )
        .await;
    let answered_event = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered")
        .unwrap()
        .clone();
    assert_eq!(
        answered_event["details"]["article_ids"],
        json!([id(&created)])
    );
}

#[actix_web::test]
async fn units_are_told_once_when_a_review_is_due_and_upkeep_is_counted() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (handler, unit_token) = app.login(Role::UnitHandler);
    let unit = handler.attachment.unit_id.unwrap();
    let (_, office) = app.login(Role::Dispatcher);
    let mut body = article("噪音投诉怎么处理");
    body["review_due_on"] = json!("2026-12-02");
    let created = app.post("/api/v1/articles", &unit_token, &body).await;
    let path = format!("/api/v1/articles/{}", id(&created));
    app.post(&format!("{path}/submit"), &unit_token, &json!({}))
        .await;
    app.post(&format!("{path}/publish"), &office, &json!({}))
        .await;
    assert_eq!(app.tick().reviews_flagged, 0);

    clock.advance(Duration::days(2));
    assert_eq!(app.tick().reviews_flagged, 1);
    assert_eq!(app.tick().reviews_flagged, 0, "told once");
    let feed = app.get("/api/v1/notifications", &unit_token).await;
    assert_conforms(&feed, "NotificationPage");
    let notice = &feed.body["items"][0];
    assert_eq!(notice["kind"], "article_review_due");
    assert_eq!(notice["article_id"], json!(id(&created)));
    assert_eq!(notice["ticket_id"], Value::Null);
    let overdue = app
        .get("/api/v1/articles?review_overdue=true", &unit_token)
        .await;
    assert_eq!(titles(&overdue), ["噪音投诉怎么处理"]);

    let upkeep = app.get("/api/v1/articles/upkeep", &office).await;
    assert_conforms(&upkeep, "ArticleUpkeep");
    let row = upkeep.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == json!(unit))
        .unwrap()
        .clone();
    assert_eq!(
        (row["published"].as_i64(), row["review_overdue"].as_i64()),
        (Some(1), Some(1))
    );

    // Reviewed late, then due again next year: counted as one review, not on time.
    let reviewed = app
        .post(
            &format!("{path}/review"),
            &unit_token,
            &json!({"review_due_on": "2027-06-01"}),
        )
        .await;
    assert_eq!(reviewed.status, 200, "{}", reviewed.text);
    assert_eq!(reviewed.body["review_due_on"], "2027-06-01");
    assert_eq!(reviewed.body["review_overdue"], false);
    let own = app.get("/api/v1/articles/upkeep", &unit_token).await;
    let row = &own.body["items"][0];
    assert_eq!(
        (
            row["reviewed"].as_i64(),
            row["reviewed_on_time"].as_i64(),
            row["review_overdue"].as_i64()
        ),
        (Some(1), Some(0), Some(0))
    );
    let someone_elses = format!("/api/v1/articles/upkeep?unit_id={}", uuid::Uuid::now_v7());
    assert_eq!(app.get(&someone_elses, &unit_token).await.status, 403);
}

#[actix_web::test]
async fn reviews_already_told_never_hide_those_still_to_tell() {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap(),
    ));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (_, office) = app.login(Role::Dispatcher);
    for (title, due) in [("先到期", "2026-12-02"), ("后到期", "2026-12-05")] {
        let mut body = article(title);
        body["review_due_on"] = json!(due);
        let created = app.post("/api/v1/articles", &office, &body).await;
        let path = format!("/api/v1/articles/{}", id(&created));
        app.post(&format!("{path}/publish"), &office, &json!({}))
            .await;
    }
    clock.advance(Duration::days(2));
    assert_eq!(app.tick().reviews_flagged, 1);
    clock.advance(Duration::days(5));
    // One at a time: the article told of already is not the one read.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
    let due = app
        .db()
        .read(|c| hotline::store::knowledge::reviews_due(c, day, 1))
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].title, "后到期");
}
