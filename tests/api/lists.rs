//! Every list reads an index range chosen from its filter; whatever range it reads, a list must
//! hold exactly the tickets its definition names, in its order, page after page. Here the
//! definition is worked out from each ticket as the office reads it whole.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

/// The tickets a viewer's list holds, by the definitions `openapi.yaml` gives.
struct Viewer<'a> {
    token: &'a str,
    /// A unit handler's unit; `None` for the office, which sees every ticket.
    unit: Option<String>,
}

fn assigned(ticket: &Value, unit: &str, current_round_only: bool) -> bool {
    ticket["assignments"].as_array().unwrap().iter().any(|a| {
        a["unit_id"] == unit && (!current_round_only || a["round"] == ticket["current_round"])
    })
}

fn at(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|s| s.parse().unwrap())
}

fn expected(tickets: &[Value], viewer: &Viewer, query: &[(&str, String)]) -> Vec<String> {
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    let mut held: Vec<&Value> = tickets
        .iter()
        .filter(|t| match &viewer.unit {
            Some(unit) => assigned(t, unit, false),
            None => true,
        })
        .filter(|t| match get("unit_id") {
            Some(_) => assigned(t, viewer.unit.as_deref().unwrap(), true),
            None => true,
        })
        .filter(|t| match get("status") {
            Some(statuses) => statuses.split(',').any(|s| t["status"] == s),
            None => true,
        })
        .filter(|t| match get("supervised") {
            Some(flag) => t["supervised"] == (flag == "true"),
            None => true,
        })
        .filter(|t| match get("overdue") {
            Some(flag) => t["overdue"] == (flag == "true"),
            None => true,
        })
        .filter(|t| match get("area_unit_id") {
            Some(area) => t["area_unit_id"] == area,
            None => true,
        })
        .filter(|t| match get("due_before") {
            Some(before) => {
                at(&t["due_at"]).is_some_and(|due| due < before.parse::<DateTime<Utc>>().unwrap())
            }
            None => true,
        })
        .collect();
    if get("sort") == Some("due") {
        held.retain(|t| !t["due_at"].is_null());
        held.sort_by_key(|t| (at(&t["due_at"]), t["id"].as_str().unwrap().to_owned()));
    } else {
        held.sort_by_key(|t| (at(&t["created_at"]), t["id"].as_str().unwrap().to_owned()));
        held.reverse();
    }
    held.iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The whole list, two tickets a page.
async fn paged(w: &World, token: &str, query: &[(&str, String)]) -> Vec<String> {
    let base: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let mut path = format!("/api/v1/tickets?limit=2&{}", base.join("&"));
    let mut seen = Vec::new();
    loop {
        let page = w.app.get(&path, token).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/tickets?limit=2&{}&cursor={cursor}", base.join("&"))
            }
            None => return seen,
        }
    }
}

#[actix_web::test]
async fn every_list_holds_what_its_definition_names_page_after_page() {
    let w = world().await;
    let town = w
        .app
        .add_unit("town", hotline::domain::directory::UnitKind::Township);
    let mut ids = Vec::new();
    for status in [
        "registered",
        "dispatched",
        "handling",
        "replied",
        "closed",
        "returned",
        "dispatched",
        "handling",
        "invalid",
    ] {
        w.later(7);
        ids.push(w.ticket_in(status).await);
    }
    // The ladder a month on finds those being worked on overdue; the tickets below are not.
    // (The clock comes back so that the staff's tokens stay valid.)
    let today = hotline::domain::clock::Clock::now(&*w.clock);
    w.clock.set(today + chrono::Duration::days(30));
    w.app.tick();
    w.clock.set(today);
    // A ticket that unit A handed back and unit B holds now.
    w.later(7);
    let moved = w.ticket_in("returned").await;
    w.ok(
        &w.dispatcher,
        &moved,
        "dispatch",
        json!({"primary_unit_id": w.unit_b.id}),
    )
    .await;
    ids.push(moved);
    // One in an area, one supervised.
    w.later(7);
    let in_town = w
        .app
        .register(
            &w.agent,
            json!({"type": "help", "title": "路灯不亮", "content": "c", "area_unit_id": town.id}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.dispatched(&in_town).await;
    w.ok(
        &w.supervisor,
        &in_town,
        "supervisions",
        json!({"unit_id": w.unit_a.id, "reason": "群众反复投诉", "deadline": "2026-11-30T18:00:00+08:00"}),
    )
    .await;
    ids.push(in_town);
    let mut tickets = Vec::new();
    for id in &ids {
        tickets.push(
            w.app
                .get(&format!("/api/v1/tickets/{id}"), &w.dispatcher)
                .await
                .body,
        );
    }
    let viewers = [
        Viewer {
            token: &w.dispatcher,
            unit: None,
        },
        Viewer {
            token: &w.handler_a,
            unit: Some(w.unit_a.id.to_string()),
        },
        Viewer {
            token: &w.handler_b,
            unit: Some(w.unit_b.id.to_string()),
        },
    ];
    let due_before = "2026-11-20T00:00:00Z".to_owned();
    let queries: Vec<Vec<(&str, String)>> = vec![
        vec![],
        vec![("sort", "due".into())],
        vec![("status", "dispatched,handling".into())],
        vec![
            ("status", "dispatched,handling".into()),
            ("sort", "due".into()),
        ],
        vec![("status", "closed,invalid,registered,returned".into())],
        vec![("status", "closed,handling,closed".into())],
        vec![("supervised", "true".into())],
        vec![("supervised", "false".into()), ("sort", "due".into())],
        vec![("overdue", "false".into())],
        vec![("overdue", "true".into())],
        vec![("area_unit_id", town.id.to_string())],
        vec![("due_before", due_before.clone())],
        vec![("due_before", due_before), ("status", "handling".into())],
    ];
    let unit_queries: Vec<Vec<(&str, String)>> = queries
        .iter()
        .map(|q| {
            let mut q = q.clone();
            q.push(("unit_id", "me".into()));
            q
        })
        .collect();
    for viewer in &viewers {
        let asked = queries
            .iter()
            .chain(unit_queries.iter().filter(|_| viewer.unit.is_some()));
        for query in asked {
            assert_eq!(
                paged(&w, viewer.token, query).await,
                expected(&tickets, viewer, query),
                "{query:?} for {:?}",
                viewer.unit
            );
        }
    }
    // Lists that hold something: the comparisons above are not all of empty lists.
    assert!(
        expected(
            &tickets,
            &viewers[1],
            &[("unit_id", "me".into()), ("sort", "due".into())]
        )
        .len()
            >= 3
    );
    assert!(
        expected(&tickets, &viewers[0], &[("overdue", "true".into())]).len() >= 2,
        "overdue tickets are listed"
    );
    let holds = |viewer: &Viewer| expected(&tickets, viewer, &[("unit_id", "me".into())]);
    assert!(
        holds(&viewers[2]).contains(&ids[9]) && !holds(&viewers[1]).contains(&ids[9]),
        "unit B holds the ticket unit A handed back"
    );
}
