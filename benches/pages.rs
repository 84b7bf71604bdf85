//! The console's pages as their people open them all day, over the demo county with 100,000
//! tickets, through HTTP with a session cookie: each role's workbench, the intake form and the
//! panels beside it while a call is live (the caller's history, possible duplicates, the
//! knowledge base), and a ticket's page for the unit and for the office. For each it prints the
//! page's size in bytes (before compression), throughput, p50 and p99 latency and the CPU time
//! spent serving per request, then the size of what a first visit also loads (the stylesheet
//! and the script) and the peak resident memory.
//!
//! The database is filled on the first run into `--database` and measured as it is after.
//!
//!     cargo bench --bench pages -- --help
//!     cargo bench --bench pages -- --backend sqlite --database /tmp/county.db
//!     cargo bench --bench pages -- --backend postgres --database postgres://postgres@127.0.0.1:5432/county

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::Text;
use hotline::config::Settings;
use hotline::domain::clock::SystemClock;
use hotline::startup::{self, Application};
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
cargo bench --bench pages -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --database URL                   a database to fill once and measure on every run after
                                   (default: a scratch database, filled and removed)
  --per-month N --months N         the fill: N tickets a month for N months (10000, 10)
  --clients N                      concurrent connections (default 4)
  --requests N                     requests per page (default 2000)
  --only TEXT                      measure only the pages whose name holds TEXT
  --help                           this text";

/// The demo accounts' password in the benchmark's county.
const PASSWORD: &str = "bench-pass-2026";

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
        per_month: args.get("--per-month").unwrap_or(10_000),
        months: args.get("--months").unwrap_or(10),
        clients: args.get("--clients").unwrap_or(4),
        requests: args.get("--requests").unwrap_or(2_000),
        only: args.get("--only"),
    })
}

/// A page as a browser asks for it: its address, the session, and a form's body if any.
#[derive(Clone, Copy)]
struct Visit<'a> {
    path: &'a str,
    cookie: &'a str,
    form: Option<&'a [u8]>,
}

/// `clients` connections ask for the page until `total` answers came back.
async fn measure(
    address: &str,
    clients: usize,
    total: usize,
    visit: Visit<'_>,
    postgres: bool,
) -> Measured {
    let next = AtomicUsize::new(0);
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        connections.push(HttpConnection::open(address).await.expect("a connection"));
    }
    let (status, first) = connections[0]
        .browse(visit.path, visit.cookie, visit.form)
        .await
        .expect("an answer");
    assert_eq!(
        status,
        200,
        "{}: {}",
        visit.path,
        String::from_utf8_lossy(&first)
    );
    let cpu = ServingCpu::start(postgres);
    let started = Instant::now();
    let tasks = connections.into_iter().map(|mut connection| {
        let next = &next;
        async move {
            let mut mine = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let begun = Instant::now();
                let (status, _) = connection
                    .browse(visit.path, visit.cookie, visit.form)
                    .await
                    .expect("an answer");
                assert_eq!(status, 200);
                mine.push(begun.elapsed());
            }
            mine
        }
    });
    let latencies = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    Measured {
        latencies,
        elapsed: started.elapsed(),
        cpu: cpu.seconds(),
        items: first.len(),
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    value: String,
}

fn first(db: &Db, sql: &'static str) -> String {
    let row: Found = db
        .read(|c| {
            hotline::per_backend!(c, |c| diesel::sql_query(sql).get_result::<Found>(c))
                .map_err(StoreError::from)
        })
        .expect(sql);
    row.value
}

/// Signs `username` in through the sign-in form; the session cookie (`name=value`).
async fn session_of(address: &str, username: &str) -> String {
    let client = awc::Client::builder().disable_redirects().finish();
    let answer = client
        .post(format!("http://{address}/sign-in"))
        .send_form(&[("username", username), ("password", PASSWORD)])
        .await
        .expect("signed in");
    assert_eq!(answer.status().as_u16(), 303, "{username} signs in");
    let cookie = answer
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// The form token of the page at `path` for the session.
async fn form_token(address: &str, path: &str, cookie: &str) -> String {
    let mut connection = HttpConnection::open(address).await.unwrap();
    let (_, body) = connection.browse(path, cookie, None).await.unwrap();
    let html = String::from_utf8(body).unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

fn percent_encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
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
        // The urge ladder's passes would be counted as the pages' CPU; its benchmark measures them.
        ("HOTLINE_LADDER_INTERVAL_SECONDS", "0".to_owned()),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    fill::fill(&db, options.per_month, options.months, backend);
    let author = first(
        &db,
        "SELECT CAST(id AS TEXT) AS value FROM users WHERE username = 'dispatcher'",
    );
    articles::fill(&db, 10_000, uuid::Uuid::parse_str(&author).unwrap());
    if matches!(db.backend(), store::Backend::Postgres) {
        db.read(|c| {
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
    // The unit's ticket in hand due first, and the ticket with the longest timeline.
    let in_hand = first(
        &db,
        "SELECT CAST(t.id AS TEXT) AS value FROM tickets t JOIN units u ON u.id = t.primary_unit_id \
         WHERE u.code = 'rsj' AND t.due_at IS NOT NULL ORDER BY t.due_at, t.id LIMIT 1",
    );
    let longest = first(
        &db,
        "SELECT CAST(ticket_id AS TEXT) AS value FROM ticket_events \
         GROUP BY ticket_id ORDER BY COUNT(*) DESC, ticket_id LIMIT 1",
    );
    // The open ticket of the busiest category, whose category and township a call repeats.
    let repeated = first(
        &db,
        "SELECT CAST(t.id AS TEXT) AS value FROM tickets t WHERE t.closed_at IS NULL \
         AND t.area_unit_id IS NOT NULL AND t.category_id = (SELECT category_id FROM tickets \
         WHERE closed_at IS NULL AND category_id IS NOT NULL GROUP BY category_id \
         ORDER BY COUNT(*) DESC LIMIT 1) ORDER BY t.created_at DESC LIMIT 1",
    );
    let (category, area) = db
        .read(|c| {
            let ticket = store::tickets::get(
                c,
                uuid::Uuid::parse_str(&repeated).unwrap(),
                hotline::domain::access::TicketScope::All,
            )?;
            let category = store::categories::get(c, ticket.details.category_id.unwrap())?;
            Ok::<_, StoreError>((category.full_name, ticket.details.area_unit_id.unwrap()))
        })
        .unwrap();
    // The callers' numbers the fill wrote without their index, indexed as the server's
    // background pass would.
    let phones = hotline::startup::phone_index(&settings).unwrap();
    while hotline::jobs::ladder::index_phones(&db, &phones).unwrap() > 0 {}
    let frequent_caller = first(
        &db,
        "SELECT caller_phone AS value FROM tickets WHERE caller_phone_key = (\
         SELECT caller_phone_key FROM tickets WHERE caller_phone_key <> '' \
         GROUP BY caller_phone_key ORDER BY COUNT(*) DESC LIMIT 1) LIMIT 1",
    );
    let system = actix_web::rt::System::new();
    system.block_on(async {
        let app = Application::build_on(settings, db.clone(), Arc::new(SystemClock)).unwrap();
        let address = format!("127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let mut sessions = HashMap::new();
        for who in ["agent", "dispatcher", "supervisor", "renshe"] {
            sessions.insert(who, session_of(&address, who).await);
        }
        let token = form_token(&address, "/intake", &sessions["agent"]).await;
        let history = format!(
            "csrf={token}&caller_phone={}",
            percent_encoded(&frequent_caller)
        );
        let duplicates = format!(
            "/intake/duplicates?category={}&area_unit_id={area}",
            percent_encoded(&category),
        );
        let articles = format!("/intake/articles?q={}", percent_encoded("停水"));
        let unit_ticket = format!("/tickets/{in_hand}");
        let long_ticket = format!("/tickets/{longest}");
        let pages: Vec<(&str, &str, &str, Option<&[u8]>)> = vec![
            ("workbench: agent", "agent", "/", None),
            ("workbench: dispatcher", "dispatcher", "/", None),
            ("workbench: supervisor", "supervisor", "/", None),
            ("workbench: unit", "renshe", "/", None),
            ("intake form", "agent", "/intake", None),
            (
                "intake: caller history",
                "agent",
                "/intake/caller-history",
                Some(history.as_bytes()),
            ),
            ("intake: duplicates", "agent", &duplicates, None),
            ("intake: articles", "agent", &articles, None),
            ("ticket: unit, in hand", "renshe", &unit_ticket, None),
            ("ticket: office, in hand", "dispatcher", &unit_ticket, None),
            ("ticket: office, longest", "dispatcher", &long_ticket, None),
        ];
        let postgres = backend == "postgres";
        for (name, who, path, form) in pages {
            if options
                .only
                .as_deref()
                .is_some_and(|only| !name.contains(only))
            {
                continue;
            }
            let visit = Visit {
                path,
                cookie: &sessions[who],
                form,
            };
            measure(&address, options.clients, 50, visit, postgres).await;
            measure(&address, options.clients, options.requests, visit, postgres)
                .await
                .print(backend, name);
        }
        let mut connection = HttpConnection::open(&address).await.unwrap();
        let mut assets = 0;
        for asset in ["/assets/console.css", "/assets/htmx.min.js"] {
            let (_, body) = connection
                .browse(asset, &sessions["agent"], None)
                .await
                .unwrap();
            assets += body.len();
        }
        println!("{backend:<9} stylesheet and script, loaded once and kept: {assets} bytes");
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
        "backend", "page", "bytes", "per sec", "p50 ms", "p99 ms", "CPU ms"
    );
    for backend in options.backends.clone() {
        run(backend, &options);
    }
}
