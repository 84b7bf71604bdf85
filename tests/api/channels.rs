//! Channels as the office defines them: the eight every hotline starts with, new ones an
//! administrator adds, registrations that name them, and integrations bound to their kind.

use awc::http::Method;
use hotline::domain::access::Role;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, spawn_app};

async fn put_channel(app: &TestApp, token: &str, code: &str, body: Value) -> Answer {
    app.send(
        Method::PUT,
        &format!("/api/v1/channels/{code}"),
        Some(token),
        &[],
        Some(&body),
    )
    .await
}

fn codes(list: &Answer) -> Vec<String> {
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_hotline_starts_with_a_channel_of_each_kind() {
    let app = spawn_app().await;
    let (_, agent) = app.login(Role::Agent);
    let list = app.get("/api/v1/channels", &agent).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(
        codes(&list),
        [
            "phone",
            "web",
            "wechat",
            "app",
            "mailbox",
            "upper_platform",
            "open311",
            "other"
        ]
    );
    for channel in list.body["items"].as_array().unwrap() {
        assert_eq!(channel["kind"], channel["code"]);
        assert_eq!(channel["bulletin_row"], channel["name"]);
        assert_eq!(channel["active"], true);
    }
    let phone = app.get("/api/v1/channels/phone", &agent).await;
    assert_eq!(phone.body["name"], "12345电话");
    assert_eq!(app.get("/api/v1/channels/fax", &agent).await.status, 404);
}

#[actix_web::test]
async fn an_administrator_defines_channels_and_their_kind_never_changes() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    let province = json!({"name": "省级12345热线", "kind": "upper_platform", "bulletin_row": "上级交办", "sort_order": 61});
    assert_eq!(
        put_channel(&app, &agent, "province_12345", province.clone())
            .await
            .status,
        403
    );
    let made = put_channel(&app, &admin, "province_12345", province.clone()).await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.body["code"], "province_12345");
    assert_eq!(made.body["bulletin_row"], "上级交办");
    assert_eq!(made.body["own_section"], false);

    let mut renamed = province.clone();
    renamed["name"] = json!("省12345政务服务热线");
    let replaced = put_channel(&app, &admin, "province_12345", renamed).await;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert_eq!(replaced.body["name"], "省12345政务服务热线");
    assert_eq!(replaced.body["created_at"], made.body["created_at"]);

    let mut other_kind = province.clone();
    other_kind["kind"] = json!("web");
    let refused = put_channel(&app, &admin, "province_12345", other_kind).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.fields(), ["kind"]);

    let bad = put_channel(
        &app,
        &admin,
        "Province",
        json!({"name": " ", "kind": "web", "bulletin_row": "a\nb"}),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.fields(), ["code", "name", "bulletin_row"]);
    let unknown_kind =
        put_channel(&app, &admin, "fax", json!({"name": "传真", "kind": "fax"})).await;
    assert_eq!(unknown_kind.status, 422, "{}", unknown_kind.text);
    assert_eq!(app.count("channels"), 9, "nothing written by a refusal");

    let list = app.get("/api/v1/channels", &agent).await;
    assert_eq!(
        codes(&list)[5..8],
        ["upper_platform", "province_12345", "open311"]
    );
    let audited = app.count("audit_log");
    assert!(audited >= 2, "each definition is audited");
}

#[actix_web::test]
async fn registrations_name_an_active_channel_and_integrations_keep_to_their_kind() {
    let app = spawn_app().await;
    let (_, admin) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    let (_, platform) = app.login(Role::Integration);
    for (code, body) in [
        (
            "mayor_mailbox",
            json!({"name": "市县长信箱", "kind": "mailbox", "own_section": true}),
        ),
        (
            "province_12345",
            json!({"name": "省级12345热线", "kind": "upper_platform"}),
        ),
        (
            "fax",
            json!({"name": "传真", "kind": "other", "active": false}),
        ),
    ] {
        assert_eq!(put_channel(&app, &admin, code, body).await.status, 201);
    }
    let ticket = |channel: &str| json!({"type": "complaint", "title": "t", "content": "c", "channel": channel});

    let mailed = app.register(&agent, ticket("mayor_mailbox")).await;
    assert_eq!(mailed.status, 201, "{}", mailed.text);
    assert_eq!(
        (&mailed.body["channel"], &mailed.body["channel_code"]),
        (&json!("mailbox"), &json!("mayor_mailbox"))
    );
    let called = app
        .register(
            &agent,
            json!({"type": "consult", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(called.body["channel_code"], "phone");
    let listed = app.get("/api/v1/tickets?channel=mailbox", &agent).await;
    assert_eq!(listed.body["items"][0]["channel_code"], "mayor_mailbox");
    let events = app
        .get(
            &format!(
                "/api/v1/tickets/{}/events",
                mailed.body["id"].as_str().unwrap()
            ),
            &agent,
        )
        .await;
    assert_eq!(
        events.body["items"][0]["details"]["channel_code"],
        "mayor_mailbox"
    );

    for (code, why) in [
        ("telegram", "no channel has the code"),
        ("fax", "no longer in use"),
    ] {
        let refused = app.register(&agent, ticket(code)).await;
        assert_eq!(refused.status, 422, "{code}");
        assert_eq!(refused.fields(), ["channel"]);
        assert!(refused.text.contains(why), "{}", refused.text);
    }
    assert_eq!(app.count("tickets"), 2, "nothing registered by a refusal");

    let relayed = app.register(&platform, ticket("province_12345")).await;
    assert_eq!(relayed.status, 201, "{}", relayed.text);
    assert_eq!(relayed.body["channel"], "upper_platform");
    let own = app
        .register(
            &platform,
            json!({"type": "consult", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(own.body["channel_code"], "upper_platform");
    let elsewhere = app.register(&platform, ticket("mayor_mailbox")).await;
    assert_eq!(elsewhere.status, 422);
    assert_eq!(elsewhere.fields(), ["channel"]);
    // The integration sees the tickets of its kind, whichever of its channels they came on.
    let seen = app.get("/api/v1/tickets", &platform).await;
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 2);
}
