//! Deadlines that keep themselves: the calendar and the SLA policy as data an administrator
//! changes, pausing the clock, the urge ladder driven by a fake clock across a holiday week and
//! a make-up working Saturday, several instances firing each rung once, and the notification
//! feeds.

use std::sync::{Arc, Barrier};

use chrono::{DateTime, TimeZone, Utc};
use hotline::domain::access::Role;
use hotline::domain::ladder::{Rung, Timer};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

/// A time of 2026 in Shanghai.
fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The autumn of 2026 as the State Council's notice has it: the Mid-Autumn Festival on Friday
/// 25 September, National Day from 1 to 7 October, and Sunday 20 September and Saturday
/// 10 October worked instead.
fn autumn_2026() -> Value {
    json!({
        "holidays": [
            {"day": "2026-09-25", "name": "中秋节"},
            {"day": "2026-10-01", "name": "国庆节"},
            {"day": "2026-10-02", "name": "国庆节"},
            {"day": "2026-10-03", "name": "国庆节"},
            {"day": "2026-10-04", "name": "国庆节"},
            {"day": "2026-10-05", "name": "国庆节"},
            {"day": "2026-10-06", "name": "国庆节"},
            {"day": "2026-10-07", "name": "国庆节"}
        ],
        "workdays": [
            {"day": "2026-09-20", "name": "国庆节调休"},
            {"day": "2026-10-10", "name": "国庆节调休"}
        ]
    })
}

impl World {
    async fn put(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.app
            .send(awc::http::Method::PUT, path, Some(token), &[], Some(body))
            .await
    }

    /// A consultation registered and dispatched now to unit A (primary) and, if asked, unit B.
    async fn dispatched_consultation(&self, with_assisting: bool) -> String {
        let ticket = self
            .app
            .register(
                &self.agent,
                json!({"type": "consult", "title": "社保转移咨询", "content": "如何办理社保关系转移"}),
            )
            .await;
        assert_eq!(ticket.status, 201, "{}", ticket.text);
        let id = ticket.body["id"].as_str().unwrap().to_owned();
        let assisting: Vec<_> = if with_assisting {
            vec![self.unit_b.id]
        } else {
            vec![]
        };
        self.ok(
            &self.dispatcher,
            &id,
            "dispatch",
            json!({"primary_unit_id": self.unit_a.id, "assisting_unit_ids": assisting}),
        )
        .await;
        id
    }

    async fn ticket(&self, id: &str) -> Value {
        let answer = self
            .app
            .get(&format!("/api/v1/tickets/{id}"), &self.dispatcher)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body
    }

    async fn event_kinds(&self, id: &str) -> Vec<String> {
        let events = self
            .app
            .get(&format!("/api/v1/tickets/{id}/events"), &self.dispatcher)
            .await;
        events.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    /// The kinds in a feed, newest first.
    async fn feed(&self, token: &str) -> (Vec<String>, Value) {
        let answer = self.app.get("/api/v1/notifications", token).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_conforms(&answer, "NotificationPage");
        let kinds = answer.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap().to_owned())
            .collect();
        (kinds, answer.body)
    }

    /// One ladder pass at `now`; what it fired.
    fn tick_at(&self, now: DateTime<Utc>) -> Vec<(Timer, Rung, usize)> {
        self.clock.set(now);
        fired(&self.app.tick())
    }
}

fn fired(report: &hotline::jobs::ladder::PassReport) -> Vec<(Timer, Rung, usize)> {
    report
        .fired
        .iter()
        .map(|((timer, rung), n)| (*timer, *rung, *n))
        .collect()
}

#[actix_web::test]
async fn a_calendar_year_is_validated_and_replaced_at_once() {
    let w = world().await;
    let empty = w.app.get("/api/v1/calendar/2026", &w.agent).await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        empty.body,
        json!({"year": 2026, "holidays": [], "workdays": []})
    );
    assert_conforms(&empty, "CalendarYear");

    let by_dispatcher = w
        .put("/api/v1/calendar/2026", &w.dispatcher, &autumn_2026())
        .await;
    assert_eq!(
        (by_dispatcher.status, by_dispatcher.code()),
        (403, "forbidden")
    );
    let invalid = w
        .put(
            "/api/v1/calendar/2026",
            &w.admin,
            &json!({
                "holidays": [
                    {"day": "2027-01-01", "name": "元旦"},
                    {"day": "2026-10-01"},
                    {"day": "2026-10-01"},
                    {"day": "2026-10-03", "name": "国庆节".repeat(11)}
                ],
                "workdays": [{"day": "2026-10-03"}, {"day": "2026-10-12"}]
            }),
        )
        .await;
    assert_eq!((invalid.status, invalid.code()), (422, "validation_failed"));
    assert_eq!(
        invalid.fields(),
        [
            "holidays[0].day",
            "holidays[2].day",
            "holidays[3].name",
            "workdays[0].day",
            "workdays[1].day"
        ]
    );
    for (body, why) in [
        (json!({"holiday": []}), "an unknown field"),
        (json!({"holidays": [{"day": "2026-02-30"}]}), "no such date"),
        (json!({"holidays": "2026-10-01"}), "not a list"),
    ] {
        let refused = w.put("/api/v1/calendar/2026", &w.admin, &body).await;
        assert_eq!(refused.status, 422, "{why}: {}", refused.text);
    }
    for year in ["1999", "2101", "twenty"] {
        let refused = w
            .put(
                &format!("/api/v1/calendar/{year}"),
                &w.admin,
                &autumn_2026(),
            )
            .await;
        assert_eq!(refused.status, 404, "{year}");
    }
    assert_eq!(
        w.app.get("/api/v1/calendar/2026", &w.agent).await.body,
        empty.body,
        "refusals change nothing"
    );

    // A consultation dispatched on Monday 16 November is due Wednesday; a holiday declared on
    // Tuesday afterwards does not move it, but moves the next one's.
    let before = w.dispatched_consultation(false).await;
    assert_eq!(w.ticket(&before).await["due_at"], "2026-11-18T01:00:00Z");
    let stored = w
        .put(
            "/api/v1/calendar/2026",
            &w.admin,
            &json!({"holidays": [{"day": "2026-11-17", "name": "防台风停工"}], "workdays": []}),
        )
        .await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_conforms(&stored, "CalendarYear");
    let after = w.dispatched_consultation(false).await;
    assert_eq!(w.ticket(&before).await["due_at"], "2026-11-18T01:00:00Z");
    assert_eq!(w.ticket(&after).await["due_at"], "2026-11-19T01:00:00Z");

    // The whole year is replaced: the November day is gone, the autumn is in.
    let replaced = w
        .put("/api/v1/calendar/2026", &w.admin, &autumn_2026())
        .await;
    assert_eq!(replaced.status, 200);
    let read = w.app.get("/api/v1/calendar/2026", &w.handler_a).await;
    assert_eq!(read.body, replaced.body);
    assert_eq!(read.body["holidays"].as_array().unwrap().len(), 8);
    assert_eq!(
        read.body["holidays"][0],
        json!({"day": "2026-09-25", "name": "中秋节"})
    );
    assert_eq!(
        read.body["workdays"],
        json!([{"day": "2026-09-20", "name": "国庆节调休"}, {"day": "2026-10-10", "name": "国庆节调休"}])
    );
    assert_eq!(
        w.app.get("/api/v1/calendar/2027", &w.agent).await.body["holidays"],
        json!([]),
        "other years are untouched"
    );
}

#[actix_web::test]
async fn the_sla_policy_is_validated_versioned_and_applies_to_later_dispatches() {
    let w = world().await;
    let default = w.app.get("/api/v1/sla-policies", &w.agent).await;
    assert_eq!(default.status, 200);
    assert_conforms(&default, "SlaPolicy");
    assert_eq!(default.body["version"], Value::Null);
    assert_eq!(
        default.body["ladder"],
        json!({
            "warn_before": {"unit": "working_days", "amount": 1},
            "warn_before_urgent": {"unit": "hours", "amount": 1},
            "supervise_after": {"unit": "working_days", "amount": 5},
            "supervision_deadline": {"unit": "working_days", "amount": 3}
        })
    );
    let mut policy = default.body.clone();
    for field in ["version", "updated_by", "updated_at"] {
        policy.as_object_mut().unwrap().remove(field);
    }

    let by_supervisor = w.put("/api/v1/sla-policies", &w.supervisor, &policy).await;
    assert_eq!(by_supervisor.status, 403);

    let mut invalid = policy.clone();
    invalid["limits"][1]["reply"]["amount"] = json!(0);
    invalid["limits"][2]["type"] = json!("consult");
    invalid["limits"][4]["type"] = json!("help");
    invalid["max_returns"] = json!(0);
    invalid["ladder"]["supervise_after"] = json!({"unit": "working_days", "amount": 400});
    let refused = w.put("/api/v1/sla-policies", &w.admin, &invalid).await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"));
    assert_eq!(
        refused.fields(),
        [
            "limits[1].reply.amount",
            "limits[2]",
            "limits",
            "max_returns",
            "ladder.supervise_after.amount"
        ],
        "{}",
        refused.text
    );
    let mut unknown = policy.clone();
    unknown["ladder"]["warn_after"] = json!({"unit": "hours", "amount": 1});
    let refused = w.put("/api/v1/sla-policies", &w.admin, &unknown).await;
    assert_eq!(refused.status, 422);
    let mut wrong_unit = policy.clone();
    wrong_unit["limits"][0]["sign"] = json!({"unit": "fortnights", "amount": 1});
    let refused = w.put("/api/v1/sla-policies", &w.admin, &wrong_unit).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        w.app.get("/api/v1/sla-policies", &w.agent).await.body,
        default.body,
        "refusals change nothing"
    );

    // Consultations get one working day to reply instead of two, from now on.
    let before = w.dispatched_consultation(false).await;
    let mut faster = policy.clone();
    let consult = faster["limits"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["type"] == "consult")
        .unwrap();
    consult["reply"] = json!({"unit": "working_days", "amount": 1});
    let stored = w.put("/api/v1/sla-policies", &w.admin, &faster).await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_conforms(&stored, "SlaPolicy");
    assert_eq!(stored.body["version"], 1);
    let after = w.dispatched_consultation(false).await;
    assert_eq!(w.ticket(&before).await["due_at"], "2026-11-18T01:00:00Z");
    let after = w.ticket(&after).await;
    assert_eq!(after["due_at"], "2026-11-17T01:00:00Z");
    assert_eq!(
        after["assignments"][0]["deadlines"]["reply"]["limit"],
        json!({"unit": "working_days", "amount": 1})
    );
    let current = w.app.get("/api/v1/sla-policies", &w.agent).await;
    assert_eq!(current.body, stored.body);
    let again = w.put("/api/v1/sla-policies", &w.admin, &policy).await;
    assert_eq!(again.body["version"], 2, "every change is a new version");
}

#[actix_web::test]
async fn pausing_stops_the_ladder_and_resuming_moves_the_deadlines() {
    let w = world().await;
    let id = w.dispatched_consultation(false).await;
    let dispatched = w.ticket(&id).await;
    // Signature due Tuesday 09:00, reply Wednesday 09:00.
    assert_eq!(dispatched["sign_due_at"], "2026-11-17T01:00:00Z");
    assert_eq!(dispatched["due_at"], "2026-11-18T01:00:00Z");
    w.later(60);

    let by_unit = w
        .act(
            &w.handler_a,
            &id,
            "pause",
            json!({"reason": "等待司法鉴定"}),
        )
        .await;
    assert_eq!(by_unit.status, 403);
    let without_reason = w.act(&w.dispatcher, &id, "pause", json!({})).await;
    assert_eq!(without_reason.status, 422);
    assert_eq!(without_reason.fields(), ["reason"]);
    let not_paused = w.act(&w.dispatcher, &id, "resume", json!({})).await;
    assert_eq!((not_paused.status, not_paused.code()), (409, "not_paused"));

    let paused = w
        .ok(
            &w.dispatcher,
            &id,
            "pause",
            json!({"reason": "等待司法鉴定结果"}),
        )
        .await;
    assert_eq!(paused["paused_at"], "2026-11-16T02:00:00Z");
    assert_eq!(paused["pause_reason"], "等待司法鉴定结果");
    let twice = w
        .act(&w.supervisor, &id, "pause", json!({"reason": "再次挂起"}))
        .await;
    assert_eq!((twice.status, twice.code()), (409, "already_paused"));

    // Two working days later both deadlines have passed, but the ladder leaves the ticket alone.
    assert!(w.tick_at(at(11, 18, 10)).is_empty());
    assert_eq!(w.ticket(&id).await["urge_count"], 0);

    let resumed = w.ok(&w.dispatcher, &id, "resume", json!({})).await;
    assert_eq!(resumed["paused_at"], Value::Null);
    assert_eq!(resumed["pause_reason"], Value::Null);
    assert_eq!(
        resumed["sign_due_at"], "2026-11-19T01:00:00Z",
        "moved by the two working days it stood"
    );
    assert_eq!(resumed["due_at"], "2026-11-20T01:00:00Z");
    assert_eq!(
        resumed["assignments"][0]["original_due_at"], "2026-11-18T01:00:00Z",
        "the original stays on record"
    );
    assert!(
        resumed["assignments"][0]["deadlines"]["reply"]["rule"]
            .as_str()
            .unwrap()
            .contains("moved by a pause"),
        "{}",
        resumed["assignments"][0]["deadlines"]
    );

    // The ladder works against the moved deadlines; the signature, no longer as near as when
    // it was set, is warned of again.
    assert_eq!(w.tick_at(at(11, 19, 8)), [(Timer::Sign, Rung::Yellow, 1)]);
    assert_eq!(
        w.tick_at(at(11, 19, 9)),
        [(Timer::Sign, Rung::Red, 1), (Timer::Reply, Rung::Yellow, 1)]
    );
    let kinds = w.event_kinds(&id).await;
    assert_eq!(
        kinds,
        [
            "registered",
            "dispatched",
            "paused",
            "resumed",
            "urged",
            "urged",
            "urged"
        ]
    );
    let (feed, _) = w.feed(&w.handler_a).await;
    assert_eq!(
        feed,
        ["urged", "urged", "urged", "resumed", "paused", "dispatched"]
    );
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn a_reply_during_a_pause_records_that_the_clock_runs_again() {
    let w = world().await;
    let id = w.dispatched_consultation(false).await;
    w.later(30);
    w.signed(&id).await;
    w.later(30);
    w.ok(
        &w.dispatcher,
        &id,
        "pause",
        json!({"reason": "等待现场勘验"}),
    )
    .await;
    w.later(60);
    let reply = w.reply_body();
    let replied = w.ok(&w.handler_a, &id, "reply", reply).await;
    assert_eq!(replied["paused_at"], Value::Null);
    assert_eq!(
        w.event_kinds(&id).await,
        [
            "registered",
            "dispatched",
            "signed",
            "paused",
            "resumed",
            "replied"
        ]
    );
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn the_ladder_urges_marks_and_escalates_across_the_holiday_week() {
    let w = world_at(at(9, 30, 9)).await;
    let put = w
        .put("/api/v1/calendar/2026", &w.admin, &autumn_2026())
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    // Dispatched Wednesday 30 September 09:00, the last working day before National Day:
    // signature due Thursday 8 October 09:00, reply (two working days) Friday 9 October 09:00.
    let id = w.dispatched_consultation(true).await;
    let ticket = w.ticket(&id).await;
    assert_eq!(ticket["sign_due_at"], "2026-10-08T01:00:00Z");
    assert_eq!(ticket["due_at"], "2026-10-09T01:00:00Z");

    assert!(w.tick_at(at(9, 30, 10)).is_empty(), "nothing is near yet");
    assert!(
        w.tick_at(at(10, 5, 12)).is_empty(),
        "the holidays do not count"
    );
    // The signature was due within a working day from the start: the dispatch was its warning.
    assert_eq!(
        w.tick_at(at(10, 8, 9)),
        [(Timer::Sign, Rung::Red, 2), (Timer::Reply, Rung::Yellow, 2)],
        "both units' signatures passed, both replies a working day away"
    );
    assert!(w.tick_at(at(10, 8, 9)).is_empty(), "each rung fires once");
    w.later(30);
    w.signed(&id).await;

    assert_eq!(w.tick_at(at(10, 9, 9)), [(Timer::Reply, Rung::Red, 2)]);
    let overdue = w.ticket(&id).await;
    assert_eq!(overdue["overdue"], true);
    assert_eq!(overdue["urge_count"], 6);
    let urges = w
        .app
        .get(&format!("/api/v1/tickets/{id}/urges"), &w.dispatcher)
        .await;
    let ladder: Vec<(String, String, String)> = urges.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["unit_id"] == json!(w.unit_a.id))
        .map(|u| {
            (
                u["kind"].as_str().unwrap().to_owned(),
                u["timer"].as_str().unwrap().to_owned(),
                u["rung"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ladder,
        [
            ("system".into(), "sign".into(), "red".into()),
            ("system".into(), "reply".into(), "yellow".into()),
            ("system".into(), "reply".into(), "red".into())
        ]
    );

    // Five working days late counts Saturday 10 October, worked: Thursday 15 October 09:00.
    assert!(w.tick_at(at(10, 15, 8)).is_empty());
    assert_eq!(
        w.tick_at(at(10, 15, 9)),
        [(Timer::Reply, Rung::Supervision, 1)],
        "only the primary unit goes under supervision"
    );
    let supervised = w.ticket(&id).await;
    assert_eq!(supervised["supervised"], true);
    let supervision = &supervised["supervisions"][0];
    assert_eq!(supervision["unit_id"], json!(w.unit_a.id));
    assert_eq!(supervision["automatic"], true);
    assert_eq!(
        supervision["deadline"], "2026-10-20T01:00:00Z",
        "three working days to answer the supervision"
    );
    assert!(w.tick_at(at(10, 16, 9)).is_empty());

    let (unit_feed, page) = w.feed(&w.handler_a).await;
    assert_eq!(
        unit_feed,
        [
            "supervision_opened",
            "marked_overdue",
            "urged",
            "urged",
            "urged",
            "dispatched"
        ]
    );
    assert_eq!(page["unread"], 6);
    let (office_feed, _) = w.feed(&w.dispatcher).await;
    assert_eq!(office_feed, ["marked_overdue"]);

    let metrics = w
        .app
        .send(awc::http::Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    for line in [
        "hotline_ladder_passes_total 8",
        "hotline_ladder_rungs_total{timer=\"sign\",rung=\"red\"} 2",
        "hotline_ladder_rungs_total{timer=\"reply\",rung=\"yellow\"} 2",
        "hotline_ladder_rungs_total{timer=\"reply\",rung=\"red\"} 2",
        "hotline_ladder_rungs_total{timer=\"reply\",rung=\"supervision\"} 1",
        "hotline_tickets_overdue 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    w.assert_timeline_replays(&id);

    // The reply ends the overdue state; the gauge follows at the next pass.
    w.later(60);
    let reply = w.reply_body();
    w.ok(&w.handler_a, &id, "reply", reply).await;
    assert!(w.tick_at(at(10, 16, 12)).is_empty());
    assert_eq!(w.ticket(&id).await["overdue"], false);
    assert_eq!(
        w.app.tick().overdue_now,
        0,
        "no ticket is overdue once replied"
    );
}

#[actix_web::test]
async fn callbacks_due_and_not_made_are_surfaced_to_the_office() {
    let w = world().await;
    let id = w.ticket_in("awaiting_callback").await;
    let due = w.ticket(&id).await["callback_due_at"].clone();
    // Reviewed Monday 11:00: the callback is due by the end of Tuesday.
    assert_eq!(due, "2026-11-17T16:00:00Z");
    assert!(w.tick_at(at(11, 16, 23)).is_empty());
    assert_eq!(
        w.tick_at(at(11, 17, 1)),
        [(Timer::Callback, Rung::Yellow, 1)]
    );
    assert!(w.tick_at(at(11, 17, 23)).is_empty());
    assert_eq!(w.tick_at(at(11, 18, 0)), [(Timer::Callback, Rung::Red, 1)]);
    assert!(w.tick_at(at(11, 18, 18)).is_empty());
    let (office, _) = w.feed(&w.agent).await;
    assert_eq!(&office[..2], ["callback_reminded", "callback_reminded"]);
    let events = w
        .app
        .get(&format!("/api/v1/tickets/{id}/events"), &w.agent)
        .await;
    let reminders: Vec<&Value> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "callback_reminded")
        .map(|e| &e["details"]["rung"])
        .collect();
    assert_eq!(reminders, [&json!("yellow"), &json!("red")]);
    let (unit_feed, _) = w.feed(&w.handler_a).await;
    assert!(
        !unit_feed.contains(&"callback_reminded".to_owned()),
        "callbacks are the office's business"
    );
    w.assert_timeline_replays(&id);
}

#[actix_web::test]
async fn three_instances_on_one_database_fire_every_rung_exactly_once() {
    let w = world_at(at(9, 30, 9)).await;
    let put = w
        .put("/api/v1/calendar/2026", &w.admin, &autumn_2026())
        .await;
    assert_eq!(put.status, 200);
    let mut tickets = Vec::new();
    for _ in 0..6 {
        tickets.push(w.dispatched_consultation(true).await);
    }
    let mut instances = vec![w.app.state.db.clone()];
    let mut others = Vec::new();
    for _ in 0..2 {
        let other = spawn_app_with(Options {
            clock: Some(w.clock.clone()),
            database_url: Some(w.app.database_url.clone()),
            ..Options::default()
        })
        .await;
        instances.push(other.state.db.clone());
        others.push(other);
    }
    let mut total = 0;
    for now in [
        at(10, 8, 9),
        at(10, 8, 9),
        at(10, 9, 9),
        at(10, 14, 9),
        at(10, 15, 9),
        at(10, 16, 9),
    ] {
        w.clock.set(now);
        let start = Arc::new(Barrier::new(instances.len()));
        let passes: Vec<_> = instances
            .iter()
            .cloned()
            .map(|db| {
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    hotline::jobs::ladder::run_pass(&db, chrono_tz::Asia::Shanghai, now)
                        .expect("a pass")
                })
            })
            .collect();
        for pass in passes {
            let report = pass.join().unwrap();
            assert_eq!(report.failed, 0);
            total += report.total();
        }
    }
    // Per ticket: both signatures red, both replies yellow and red, the primary supervised.
    assert_eq!(total, 6 * 7);
    assert_eq!(w.app.count("ladder_rungs"), 6 * 7);
    assert_eq!(w.app.count("urges"), 6 * 6);
    assert_eq!(w.app.count("supervisions"), 6);
    for id in &tickets {
        let ticket = w.ticket(id).await;
        assert_eq!(ticket["urge_count"], 6);
        assert_eq!(ticket["overdue"], true);
        assert_eq!(ticket["supervisions"].as_array().unwrap().len(), 1);
        let kinds = w.event_kinds(id).await;
        let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
        assert_eq!(
            (
                count("urged"),
                count("marked_overdue"),
                count("supervision_opened")
            ),
            (6, 1, 1)
        );
        w.assert_timeline_replays(id);
    }
}

#[actix_web::test]
async fn a_notification_feed_is_the_callers_units_with_shared_read_marks() {
    let w = world().await;
    let id = w.dispatched_consultation(true).await;
    let (a_feed, a_page) = w.feed(&w.handler_a).await;
    let (b_feed, b_page) = w.feed(&w.handler_b).await;
    assert_eq!(
        (a_feed, b_feed),
        (vec!["dispatched".to_owned()], vec!["dispatched".to_owned()])
    );
    let a_notification = a_page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_ne!(
        Some(a_notification.as_str()),
        b_page["items"][0]["id"].as_str()
    );
    assert_eq!(a_page["items"][0]["ticket_id"], json!(id));
    assert_eq!(a_page["items"][0]["read"], false);

    let admin = w.app.get("/api/v1/notifications", &w.admin).await;
    assert_eq!(admin.status, 403, "administrators have no feed");
    let others = w
        .app
        .post(
            &format!("/api/v1/notifications/{a_notification}/read"),
            &w.handler_b,
            &json!({}),
        )
        .await;
    assert_eq!(
        others.status, 404,
        "another unit's notification does not exist for B"
    );
    let unknown_param = w
        .app
        .get("/api/v1/notifications?mine=true", &w.handler_a)
        .await;
    assert_eq!(unknown_param.status, 422);

    // The unit works; the office hears of the reply, the unit of the review's result.
    w.later(30);
    w.signed(&id).await;
    w.later(30);
    let reply = w.reply_body();
    w.ok(&w.handler_a, &id, "reply", reply).await;
    w.ok(
        &w.dispatcher,
        &id,
        "review",
        json!({"decision": "reject", "comment": "未说明办理时限"}),
    )
    .await;
    let (office, _) = w.feed(&w.supervisor).await;
    assert_eq!(office, ["replied"]);
    let (a_feed, a_page) = w.feed(&w.handler_a).await;
    assert_eq!(a_feed, ["review_rejected", "dispatched"]);
    assert_eq!(a_page["unread"], 2);

    // Read marks are the unit's: a colleague sees them.
    let colleague = w.app.token(&w.app.add_user_in(
        "handler-a2",
        Role::UnitHandler,
        Some(w.unit_a.id),
    ));
    let marked = w
        .app
        .post(
            &format!("/api/v1/notifications/{a_notification}/read"),
            &colleague,
            &json!({}),
        )
        .await;
    assert_eq!(marked.status, 200, "{}", marked.text);
    let page = w
        .app
        .get("/api/v1/notifications?unread=true", &w.handler_a)
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page.body["items"][0]["kind"], "review_rejected");
    assert_eq!(page.body["unread"], 1);
    let first = w
        .app
        .get("/api/v1/notifications?limit=1", &w.handler_a)
        .await;
    assert_eq!(first.body["items"][0]["kind"], "review_rejected");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = w
        .app
        .get(
            &format!("/api/v1/notifications?limit=1&cursor={}", encode(cursor)),
            &w.handler_a,
        )
        .await;
    assert_eq!(second.body["items"][0]["id"], json!(a_notification));
    assert_eq!(second.body["items"][0]["read"], true);
    assert!(second.body["items"][0]["read_by"].is_string());

    let all = w
        .app
        .post("/api/v1/notifications/read-all", &w.handler_a, &json!({}))
        .await;
    assert_eq!(all.body, json!({"marked": 1}));
    assert_eq!(w.feed(&w.handler_a).await.1["unread"], 0);
    assert_eq!(
        w.feed(&w.handler_b).await.1["unread"],
        1,
        "B's feed is its own"
    );
}

#[actix_web::test]
async fn a_server_runs_the_ladder_on_its_own() {
    let w = world_at(at(9, 30, 9)).await;
    // No holidays loaded: the signature is due Thursday 1 October, the reply Friday 2 October.
    let id = w.dispatched_consultation(false).await;
    w.clock.set(at(10, 8, 9));
    // Another instance, with its ladder running: the first pass comes at start, the next in an
    // hour.
    let instance = spawn_app_with(Options {
        env: vec![("HOTLINE_LADDER_INTERVAL_SECONDS", "3600".into())],
        clock: Some(w.clock.clone()),
        database_url: Some(w.app.database_url.clone()),
    })
    .await;
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while instance
        .state
        .metrics
        .ladder_passes
        .load(std::sync::atomic::Ordering::Relaxed)
        == 0
    {
        assert!(
            std::time::Instant::now() < patience,
            "the server's ladder never ran"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let ticket = w.ticket(&id).await;
    assert_eq!(
        ticket["urge_count"], 2,
        "both deadlines passed: two red urges"
    );
    assert_eq!(ticket["overdue"], true);
    let metrics = instance
        .send(awc::http::Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    assert!(
        metrics.contains("hotline_ladder_passes_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("hotline_tickets_overdue 1"), "{metrics}");
}
