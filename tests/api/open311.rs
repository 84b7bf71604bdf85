//! Open311 GeoReport v2: services from the category tree, requests posted as clients post them
//! (form fields, `attribute[...]`) and read back in XML and JSON without personal fields, the
//! spec's errors, its 90-day window, tokens, and the updates FixMyStreet reads.

use awc::http::Method;
use hotline::domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::*;

async fn public(app: &TestApp, path: &str) -> Answer {
    app.send(Method::GET, path, None, &[], None).await
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    app.send_raw(
        Method::POST,
        path,
        None,
        "application/x-www-form-urlencoded",
        body.into_bytes(),
    )
    .await
}

fn xml_of(answer: &Answer) -> &str {
    assert!(
        answer
            .header("content-type")
            .unwrap()
            .starts_with("text/xml"),
        "{answer:?}"
    );
    assert!(
        answer
            .text
            .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
    );
    &answer.text
}

#[actix_web::test]
async fn services_are_the_category_trees_leaves_grouped_by_their_first_level() {
    let w = world().await;
    let lamp = w.category("城乡建设", "路灯故障").await;
    let top = w
        .app
        .post("/api/v1/categories", &w.admin, &json!({"name": "环境保护"}))
        .await;
    assert_eq!(top.status, 201);

    let services = public(&w.app, "/open311/v2/services.json").await;
    assert_eq!(services.status, 200, "{}", services.text);
    let listed = services.body.as_array().unwrap();
    let names: Vec<&str> = listed
        .iter()
        .map(|s| s["service_name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"路灯故障") && names.contains(&"环境保护"),
        "{names:?}"
    );
    assert!(!names.contains(&"城乡建设"), "a group is not a service");
    let service = listed
        .iter()
        .find(|s| s["service_code"] == json!(lamp))
        .unwrap();
    assert_eq!(service["group"], "城乡建设");
    assert_eq!(service["metadata"], true);
    assert_eq!(service["type"], "realtime");
    let xml = public(&w.app, "/open311/v2/services.xml").await;
    assert!(xml_of(&xml).contains("<service_name>路灯故障</service_name>"));
    assert!(xml.text.contains("<services><service>"));

    let definition = public(&w.app, &format!("/open311/v2/services/{lamp}.json")).await;
    assert_eq!(definition.status, 200, "{}", definition.text);
    assert_eq!(definition.body["service_code"], json!(lamp));
    let attribute = &definition.body["attributes"][0];
    assert_eq!(attribute["code"], "type");
    assert_eq!(attribute["datatype"], "singlevaluelist");
    assert!(
        attribute["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "complaint", "name": "投诉"}))
    );
    let definition = public(&w.app, &format!("/open311/v2/services/{lamp}.xml")).await;
    assert!(xml_of(&definition).contains("<attributes><attribute>"));

    // Errors in the specification's shape, in the format asked for.
    let missing = public(&w.app, "/open311/v2/services/nonsense.xml").await;
    assert_eq!(missing.status, 404);
    assert!(
        xml_of(&missing).contains("<errors><error><code>404</code><description>"),
        "{}",
        missing.text
    );
    let missing = public(&w.app, "/open311/v2/services/nonsense.json").await;
    assert_eq!(missing.body[0]["code"], 404);
    assert_eq!(
        public(&w.app, "/open311/v2/services.html").await.status,
        404
    );
    let discovery = public(&w.app, "/open311/v2/discovery.json").await;
    assert_eq!(discovery.status, 200);
    assert_eq!(
        discovery.body["endpoints"][0]["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
}

#[actix_web::test]
async fn a_request_posted_as_clients_send_it_is_registered_on_the_integrations_channel() {
    let w = world().await;
    let lamp = w.category("城乡建设", "路灯故障").await;
    let (_, platform) = w.app.login(Role::Integration);
    let posted = post_form(
        &w.app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", &platform),
            ("jurisdiction_id", "county.example.cn"),
            ("service_code", &lamp),
            ("lat", "31.2304"),
            ("long", "121.4737"),
            ("address_string", "滨河路12号"),
            ("description", "滨河路路灯连续三晚不亮"),
            ("first_name", "三"),
            ("last_name", "张"),
            ("email", "zhangsan@example.cn"),
            ("phone", "13812345678"),
            ("media_url", "https://img.example.cn/lamp.jpg"),
            ("attribute[type]", "complaint"),
        ],
    )
    .await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    let xml = xml_of(&posted);
    let number = between(xml, "<service_request_id>", "</service_request_id>");
    let token = between(xml, "<token>", "</token>");
    assert!(xml.contains("<service_requests><request>"));

    // The ticket, as the hotline sees it.
    let ticket = w
        .app
        .get(&format!("/api/v1/tickets/by-number/{number}"), &w.agent)
        .await;
    assert_eq!(ticket.status, 200, "{}", ticket.text);
    assert_eq!(ticket.body["channel"], "upper_platform");
    assert_eq!(ticket.body["type"], "complaint");
    assert_eq!(ticket.body["title"], "路灯故障");
    assert_eq!(ticket.body["category_id"], json!(lamp));
    assert_eq!(ticket.body["address"], "滨河路12号");
    assert!(
        ticket.body["content"]
            .as_str()
            .unwrap()
            .ends_with("https://img.example.cn/lamp.jpg")
    );
    let id = ticket.body["id"].as_str().unwrap().to_owned();
    let revealed = w
        .app
        .get(
            &format!("/api/v1/tickets/{id}/caller?reason=callback"),
            &w.agent,
        )
        .await;
    assert_eq!(revealed.body["caller_name"], "张三");
    assert_eq!(revealed.body["caller_phone"], "13812345678");

    // Read back: open, without the caller, then responsible and due once dispatched.
    let listed = public(
        &w.app,
        &format!("/open311/v2/requests.json?service_request_id={number}&jurisdiction_id=x"),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let request = &listed.body[0];
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_name"], "路灯故障");
    assert_eq!(request["service_code"], json!(lamp));
    assert_eq!(request["lat"], 31.2304);
    assert_eq!(request["agency_responsible"], "");
    assert_eq!(request["expected_datetime"], Value::Null);
    w.dispatched(&id).await;
    let one = public(&w.app, &format!("/open311/v2/requests/{number}.json")).await;
    assert_eq!(one.body[0]["agency_responsible"], json!(w.unit_a.name));
    assert!(one.body[0]["expected_datetime"].as_str().is_some());
    assert_eq!(one.body[0]["status_notes"], "已派发承办单位，等待签收");
    for text in [&listed.text, &one.text] {
        for personal in ["张三", "13812345678", "zhangsan@example.cn"] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
    let xml = public(&w.app, &format!("/open311/v2/requests/{number}.xml")).await;
    assert!(xml_of(&xml).contains(&format!(
        "<service_request_id>{number}</service_request_id>"
    )));
    let by_token = public(&w.app, &format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(by_token.body[0]["service_request_id"], json!(number));
    assert_eq!(
        public(&w.app, "/open311/v2/tokens/nonsense.json")
            .await
            .status,
        404
    );

    // Refusals, each in the specification's shape, each changing nothing.
    let before = w.app.count("tickets");
    let place = [
        ("address_string", "滨河路"),
        ("service_code", lamp.as_str()),
    ];
    for (fields, status) in [
        (vec![("service_code", lamp.as_str())], 403),
        (vec![("api_key", "not-a-token"), place[0], place[1]], 403),
        (vec![("api_key", w.agent.as_str()), place[0], place[1]], 403),
        (vec![("api_key", platform.as_str()), place[0]], 400),
        (
            vec![
                ("api_key", platform.as_str()),
                ("service_code", lamp.as_str()),
            ],
            400,
        ),
        (
            vec![
                ("api_key", platform.as_str()),
                place[0],
                ("service_code", "x"),
            ],
            400,
        ),
        (
            vec![
                ("api_key", platform.as_str()),
                place[0],
                place[1],
                ("attribute[type]", "spam"),
            ],
            400,
        ),
    ] {
        let refused = post_form(&w.app, "/open311/v2/requests.json", &fields).await;
        assert_eq!(refused.status, status, "{fields:?}: {}", refused.text);
        assert_eq!(refused.body[0]["code"], status);
        assert!(refused.body[0]["description"].as_str().is_some());
    }
    assert_eq!(w.app.count("tickets"), before);
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("{open} in {text}"))
        + open.len();
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

#[actix_web::test]
async fn lists_keep_to_ninety_days_their_filters_and_never_a_confidential_ticket() {
    let w = world().await;
    let lamp = w.category("城乡建设", "路灯故障").await;
    let shown = w
        .app
        .register(
            &w.agent,
            json!({"type": "complaint", "title": "路灯", "content": "路灯不亮", "category_id": lamp}),
        )
        .await;
    let hidden = w
        .app
        .register(
            &w.agent,
            json!({"type": "report", "title": "举报", "content": "某单位违规", "category_id": lamp, "confidential": true}),
        )
        .await;
    assert_eq!((shown.status, hidden.status), (201, 201));
    let all = public(&w.app, "/open311/v2/requests.json").await;
    assert_eq!(all.status, 200, "{}", all.text);
    let numbers: Vec<&Value> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["service_request_id"])
        .collect();
    assert_eq!(numbers, [&shown.body["number"]]);
    let hidden_number = hidden.body["number"].as_str().unwrap();
    let direct = public(
        &w.app,
        &format!("/open311/v2/requests/{hidden_number}.json"),
    )
    .await;
    assert_eq!(direct.status, 404);

    let by_code = public(
        &w.app,
        &format!("/open311/v2/requests.json?service_code={lamp}&status=open"),
    )
    .await;
    assert_eq!(by_code.body.as_array().unwrap().len(), 1);
    let closed = public(&w.app, "/open311/v2/requests.json?status=closed").await;
    assert_eq!(closed.body, json!([]));
    let closed_xml = public(&w.app, "/open311/v2/requests.xml?status=closed").await;
    assert!(xml_of(&closed_xml).ends_with("<service_requests></service_requests>"));
    let within = public(
        &w.app,
        "/open311/v2/requests.json?start_date=2026-11-01T00:00:00Z&end_date=2026-11-30T00:00:00Z",
    )
    .await;
    assert_eq!(within.body.as_array().unwrap().len(), 1, "{}", within.text);
    let before = public(
        &w.app,
        "/open311/v2/requests.json?start_date=2026-09-01T00:00:00Z&end_date=2026-10-01T00:00:00Z",
    )
    .await;
    assert_eq!(before.body, json!([]));
    for bad in [
        "start_date=2026-01-01T00:00:00Z&end_date=2026-11-30T00:00:00Z",
        "start_date=yesterday",
        "status=pending",
        "service_code=nonsense",
    ] {
        let refused = public(&w.app, &format!("/open311/v2/requests.xml?{bad}")).await;
        assert_eq!(refused.status, 400, "{bad}");
        assert!(xml_of(&refused).contains("<errors><error><code>400</code>"));
    }
}

#[actix_web::test]
async fn updates_tell_what_became_of_each_request() {
    let w = world().await;
    let id = w.complaint().await;
    w.dispatched(&id).await;
    w.signed(&id).await;
    w.replied(&id).await;
    let ticket = w.app.get(&format!("/api/v1/tickets/{id}"), &w.agent).await;
    let number = ticket.body["number"].as_str().unwrap().to_owned();
    let updates = public(
        &w.app,
        "/open311/v2/servicerequestupdates.json?start_date=2026-11-01T00:00:00Z&end_date=2026-11-30T00:00:00Z",
    )
    .await;
    assert_eq!(updates.status, 200, "{}", updates.text);
    let statuses: Vec<(&str, &str)> = updates
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            assert_eq!(u["service_request_id"], json!(number));
            (
                u["status"].as_str().unwrap(),
                u["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("in_progress", "已派发承办单位"),
            ("in_progress", "承办单位已签收"),
            ("action_scheduled", "承办单位已答复"),
        ]
    );
    let xml = public(&w.app, "/open311/v2/servicerequestupdates.xml?start_date=2026-11-01T00:00:00Z&end_date=2026-11-30T00:00:00Z").await;
    assert!(xml_of(&xml).contains("<service_request_updates><request_update>"));
    assert!(xml.text.contains("<update_id>"));
}
