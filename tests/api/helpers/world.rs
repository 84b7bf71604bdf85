//! The hotline most API tests run in: its staff, two units with a handler each, a clock the
//! test moves, and the usual steps of a ticket's life as named steps.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use hotline::domain::access::{Actor, Role};
use hotline::domain::clock::ManualClock;
use hotline::domain::directory::{Unit, UnitKind};
use hotline::domain::lifecycle::{Change, Lifecycle};
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;

/// A hotline with its staff and two units, each with a handler.
pub struct World {
    pub app: TestApp,
    pub agent: String,
    pub dispatcher: String,
    pub supervisor: String,
    pub admin: String,
    pub unit_a: Unit,
    pub handler_a: String,
    pub unit_b: Unit,
    pub handler_b: String,
    pub clock: Arc<ManualClock>,
}

/// Monday 16 November 2026, 09:00 in Shanghai.
pub fn monday_morning() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 16, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub async fn world() -> World {
    world_at(monday_morning()).await
}

/// A world whose clock starts at `start`.
pub async fn world_at(start: DateTime<Utc>) -> World {
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let (_, agent) = app.login(Role::Agent);
    let (_, dispatcher) = app.login(Role::Dispatcher);
    let (_, supervisor) = app.login(Role::Supervisor);
    let (_, admin) = app.login(Role::Admin);
    let unit_a = app.add_unit("rsj", UnitKind::Department);
    let unit_b = app.add_unit("cgj", UnitKind::Department);
    let handler_a = app.token(&app.add_user_in("handler-a", Role::UnitHandler, Some(unit_a.id)));
    let handler_b = app.token(&app.add_user_in("handler-b", Role::UnitHandler, Some(unit_b.id)));
    World {
        app,
        agent,
        dispatcher,
        supervisor,
        admin,
        unit_a,
        handler_a,
        unit_b,
        handler_b,
        clock,
    }
}

impl World {
    pub async fn act(&self, token: &str, ticket: &str, action: &str, body: Value) -> Answer {
        self.app
            .post(&format!("/api/v1/tickets/{ticket}/{action}"), token, &body)
            .await
    }

    /// An action that must succeed; returns the ticket it answers, which must be the ticket as
    /// stored: the answer is built from the decision, not read back.
    pub async fn ok(&self, token: &str, ticket: &str, action: &str, body: Value) -> Value {
        let answer = self.act(token, ticket, action, body.clone()).await;
        assert_eq!(answer.status, 200, "{action} {body}: {}", answer.text);
        assert_eq!(
            answer.header("etag").map(str::to_owned),
            Some(format!("\"{}\"", answer.body["version"]))
        );
        let stored = self
            .app
            .get(&format!("/api/v1/tickets/{ticket}"), token)
            .await;
        assert_eq!(
            answer.body, stored.body,
            "{action} answers the ticket as stored"
        );
        answer.body
    }

    pub async fn complaint(&self) -> String {
        let ticket = self.app.ticket(&self.agent, "噪音扰民").await;
        ticket["id"].as_str().unwrap().to_owned()
    }

    pub fn later(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
    }

    /// A reply body with a contact record made now.
    pub fn reply_body(&self) -> Value {
        json!({
            "result": "resolved",
            "text": "已协调施工方调整作业时间",
            "contact": {"contacted_at": self.clock_now(), "method": "phone", "outcome": "已告知处理结果，诉求人认可"}
        })
    }

    fn clock_now(&self) -> String {
        use hotline::domain::clock::Clock;
        self.clock.now().to_rfc3339()
    }

    /// Dispatched to unit A as primary.
    pub async fn dispatched(&self, id: &str) -> Value {
        self.ok(
            &self.dispatcher,
            id,
            "dispatch",
            json!({"primary_unit_id": self.unit_a.id}),
        )
        .await
    }

    /// Signed for by unit A.
    pub async fn signed(&self, id: &str) -> Value {
        self.ok(&self.handler_a, id, "sign", json!({})).await
    }

    /// Replied to by unit A, with a contact record made now.
    pub async fn replied(&self, id: &str) -> Value {
        self.ok(&self.handler_a, id, "reply", self.reply_body())
            .await
    }

    /// Brings a new ticket to `status` along the usual path; returns its id.
    pub async fn ticket_in(&self, status: &str) -> String {
        let id = self.complaint().await;
        let steps: &[(&str, &str, Value)] = &[
            (
                "dispatcher",
                "dispatch",
                json!({"primary_unit_id": self.unit_a.id, "assisting_unit_ids": [self.unit_b.id]}),
            ),
            ("handler_a", "sign", json!({})),
            ("handler_a", "reply", self.reply_body()),
            ("dispatcher", "review", json!({"decision": "accept"})),
            (
                "agent",
                "callbacks",
                json!({"reached": true, "satisfaction": "satisfied", "resolved": true}),
            ),
        ];
        let order = [
            "registered",
            "dispatched",
            "handling",
            "replied",
            "awaiting_callback",
            "closed",
        ];
        let target = order.iter().position(|s| *s == status).unwrap_or(0);
        for (who, action, body) in steps.iter().take(target) {
            let token = match *who {
                "dispatcher" => &self.dispatcher,
                "handler_a" => &self.handler_a,
                _ => &self.agent,
            };
            self.later(30);
            // A contact record is made after the dispatch it answers.
            let body = if *action == "reply" {
                self.reply_body()
            } else {
                body.clone()
            };
            self.ok(token, &id, action, body).await;
        }
        match status {
            "returned" => {
                self.dispatched(&id).await;
                self.ok(
                    &self.handler_a,
                    &id,
                    "return",
                    json!({"reason": "不属于本单位职责"}),
                )
                .await;
            }
            "merged" => {
                let other = self.complaint().await;
                self.ok(&self.agent, &id, "merge", json!({"into_ticket_id": other}))
                    .await;
            }
            "invalid" => {
                self.ok(
                    &self.agent,
                    &id,
                    "invalidate",
                    json!({"reason": "骚扰电话"}),
                )
                .await;
            }
            _ => {}
        }
        id
    }

    /// The ticket's timeline replayed, and its lifecycle as stored: they must agree.
    pub fn assert_timeline_replays(&self, ticket: &str) {
        let id = Uuid::parse_str(ticket).unwrap();
        let db = self.app.db();
        let (stored, events) = db
            .read(|c| {
                let ticket =
                    hotline::store::tickets::get(c, id, hotline::domain::access::TicketScope::All)?;
                Ok::<_, hotline::store::StoreError>((
                    hotline::store::lifecycle::load(c, &ticket)?,
                    hotline::store::events::list(c, &ticket, None, 10_000)?,
                ))
            })
            .unwrap();
        let changes: Vec<(Change, DateTime<Utc>, Actor)> = events
            .iter()
            .filter_map(|e| {
                Change::from_event(e.kind, &e.details).map(|c| (c.unwrap(), e.created_at, e.actor))
            })
            .collect();
        let replayed = Lifecycle::replay(id, changes.iter().map(|(c, at, a)| (c, *at, *a)));
        assert_eq!(replayed, stored, "the timeline replays to the stored state");
        let versions: Vec<i64> = events.iter().map(|e| e.ticket_version).collect();
        assert!(
            versions.windows(2).all(|w| w[0] <= w[1]),
            "versions never go back: {versions:?}"
        );
    }
}
