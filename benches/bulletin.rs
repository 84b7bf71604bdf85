//! The monthly bulletin of a month of 100,000 tickets inside a database of 1,000,000, on SQLite
//! and on PostgreSQL.
//!
//! The demo county (70 units, 2026 calendar) with ten generated months, January to October
//! 2026, of 100,000 registrations each: the generator's mix of channels, types and categories,
//! answers on the spot, dispatches, returns, late signatures and replies, reworks and
//! callbacks, every ticket played through the lifecycle and written by the import path, so the
//! tables hold what a real hotline's would (tickets, assignments, replies, callbacks, events).
//! Then October's bulletin: read the month's facts and volume, compute every figure, score and
//! rank, assemble, and render as JSON; five times after a first, cold, run. HTML and XLSX are
//! rendered from the same bulletin, for comparison. `--period` takes any span of the filled
//! months instead (a year's report, say: `--per-month 43552 --months 12 --period 2026`).
//!
//! Run with:
//!
//!     cargo bench --bench bulletin -- --help
//!     cargo bench --bench bulletin                                 # both backends
//!     cargo bench --bench bulletin -- --backend sqlite --per-month 100000 --months 10
//!     cargo bench --bench bulletin -- --backend sqlite --database /tmp/bulletin.db  # kept

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hotline::config::Settings;
use hotline::domain::period::Span;
use hotline::reports::{self, Format};
use hotline::startup;

#[path = "support/args.rs"]
mod args;
#[path = "support/fill.rs"]
mod fill;
#[path = "support/scratch.rs"]
mod scratch;
use args::Args;
use fill::{TIMEZONE, fill};
use scratch::scratch;

const HELP: &str = "\
cargo bench --bench bulletin -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --per-month N --months N         the fill: N tickets a month for N months (100000, 10)
  --database URL                   a database to fill once and measure on every run after
                                   (default: a scratch database, filled and removed)
  --period PERIOD                  the bulletin's period (default: the last month filled):
                                   YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY or YYYY-MM..YYYY-MM
  --year-before N                  also 2025, N tickets a month, for the 同比 of 2026 (default 0)
  --help                           this text";

struct Options {
    backends: Vec<&'static str>,
    per_month: u64,
    months: u32,
    /// A database to use (and fill, when it has no tickets) instead of a scratch one, so that
    /// runs after the first measure without importing again.
    database: Option<String>,
    period: Option<Span>,
    /// Tickets a month in 2025, what 2026 is compared with a year before.
    year_before: u64,
}

fn options() -> Option<Options> {
    let args = Args::from_env();
    if args.help() {
        return None;
    }
    Some(Options {
        backends: args.backends(),
        per_month: args.get("--per-month").unwrap_or(100_000),
        months: args.get("--months").unwrap_or(10),
        database: args.get("--database"),
        period: args
            .get::<String>("--period")
            .map(|p| Span::parse(&p).expect("--period")),
        year_before: args.get("--year-before").unwrap_or(0),
    })
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn run(backend: &'static str, options: &Options) {
    let (url, _scratch) = match &options.database {
        Some(url) => (url.clone(), None),
        None => {
            let (url, scratch) = scratch(backend);
            (url, Some(scratch))
        }
    };
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        (
            "HOTLINE_JWT_SECRET",
            "bench-secret-that-is-long-enough-for-hs256".to_owned(),
        ),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    let month = fill(&db, options.per_month, options.months, backend);
    let earlier = fill::fill_year_before(&db, options.year_before, backend);
    if earlier > 0 {
        eprintln!("{backend}: {earlier} tickets in 2025");
    }
    // The mailbox reported apart, as the seeds print the mayor's mailbox: its section reads the
    // span's callbacks on its tickets.
    db.write(|c| {
        let mailbox = hotline::store::channels::find(c, "mailbox")?.expect("the mailbox");
        let draft = hotline::domain::channel::ChannelDraft {
            code: mailbox.code,
            name: mailbox.name,
            kind: mailbox.kind,
            bulletin_row: mailbox.bulletin_row,
            own_section: true,
            sort_order: mailbox.sort_order,
            active: mailbox.active,
        };
        hotline::store::channels::put(c, &draft, chrono::Utc::now())
    })
    .unwrap();
    // The filled months' last by default; any period of them when asked.
    let span = options.period.unwrap_or(Span::month(month));
    // The morning after the last month filled, when everything in it has happened.
    let as_of = month.next().period(TIMEZONE).from + chrono::Duration::hours(9);
    let bulletin_json = || {
        let started = Instant::now();
        let bulletin = reports::compile_at_once(&db, span, TIMEZONE, "12345热线", as_of).unwrap();
        let compiled = started.elapsed();
        let json = serde_json::to_vec(&bulletin).unwrap();
        (started.elapsed(), compiled, json.len(), bulletin)
    };
    let (cold, _, bytes, bulletin) = bulletin_json();
    let mut warm: Vec<(Duration, Duration)> = (0..5)
        .map(|_| {
            let (total, compiled, ..) = bulletin_json();
            (total, compiled)
        })
        .collect();
    warm.sort();
    let (median, median_compiled) = warm[warm.len() / 2];
    let render = |format: Format| {
        let started = Instant::now();
        let rendered = reports::render(&bulletin, format, None).unwrap();
        (started.elapsed(), rendered.bytes.len())
    };
    let (html, html_bytes) = render(Format::Html);
    let (xlsx, xlsx_bytes) = render(Format::Xlsx);
    println!(
        "{backend:<9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8}",
        bulletin.volume.total,
        bulletin.units.len(),
        seconds(cold),
        seconds(median),
        seconds(warm[0].0),
        seconds(median_compiled),
        bytes,
        seconds(html),
        seconds(xlsx),
    );
    eprintln!(
        "{backend}: HTML {html_bytes} bytes, XLSX {xlsx_bytes} bytes; completion {:?}, satisfaction {:?}; \
         sections {:?}; against a year before {:?}",
        bulletin.hotline.rates.completion_rate,
        bulletin.hotline.rates.satisfaction_rate,
        bulletin
            .channel_sections
            .iter()
            .map(|s| (&s.name, s.total, s.satisfaction_rate))
            .collect::<Vec<_>>(),
        bulletin.volume.year_on_year
    );
}

fn main() {
    let Some(options) = options() else {
        println!("{HELP}");
        return;
    };
    println!(
        "{:<9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8} {:>8}",
        "backend",
        "tickets",
        "units",
        "cold s",
        "median s",
        "best s",
        "compile",
        "JSON B",
        "HTML s",
        "XLSX s"
    );
    for backend in options.backends.clone() {
        run(backend, &options);
    }
}
