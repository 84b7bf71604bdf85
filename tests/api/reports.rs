//! Figures, assessment and the monthly bulletin through HTTP: a month of tickets taken through
//! the real lifecycle with known answers, the bulletin in every format, publishing that freezes
//! it, appeals that restate it, and who may read what.

use chrono::{DateTime, TimeZone, Utc};
use hotline::domain::access::Role;
use hotline::domain::directory::UnitKind;
use serde_json::{Value, json};

use crate::helpers::{World, world_at};
use crate::openapi::assert_conforms;

/// A time of November 2026 in Shanghai (Monday the 2nd is the first working day).
fn nov(day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn dec(day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct Month {
    w: World,
    township: String,
    t1: String,
    t3: String,
    t4: String,
}

impl World {
    pub async fn category(&self, parent: &str, child: &str) -> String {
        let first = self
            .app
            .post("/api/v1/categories", &self.admin, &json!({"name": parent}))
            .await;
        assert_eq!(first.status, 201, "{}", first.text);
        let second = self
            .app
            .post(
                "/api/v1/categories",
                &self.admin,
                &json!({"name": child, "parent_id": first.body["id"]}),
            )
            .await;
        assert_eq!(second.status, 201, "{}", second.text);
        second.body["id"].as_str().unwrap().to_owned()
    }

    async fn registered(&self, body: Value) -> String {
        let answer = self.app.register(&self.agent, body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["id"].as_str().unwrap().to_owned()
    }

    fn at(&self, instant: DateTime<Utc>) {
        self.clock.set(instant);
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let answer = self.app.get(path, token).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        answer.body
    }
}

/// November 2026 at a county hotline, every figure known:
/// - T1 complaint (城市管理—市容市政, in the township) to A: signed at once, replied on time,
///   accepted, citizen satisfied → closed; flagged as a positive case;
/// - T2 consultation (社会保障—工资薪金) answered on the spot → closed;
/// - T3 request for help (社会保障—工资薪金) to A: signed late, urged, supervised, replied late,
///   rejected (rework), replied again on time, accepted, citizen dissatisfied → closed;
///   flagged as a negative case;
/// - T4 complaint (in the township) to B, returned, to A: never signed, overdue since the 23rd;
/// - T5 suggestion waiting; T6 invalid; T7 merged into T1.
async fn november() -> Month {
    let w = world_at(nov(2, 9)).await;
    let township = w.app.add_unit("cgjd", UnitKind::Township).id.to_string();
    let city = w.category("城市管理", "市容市政").await;
    let wages = w.category("社会保障", "工资薪金").await;
    let t1 = w
        .registered(json!({"type": "complaint", "title": "夜间施工噪音", "content": "工地夜间施工", "category_id": city, "area_unit_id": township}))
        .await;
    let t2 = w
        .registered(json!({"type": "consult", "title": "社保缴费基数", "content": "咨询缴费基数", "category_id": wages}))
        .await;
    let t3 = w
        .registered(json!({"type": "help", "title": "拖欠工资", "content": "工地拖欠工资", "category_id": wages}))
        .await;
    let t4 = w
        .registered(json!({"type": "complaint", "title": "路灯不亮", "content": "小区路灯损坏", "area_unit_id": township}))
        .await;
    w.registered(json!({"type": "suggestion", "title": "增设公交站", "content": "建议增设站点"}))
        .await;
    let t6 = w
        .registered(json!({"type": "other", "title": "无声电话", "content": "来电无声"}))
        .await;
    let t7 = w
        .registered(json!({"type": "complaint", "title": "施工噪音", "content": "同一工地"}))
        .await;
    let (a, b) = (w.unit_a.id, w.unit_b.id);
    w.ok(
        &w.dispatcher,
        &t1,
        "dispatch",
        json!({"primary_unit_id": a}),
    )
    .await;
    w.ok(
        &w.dispatcher,
        &t3,
        "dispatch",
        json!({"primary_unit_id": a}),
    )
    .await;
    w.ok(
        &w.dispatcher,
        &t4,
        "dispatch",
        json!({"primary_unit_id": b}),
    )
    .await;
    w.ok(
        &w.agent,
        &t2,
        "answer",
        json!({"text": "已告知缴费基数标准"}),
    )
    .await;
    w.ok(&w.agent, &t7, "merge", json!({"into_ticket_id": t1}))
        .await;
    w.ok(&w.agent, &t6, "invalidate", json!({"reason": "无声电话"}))
        .await;
    w.at(nov(2, 10));
    w.signed(&t1).await;
    w.ok(
        &w.handler_b,
        &t4,
        "return",
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    w.at(nov(2, 11));
    w.ok(
        &w.dispatcher,
        &t4,
        "dispatch",
        json!({"primary_unit_id": a}),
    )
    .await;
    w.at(nov(4, 9));
    w.signed(&t3).await;
    w.at(nov(4, 10));
    w.replied(&t1).await;
    w.at(nov(4, 11));
    w.ok(&w.dispatcher, &t1, "review", json!({"decision": "accept"}))
        .await;
    w.at(nov(5, 10));
    w.ok(
        &w.agent,
        &t1,
        "callbacks",
        json!({"reached": true, "satisfaction": "satisfied", "resolved": true}),
    )
    .await;
    w.ok(&w.agent, &t3, "urges", json!({})).await;
    w.at(nov(5, 12));
    let flagged = w
        .app
        .send(
            awc::http::Method::PUT,
            &format!("/api/v1/tickets/{t1}/typical"),
            Some(&w.supervisor),
            &[],
            Some(&json!({"polarity": "positive", "note": "深入调查，圆满化解矛盾"})),
        )
        .await;
    assert_eq!(flagged.status, 200, "{}", flagged.text);
    w.at(nov(6, 10));
    w.ok(
        &w.supervisor,
        &t3,
        "supervisions",
        json!({"unit_id": a, "reason": "签收超时", "deadline": nov(13, 18)}),
    )
    .await;
    w.at(nov(17, 10));
    w.replied(&t3).await;
    w.at(nov(17, 11));
    w.ok(
        &w.dispatcher,
        &t3,
        "review",
        json!({"decision": "reject", "comment": "未说明欠薪处理进度"}),
    )
    .await;
    w.at(nov(18, 10));
    w.replied(&t3).await;
    w.at(nov(18, 11));
    w.ok(&w.dispatcher, &t3, "review", json!({"decision": "accept"}))
        .await;
    w.at(nov(19, 10));
    w.ok(
        &w.agent,
        &t3,
        "callbacks",
        json!({"reached": true, "satisfaction": "dissatisfied", "resolved": false}),
    )
    .await;
    w.at(nov(19, 12));
    let flagged = w
        .app
        .send(
            awc::http::Method::PUT,
            &format!("/api/v1/tickets/{t3}/typical"),
            Some(&w.supervisor),
            &[],
            Some(&json!({"polarity": "negative", "note": "签收超时、答复不实被退回重办"})),
        )
        .await;
    assert_eq!(flagged.status, 200);
    Month {
        w,
        township,
        t1,
        t3,
        t4,
    }
}

fn unit<'a>(units: &'a Value, id: &str) -> &'a Value {
    units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_id"] == id)
        .unwrap_or_else(|| panic!("no row for {id} in {units}"))
}

fn counts(row: &Value) -> Vec<u64> {
    [
        "received",
        "responded",
        "completed",
        "replies",
        "replies_on_time",
        "reworks",
        "closed",
        "called_back",
        "callbacks_reached",
        "satisfied",
        "dissatisfied",
        "resolved",
        "urges_system",
        "urges_manual",
        "overdue",
        "supervisions",
        "returns",
    ]
    .iter()
    .map(|k| row[*k].as_u64().unwrap_or_else(|| panic!("{k} in {row}")))
    .collect()
}

#[actix_web::test]
async fn the_figures_of_a_known_month() {
    let m = november().await;
    let w = &m.w;
    w.at(dec(1, 9));
    let figures = w
        .get_json("/api/v1/figures?month=2026-11", &w.supervisor)
        .await;
    let a = w.unit_a.id.to_string();
    let b = w.unit_b.id.to_string();
    //                              rec rsp cmp rpl ont rwk cls cbk rch sat dis res sys man ovd sup ret
    assert_eq!(
        counts(unit(&figures["units"], &a)),
        [3, 1, 2, 3, 2, 1, 2, 2, 2, 1, 1, 1, 0, 1, 2, 1, 0]
    );
    assert_eq!(
        counts(unit(&figures["units"], &b)),
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    let hotline = &figures["hotline"];
    assert_eq!(
        (
            hotline["received"].as_u64(),
            hotline["closed"].as_u64(),
            hotline["called_back"].as_u64()
        ),
        (Some(4), Some(3), Some(2))
    );
    let rates = unit(&figures["units"], &a);
    assert!((rates["completion_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(rates["satisfaction_rate"], 0.5);
    assert_eq!(
        figures["kinds"].as_array().unwrap().len(),
        1,
        "departments only: {}",
        figures["kinds"]
    );

    // Any period: the first week alone, and the figures as the unit sees them.
    let week = w
        .get_json(
            "/api/v1/figures?from=2026-11-02&to=2026-11-08",
            &w.supervisor,
        )
        .await;
    assert_eq!(
        counts(unit(&week["units"], &a))[..4],
        [3, 1, 2, 1],
        "the week's tickets, taken now"
    );
    let own = w
        .get_json("/api/v1/figures?month=2026-11", &w.handler_a)
        .await;
    assert!(
        own.get("hotline").is_none(),
        "a unit sees its own figures only"
    );
    assert_eq!(own["units"].as_array().unwrap().len(), 1);
    let other = w
        .app
        .get(
            &format!("/api/v1/figures?month=2026-11&unit_id={b}"),
            &w.handler_a,
        )
        .await;
    assert_eq!(other.status, 403);
    for bad in [
        "month=2026-13",
        "from=2026-11-08&to=2026-11-01",
        "",
        "month=2026-11&from=2026-11-01",
    ] {
        let refused = w
            .app
            .get(&format!("/api/v1/figures?{bad}"), &w.supervisor)
            .await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.text);
    }
}

#[actix_web::test]
async fn the_bulletin_counts_scores_ranks_and_renders_the_month() {
    let m = november().await;
    let w = &m.w;
    w.at(nov(20, 9));
    // Departments ranked from their first ticket this month; A gets a bonus.
    let mut rules = w
        .get_json("/api/v1/assessment/rules?month=2026-11", &w.agent)
        .await;
    assert_eq!(rules["effective_from"], Value::Null);
    for field in ["effective_from", "created_by", "created_at"] {
        rules.as_object_mut().unwrap().remove(field);
    }
    rules["groups"][1]["min_received"] = json!(0);
    let put = |path: String, token: String, body: Value| {
        let app = &w.app;
        async move {
            app.send(
                awc::http::Method::PUT,
                &path,
                Some(&token),
                &[],
                Some(&body),
            )
            .await
        }
    };
    let refused = put(
        "/api/v1/assessment/rules/2026-11".into(),
        w.dispatcher.clone(),
        rules.clone(),
    )
    .await;
    assert_eq!(refused.status, 403);
    let stored = put(
        "/api/v1/assessment/rules/2026-11".into(),
        w.supervisor.clone(),
        rules.clone(),
    )
    .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_conforms(&stored, "AssessmentRules");
    let mut broken = rules.clone();
    broken["groups"][0]["grades"] = json!([]);
    let refused = put(
        "/api/v1/assessment/rules/2026-12".into(),
        w.supervisor.clone(),
        broken,
    )
    .await;
    assert_eq!(
        (refused.status, refused.fields()),
        (422, vec!["groups[0].grades".to_owned()])
    );
    let a = w.unit_a.id.to_string();
    let bonus_path = format!("/api/v1/assessment/bonuses/2026-11/{a}");
    let too_much = put(
        bonus_path.clone(),
        w.supervisor.clone(),
        json!({"points": 30, "reason": "x"}),
    )
    .await;
    assert_eq!(
        (too_much.status, too_much.fields()),
        (422, vec!["points".to_owned()])
    );
    let bonus = put(
        bonus_path,
        w.supervisor.clone(),
        json!({"points": 5, "reason": "主动对接疑难件"}),
    )
    .await;
    assert_eq!(bonus.status, 200, "{}", bonus.text);

    w.at(dec(1, 9));
    let draft = w
        .app
        .get("/api/v1/reports/monthly?month=2026-11", &w.supervisor)
        .await;
    assert_eq!(draft.status, 200, "{}", draft.text);
    assert_conforms(&draft, "Bulletin");
    let b = &draft.body;
    assert_eq!(b["state"], "draft");
    assert_eq!(b["title"], "12345政务服务便民热线2026年11月工作通报");
    let v = &b["volume"];
    assert_eq!(
        [
            &v["total"],
            &v["direct"],
            &v["dispatched"],
            &v["pending"],
            &v["duplicates"],
            &v["invalid"]
        ],
        [
            &json!(7),
            &json!(1),
            &json!(3),
            &json!(1),
            &json!(1),
            &json!(1)
        ]
    );
    assert_eq!(v["days"], 30);
    let types: Vec<(String, u64)> = b["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["label"].as_str().unwrap().to_owned(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("咨询", 1),
            ("求助", 1),
            ("投诉", 3),
            ("举报", 0),
            ("建议", 1),
            ("表扬", 0),
            ("其他", 1)
        ]
        .map(|(l, n)| (l.to_owned(), n))
    );
    let top: Vec<(&str, u64)> = b["top_categories"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["label"].as_str().unwrap(), r["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(top, [("社会保障—工资薪金", 2), ("城市管理—市容市政", 1)]);
    let first: Vec<&str> = b["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(first, ["未分类", "社会保障", "城市管理"]);
    assert_eq!(b["daily"][1]["count"], 7, "every ticket came in on the 2nd");

    let row = unit(&b["units"], &a);
    assert_eq!(row["received"], 3);
    let score = &row["score"];
    let points: Vec<f64> = score["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["points"].as_f64().unwrap())
        .collect();
    assert_eq!(
        points,
        [26.7, 6.7, 10.0],
        "completion 2/3 × 40, response 1/3 × 20, satisfaction 1/2 × 20"
    );
    assert_eq!(
        (
            score["bonus"].as_f64(),
            score["total"].as_f64(),
            score["grade"].as_str()
        ),
        (Some(5.0), Some(48.3), Some("D"))
    );
    assert_eq!(row["rank"], 1);
    let b_row = unit(&b["units"], &w.unit_b.id.to_string());
    assert_eq!(
        (b_row["score"]["total"].as_f64(), b_row["rank"].as_u64()),
        (Some(40.0), Some(2))
    );
    let township = unit(&b["units"], &m.township);
    assert_eq!(
        (
            township["received"].as_u64(),
            &township["score"],
            &township["rank"]
        ),
        (Some(0), &Value::Null, &Value::Null),
        "a unit without tickets is neither scored nor ranked"
    );
    assert_eq!(b["groups"][0]["idle"], json!([township["name"]]));
    let departments = &b["groups"][1];
    assert_eq!(departments["top"][0]["name"], w_unit_name(w, &a));
    assert_eq!(
        departments["grades"],
        json!([["A", 0], ["B", 0], ["C", 0], ["D", 2]])
    );
    let cases: Vec<(&str, bool)> = b["typical_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["title"].as_str().unwrap(),
                c["positive"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(cases, [("夜间施工噪音", true), ("拖欠工资", false)]);

    // Every format.
    let csv = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&format=csv&table=types",
            &w.supervisor,
        )
        .await;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.text.contains("投诉,3,42.9%"), "{}", csv.text);
    assert!(csv.text.contains("合计,7,100.0%"));
    let zip = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&format=csv",
            &w.supervisor,
        )
        .await;
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert!(zip.bytes.starts_with(b"PK"));
    assert!(
        zip.header("content-disposition")
            .unwrap()
            .contains("bulletin-2026-11-csv.zip")
    );
    let xlsx = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&format=xlsx",
            &w.supervisor,
        )
        .await;
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"), "an XLSX file is a zip");
    let html = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&format=html",
            &w.supervisor,
        )
        .await;
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    for expected in [
        "<svg",
        "图一",
        "十大热点问题统计表",
        "承办单位考核情况表",
        "深入调查，圆满化解矛盾",
        "草稿",
    ] {
        assert!(html.text.contains(expected), "{expected}");
    }
    for (query, why) in [
        ("", "a month is required"),
        ("month=2026-13", "no such month"),
        ("month=2027-01", "not begun"),
        ("month=2026-11&table=types", "a table only for CSV"),
        ("month=2026-11&format=csv&table=nope", "no such table"),
        ("month=2026-11&format=pdf", "no such format"),
    ] {
        let refused = w
            .app
            .get(&format!("/api/v1/reports/monthly?{query}"), &w.supervisor)
            .await;
        assert_eq!(refused.status, 422, "{why}: {}", refused.text);
    }
}

fn w_unit_name(w: &World, id: &str) -> String {
    if w.unit_a.id.to_string() == id {
        w.unit_a.name.clone()
    } else {
        w.unit_b.name.clone()
    }
}

#[actix_web::test]
async fn a_published_bulletin_never_changes_and_appeals_restate_it() {
    let m = november().await;
    let w = &m.w;
    let a = w.unit_a.id.to_string();
    let early = w
        .app
        .post(
            "/api/v1/reports/monthly/2026-11/publish",
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!((early.status, early.code()), (409, "month_not_over"));
    w.at(dec(1, 9));
    let by_agent = w
        .app
        .post(
            "/api/v1/reports/monthly/2026-11/publish",
            &w.agent,
            &json!({}),
        )
        .await;
    assert_eq!(by_agent.status, 403);
    let published = w
        .app
        .post(
            "/api/v1/reports/monthly/2026-11/publish",
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.text);
    assert_eq!(published.body["state"], "published");
    assert_eq!(
        published.header("location"),
        Some("/api/v1/reports/monthly?month=2026-11")
    );
    let again = w
        .app
        .post(
            "/api/v1/reports/monthly/2026-11/publish",
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "already_published"));
    // What publishing answered is what every later read serves, byte for byte (rates keep
    // every digit they were stored with).
    for reader in [&w.supervisor, &w.handler_a] {
        let read = w
            .app
            .get("/api/v1/reports/monthly?month=2026-11", reader)
            .await;
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.text, published.text);
    }
    assert!(
        published.text.contains("0.") && published.text.len() > 1_000,
        "the bulletin has rates: {}",
        published.text
    );
    // Read on two connections at once, the month compiles to what was frozen from one.
    let mut at_once = w
        .get_json(
            "/api/v1/reports/monthly?month=2026-11&view=restated",
            &w.supervisor,
        )
        .await;
    assert_eq!(at_once["state"], "restated");
    at_once["state"] = json!("published");
    assert_eq!(at_once, published.body);

    // A appeals the dissatisfied callback of T3, with evidence; a supervisor grants it.
    w.at(dec(1, 10));
    let evidence = w
        .app
        .upload(
            &w.handler_a,
            &m.t3,
            "通话记录.jpg",
            &crate::lifecycle::jpeg(),
        )
        .await;
    assert_eq!(evidence.status, 201, "{}", evidence.text);
    let appeal_body = json!({"subject": "dissatisfied_callback", "reason": "已足额发放欠薪，诉求人因其他诉求不满意", "attachment_ids": [evidence.body["id"]]});
    let not_theirs = w
        .app
        .post(
            &format!("/api/v1/tickets/{}/appeals", m.t3),
            &w.handler_b,
            &appeal_body,
        )
        .await;
    assert_eq!(not_theirs.status, 404, "T3 was never B's");
    let satisfied = w
        .app
        .post(
            &format!("/api/v1/tickets/{}/appeals", m.t1),
            &w.handler_a,
            &json!({"subject": "dissatisfied_callback", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (satisfied.status, satisfied.code()),
        (409, "nothing_to_appeal")
    );
    let filed = w
        .app
        .post(
            &format!("/api/v1/tickets/{}/appeals", m.t3),
            &w.handler_a,
            &appeal_body,
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert_conforms(&filed, "Appeal");
    assert_eq!(filed.body["attachment_ids"], json!([evidence.body["id"]]));
    let twice = w
        .app
        .post(
            &format!("/api/v1/tickets/{}/appeals", m.t3),
            &w.handler_a,
            &json!({"subject": "dissatisfied_callback", "reason": "再次申诉"}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "already_appealed"));
    let overdue = w
        .app
        .post(
            &format!("/api/v1/tickets/{}/appeals", m.t4),
            &w.handler_a,
            &json!({"subject": "overdue", "reason": "等待住建部门鉴定"}),
        )
        .await;
    assert_eq!(overdue.status, 201, "T4 is past due: {}", overdue.text);
    let pending = w
        .get_json("/api/v1/appeals?status=pending", &w.supervisor)
        .await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 2);
    let mine = w.get_json("/api/v1/appeals", &w.handler_b).await;
    assert_eq!(mine["items"], json!([]), "B sees its own appeals only");
    let id = filed.body["id"].as_str().unwrap();
    let by_unit = w
        .app
        .post(
            &format!("/api/v1/appeals/{id}/grant"),
            &w.handler_a,
            &json!({}),
        )
        .await;
    assert_eq!(by_unit.status, 403);
    let granted = w
        .app
        .post(
            &format!("/api/v1/appeals/{id}/grant"),
            &w.supervisor,
            &json!({"note": "经核实已解决欠薪"}),
        )
        .await;
    assert_eq!(
        (granted.status, granted.body["status"].as_str()),
        (200, Some("granted"))
    );
    let decided = w
        .app
        .post(
            &format!("/api/v1/appeals/{id}/refuse"),
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!((decided.status, decided.code()), (409, "appeal_decided"));
    let refused = w
        .app
        .post(
            &format!(
                "/api/v1/appeals/{}/refuse",
                overdue.body["id"].as_str().unwrap()
            ),
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!(refused.body["status"], "refused");
    let unit_feed = w.get_json("/api/v1/notifications", &w.handler_a).await;
    assert_eq!(unit_feed["items"][0]["kind"], "appeal_decided");
    let events = w
        .get_json(&format!("/api/v1/tickets/{}/events", m.t3), &w.supervisor)
        .await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        &kinds[kinds.len() - 2..],
        ["appeal_filed", "appeal_decided"]
    );
    w.assert_timeline_replays(&m.t3);

    // The published bulletin stands; the restated one takes T3 out of A's figures.
    let frozen = w
        .get_json("/api/v1/reports/monthly?month=2026-11", &w.supervisor)
        .await;
    assert_eq!(frozen["state"], "published");
    assert_eq!(frozen, published.body);
    let restated = w
        .get_json(
            "/api/v1/reports/monthly?month=2026-11&view=restated",
            &w.supervisor,
        )
        .await;
    assert_eq!(restated["state"], "restated");
    assert_eq!(restated["published_at"], published.body["published_at"]);
    assert_eq!(unit(&frozen["units"], &a)["received"], 3);
    let row = unit(&restated["units"], &a);
    assert_eq!(
        counts(row),
        [2, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0]
    );
    let notes = &restated["exemptions"];
    assert_eq!(notes.as_array().unwrap().len(), 1);
    assert_eq!(notes[0]["subject"], "dissatisfied_callback");
    assert_eq!(notes[0]["decision_note"], "经核实已解决欠薪");
    let html = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&format=html&view=restated",
            &w.supervisor,
        )
        .await;
    assert!(html.text.contains("核减说明") && html.text.contains("经核实已解决欠薪"));

    // Units read published bulletins, nothing else.
    let own = w
        .app
        .get("/api/v1/reports/monthly?month=2026-11", &w.handler_a)
        .await;
    assert_eq!(own.status, 200);
    let draft = w
        .app
        .get("/api/v1/reports/monthly?month=2026-10", &w.handler_a)
        .await;
    assert_eq!(draft.status, 404);
    let restate = w
        .app
        .get(
            "/api/v1/reports/monthly?month=2026-11&view=restated",
            &w.handler_a,
        )
        .await;
    assert_eq!(restate.status, 403);
    let (_, integration) = w.app.login(Role::Integration);
    assert_eq!(
        w.app
            .get("/api/v1/reports/monthly?month=2026-11", &integration)
            .await
            .status,
        403
    );
}

/// The two connections a bulletin is read on see one state of the database: a row committed
/// after both began is in neither half, however the halves interleave with it.
#[test]
fn a_read_on_two_connections_sees_one_state() {
    use diesel::prelude::*;
    use hotline::store::schema::ticket_number_days;
    use hotline::store::{DbConnection, StoreError};

    let (url, _database) = crate::helpers::fresh_database();
    let db = crate::helpers::open_db(&url);
    db.read(hotline::store::migrations::run).unwrap();
    let days = |c: &mut DbConnection| -> Result<i64, StoreError> {
        Ok(hotline::per_backend!(c, |c| ticket_number_days::table
            .count()
            .get_result(c))?)
    };
    let (written, seen_written) = std::sync::mpsc::channel();
    let (first, second) = db
        .read_consistent(
            |c| {
                db.write(|w| {
                    hotline::per_backend!(w, |w| diesel::insert_into(ticket_number_days::table)
                        .values((
                            ticket_number_days::day.eq("2026-11-30"),
                            ticket_number_days::last_value.eq(1_i64),
                        ))
                        .execute(w))
                    .map_err(StoreError::from)
                })?;
                written.send(()).unwrap();
                days(c)
            },
            move |c| {
                seen_written.recv().unwrap();
                days(c)
            },
        )
        .unwrap();
    assert_eq!((first, second), (0, 0));
    assert_eq!(db.read(days).unwrap(), 1);
}
