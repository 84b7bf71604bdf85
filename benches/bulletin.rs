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
use diesel::prelude::*;
use hotline::config::Settings;
use hotline::domain::clock::ManualClock;
use hotline::domain::period::Month;
use hotline::reports::{self, Format};
use hotline::startup;
use hotline::store::schema::tickets;
use hotline::store::{Db, StoreError};
use hotline::tools::generate::{self, Profile};
use hotline::tools::import::{Hotline, Importer};

#[path = "support/scratch.rs"]
mod scratch;
use scratch::scratch;

const TIMEZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

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

/// Every month the same volume: the benchmark's month holds exactly what it says.
fn profile(month: Month, per_month: u64) -> Profile {
    Profile {
        seed: 2026 * 100 + month.month() as u64,
        from: month,
        months: 1,
        per_month,
        seasons: [1.0; 12],
        ..Profile::default()
    }
}

fn fill(db: &Db, options: &Options, backend: &str) -> Month {
    // The morning after the last month: everything in it has happened.
    let first = Month::new(2026, 1).unwrap();
    let mut month = first;
    for _ in 1..options.months {
        month = month.next();
    }
    let now = month.next().period(TIMEZONE).from + chrono::Duration::hours(9);
    let tickets: i64 = db
        .read(|c| {
            hotline::per_backend!(c, |c| tickets::table.count().get_result(c))
                .map_err(StoreError::from)
        })
        .unwrap();
    if tickets > 0 {
        eprintln!("{backend}: {tickets} tickets there already");
        return month;
    }
    let clock = ManualClock::new(now);
    hotline::tools::demo::load(db, &clock, Some("bench-pass-2026")).expect("the demo county");
    let hotline = Hotline::load(db, TIMEZONE).unwrap();
    let mut importer = Importer::new(db, TIMEZONE, 6, now, false).unwrap();
    let started = Instant::now();
    let mut written = 0;
    let mut current = first;
    for _ in 0..options.months {
        let records =
            generate::records(&profile(current, options.per_month), &hotline, now).unwrap();
        let report = importer
            .run(hotline::tools::import::numbered(records), None)
            .unwrap();
        assert!(
            report.bad.is_empty(),
            "{:?}",
            &report.bad[..5.min(report.bad.len())]
        );
        written += report.imported;
        eprintln!(
            "{backend}: {current} imported, {written} tickets in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        current = current.next();
    }
    if let hotline::store::Backend::Postgres = db.backend() {
        // What autovacuum does to a table that has just grown by a million rows: statistics
        // for the planner and the visibility map that lets index-only scans skip the heap.
        // Done here because a server may run with autovacuum off (this machine's does).
        db.read(|c| {
            diesel::connection::SimpleConnection::batch_execute(c, "VACUUM ANALYZE")
                .map_err(StoreError::from)
        })
        .unwrap();
    }
    month
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
    let month = fill(&db, options, backend);
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
