//! Tickets counted by township, category and day of registration.

use hotline::domain::access::Role;
use hotline::domain::directory::UnitKind;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

fn row<'a>(answer: &'a Value, key: &str) -> &'a Value {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"].as_str() == Some(key))
        .unwrap_or_else(|| panic!("{key} in {answer}"))
}

#[actix_web::test]
async fn tickets_are_counted_by_township_category_and_day() {
    let w = world().await;
    let town = w.app.add_unit("cgz", UnitKind::Township);
    let (_, admin) = w.app.login(Role::Admin);
    let category = w
        .app
        .post("/api/v1/categories", &admin, &json!({"name": "噪音扰民"}))
        .await
        .body;
    let category_id = category["id"].as_str().unwrap();
    for (area, with_category) in [(true, true), (true, false), (false, true)] {
        let mut body = json!({"type": "complaint", "title": "噪音", "content": "夜间施工"});
        if area {
            body["area_unit_id"] = json!(town.id);
        }
        if with_category {
            body["category_id"] = json!(category_id);
        }
        let answer = w.app.register(&w.agent, body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
    // One of them dispatched and overdue later.
    let dispatched = w.complaint().await;
    w.dispatched(&dispatched).await;
    w.later(60 * 24);
    w.app
        .register(
            &w.agent,
            json!({"type": "consult", "title": "咨询", "content": "社保"}),
        )
        .await;

    let by_area = w
        .app
        .get("/api/v1/ticket-counts?by=area&month=2026-11", &w.dispatcher)
        .await;
    assert_eq!(by_area.status, 200, "{}", by_area.text);
    assert_conforms(&by_area, "TicketCounts");
    let town_row = row(&by_area.body, &town.id.to_string());
    assert_eq!(town_row["name"], "单位cgz");
    assert_eq!(
        (town_row["registered"].as_i64(), town_row["open"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(by_area.body["total"]["registered"], 5);

    let by_category = w
        .app
        .get(
            "/api/v1/ticket-counts?by=category&month=2026-11",
            &w.dispatcher,
        )
        .await;
    assert_eq!(row(&by_category.body, category_id)["registered"], 2);
    assert_eq!(row(&by_category.body, category_id)["name"], "噪音扰民");

    let by_day = w
        .app
        .get(
            "/api/v1/ticket-counts?by=day&from=2026-11-15&to=2026-11-18",
            &w.dispatcher,
        )
        .await;
    assert_eq!(by_day.status, 200, "{}", by_day.text);
    let days: Vec<(String, i64)> = by_day.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_owned(),
                r["registered"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-15".to_owned(), 0),
            ("2026-11-16".to_owned(), 4),
            ("2026-11-17".to_owned(), 1),
            ("2026-11-18".to_owned(), 0)
        ]
    );

    // The office's figures: a unit has its own, and a period must make sense.
    assert_eq!(
        w.app
            .get("/api/v1/ticket-counts?by=area&month=2026-11", &w.handler_a)
            .await
            .status,
        403
    );
    let backwards = w
        .app
        .get(
            "/api/v1/ticket-counts?by=day&from=2026-11-18&to=2026-11-01",
            &w.dispatcher,
        )
        .await;
    assert_eq!(backwards.status, 422, "{}", backwards.text);
}

#[actix_web::test]
async fn the_week_stands_out_against_the_weeks_before_by_the_bulletins_rules() {
    let w = world().await;
    let town = w.app.add_unit("cgz", UnitKind::Township);
    let (_, admin) = w.app.login(Role::Admin);
    let category = |name: &'static str| {
        let w = &w;
        let admin = admin.clone();
        async move {
            w.app
                .post("/api/v1/categories", &admin, &json!({"name": name}))
                .await
                .body["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let noise = category("噪音扰民").await;
    let water = category("停水").await;
    let register = |category: String, area: bool| {
        let w = &w;
        let town = town.id;
        async move {
            let mut body =
                json!({"type": "complaint", "title": "t", "content": "c", "category_id": category});
            if area {
                body["area_unit_id"] = json!(town);
            }
            let answer = w.app.register(&w.agent, body).await;
            assert_eq!(answer.status, 201, "{}", answer.text);
        }
    };
    let nothing_before = w.app.get("/api/v1/hot-spots", &w.dispatcher).await;
    assert_eq!(nothing_before.status, 200, "{}", nothing_before.text);
    assert_conforms(&nothing_before, "LiveHotSpots");
    assert_eq!(nothing_before.body["categories"], json!([]));

    // A week before: noise once in the township, water 26 times.
    register(noise.clone(), true).await;
    for _ in 0..26 {
        register(water.clone(), false).await;
    }
    w.later(60 * 24 * 21);
    // This week: noise six times, water twice.
    for _ in 0..6 {
        register(noise.clone(), true).await;
    }
    for _ in 0..2 {
        register(water.clone(), false).await;
    }
    w.later(1);

    let spots = w.app.get("/api/v1/hot-spots", &w.dispatcher).await;
    assert_eq!(spots.status, 200, "{}", spots.text);
    assert_conforms(&spots, "LiveHotSpots");
    assert_eq!(spots.body["baseline_weeks"], 13);
    let labels = |kind: &str| -> Vec<(String, i64)> {
        spots.body[kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["label"].as_str().unwrap().to_owned(),
                    s["count"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(labels("categories"), [("噪音扰民".to_owned(), 6)]);
    assert_eq!(labels("townships"), [("单位cgz".to_owned(), 6)]);
    // Of the thirteen weeks before, one had registrations: what is usual is that week's.
    assert_eq!(spots.body["categories"][0]["baseline"], 1.0);

    assert_eq!(
        w.app.get("/api/v1/hot-spots", &w.handler_a).await.status,
        403
    );
}
