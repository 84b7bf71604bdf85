//! The lists a hotline runs all day, over a database of 1,000,000 tickets, through HTTP: a unit
//! handler's inbox in each sort and its other lists, and the office's lists (newest, by status,
//! overdue, supervised, by category, by area), the office's word search over every ticket (a
//! word in every ticket, one in a few percent, one in a few hundred, one in none) and an agent's
//! search of 10,000 knowledge-base articles, and an agent's look-up of the caller's history by
//! phone number. For each it prints throughput, p50 and p99
//! latency, and the CPU time spent serving per request: the service's (this process less the
//! thread of the light load client) and, on PostgreSQL, the server's processes. Then the peak
//! resident memory.
//!
//! The database is the bulletin benchmark's hotline (ten months of 100,000 tickets): filled on
//! the first run into `--database`, and measured as it is on the runs after.
//!
//!     cargo bench --bench lists -- --help
//!     cargo bench --bench lists -- --backend sqlite --database /tmp/million.db
//!     cargo bench --bench lists -- --backend postgres --database postgres://postgres@127.0.0.1:5432/million

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hotline::config::Settings;
use hotline::domain::access::Role;
use hotline::domain::clock::{Clock, SystemClock};
use hotline::domain::directory::{Attachment, User};
use hotline::startup::{self, Application};
use hotline::store::users::NewUser;
use hotline::store::{self, Db, StoreError};

#[path = "support/args.rs"]
mod args;
#[path = "support/articles.rs"]
mod articles;
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
cargo bench --bench lists -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --database URL                   a database to fill once and measure on every run after
                                   (default: a scratch database, filled and removed)
  --per-month N --months N         the fill: N tickets a month for N months (100000, 10)
  --clients N                      concurrent connections (default 4)
  --requests N                     requests per list (default 2000)
  --only TEXT                      measure only the lists whose name holds TEXT
  --help                           this text";

struct Options {
    backends: Vec<&'static str>,
    database: Option<String>,
    per_month: u64,
    months: u32,
    clients: usize,
    requests: usize,
    only: Option<String>,
}

fn options() -> Option<Options> {
    let args = Args::from_env();
    if args.help() {
        return None;
    }
    Some(Options {
        backends: args.backends(),
        database: args.get("--database"),
        per_month: args.get("--per-month").unwrap_or(100_000),
        months: args.get("--months").unwrap_or(10),
        clients: args.get("--clients").unwrap_or(4),
        requests: args.get("--requests").unwrap_or(2_000),
        only: args.get("--only"),
    })
}

/// What is asked: a list's page (`GET path`), or a look-up whose question is in its body.
#[derive(Clone, Copy)]
struct Ask<'a> {
    path: &'a str,
    body: Option<&'a [u8]>,
}

impl Ask<'_> {
    fn method(&self) -> &'static str {
        if self.body.is_some() { "POST" } else { "GET" }
    }
}

/// `clients` connections ask until `total` answers came back.
/// One line of the table: `ask` warmed up, then measured as `name`.
async fn measure_and_print(
    address: &str,
    options: &Options,
    ask: Ask<'_>,
    authorization: &str,
    backend: &str,
    name: &str,
) {
    if options
        .only
        .as_deref()
        .is_some_and(|only| !name.contains(only))
    {
        return;
    }
    let postgres = backend == "postgres";
    measure(address, options.clients, 50, ask, authorization, postgres).await;
    measure(
        address,
        options.clients,
        options.requests,
        ask,
        authorization,
        postgres,
    )
    .await
    .print(backend, name);
}

async fn measure(
    address: &str,
    clients: usize,
    total: usize,
    ask: Ask<'_>,
    authorization: &str,
    postgres: bool,
) -> Measured {
    let path = ask.path;
    let next = AtomicUsize::new(0);
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(HttpConnection::open(address).await.expect("a connection"));
    }
    let (status, first) = connections[0]
        .send(ask.method(), path, authorization, ask.body)
        .await
        .expect("an answer");
    let page: serde_json::Value = serde_json::from_slice(&first).unwrap_or_default();
    assert_eq!(status, 200, "{path}: {page}");
    let items = page["items"]
        .as_array()
        .or_else(|| page["tickets"].as_array())
        .map_or(0, Vec::len);
    let cpu = ServingCpu::start(postgres);
    let started = Instant::now();
    let tasks = connections.into_iter().map(|mut connection| {
        let next = &next;
        async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let begun = Instant::now();
                let (status, _) = connection
                    .send(ask.method(), path, authorization, ask.body)
                    .await
                    .expect("an answer");
                assert_eq!(status, 200);
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
    let elapsed = started.elapsed();
    Measured {
        latencies,
        elapsed,
        cpu: cpu.seconds(),
        items,
    }
}

#[derive(QueryableByName)]
struct Busiest {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    open: i64,
}

/// The unit with the most tickets being worked on, a first-level category with children, and
/// the area with the most tickets: the lists measured are the heaviest of their kind.
fn subjects(db: &Db) -> (uuid::Uuid, uuid::Uuid, uuid::Uuid) {
    let first = |sql: &'static str| {
        let row: Busiest = db
            .read(|c| {
                hotline::per_backend!(c, |c| diesel::sql_query(sql).get_result::<Busiest>(c))
                    .map_err(StoreError::from)
            })
            .expect(sql);
        uuid::Uuid::parse_str(&row.id).unwrap()
    };
    (
        first(
            "SELECT primary_unit_id AS id, COUNT(*) AS open FROM tickets \
             WHERE due_at IS NOT NULL AND primary_unit_id IS NOT NULL \
             GROUP BY primary_unit_id ORDER BY 2 DESC LIMIT 1",
        ),
        first(
            "SELECT parent_id AS id, COUNT(*) AS open FROM categories \
             WHERE parent_id IS NOT NULL GROUP BY parent_id ORDER BY 2 DESC LIMIT 1",
        ),
        first(
            "SELECT area_unit_id AS id, COUNT(*) AS open FROM tickets \
             WHERE area_unit_id IS NOT NULL AND created_at >= '2026-10-01' \
             GROUP BY area_unit_id ORDER BY 2 DESC LIMIT 1",
        ),
    )
}

#[derive(QueryableByName)]
struct Phone {
    #[diesel(sql_type = Text)]
    caller_phone: String,
}

/// Indexes the callers' numbers the fill wrote without their index, as the server's background
/// pass would, and answers the number with the most tickets.
fn index_callers(db: &Db, settings: &Settings, backend: &str) -> String {
    let index = hotline::startup::phone_index(settings).unwrap();
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let batch = hotline::jobs::ladder::index_phones(db, &index).unwrap();
        indexed += batch;
        if batch == 0 {
            break;
        }
    }
    if indexed > 0 {
        println!(
            "{backend}: indexed {indexed} callers' numbers in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let sql = "SELECT caller_phone FROM tickets WHERE caller_phone_key = (\
               SELECT caller_phone_key FROM tickets WHERE caller_phone_key <> '' \
               GROUP BY caller_phone_key ORDER BY COUNT(*) DESC LIMIT 1) LIMIT 1";
    let row: Phone = db
        .read(|c| {
            hotline::per_backend!(c, |c| diesel::sql_query(sql).get_result::<Phone>(c))
                .map_err(StoreError::from)
        })
        .expect(sql);
    row.caller_phone
}

/// `name=value&…` with each value percent-encoded, as a browser sends it.
fn encode_query(query: &str) -> String {
    let encode = |value: &str| {
        let mut encoded = String::new();
        for byte in value.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b',' | b'-' | b'_' | b'.') {
                encoded.push(byte as char);
            } else {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
        encoded
    };
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => format!("{name}={}", encode(value)),
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn account(db: &Db, role: Role, unit_id: Option<uuid::Uuid>) -> User {
    let hash = hotline::auth::hash_password("bench password 1234").unwrap();
    let username = format!("bench-{}", uuid::Uuid::now_v7().simple());
    db.write(|c| {
        store::users::insert(
            c,
            &NewUser {
                username: &username,
                display_name: &username,
                attachment: Attachment {
                    role,
                    unit_id,
                    channel: None,
                },
                password_hash: &hash,
                must_change_password: false,
            },
            SystemClock.now(),
        )
    })
    .unwrap()
}

fn run(backend: &'static str, options: &Options) {
    let (url, _scratch) = match &options.database {
        Some(url) => (url.clone(), None),
        None => {
            let (url, scratch) = scratch(backend);
            (url, Some(scratch))
        }
    };
    let storage = tempfile::tempdir().unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        ("HOTLINE_BIND", "127.0.0.1:0".to_owned()),
        (
            "HOTLINE_JWT_SECRET",
            "bench-secret-that-is-long-enough-for-hs256".to_owned(),
        ),
        ("HOTLINE_STORAGE_DIR", storage.path().display().to_string()),
        // The urge ladder's passes over a million tickets' deadlines would be counted as the
        // lists' CPU; the ladder benchmark measures them.
        ("HOTLINE_LADDER_INTERVAL_SECONDS", "0".to_owned()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    fill::fill(&db, options.per_month, options.months, backend);
    articles::fill(&db, 10_000, account(&db, Role::Dispatcher, None).id);
    // What autovacuum does within a minute of a running service's writes, after both fills:
    // statistics for PostgreSQL's planner, and the word indexes' pending entries merged into
    // them (a GIN index reads its pending list in full on every search), the articles' among
    // them.
    if matches!(db.backend(), store::Backend::Postgres) {
        db.read(|c| {
            // One statement at a time: VACUUM runs outside any transaction block.
            for statement in [
                "SET statement_timeout = 0",
                "VACUUM ANALYZE",
                "RESET statement_timeout",
            ] {
                diesel::connection::SimpleConnection::batch_execute(c, statement)?;
            }
            Ok::<(), StoreError>(())
        })
        .unwrap();
    }
    let (unit, category, area) = subjects(&db);
    let handler = account(&db, Role::UnitHandler, Some(unit));
    let dispatcher = account(&db, Role::Dispatcher, None);
    let agent = account(&db, Role::Agent, None);
    let frequent_caller = index_callers(&db, &settings, backend);
    let lists: Vec<(&str, &User, String)> = vec![
        (
            "unit inbox, by due",
            &handler,
            "unit_id=me&status=dispatched,handling&sort=due".into(),
        ),
        (
            "unit inbox, newest",
            &handler,
            "unit_id=me&status=dispatched,handling".into(),
        ),
        ("unit overdue", &handler, "unit_id=me&overdue=true".into()),
        ("unit tickets, newest", &handler, String::new()),
        ("unit closed, newest", &handler, "status=closed".into()),
        ("office newest", &dispatcher, String::new()),
        (
            "office open, by due",
            &dispatcher,
            "status=dispatched,handling&sort=due".into(),
        ),
        (
            "office to dispatch",
            &dispatcher,
            "status=registered,returned".into(),
        ),
        ("office overdue", &dispatcher, "overdue=true".into()),
        ("office supervised", &dispatcher, "supervised=true".into()),
        (
            "office by category",
            &dispatcher,
            format!("category_id={category}"),
        ),
        (
            "office by area",
            &dispatcher,
            format!("area_unit_id={area}"),
        ),
        // Words of the fill's texts: every ticket says 问题, a few percent are about noise, a
        // few hundred about noise in one township, and none about gas.
        ("search: in every ticket", &dispatcher, "q=问题".into()),
        ("search: in many tickets", &dispatcher, "q=噪音".into()),
        ("search: in few tickets", &dispatcher, "q=彭婆镇噪音".into()),
        ("search: in no ticket", &dispatcher, "q=燃气泄漏".into()),
        ("unit search: many", &handler, "q=问题".into()),
    ];
    let system = actix_web::rt::System::new();
    system.block_on(async {
        let app = Application::build_on(settings, db.clone(), Arc::new(SystemClock)).unwrap();
        let address = format!("127.0.0.1:{}", app.port());
        let state = app.state();
        actix_web::rt::spawn(app.run_until_stopped());
        for (name, user, query) in &lists {
            let bearer = format!(
                "Bearer {}",
                state
                    .auth
                    .keys
                    .issue(user, SystemClock.now(), Duration::from_secs(3600))
                    .unwrap()
            );
            let path = format!("/api/v1/tickets?limit=50&{}", encode_query(query));
            let ask = Ask {
                path: &path,
                body: None,
            };
            measure_and_print(&address, options, ask, &bearer, backend, name).await;
        }
        // The knowledge base while a call is live: a word in a tenth of the articles, and a
        // word in one in a hundred.
        for (name, query) in [
            ("articles: in many", "q=停水"),
            ("articles: in few", "q=彭婆镇"),
        ] {
            let bearer = format!(
                "Bearer {}",
                state
                    .auth
                    .keys
                    .issue(&agent, SystemClock.now(), Duration::from_secs(3600))
                    .unwrap()
            );
            let path = format!("/api/v1/articles?limit=20&{}", encode_query(query));
            let ask = Ask {
                path: &path,
                body: None,
            };
            measure_and_print(&address, options, ask, &bearer, backend, name).await;
        }
        // The caller's history while a call is live, for the number with the most tickets.
        let bearer = format!(
            "Bearer {}",
            state
                .auth
                .keys
                .issue(&agent, SystemClock.now(), Duration::from_secs(3600))
                .unwrap()
        );
        let body = serde_json::json!({ "phone": frequent_caller }).to_string();
        let ask = Ask {
            path: "/api/v1/caller-history",
            body: Some(body.as_bytes()),
        };
        measure_and_print(
            &address,
            options,
            ask,
            &bearer,
            backend,
            "caller history (agent)",
        )
        .await;
    });
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
        "{:<9} {:<30} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "backend", "list (50 a page)", "items", "per sec", "p50 ms", "p99 ms", "CPU ms"
    );
    for backend in options.backends.clone() {
        run(backend, &options);
    }
}
