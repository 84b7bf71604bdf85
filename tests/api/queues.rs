//! What is waiting, for whom: the dashboard's counts in each scope, and the extension requests
//! the office works through, of which it hears as each is filed.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

fn unit_row(dashboard: &Value, unit: uuid::Uuid) -> &Value {
    dashboard["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_id"] == json!(unit))
        .unwrap_or_else(|| panic!("unit {unit} in {dashboard}"))
}

#[actix_web::test]
async fn the_dashboard_counts_the_work_in_hand_in_the_callers_scope() {
    let w = world().await;
    let empty = w.app.get("/api/v1/dashboard", &w.dispatcher).await;
    assert_conforms(&empty, "Dashboard");
    assert_eq!(empty.body["office"]["to_dispatch"], 0);
    assert_eq!(empty.body["units"], json!([]));

    let registered = w.ticket_in("registered").await;
    let _dispatched = w.ticket_in("dispatched").await;
    let handling = w.ticket_in("handling").await;
    let _replied = w.ticket_in("replied").await;
    let _callback = w.ticket_in("awaiting_callback").await;
    let _closed = w.ticket_in("closed").await;
    let _returned = w.ticket_in("returned").await;
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

    let office = w.app.get("/api/v1/dashboard", &w.agent).await;
    assert_eq!(office.status, 200, "{}", office.text);
    assert_conforms(&office, "Dashboard");
    let counts = &office.body["office"];
    let expected = json!({
        "to_dispatch": 1, "returned": 1, "awaiting_sign": 1, "handling": 1, "due_today": 0,
        "overdue": 0, "awaiting_review": 1, "awaiting_callback": 1, "callbacks_overdue": 0,
        "extension_requests_pending": 1, "supervisions_open": 1,
    });
    assert_eq!(counts, &expected, "{registered}");
    // Unit A holds the dispatched and the handling tickets; unit B assists on the handling one
    // and has not signed its assignment on either ticket dispatched with it.
    let a = unit_row(&office.body, w.unit_a.id);
    assert_eq!(
        (
            a["open"].as_i64(),
            a["awaiting_sign"].as_i64(),
            a["extension_requests_pending"].as_i64(),
            a["supervisions_open"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(1))
    );
    let b = unit_row(&office.body, w.unit_b.id);
    assert_eq!(
        (b["open"].as_i64(), b["awaiting_sign"].as_i64()),
        (Some(2), Some(2))
    );

    // A unit sees its own counts only.
    let own = w.app.get("/api/v1/dashboard", &w.handler_a).await;
    assert_conforms(&own, "Dashboard");
    assert_eq!(own.body["office"], Value::Null);
    assert_eq!(own.body["units"].as_array().unwrap().len(), 1);
    assert_eq!(unit_row(&own.body, w.unit_a.id), a);
    assert_eq!(w.app.get("/api/v1/dashboard", &w.admin).await.status, 403);

    // On the day the open tickets' replies are due, they count as due today; once the ladder
    // has marked them, as overdue.
    let open = w
        .app
        .get(
            "/api/v1/tickets?status=dispatched,handling&sort=due",
            &w.dispatcher,
        )
        .await;
    let local_day = |at: &Value| {
        chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
    };
    let due_days: Vec<chrono::NaiveDate> = open.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| local_day(&t["due_at"]))
        .collect();
    assert_eq!(due_days.len(), 2);
    let first_day = due_days[0];
    let midnight = hotline::domain::period::local_midnight(first_day, chrono_tz::Asia::Shanghai);
    w.clock.set(midnight + chrono::Duration::minutes(1));
    let that_day = w.app.get("/api/v1/dashboard", &w.dispatcher).await;
    let due_that_day = due_days.iter().filter(|d| **d == first_day).count() as i64;
    assert_eq!(
        that_day.body["office"]["due_today"].as_i64(),
        Some(due_that_day)
    );
    assert_eq!(that_day.body["office"]["overdue"], 0);
    w.clock.set(
        hotline::domain::period::local_midnight(due_days[1], chrono_tz::Asia::Shanghai)
            + chrono::Duration::days(1),
    );
    w.app.tick();
    let after = w.app.get("/api/v1/dashboard", &w.dispatcher).await;
    assert_eq!(after.body["office"]["overdue"], 2);
    assert_eq!(after.body["office"]["due_today"], 0);
    assert_eq!(unit_row(&after.body, w.unit_a.id)["overdue"], 2);
}

#[actix_web::test]
async fn the_office_works_through_extension_requests_and_hears_of_each() {
    let w = world().await;
    let first = w.ticket_in("handling").await;
    let second = w.ticket_in("handling").await;
    for (id, reason) in [(&first, "需要现场勘验"), (&second, "需协调供水公司")] {
        w.later(5);
        w.ok(
            &w.handler_a,
            id,
            "extension-requests",
            json!({"due_at": "2026-12-20T10:00:00+08:00", "reason": reason}),
        )
        .await;
    }
    let feed = w.app.get("/api/v1/notifications", &w.dispatcher).await;
    let kinds: Vec<&str> = feed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .filter(|k| *k == "extension_requested")
        .collect();
    assert_eq!(kinds.len(), 2, "{}", feed.text);

    let queue = w
        .app
        .get(
            "/api/v1/extension-requests?status=pending&limit=1",
            &w.dispatcher,
        )
        .await;
    assert_conforms(&queue, "ExtensionRequestPage");
    assert_eq!(
        queue.body["items"][0]["ticket_id"],
        json!(first),
        "oldest first"
    );
    assert_eq!(queue.body["items"][0]["reason"], "需要现场勘验");
    let cursor = queue.body["next_cursor"].as_str().unwrap();
    let next = w
        .app
        .get(
            &format!("/api/v1/extension-requests?status=pending&limit=1&cursor={cursor}"),
            &w.dispatcher,
        )
        .await;
    assert_eq!(next.body["items"][0]["ticket_id"], json!(second));
    assert_eq!(next.body["next_cursor"], Value::Null);

    let request = queue.body["items"][0]["id"].as_str().unwrap();
    w.ok(
        &w.dispatcher,
        &first,
        &format!("extension-requests/{request}/approve"),
        json!({}),
    )
    .await;
    let pending = w
        .app
        .get("/api/v1/extension-requests?status=pending", &w.dispatcher)
        .await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1);

    // A unit reads its own queue; another unit's is refused, and unit B has none.
    let own = w.app.get("/api/v1/extension-requests", &w.handler_a).await;
    assert_eq!(own.body["items"].as_array().unwrap().len(), 2);
    let theirs = format!("/api/v1/extension-requests?unit_id={}", w.unit_a.id);
    assert_eq!(w.app.get(&theirs, &w.handler_b).await.status, 403);
    let none = w.app.get("/api/v1/extension-requests", &w.handler_b).await;
    assert_eq!(none.body["items"], json!([]));
}

/// Counted prepared statements on PostgreSQL whose text holds `marker`; SQLite keeps its
/// statements where nothing can count them, so there the answer is `None`.
/// PostgreSQL: how many statements prepared on this connection hold `marker`, and how many
/// times they were planned for the values bound (rather than once for every value).
fn prepared_holding(
    conn: &mut hotline::store::DbConnection,
    marker: &str,
) -> Result<Option<(i64, i64)>, hotline::store::StoreError> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        custom_plans: i64,
    }
    if let hotline::store::DbConnection::Sqlite(_) = conn {
        return Ok(None);
    }
    let found: Prepared = diesel::sql_query(format!(
        "SELECT COUNT(*) AS count, CAST(COALESCE(SUM(custom_plans), 0) AS BIGINT) AS custom_plans \
         FROM pg_prepared_statements WHERE statement LIKE '%{marker}%'"
    ))
    .get_result(conn)?;
    Ok(Some((found.count, found.custom_plans)))
}

#[actix_web::test]
async fn the_workbenchs_statements_are_planned_once_per_connection() {
    use hotline::domain::access::TicketScope;
    use hotline::domain::ticket::{TicketOrder, TicketStatus};
    use hotline::store::tickets::TicketFilter;
    let w = world().await;
    let now = w.app.now();
    let today = hotline::domain::period::Period {
        from: now,
        to: now + chrono::TimeDelta::days(1),
    };
    let filter = TicketFilter {
        statuses: vec![TicketStatus::Registered],
        ..TicketFilter::default()
    };
    let kept = w
        .app
        .db()
        .read(|c| {
            // More pages than PostgreSQL plans for their values before it weighs a plan for all.
            for _ in 0..8 {
                hotline::store::sql::planned_once(c, |c| {
                    hotline::store::queues::office(c, today, now)?;
                    hotline::store::queues::by_unit(c, None, today)?;
                    hotline::store::tickets::list(
                        c,
                        TicketScope::All,
                        &filter,
                        TicketOrder::Newest,
                        None,
                        50,
                    )
                })?;
            }
            Ok::<_, hotline::store::StoreError>([
                prepared_holding(c, "AS to_dispatch")?,
                prepared_holding(c, "AS open")?,
                prepared_holding(c, "FROM tickets t")?,
            ])
        })
        .unwrap();
    if kept[0].is_some() {
        // Each statement prepared and planned once, whatever the number of pages that asked.
        assert_eq!(kept, [Some((1, 0)), Some((1, 0)), Some((1, 0))]);
    }
}
