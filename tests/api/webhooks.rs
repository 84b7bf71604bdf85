//! Webhooks: subscriptions kept through the API, and deliveries to a real receiver that fails,
//! times out, answers 410 and comes back, verified with the Standard Webhooks library.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hotline::config::WebhookSettings;
use hotline::domain::access::Role;
use hotline::domain::clock::Clock;
use hotline::domain::webhook::AddressRange;
use hotline::jobs::webhooks::Deliverer;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::openapi::assert_conforms;

/// How a receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    Fail,
    /// Answers only after the deliverer's timeout.
    Hang,
    /// Accepts this many requests, then hangs.
    HangAfter(usize),
    Gone,
}

/// A request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: http::HeaderMap,
    body: Vec<u8>,
    at: std::time::Instant,
}

impl Received {
    fn id(&self) -> &str {
        self.headers["webhook-id"].to_str().unwrap()
    }

    fn event(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inbox {
    mode: Mutex<Option<Mode>>,
    /// Every request, whatever the answer.
    requests: Mutex<Vec<Received>>,
    /// The requests answered 2xx, in the order they came.
    accepted: Mutex<Vec<Received>>,
    arrived: tokio::sync::Notify,
}

/// A small HTTP server on this host standing in for another system.
struct Receiver {
    url: String,
    inbox: Arc<Inbox>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(request: HttpRequest, body: web::Bytes, inbox: web::Data<Inbox>) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in request.headers() {
        headers.insert(
            http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let received = Received {
        headers,
        body: body.to_vec(),
        at: std::time::Instant::now(),
    };
    let count = {
        let mut requests = inbox.requests.lock().unwrap();
        requests.push(received.clone());
        requests.len()
    };
    let mode = match inbox.mode.lock().unwrap().unwrap_or(Mode::Accept) {
        Mode::HangAfter(accepted) if count > accepted => Mode::Hang,
        Mode::HangAfter(_) => Mode::Accept,
        other => other,
    };
    match mode {
        Mode::Accept => {
            inbox.accepted.lock().unwrap().push(received);
            inbox.arrived.notify_waiters();
            HttpResponse::NoContent().finish()
        }
        Mode::Fail => HttpResponse::ServiceUnavailable().body("down for maintenance"),
        Mode::Hang => {
            actix_web::rt::time::sleep(Duration::from_secs(5)).await;
            HttpResponse::Ok().finish()
        }
        Mode::Gone => HttpResponse::Gone().finish(),
        Mode::HangAfter(_) => unreachable!("resolved above"),
    }
}

async fn start_receiver() -> Receiver {
    let inbox = Arc::new(Inbox::default());
    let data = web::Data::from(inbox.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(0)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Receiver {
        url: format!("http://127.0.0.1:{port}/hooks/12345"),
        inbox,
        handle,
    }
}

impl Receiver {
    fn set(&self, mode: Mode) {
        *self.inbox.mode.lock().unwrap() = Some(mode);
    }

    fn accepted(&self) -> Vec<Received> {
        self.inbox.accepted.lock().unwrap().clone()
    }

    fn requests(&self) -> usize {
        self.inbox.requests.lock().unwrap().len()
    }
}

/// A deliverer as an instance runs it, on the test's database and clock, reaching this host.
fn deliverer(app: &TestApp) -> Rc<Deliverer> {
    Rc::new(Deliverer::new(
        app.state.db.clone(),
        app.state.clock.clone(),
        app.state.metrics.clone(),
        WebhookSettings {
            interval: None,
            allowed_targets: vec![AddressRange::parse("127.0.0.1").unwrap()],
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_millis(500),
        },
    ))
}

/// Looks the worker may need while other changes hold committed events back for a moment.
const PASSES_AT_MOST: usize = 2_000;

/// Runs passes until `done` holds.
async fn deliver_until(deliverer: &Rc<Deliverer>, mut done: impl FnMut() -> bool) {
    for _ in 0..PASSES_AT_MOST {
        deliverer.pass().await.expect("a pass");
        if done() {
            return;
        }
    }
    panic!("not done after {PASSES_AT_MOST} passes");
}

/// Queues until `deliveries` are waiting, whatever a feed read holds back for a moment.
async fn queue_until(deliverer: &Rc<Deliverer>, app: &TestApp, deliveries: usize) {
    for _ in 0..PASSES_AT_MOST {
        deliverer.queue().await.expect("queue");
        if app.count("webhook_deliveries") as usize >= deliveries {
            return;
        }
    }
    panic!("fewer than {deliveries} deliveries after {PASSES_AT_MOST} looks");
}

/// The events the office's feed holds, in order: what every subscription of the office's must
/// receive.
async fn feed_ids(app: &TestApp, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = String::new();
    for _ in 0..PASSES_AT_MOST {
        let page = app
            .get(&format!("/api/v1/events?limit=1000{after}"), token)
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        ids.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        after = format!("&after={}", page.body["next_cursor"].as_str().unwrap());
        if items.len() < 1000 && page.body["held_back"] == false {
            return ids;
        }
    }
    panic!("the feed stayed held back");
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> Value {
    let answer = app.post("/api/v1/webhooks", token, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_conforms(&answer, "WebhookSubscriptionCreated");
    answer.body
}

fn verify(received: &Received, secret: &str) -> bool {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&received.body, &received.headers)
        .is_ok()
}

async fn log(app: &TestApp, token: &str, subscription: &str, query: &str) -> Vec<Value> {
    let answer = app
        .get(
            &format!("/api/v1/webhooks/{subscription}/deliveries?limit=200{query}"),
            token,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_conforms(&answer, "WebhookDeliveryPage");
    answer.body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn administrators_and_integrations_keep_subscriptions_and_their_secrets() {
    let w = world().await;
    let (_, platform) = w.app.login(Role::Integration);
    let url = "http://127.0.0.1:9/hooks";

    let office = subscribe(
        &w.app,
        &w.admin,
        json!({"url": url, "kinds": ["closed", "replied"], "description": "城市门户"}),
    )
    .await;
    assert!(office["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(office["kinds"], json!(["replied", "closed"]));
    assert_eq!(office["status"], "active");
    assert_eq!(office["owner_user_id"], Value::Null);
    assert_eq!(office["secrets"].as_array().unwrap().len(), 1);
    let own = subscribe(
        &w.app,
        &platform,
        json!({"url": url, "channel": "upper_platform"}),
    )
    .await;

    // Refusals: who may, what a URL may be, which channel an integration may ask for.
    for token in [&w.agent, &w.dispatcher, &w.supervisor, &w.handler_a] {
        let answer = w
            .app
            .post("/api/v1/webhooks", token, &json!({"url": url}))
            .await;
        assert_eq!(answer.status, 403, "{}", answer.text);
    }
    for (body, field) in [
        (json!({"url": "ftp://portal.example.cn/"}), "url"),
        (json!({"url": "http://10.20.30.40/hooks"}), "url"),
        (
            json!({"url": "http://169.254.169.254/latest/meta-data"}),
            "url",
        ),
        (json!({"url": "http://[::1]:8080/"}), "url"),
        (json!({"url": url, "kinds": ["exploded"]}), "kinds"),
        (json!({"url": url, "secret": "not-a-secret"}), "secret"),
        (json!({"url": url, "channel": "phone"}), "channel"),
    ] {
        let answer = w.app.post("/api/v1/webhooks", &platform, &body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.text);
        assert_eq!(answer.fields(), [field], "{body}");
    }
    assert_eq!(w.app.count("webhook_subscriptions"), 2);

    // An integration sees its own only; another's is not there.
    let listed = w.app.get("/api/v1/webhooks", &platform).await;
    assert_conforms(&listed, "WebhookSubscriptionList");
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["id"], own["id"]);
    let all = w.app.get("/api/v1/webhooks", &w.admin).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let office_path = format!("/api/v1/webhooks/{}", office["id"].as_str().unwrap());
    assert_eq!(w.app.get(&office_path, &platform).await.status, 404);
    assert_eq!(w.app.delete(&office_path, &platform).await.status, 404);

    // Changes, and switching off by hand.
    let changed = w
        .app
        .patch(
            &office_path,
            &w.admin,
            &json!({"kinds": [], "channel": "wechat", "enabled": false}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_conforms(&changed, "WebhookSubscription");
    assert_eq!(changed.body["kinds"], json!([]));
    assert_eq!(changed.body["channel"], "wechat");
    assert_eq!(changed.body["status"], "disabled");
    let back = w
        .app
        .patch(
            &office_path,
            &w.admin,
            &json!({"enabled": true, "channel": null}),
        )
        .await;
    assert_eq!(back.body["status"], "active");
    assert_eq!(back.body["channel"], Value::Null);
    let refused = w
        .app
        .patch(
            &office_path,
            &w.admin,
            &json!({"url": "http://192.168.1.1/"}),
        )
        .await;
    assert_eq!(refused.status, 422);

    // Rotation: a second secret, then the first goes; the last one stays.
    let secrets_path = format!("{office_path}/secrets");
    let added = w.app.post(&secrets_path, &w.admin, &json!({})).await;
    assert_eq!(added.status, 201, "{}", added.text);
    assert_conforms(&added, "WebhookSecretCreated");
    let first = office["secrets"][0]["id"].as_str().unwrap();
    let removed = w
        .app
        .delete(&format!("{secrets_path}/{first}"), &w.admin)
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let second = added.body["id"].as_str().unwrap();
    let last = w
        .app
        .delete(&format!("{secrets_path}/{second}"), &w.admin)
        .await;
    assert_eq!(last.status, 409);
    assert_eq!(last.code(), "last_secret");
    let shown = w.app.get(&office_path, &w.admin).await;
    assert_eq!(shown.body["secrets"].as_array().unwrap().len(), 1);
    assert!(
        !shown.text.contains("whsec_"),
        "a secret is shown only when made"
    );

    assert_eq!(w.app.delete(&office_path, &w.admin).await.status, 204);
    assert_eq!(w.app.get(&office_path, &w.admin).await.status, 404);
    let audit = w.app.get("/api/v1/audit-log?action=webhook_created,webhook_updated,webhook_secret_added,webhook_secret_removed,webhook_deleted", &w.admin).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        2 + 2 + 1 + 1 + 1
    );
}

#[actix_web::test]
async fn every_event_arrives_signed_in_order_through_failures_and_timeouts() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let subscription = subscribe(&w.app, &w.admin, json!({"url": receiver.url})).await;
    let id = subscription["id"].as_str().unwrap().to_owned();
    let secret = subscription["secret"].as_str().unwrap().to_owned();
    let deliverer = deliverer(&w.app);

    let first = w.complaint().await;
    w.dispatched(&first).await;
    deliver_until(&deliverer, || receiver.accepted().len() == 2).await;

    // The receiver goes down: the next event fails, and the one after waits behind it.
    receiver.set(Mode::Fail);
    w.signed(&first).await;
    deliver_until(&deliverer, || receiver.requests() == 3).await;
    let second = w.complaint().await;
    deliverer.pass().await.unwrap();
    deliverer.pass().await.unwrap();
    assert_eq!(
        receiver.requests(),
        3,
        "nothing goes before its retry is due"
    );
    let waiting = log(&w.app, &w.admin, &id, "&status=pending").await;
    let failed = waiting
        .iter()
        .find(|d| d["attempts"] == 1)
        .expect("the failed one");
    assert_eq!(failed["last_status"], 503);
    assert_eq!(failed["last_error"], "the receiver answered 503");
    assert!(failed["latency_ms"].as_i64().is_some());

    // Then it hangs past the timeout: the attempt ends, and is tried again later.
    receiver.set(Mode::Hang);
    w.clock.advance(chrono::Duration::seconds(7));
    deliverer.pass().await.unwrap();
    assert_eq!(receiver.requests(), 4);
    let hung = log(&w.app, &w.admin, &id, "&status=pending").await;
    let hung = hung
        .iter()
        .find(|d| d["attempts"] == 2)
        .expect("the timed-out one");
    assert_eq!(hung["last_status"], Value::Null);
    assert!(
        hung["last_error"].as_str().unwrap().contains("no answer"),
        "{hung}"
    );

    // It comes back: everything arrives, in the feed's order, each once, every signature good.
    receiver.set(Mode::Accept);
    w.clock.advance(chrono::Duration::minutes(7));
    w.dispatched(&second).await;
    let expected = feed_ids(&w.app, &w.dispatcher).await;
    deliver_until(&deliverer, || receiver.accepted().len() == expected.len()).await;
    let arrived = receiver.accepted();
    let ids: Vec<&str> = arrived.iter().map(Received::id).collect();
    assert_eq!(ids, expected);
    assert!(arrived.iter().all(|r| verify(r, &secret)));
    assert!(!verify(
        &arrived[0],
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ));
    let event = arrived[2].event();
    assert_eq!(event["type"], "hotline.ticket.signed");
    assert_eq!(event["id"], arrived[2].id());
    assert_eq!(arrived[2].headers["content-type"], "application/json");

    let log = log(&w.app, &w.admin, &id, "").await;
    assert_eq!(log.len(), expected.len());
    assert!(log.iter().all(|d| d["status"] == "delivered"));
    assert_eq!(
        log.iter().map(|d| d["attempts"].as_i64().unwrap()).max(),
        Some(3)
    );

    // The queue's depth is what the last look saw.
    deliverer.pass().await.unwrap();
    let metrics = w
        .app
        .client
        .get(w.app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains(&format!(
            "hotline_webhook_attempts_total{{outcome=\"delivered\"}} {}",
            expected.len()
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("hotline_webhook_attempts_total{outcome=\"failed\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "hotline_webhook_lag_seconds_count {}",
        expected.len()
    )));
    assert!(metrics.contains("hotline_webhook_queue_depth 0"));
}

#[actix_web::test]
async fn rotation_signs_with_both_secrets_and_a_410_switches_the_subscription_off() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let subscription = subscribe(&w.app, &w.admin, json!({"url": receiver.url})).await;
    let path = format!("/api/v1/webhooks/{}", subscription["id"].as_str().unwrap());
    let old = subscription["secret"].as_str().unwrap().to_owned();
    let added = w
        .app
        .post(&format!("{path}/secrets"), &w.admin, &json!({}))
        .await;
    let new = added.body["secret"].as_str().unwrap().to_owned();
    let deliverer = deliverer(&w.app);

    w.complaint().await;
    deliver_until(&deliverer, || receiver.accepted().len() == 1).await;
    let signed = &receiver.accepted()[0];
    assert!(verify(signed, &old) && verify(signed, &new));
    assert_eq!(
        signed.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );

    receiver.set(Mode::Gone);
    w.complaint().await;
    deliver_until(&deliverer, || receiver.requests() == 2).await;
    let off = w.app.get(&path, &w.admin).await;
    assert_eq!(off.body["status"], "disabled");
    assert_eq!(
        off.body["disabled_reason"],
        "the receiver answered 410 Gone"
    );
    w.complaint().await;
    for _ in 0..3 {
        deliverer.pass().await.unwrap();
    }
    assert_eq!(
        receiver.requests(),
        2,
        "a switched-off subscription is sent nothing"
    );

    // Switched on again, what happened meanwhile arrives.
    receiver.set(Mode::Accept);
    let on = w
        .app
        .patch(&path, &w.admin, &json!({"enabled": true}))
        .await;
    assert_eq!(on.status, 200);
    deliver_until(&deliverer, || receiver.accepted().len() == 3).await;
}

#[actix_web::test]
async fn a_delivery_that_fails_for_three_days_dies_lets_the_rest_go_and_is_redelivered_by_hand() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let subscription = subscribe(&w.app, &w.admin, json!({"url": receiver.url})).await;
    let id = subscription["id"].as_str().unwrap().to_owned();
    let deliverer = deliverer(&w.app);

    receiver.set(Mode::Fail);
    w.complaint().await;
    deliver_until(&deliverer, || receiver.requests() == 1).await;
    let started = w.clock.now();
    for attempt in 2..=11 {
        w.clock.advance(chrono::Duration::hours(22));
        deliver_until(&deliverer, || receiver.requests() == attempt).await;
    }
    assert!(w.clock.now() - started >= chrono::Duration::days(3));
    let dead = log(&w.app, &w.admin, &id, "&status=dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 11);
    assert_eq!(dead[0]["next_attempt_at"], Value::Null);

    // The next event is not held up by the dead one.
    receiver.set(Mode::Accept);
    w.complaint().await;
    deliver_until(&deliverer, || receiver.accepted().len() == 1).await;

    let delivery = dead[0]["id"].as_i64().unwrap();
    let redeliver = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver");
    let again = w.app.post(&redeliver, &w.admin, &json!({})).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_conforms(&again, "WebhookDelivery");
    assert_eq!(again.body["status"], "pending");
    assert_eq!(again.body["attempts"], 0);
    let twice = w.app.post(&redeliver, &w.admin, &json!({})).await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.code(), "delivery_pending");
    deliver_until(&deliverer, || receiver.accepted().len() == 2).await;
    assert_eq!(receiver.accepted()[1].id(), dead[0]["event_id"].to_string());
    let missing = w
        .app
        .post(
            &format!("/api/v1/webhooks/{id}/deliveries/999999/redeliver"),
            &w.admin,
            &json!({}),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[actix_web::test]
async fn a_name_that_resolves_to_this_host_is_refused_unless_allowed() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let subscription = subscribe(&w.app, &w.admin, json!({"url": by_name})).await;
    let id = subscription["id"].as_str().unwrap().to_owned();
    let strict = Rc::new(Deliverer::new(
        w.app.state.db.clone(),
        w.app.state.clock.clone(),
        w.app.state.metrics.clone(),
        WebhookSettings {
            interval: None,
            allowed_targets: Vec::new(),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        },
    ));
    w.complaint().await;
    let mut refused = Vec::new();
    for _ in 0..PASSES_AT_MOST {
        strict.pass().await.unwrap();
        refused = log(&w.app, &w.admin, &id, "").await;
        if refused.first().is_some_and(|d| d["attempts"] == 1) {
            break;
        }
    }
    assert_eq!(receiver.requests(), 0);
    assert!(
        refused[0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("refused"),
        "{}",
        refused[0]
    );
}

#[actix_web::test]
async fn the_upper_platform_hears_back_about_the_tickets_it_handed_down_by_its_reference() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let (_, platform) = w.app.login(Role::Integration);
    let subscription = subscribe(
        &w.app,
        &platform,
        json!({"url": receiver.url, "channel": "upper_platform",
               "kinds": ["dispatched", "replied", "callback_recorded", "closed"]}),
    )
    .await;
    let secret = subscription["secret"].as_str().unwrap().to_owned();
    let deliverer = deliverer(&w.app);

    let handed_down = w
        .app
        .register(
            &platform,
            json!({"type": "complaint", "title": "小区噪音", "content": "夜间施工", "external_ref": "SJ-2026-1201-0042"}),
        )
        .await;
    assert_eq!(handed_down.status, 201, "{}", handed_down.text);
    let ticket = handed_down.body["id"].as_str().unwrap().to_owned();
    let phoned = w.complaint().await;
    w.dispatched(&phoned).await;
    w.dispatched(&ticket).await;
    w.signed(&ticket).await;
    w.replied(&ticket).await;
    w.ok(
        &w.dispatcher,
        &ticket,
        "review",
        json!({"decision": "accept"}),
    )
    .await;
    w.ok(
        &w.agent,
        &ticket,
        "callbacks",
        json!({"reached": true, "satisfaction": "satisfied", "resolved": true}),
    )
    .await;
    let expected = ["dispatched", "replied", "callback_recorded", "closed"];
    deliver_until(&deliverer, || receiver.accepted().len() == expected.len()).await;
    let arrived = receiver.accepted();
    let kinds: Vec<String> = arrived
        .iter()
        .map(|r| r.event()["data"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, expected);
    for received in &arrived {
        let event = received.event();
        assert_eq!(event["data"]["external_ref"], "SJ-2026-1201-0042");
        assert_eq!(event["data"]["channel"], "upper_platform");
        assert_eq!(event["data"]["ticket_id"], json!(ticket));
        assert!(verify(received, &secret));
    }
}

/// A look by every instance at once, as three servers would.
async fn all_pass(instances: &[Rc<Deliverer>; 3]) {
    let (a, b, c) = futures_util::future::join3(
        instances[0].pass(),
        instances[1].pass(),
        instances[2].pass(),
    )
    .await;
    a.unwrap();
    b.unwrap();
    c.unwrap();
}

#[actix_web::test]
async fn three_instances_deliver_each_event_once_between_them() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    subscribe(&w.app, &w.admin, json!({"url": receiver.url})).await;
    let second = start_receiver().await;
    subscribe(
        &w.app,
        &w.admin,
        json!({"url": second.url, "kinds": ["registered"]}),
    )
    .await;
    let instances = [deliverer(&w.app), deliverer(&w.app), deliverer(&w.app)];
    let mut registered = 0;
    for _ in 0..12 {
        let ticket = w.complaint().await;
        registered += 1;
        w.dispatched(&ticket).await;
        all_pass(&instances).await;
    }
    let expected = feed_ids(&w.app, &w.dispatcher).await;
    for _ in 0..PASSES_AT_MOST {
        all_pass(&instances).await;
        if receiver.accepted().len() >= expected.len() && second.accepted().len() >= registered {
            break;
        }
    }
    let ids: Vec<String> = receiver
        .accepted()
        .iter()
        .map(|r| r.id().to_owned())
        .collect();
    assert_eq!(ids, expected, "each event once, in commit order");
    assert_eq!(receiver.requests(), expected.len());
    let unique: HashSet<String> = second
        .accepted()
        .iter()
        .map(|r| r.id().to_owned())
        .collect();
    assert_eq!((second.requests(), unique.len()), (registered, registered));
}

#[actix_web::test]
async fn the_server_sends_webhooks_by_itself() {
    let receiver = start_receiver().await;
    let app = spawn_app_with(Options {
        env: vec![("HOTLINE_WEBHOOK_INTERVAL_MS", "20".to_owned())],
        ..Options::default()
    })
    .await;
    let (_, admin) = app.login(Role::Admin);
    let (_, agent) = app.login(Role::Agent);
    subscribe(&app, &admin, json!({"url": receiver.url})).await;
    let arrived = receiver.inbox.arrived.notified();
    let ticket = app.ticket(&agent, "噪音扰民").await;
    actix_web::rt::time::timeout(Duration::from_secs(30), arrived)
        .await
        .expect("the registration arrives without anyone asking");
    let event = receiver.accepted()[0].event();
    assert_eq!(event["data"]["ticket_id"], ticket["id"]);
}

#[actix_web::test]
async fn a_receiver_that_hangs_holds_up_only_its_own_subscription() {
    let w = world_at(chrono::Utc::now()).await;
    let hanging = start_receiver().await;
    hanging.set(Mode::Hang);
    let prompt = start_receiver().await;
    subscribe(&w.app, &w.admin, json!({"url": hanging.url})).await;
    subscribe(&w.app, &w.admin, json!({"url": prompt.url})).await;
    let deliverer = deliverer(&w.app);
    w.complaint().await;
    w.complaint().await;
    // Both subscriptions' deliveries queued first: a feed read may hold events back for a
    // moment (a transaction in another database ending while it looks), and then the two
    // would be claimed by different passes.
    queue_until(&deliverer, &w.app, 4).await;
    // Both are sent at once; the hanging one's attempt ends at its timeout, and meanwhile the
    // prompt receiver has had both events.
    deliver_until(&deliverer, || hanging.requests() == 1).await;
    assert_eq!(prompt.accepted().len(), 2);
    // The hanging subscription is claimed first: had the sends been one after the other, the
    // prompt receiver would have waited out the other's timeout.
    let hang_started = hanging.inbox.requests.lock().unwrap()[0].at;
    let last_prompt = prompt.accepted()[1].at;
    assert!(
        last_prompt < hang_started + Duration::from_millis(500),
        "the prompt receiver waited {:?} behind the hanging one",
        last_prompt.saturating_duration_since(hang_started)
    );
}

#[actix_web::test]
async fn attempts_are_recorded_while_a_claim_is_still_being_sent() {
    let w = world_at(chrono::Utc::now()).await;
    let receiver = start_receiver().await;
    let recorded_together = hotline::jobs::webhooks::ATTEMPTS_PER_RECORD;
    receiver.set(Mode::HangAfter(recorded_together));
    subscribe(&w.app, &w.admin, json!({"url": receiver.url})).await;
    for _ in 0..recorded_together + 5 {
        w.complaint().await;
    }
    let deliverer = deliverer(&w.app);
    // One claim holds them all.
    queue_until(&deliverer, &w.app, recorded_together + 5).await;
    let sending = actix_web::rt::spawn({
        let deliverer = deliverer.clone();
        async move { deliverer.pass().await }
    });
    // The receiver holds the next request while the claim is still being sent: an instance
    // killed now would send again only what it had not recorded, not the whole claim.
    let mut waited = 0;
    while receiver.requests() <= recorded_together {
        assert!(waited < 10_000, "the claim's next request never came");
        actix_web::rt::time::sleep(Duration::from_millis(2)).await;
        waited += 2;
    }
    assert_eq!(receiver.accepted().len(), recorded_together);
    let delivered = w.app.count("webhook_deliveries WHERE status = 'delivered'");
    assert_eq!(delivered as usize, recorded_together);
    let report = sending.await.unwrap().expect("a pass");
    assert_eq!((report.delivered, report.failed), (recorded_together, 1));
}
