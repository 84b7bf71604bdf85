//! `hotline archive`: the record of months past the keeping period leaves the database only
//! after it is written out, exactly the rows written, on the suite's backend; what is younger,
//! and what is still being worked on, stays.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hotline::domain::access::Role;
use hotline::domain::clock::ManualClock;
use hotline::store::sql::{At, Id, Uid, UtcTime};
use hotline::store::{self, Backend};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{Options, TestApp, spawn_app_with};

fn archive(app: &TestApp, before: &str, out: &Path, keep_months: u32) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["archive", "--before", before, "--out"])
        .arg(out)
        .env_remove("HOTLINE_STORAGE_URL")
        .env("DATABASE_URL", &app.database_url)
        .env("HOTLINE_STORAGE_DIR", app.storage_dir())
        .env("HOTLINE_KEEP_MONTHS", keep_months.to_string())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hotline archive")
}

fn count(app: &TestApp, sql: &str, at: DateTime<Utc>) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    app.db()
        .read(|c| {
            diesel::sql_query(sql)
                .bind::<UtcTime, _>(At(at))
                .get_result::<Count>(c)
                .map_err(store::StoreError::from)
        })
        .unwrap()
        .n
}

/// A subscription with one delivery sent and one still waiting, both from `at`.
fn deliveries(app: &TestApp, admin: Uuid, ticket_id: Uuid, at: DateTime<Utc>) {
    let subscription = Uuid::now_v7();
    app.db()
        .write(|c| -> Result<(), store::StoreError> {
            diesel::sql_query(
                "INSERT INTO webhook_subscriptions (id, url, created_by, created_at, updated_at) \
                 VALUES ($1, 'https://receiver.example/hook', $2, $3, $4)",
            )
            .bind::<Uid, _>(Id(subscription))
            .bind::<Uid, _>(Id(admin))
            .bind::<UtcTime, _>(At(at))
            .bind::<UtcTime, _>(At(at))
            .execute(c)?;
            for (event_id, status) in [(1_i64, "delivered"), (2, "pending")] {
                diesel::sql_query(
                    "INSERT INTO webhook_deliveries (subscription_id, event_id, event_kind, \
                     ticket_id, payload, status, next_attempt_at, event_at, created_at) \
                     VALUES ($1, $2, 'ticket.registered', $3, '{\"type\":\"ticket.registered\"}', \
                     $4, $5, $6, $7)",
                )
                .bind::<Uid, _>(Id(subscription))
                .bind::<BigInt, _>(event_id)
                .bind::<Uid, _>(Id(ticket_id))
                .bind::<Text, _>(status)
                .bind::<UtcTime, _>(At(at))
                .bind::<UtcTime, _>(At(at))
                .bind::<UtcTime, _>(At(at))
                .execute(c)?;
            }
            Ok(())
        })
        .unwrap();
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[actix_web::test]
async fn months_past_the_keeping_period_are_written_out_then_removed_and_nothing_younger() {
    let long_ago = Utc.with_ymd_and_hms(2019, 6, 10, 2, 0, 0).unwrap();
    let later = Utc.with_ymd_and_hms(2021, 3, 10, 2, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(long_ago));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (admin, _) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    let mut old_tickets = Vec::new();
    for title in ["旧工单一", "旧工单二"] {
        let answer = app
            .register(
                &agent,
                json!({"type": "complaint", "title": title, "content": "路灯不亮",
                       "caller_name": "王五", "caller_phone": "13900002222"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        let id = answer.body["id"].as_str().unwrap().to_owned();
        let caller = app
            .get(&format!("/api/v1/tickets/{id}/caller"), &agent)
            .await;
        assert_eq!(caller.status, 200, "{}", caller.text);
        old_tickets.push(id);
    }
    let first_old = Uuid::parse_str(&old_tickets[0]).unwrap();
    deliveries(&app, admin.id, first_old, long_ago);

    clock.set(later);
    let agent = app.token(&app.add_user("agent-later", Role::Agent));
    let young = app.ticket(&agent, "新工单").await;
    let young_id = young["id"].as_str().unwrap();

    let cutoff = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let before = |table: &str| {
        count(
            &app,
            &format!("SELECT count(*) AS n FROM {table} WHERE created_at < $1"),
            cutoff,
        )
    };
    let (events, audits) = (before("ticket_events"), before("audit_log"));
    assert!(
        events >= 2 && audits >= 2,
        "{events} events, {audits} audit entries"
    );
    let events_total = app.count("ticket_events");

    // Within the keeping period: refused, and nothing is written or removed.
    let scratch = tempfile::tempdir().unwrap();
    let refused = archive(&app, "2020-01", &scratch.path().join("refused"), 1_200);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("kept 1200 months"), "{said}");
    assert!(!scratch.path().join("refused").exists());
    assert_eq!(app.count("ticket_events"), events_total);

    let out = scratch.path().join("2020-01");
    let done = archive(&app, "2020-01", &out, 60);
    assert!(
        done.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["before"], "2020-01");
    // (table, rows archived, rows of those months left: the delivery still waiting)
    let expected = [
        ("ticket_events", events, 0),
        ("audit_log", audits, 0),
        ("webhook_deliveries", 1, 1),
    ];
    for (table, rows, left) in expected {
        let entry = manifest["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .unwrap_or_else(|| panic!("{table} in {manifest}"));
        assert_eq!(entry["rows"], rows, "{table}");
        let file = out.join(entry["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry["sha256"], digest.as_str(), "{table}");
        assert_eq!(lines(&file).len() as i64, rows, "{table}");
        assert_eq!(before(table), left, "{table} still holds archived rows");
    }

    // One line per row, every column, the same shape on both backends.
    let events_written = lines(&out.join("ticket_events.jsonl"));
    let registered = events_written
        .iter()
        .find(|e| e["ticket_id"] == old_tickets[0].as_str() && e["kind"] == "registered")
        .expect("the first ticket's registration");
    assert_eq!(registered["created_at"], "2019-06-10T02:00:00.000000Z");
    assert!(registered["details"].is_object(), "{registered}");
    assert!(registered["transaction_id"].is_i64());
    let sent = &lines(&out.join("webhook_deliveries.jsonl"))[0];
    assert_eq!(sent["status"], "delivered");
    assert_eq!(sent["payload"]["type"], "ticket.registered");
    assert_eq!(sent["delivered_at"], Value::Null);

    // What is younger, and the delivery still waiting, stay; so do the tickets themselves.
    assert_eq!(app.count("ticket_events"), events_total - events);
    assert_eq!(app.count("webhook_deliveries"), 1);
    let timeline = app
        .get(&format!("/api/v1/tickets/{young_id}/events"), &agent)
        .await;
    assert_eq!(timeline.status, 200);
    assert_eq!(timeline.body["items"][0]["kind"], "registered");
    let old = app
        .get(&format!("/api/v1/tickets/{}", old_tickets[0]), &agent)
        .await;
    assert_eq!(old.status, 200);
    let old_timeline = app
        .get(
            &format!("/api/v1/tickets/{}/events", old_tickets[0]),
            &agent,
        )
        .await;
    assert_eq!(old_timeline.body["items"], json!([]));

    // Figures of the archived months would be short of what left: refused, and said why. A
    // month after the cutoff is computed as before.
    for path in [
        "/api/v1/reports/monthly?month=2019-06",
        "/api/v1/reports/bulletin?period=2019",
        "/api/v1/figures?month=2019-06",
    ] {
        let refused = app.get(path, &agent).await;
        assert_eq!(
            (refused.status, refused.code()),
            (409, "period_archived"),
            "{path}: {}",
            refused.text
        );
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("2020-01-01")
        );
    }
    let kept = app
        .get("/api/v1/reports/monthly?month=2021-02", &agent)
        .await;
    assert_eq!(kept.status, 200, "{}", kept.text);

    // An archive is never written over another.
    let again = archive(&app, "2020-01", &out, 60);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    if app.db().backend() == Backend::Postgres {
        // The archived months went as whole partitions; the later month, written before its
        // partition existed, waits in DEFAULT until it is made, and then moves into it.
        let partitions = |app: &TestApp| {
            app.db()
                .write(|c| store::partitions::months(c, "ticket_events"))
                .unwrap()
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        let names = partitions(&app);
        assert!(
            !names.contains(&"ticket_events_2019_06".to_owned()),
            "{names:?}"
        );
        let in_default = |app: &TestApp| {
            count(
                app,
                "SELECT count(*) AS n FROM ticket_events_default WHERE created_at >= $1",
                later - chrono::Duration::days(9),
            )
        };
        assert!(in_default(&app) >= 1);
        let made = app
            .db()
            .write(|c| store::partitions::make_ahead(c, later))
            .unwrap();
        assert_eq!(made, 2 * (1 + store::partitions::MONTHS_AHEAD as usize));
        assert_eq!(in_default(&app), 0);
        assert!(partitions(&app).contains(&"ticket_events_2021_03".to_owned()));
        let timeline = app
            .get(&format!("/api/v1/tickets/{young_id}/events"), &agent)
            .await;
        assert_eq!(timeline.body["items"][0]["kind"], "registered");
    }
}
