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
//! rendered from the same bulletin, for comparison.
//!
//! Run with:
//!
//!     cargo bench --bench bulletin                                 # both backends
//!     cargo bench --bench bulletin -- --backend sqlite --per-month 100000 --months 10
//!     cargo bench --bench bulletin -- --backend sqlite --database /tmp/bulletin.db  # kept

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hotline::config::Settings;
use hotline::reports::{self, Format};
use hotline::startup;

#[path = "support/fill.rs"]
mod fill;
#[path = "support/scratch.rs"]
mod scratch;
use fill::{TIMEZONE, fill};
use scratch::scratch;

struct Options {
    backends: Vec<&'static str>,
    per_month: u64,
    months: u32,
    /// A database to use (and fill, when it has no tickets) instead of a scratch one, so that
    /// runs after the first measure without importing again.
    database: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        backends: vec!["sqlite", "postgres"],
        per_month: 100_000,
        months: 10,
        database: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--backend" => {
                options.backends = match value.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    _ => vec!["sqlite", "postgres"],
                };
                i += 1;
            }
            "--per-month" => {
                options.per_month = value.parse().expect("--per-month N");
                i += 1;
            }
            "--months" => {
                options.months = value.parse().expect("--months N");
                i += 1;
            }
            "--database" => {
                options.database = Some(value);
                i += 1;
            }
            // `cargo bench` passes `--bench`; anything else is ignored too.
            _ => {}
        }
        i += 1;
    }
    options
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
    let as_of = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
    let bulletin_json = || {
        let started = Instant::now();
        let bulletin = reports::compile_at_once(&db, month, TIMEZONE, "12345热线", as_of).unwrap();
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
        "{backend}: HTML {html_bytes} bytes, XLSX {xlsx_bytes} bytes; completion {:?}, satisfaction {:?}",
        bulletin.hotline.rates.completion_rate, bulletin.hotline.rates.satisfaction_rate
    );
}

fn main() {
    let options = options();
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
