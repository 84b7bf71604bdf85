//! The event feed as other systems follow it, through HTTP, on SQLite and on PostgreSQL, over
//! the demo county with its generated months (every ticket with its whole timeline):
//!
//! (a) reading: one follower reads the whole feed from its start, 1,000 events a page, as an
//!     integration catching up does; events per second, and p50 and p99 of a page;
//! (b) lag: while registrations arrive at `--rate` a second on `--clients` connections for
//!     `--seconds`, one follower asks for what is new every `--poll-ms`; for each registration,
//!     the time from its answer (201) to its event being served; p50, p99 and the worst;
//! (c) webhooks: the same registrations again, with a subscription to a receiver on this host
//!     and the server's own webhook worker at its default pace; for each registration, the
//!     time from its answer to its delivery's receipt.
//!
//!     cargo bench --bench feed -- --help
//!     cargo bench --bench feed -- --backend postgres --per-month 2000 --months 10

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline::config::Settings;
use hotline::domain::clock::{Clock, SystemClock};
use hotline::startup::{self, Application};
use hotline::store::{self, StoreError};
use serde_json::{Value, json};

#[path = "support/args.rs"]
mod args;
#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/fill.rs"]
mod fill;
#[path = "support/http.rs"]
mod http;
#[path = "support/measured.rs"]
mod measured;
#[path = "support/scratch.rs"]
mod scratch;
use args::Args;
use cpu::{ServingCpu, peak_resident_mib};
use http::HttpConnection;
use measured::Measured;
use scratch::scratch;

const HELP: &str = "\
cargo bench --bench feed -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --per-month N --months N         the fill: N tickets a month for N months (2000, 10)
  --rate N                         registrations a second while the lag is measured (500)
  --seconds N                      for how long (10)
  --clients N                      connections registering (16)
  --poll-ms N                      the follower's pause between polls once caught up (50)
  --help                           this text";

struct Options {
    backends: Vec<&'static str>,
    per_month: u64,
    months: u32,
    rate: u64,
    seconds: u64,
    clients: u64,
    poll: Duration,
}

fn options() -> Option<Options> {
    let args = Args::from_env();
    if args.help() {
        return None;
    }
    Some(Options {
        backends: args.backends(),
        per_month: args.get("--per-month").unwrap_or(2_000),
        months: args.get("--months").unwrap_or(10),
        rate: args.get("--rate").unwrap_or(500),
        seconds: args.get("--seconds").unwrap_or(10),
        clients: args.get("--clients").unwrap_or(16),
        poll: Duration::from_millis(args.get("--poll-ms").unwrap_or(50)),
    })
}

/// One request that must succeed: the JSON answered.
async fn call(
    connection: &mut HttpConnection,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<&[u8]>,
) -> Value {
    let (status, answer) = connection
        .send(method, path, authorization, body)
        .await
        .expect("an answer");
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
    serde_json::from_slice(&answer).expect("JSON")
}

/// A page of the feed: its events' ticket ids and kinds, and where to resume.
async fn poll(
    connection: &mut HttpConnection,
    bearer: &str,
    after: Option<&str>,
    query: &str,
) -> (Vec<(String, String)>, String) {
    let after = after.map(|c| format!("&after={c}")).unwrap_or_default();
    let page = call(
        connection,
        "GET",
        &format!("/api/v1/events?{query}{after}"),
        bearer,
        None,
    )
    .await;
    let events = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["data"]["ticket_id"].as_str().unwrap().to_owned(),
                e["data"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (events, page["next_cursor"].as_str().unwrap().to_owned())
}

/// (a) The whole feed from its start, 1,000 events a page.
async fn read_all(address: &str, bearer: &str, postgres: bool) -> Measured {
    let mut connection = HttpConnection::open(address).await.unwrap();
    let cpu = ServingCpu::start(postgres);
    let started = Instant::now();
    let (mut latencies, mut events, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let begun = Instant::now();
        let (page, next) = poll(&mut connection, bearer, cursor.as_deref(), "limit=1000").await;
        latencies.push(begun.elapsed());
        events += page.len();
        cursor = Some(next);
        if page.len() < 1000 {
            break;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "{:<9} whole feed read: {events} events in {:.2} s, {:.0} events/s",
        if postgres { "postgres" } else { "sqlite" },
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64()
    );
    Measured {
        latencies,
        elapsed,
        cpu: cpu.seconds(),
        items: 1000,
    }
}

/// When each ticket registered in (b) was answered and when its event was served.
#[derive(Default)]
struct Seen {
    answered: HashMap<String, Instant>,
    served: HashMap<String, Instant>,
}

/// (b) Registrations at `rate` a second while a follower polls; the lag of each registration.
async fn lag(
    address: &str,
    agent: &str,
    follower: &str,
    options: &Options,
) -> (Vec<Duration>, f64) {
    let seen = RefCell::new(Seen::default());
    let total = options.rate * options.seconds;
    // The follower starts where the feed ends now.
    let mut following = HttpConnection::open(address).await.unwrap();
    let mut cursor = None::<String>;
    loop {
        let (page, next) = poll(&mut following, follower, cursor.as_deref(), "limit=1000").await;
        cursor = Some(next);
        if page.len() < 1000 {
            break;
        }
    }
    let done = RefCell::new(0_u64);
    let started = Instant::now();
    let registering = register_at_rate(address, agent, options, &seen, &done);
    let follow = async {
        let mut cursor = cursor;
        loop {
            let (page, next) = poll(
                &mut following,
                follower,
                cursor.as_deref(),
                "limit=1000&kind=registered",
            )
            .await;
            let now = Instant::now();
            let caught_up = page.len() < 1000;
            {
                let mut seen = seen.borrow_mut();
                for (ticket, _) in page {
                    seen.served.entry(ticket).or_insert(now);
                }
                if *done.borrow() == total && seen.served.len() as u64 >= total {
                    return;
                }
            }
            cursor = Some(next);
            if caught_up {
                actix_web::rt::time::sleep(options.poll).await;
            }
        }
    };
    let follower_task = Box::pin(follow);
    let registering_task = Box::pin(registering);
    futures_util::future::join(registering_task, follower_task).await;
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    let seen = seen.into_inner();
    let lags = seen
        .answered
        .iter()
        .map(|(ticket, answered)| {
            let served = seen
                .served
                .get(ticket)
                .expect("every registration is served");
            served.saturating_duration_since(*answered)
        })
        .collect();
    (lags, achieved)
}

/// Registrations at `options.rate` a second on `options.clients` connections, each answer's
/// time kept in `seen`, counted in `done`.
async fn register_at_rate(
    address: &str,
    agent: &str,
    options: &Options,
    seen: &RefCell<Seen>,
    done: &RefCell<u64>,
) {
    let total = options.rate * options.seconds;
    let body = serde_json::to_vec(&json!({
        "type": "complaint",
        "title": "小区夜间施工噪音扰民",
        "content": "城关镇滨河路某小区工地每晚十一点后仍在施工，严重影响居民休息。",
    }))
    .unwrap();
    let started = Instant::now();
    let step = Duration::from_secs_f64(1.0 / options.rate as f64);
    let registering = (0..options.clients).map(|k| {
        let body = &body;
        async move {
            let mut connection = HttpConnection::open(address).await.unwrap();
            let mut i = k;
            while i < total {
                actix_web::rt::time::sleep_until((started + step * i as u32).into()).await;
                let ticket = call(
                    &mut connection,
                    "POST",
                    "/api/v1/tickets",
                    agent,
                    Some(body),
                )
                .await;
                let id = ticket["id"].as_str().unwrap().to_owned();
                seen.borrow_mut().answered.insert(id, Instant::now());
                *done.borrow_mut() += 1;
                i += options.clients;
            }
        }
    });
    futures_util::future::join_all(registering).await;
}

/// (c) Registrations at `rate` a second while the server sends each to a receiver on this
/// host; the lag of each from its answer to its receipt.
async fn webhook_lag(
    address: &str,
    agent: &str,
    received: &Arc<std::sync::Mutex<HashMap<String, Instant>>>,
    options: &Options,
) -> (Vec<Duration>, f64) {
    let seen = RefCell::new(Seen::default());
    let done = RefCell::new(0_u64);
    let total = options.rate * options.seconds;
    let started = Instant::now();
    register_at_rate(address, agent, options, &seen, &done).await;
    let achieved = total as f64 / started.elapsed().as_secs_f64();
    let waiting_since = Instant::now();
    loop {
        let all_there = {
            let received = received.lock().unwrap();
            seen.borrow()
                .answered
                .keys()
                .all(|t| received.contains_key(t))
        };
        if all_there {
            break;
        }
        assert!(
            waiting_since.elapsed() < Duration::from_secs(120),
            "deliveries stopped arriving"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let received = received.lock().unwrap();
    let lags = seen
        .borrow()
        .answered
        .iter()
        .map(|(ticket, answered)| received[ticket].saturating_duration_since(*answered))
        .collect();
    (lags, achieved)
}

/// A receiver on this host that notes when each ticket's registration arrives.
fn start_receiver(received: Arc<std::sync::Mutex<HashMap<String, Instant>>>) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let received = received.clone();
        App::new().default_service(web::to(move |body: web::Bytes| {
            let received = received.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if let Some(ticket) = event["data"]["ticket_id"].as_str() {
                    received
                        .lock()
                        .unwrap()
                        .entry(ticket.to_owned())
                        .or_insert_with(Instant::now);
                }
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    format!("http://127.0.0.1:{port}/hooks")
}

fn run(backend: &'static str, options: &Options) {
    let (url, _scratch) = scratch(backend);
    let storage = tempfile::tempdir().unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        ("HOTLINE_BIND", "127.0.0.1:0".to_owned()),
        (
            "HOTLINE_JWT_SECRET",
            "bench-secret-that-is-long-enough-for-hs256".to_owned(),
        ),
        ("HOTLINE_STORAGE_DIR", storage.path().display().to_string()),
        ("HOTLINE_LADDER_INTERVAL_SECONDS", "0".to_owned()),
        ("HOTLINE_WEBHOOK_ALLOWED_TARGETS", "127.0.0.1".to_owned()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    fill::fill(&db, options.per_month, options.months, backend);
    let user = |username: &str| {
        db.read(|c| store::users::find_credentials(c, username))
            .map_err(|e: StoreError| e)
            .unwrap()
            .expect("a demo account")
            .0
    };
    let (agent, platform) = (user("agent"), user("dispatcher"));
    let postgres = db.backend() == store::Backend::Postgres;
    let system = actix_web::rt::System::new();
    system.block_on(async {
        let app = Application::build_on(settings, db.clone(), Arc::new(SystemClock)).unwrap();
        let address = format!("127.0.0.1:{}", app.port());
        let state = app.state();
        actix_web::rt::spawn(app.run_until_stopped());
        let bearer = |user| {
            let token = state
                .auth
                .keys
                .issue(user, SystemClock.now(), Duration::from_secs(3600))
                .unwrap();
            format!("Bearer {token}")
        };
        let (agent, follower) = (bearer(&agent), bearer(&platform));
        println!(
            "backend   phase                            pages  per sec   p50 ms   p99 ms   CPU ms"
        );
        let mut read = read_all(&address, &follower, postgres).await;
        read.print(backend, "feed page of 1,000 events");
        let (mut lags, achieved) = lag(&address, &agent, &follower, options).await;
        lags.sort_unstable();
        let at = |p: f64| {
            let i = ((lags.len() as f64 * p).ceil() as usize).clamp(1, lags.len()) - 1;
            lags[i].as_secs_f64() * 1000.0
        };
        println!(
            "{backend:<9} lag from 201 to the feed, {} registrations at {achieved:.0}/s \
             (asked {}/s), polled every {} ms once caught up: p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms",
            lags.len(),
            options.rate,
            options.poll.as_millis(),
            at(0.50),
            at(0.99),
            at(1.0)
        );
        let received = Arc::new(std::sync::Mutex::new(HashMap::new()));
        let url = start_receiver(received.clone());
        subscribe(&db, &url, user_id_of(&db, "dispatcher"));
        let (mut lags, achieved) = webhook_lag(&address, &agent, &received, options).await;
        lags.sort_unstable();
        let at = |p: f64| {
            let i = ((lags.len() as f64 * p).ceil() as usize).clamp(1, lags.len()) - 1;
            lags[i].as_secs_f64() * 1000.0
        };
        println!(
            "{backend:<9} lag from 201 to the webhook's receipt, {} registrations at {achieved:.0}/s \
             (asked {}/s), the worker at its default pace: p50 {:.1} ms, p99 {:.1} ms, worst {:.1} ms",
            lags.len(),
            options.rate,
            at(0.50),
            at(0.99),
            at(1.0)
        );
        println!(
            "{backend:<9} peak resident memory of the process: {:.0} MiB",
            peak_resident_mib()
        );
    });
}

fn user_id_of(db: &store::Db, username: &str) -> uuid::Uuid {
    db.read(|c| store::users::find_credentials(c, username))
        .map_err(|e: StoreError| e)
        .unwrap()
        .expect("a demo account")
        .0
        .id
}

/// A subscription of every event to `url`, from where the feed ends now.
fn subscribe(db: &store::Db, url: &str, by: uuid::Uuid) {
    use hotline::domain::access::EventScope;
    use hotline::domain::webhook::{SigningSecret, Subscription};
    let now = SystemClock.now();
    let subscription = Subscription {
        id: uuid::Uuid::now_v7(),
        url: url.to_owned(),
        description: "bench".to_owned(),
        kinds: Vec::new(),
        channel: None,
        owner_user_id: None,
        scope: EventScope::All,
        disabled_reason: None,
        created_by: by,
        created_at: now,
        updated_at: now,
    };
    db.write(|c| -> Result<(), StoreError> {
        let start = store::events::end(c)?;
        store::webhooks::insert(c, &subscription, start)?;
        store::webhooks::add_secret(
            c,
            subscription.id,
            &SigningSecret::from_bytes(vec![7; 32]).unwrap(),
            now,
        )?;
        Ok(())
    })
    .unwrap();
}

fn main() {
    let Some(options) = options() else {
        println!("{HELP}");
        return;
    };
    for backend in &options.backends {
        run(backend, &options);
    }
}
