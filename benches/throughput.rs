//! Registration and reading throughput, on SQLite and on PostgreSQL:
//!
//! (a) the store alone: the registration transaction the API runs, from 32 threads, committed
//!     in groups on SQLite as the API's are, no HTTP;
//! (b) the HTTP API: `POST /api/v1/tickets` with a JWT at 32 concurrent connections, then
//!     `GET /api/v1/tickets/{id}` at 32 concurrent connections;
//! (c) the full walk through HTTP at 32 concurrent connections: register → dispatch → sign →
//!     reply → review → callback, counted in walks per second.
//!
//! Registering through HTTP is measured at 8 and at 32 connections, after sign-ins at 32
//! connections (each hashes a password). It prints throughput, p50
//! and p99 for each, the CPU time per request of the processes that serve (this one, less the
//! thread of the light load client in the HTTP phases, and on PostgreSQL the server's), the
//! ratio (b)/(a) for registering, and the process's peak resident memory.
//!
//!     cargo bench --bench throughput -- --help
//!     cargo bench --bench throughput                      # both backends
//!     cargo bench --bench throughput -- --backend sqlite --tickets 4000 --gets 20000 --walks 1000
//!
//! PostgreSQL is reached at `BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), where a scratch database is created and
//! dropped afterwards.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hotline::api::tickets::registration_transaction;
use hotline::config::Settings;
use hotline::domain::access::{Actor, Role};
use hotline::domain::clock::{Clock, SystemClock};
use hotline::domain::directory::{Attachment, UnitDraft, UnitKind, User};
use hotline::domain::ticket::{Registrant, RegistrationInput, TicketDraft};
use hotline::startup::{self, Application};
use hotline::store::categories::NewCategory;
use hotline::store::users::NewUser;
use hotline::store::{self, Db};
use serde_json::json;

#[path = "support/args.rs"]
mod args;
#[path = "support/cpu.rs"]
mod cpu;
#[path = "support/http.rs"]
mod http;
#[path = "support/scratch.rs"]
mod scratch;
use args::Args;
use cpu::{ServingCpu, cpu_seconds, peak_resident_mib};
use http::HttpConnection;
use scratch::scratch;

const HELP: &str = "\
cargo bench --bench throughput -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --tickets N                      registrations per phase (default 4000)
  --gets N                         reads by id (default 20000)
  --walks N                        whole lifecycles (default 1000)
  --clients N,N                    connections registering through HTTP (default 8,32)
  --concurrency N                  threads of the store phase, connections reading and
                                   walking (default 32)
  --help                           this text";

struct Options {
    backends: Vec<&'static str>,
    tickets: usize,
    gets: usize,
    walks: usize,
    clients: Vec<usize>,
    concurrency: usize,
}

fn options() -> Option<Options> {
    let args = Args::from_env();
    if args.help() {
        return None;
    }
    let clients: Option<String> = args.get("--clients");
    Some(Options {
        backends: args.backends(),
        tickets: args.get("--tickets").unwrap_or(4_000),
        gets: args.get("--gets").unwrap_or(20_000),
        walks: args.get("--walks").unwrap_or(1_000),
        clients: clients.map_or(vec![8, 32], |list| {
            list.split(',')
                .map(|n| n.parse().expect("--clients N,N"))
                .collect()
        }),
        concurrency: args.get("--concurrency").unwrap_or(32),
    })
}

struct Measured {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// CPU seconds the serving processes spent.
    cpu: f64,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&mut self, p: f64) -> f64 {
        self.latencies.sort_unstable();
        let index =
            ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[index].as_secs_f64() * 1000.0
    }

    fn print(&mut self, backend: &str, phase: &str) {
        let (p50, p99) = (self.percentile(0.50), self.percentile(0.99));
        println!(
            "{backend:<9} {phase:<34} {:>7} {:>10.1} {:>9.2} {:>9.2} {:>8.3}",
            self.count,
            self.rate(),
            p50,
            p99,
            self.cpu * 1000.0 / self.count as f64
        );
    }
}

fn ticket_input(category: uuid::Uuid, area: uuid::Uuid) -> serde_json::Value {
    json!({
        "type": "complaint",
        "title": "小区夜间施工噪音扰民",
        "content": "城关镇滨河路某小区工地每晚十一点后仍在施工，严重影响居民休息，请相关部门核查处理。",
        "caller_name": "张三",
        "caller_phone": "13812345678",
        "address": "城关镇滨河路18号",
        "category_id": category,
        "area_unit_id": area,
    })
}

/// The store alone: `threads` threads run the registration transaction until `total` are done.
fn store_alone(
    db: &Db,
    draft: &TicketDraft,
    actor: Actor,
    settings: &Settings,
    total: usize,
    threads: usize,
) -> Measured {
    let next = AtomicUsize::new(0);
    let numbering = store::tickets::Numbering {
        timezone: settings.timezone,
        digits: 6,
    };
    let postgres = db.backend() == store::Backend::Postgres;
    let phone_index = hotline::startup::phone_index(settings).expect("the phone index's key");
    let cpu = cpu_seconds(postgres);
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < total {
                        let begun = Instant::now();
                        let draft = draft.clone();
                        let phone_index = phone_index.clone();
                        db.write_grouped(move |c| {
                            registration_transaction(
                                c,
                                &draft,
                                actor,
                                numbering,
                                &phone_index,
                                SystemClock.now(),
                            )
                        })
                        .expect("a registration");
                        mine.push(begun.elapsed());
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    Measured {
        count: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
        cpu: cpu_seconds(postgres) - cpu,
    }
}

/// `concurrency` connections, each sending requests one after another until `total` are done.
/// The connection goes into each request and comes back out, so that nothing is shared.
async fn http_phase<F, Fut>(
    address: &str,
    postgres: bool,
    concurrency: usize,
    total: usize,
    request: F,
) -> Measured
where
    F: Fn(usize, HttpConnection) -> Fut,
    Fut: std::future::Future<Output = HttpConnection>,
{
    let next = AtomicUsize::new(0);
    let mut connections = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        connections.push(HttpConnection::open(address).await.expect("a connection"));
    }
    let cpu = ServingCpu::start(postgres);
    let started = Instant::now();
    let tasks = connections.into_iter().map(|mut connection| {
        let (next, request) = (&next, &request);
        async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let begun = Instant::now();
                connection = request(i, connection).await;
                mine.push(begun.elapsed());
            }
            mine
        }
    });
    let latencies: Vec<Duration> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    Measured {
        count: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
        cpu: cpu.seconds(),
    }
}

/// Sends one request that must succeed; answers the connection and the JSON it got back.
async fn call(
    mut connection: HttpConnection,
    method: &str,
    path: &str,
    authorization: &str,
    body: Option<&serde_json::Value>,
) -> (HttpConnection, serde_json::Value) {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    let (status, answer) = connection
        .send(method, path, authorization, bytes.as_deref())
        .await
        .expect("an answer");
    let json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {json}"
    );
    (connection, json)
}

/// The accounts and directory a run needs.
struct Fixture {
    agent: User,
    dispatcher: User,
    handler: User,
    unit: uuid::Uuid,
    category: uuid::Uuid,
    area: uuid::Uuid,
}

fn fixture(db: &Db) -> Fixture {
    let now = SystemClock.now();
    let unit_draft = |code: &str, name: &str, kind| UnitDraft {
        code: code.into(),
        name: name.into(),
        kind,
        parent_id: None,
        sort_order: 0,
    };
    let hash = hotline::auth::hash_password("bench password 1234").unwrap();
    db.write(|c| -> Result<_, store::StoreError> {
        let unit = store::units::insert(
            c,
            &unit_draft("cgj", "城市管理局", UnitKind::Department),
            now,
        )?;
        let town = store::units::insert(
            c,
            &unit_draft("cgjd", "城关街道办", UnitKind::Township),
            now,
        )?;
        let parent = store::categories::insert(
            c,
            &NewCategory {
                name: "城市管理",
                parent: None,
                default_unit_id: None,
                sort_order: 0,
            },
            now,
        )?;
        let category = store::categories::insert(
            c,
            &NewCategory {
                name: "噪音扰民",
                parent: Some(&parent),
                default_unit_id: Some(unit.id),
                sort_order: 0,
            },
            now,
        )?;
        let mut account = |username: &str, role: Role, unit_id| {
            store::users::insert(
                c,
                &NewUser {
                    username,
                    display_name: username,
                    attachment: Attachment {
                        role,
                        unit_id,
                        channel: None,
                    },
                    password_hash: &hash,
                    must_change_password: false,
                },
                now,
            )
        };
        Ok(Fixture {
            agent: account("agent", Role::Agent, None)?,
            dispatcher: account("dispatcher", Role::Dispatcher, None)?,
            handler: account("chengguan", Role::UnitHandler, Some(unit.id))?,
            unit: unit.id,
            category: category.id,
            area: town.id,
        })
    })
    .unwrap()
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
        ("HOTLINE_TICKET_NUMBER_DIGITS", "6".to_owned()),
        ("HOTLINE_STORAGE_DIR", storage.path().display().to_string()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    let fixture = fixture(&db);
    let body = ticket_input(fixture.category, fixture.area);
    let input: RegistrationInput = serde_json::from_value(body.clone()).unwrap();
    let draft = TicketDraft::parse(
        input,
        Registrant {
            role: Role::Agent,
            own_channel: None,
        },
    )
    .unwrap();
    let actor = Actor::user(fixture.agent.id, Role::Agent, None);

    let mut store = store_alone(
        &db,
        &draft,
        actor,
        &settings,
        options.tickets,
        options.concurrency,
    );
    store.print(
        backend,
        &format!("store register ({} threads)", options.concurrency),
    );

    let postgres = db.backend() == store::Backend::Postgres;
    let system = actix_web::rt::System::new();
    let (mut sign_in, registers, mut get, mut walk) = system.block_on(async {
        let app = Application::build_on(settings, db.clone(), Arc::new(SystemClock)).unwrap();
        let address = format!("127.0.0.1:{}", app.port());
        let state = app.state();
        actix_web::rt::spawn(app.run_until_stopped());
        let bearer = |user: &User| {
            format!("Bearer {}", state.auth.keys.issue(user, SystemClock.now(), Duration::from_secs(3600)).unwrap())
        };
        let (agent, dispatcher, handler) = (bearer(&fixture.agent), bearer(&fixture.dispatcher), bearer(&fixture.handler));
        let ids = std::cell::RefCell::new(Vec::with_capacity(options.tickets));
        // Sign-ins at once: each hashes a password in 19 MiB of Argon2 memory.
        let credentials = json!({"username": "agent", "password": "bench password 1234"});
        let sign_in = http_phase(&address, postgres, options.concurrency, options.concurrency * 4, |_, connection| {
            let credentials = &credentials;
            async move { call(connection, "POST", "/api/v1/auth/token", "", Some(credentials)).await.0 }
        })
        .await;
        let mut registers = Vec::new();
        for clients in &options.clients {
            let register = http_phase(&address, postgres, *clients, options.tickets, |_, connection| {
                let (ids, body, agent) = (&ids, &body, &agent);
                async move {
                    let (connection, ticket) = call(connection, "POST", "/api/v1/tickets", agent, Some(body)).await;
                    ids.borrow_mut().push(ticket["id"].as_str().unwrap().to_owned());
                    connection
                }
            })
            .await;
            registers.push((*clients, register));
        }
        let paths: Vec<String> = ids.into_inner().iter().map(|id| format!("/api/v1/tickets/{id}")).collect();
        let get_one = |i: usize, connection| {
            let (path, agent) = (&paths[i % paths.len()], &agent);
            async move { call(connection, "GET", path, agent, None).await.0 }
        };
        http_phase(&address, postgres, options.concurrency, options.concurrency * 20, get_one).await;
        let get = http_phase(&address, postgres, options.concurrency, options.gets, get_one).await;
        // The whole lifecycle, one ticket after another on each connection.
        let walk = http_phase(&address, postgres, options.concurrency, options.walks, |_, connection| {
            let (agent, dispatcher, handler, body, unit) = (&agent, &dispatcher, &handler, &body, fixture.unit);
            async move {
                let (connection, ticket) = call(connection, "POST", "/api/v1/tickets", agent, Some(body)).await;
                let path = |action: &str| format!("/api/v1/tickets/{}/{action}", ticket["id"].as_str().unwrap());
                let dispatch = serde_json::json!({"primary_unit_id": unit});
                let (connection, _) = call(connection, "POST", &path("dispatch"), dispatcher, Some(&dispatch)).await;
                let (connection, _) = call(connection, "POST", &path("sign"), handler, Some(&serde_json::json!({}))).await;
                let contact = serde_json::json!({"contacted_at": SystemClock.now(), "method": "phone", "outcome": "已告知"});
                let reply = serde_json::json!({"result": "resolved", "text": "已处理", "contact": contact});
                let (connection, _) = call(connection, "POST", &path("reply"), handler, Some(&reply)).await;
                let accept = serde_json::json!({"decision": "accept"});
                let (connection, _) = call(connection, "POST", &path("review"), dispatcher, Some(&accept)).await;
                let satisfied = serde_json::json!({"reached": true, "satisfaction": "satisfied", "resolved": true});
                let (connection, closed) = call(connection, "POST", &path("callbacks"), agent, Some(&satisfied)).await;
                assert_eq!(closed["status"], "closed");
                connection
            }
        })
        .await;
        (sign_in, registers, get, walk)
    });
    sign_in.print(
        backend,
        &format!("http sign in (c={})", options.concurrency),
    );
    let mut best = 0.0_f64;
    for (clients, mut register) in registers {
        register.print(backend, &format!("http register (c={clients})"));
        best = best.max(register.rate());
    }
    get.print(
        backend,
        &format!("http get ticket (c={})", options.concurrency),
    );
    walk.print(
        backend,
        &format!("http full walk, 6 requests (c={})", options.concurrency),
    );
    println!(
        "{backend:<9} http/store register throughput ratio: {:.2}",
        best / store.rate()
    );
    println!(
        "{backend:<9} peak resident memory of the process: {:.0} MiB",
        peak_resident_mib()
    );
}

fn main() {
    let Some(options) = options() else {
        println!("{HELP}");
        return;
    };
    println!(
        "{:<9} {:<34} {:>7} {:>10} {:>9} {:>9} {:>8}",
        "backend", "phase", "n", "per sec", "p50 ms", "p99 ms", "CPU ms"
    );
    for backend in options.backends.clone() {
        run(backend, &options);
    }
}
