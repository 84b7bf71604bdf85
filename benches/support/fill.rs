//! The benchmarks' hotline of a million tickets: the demo county (70 units, 2026 calendar) with
//! generated months, January 2026 onwards, of the same volume each: the generator's mix of
//! channels, types and categories, answers on the spot, dispatches, returns, late signatures and
//! replies, reworks and callbacks, every ticket played through the lifecycle and written by the
//! import path, so the tables hold what a real hotline's would.

use std::time::Instant;

use diesel::prelude::*;
use hotline::domain::clock::ManualClock;
use hotline::domain::period::Month;
use hotline::store::schema::tickets;
use hotline::store::{Db, StoreError};
use hotline::tools::generate::{self, Profile};
use hotline::tools::import::{Hotline, Importer};

pub const TIMEZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Every month the same volume: the benchmark's month holds exactly what it says.
pub fn profile(month: Month, per_month: u64) -> Profile {
    Profile {
        seed: month.year() as u64 * 100 + month.month() as u64,
        from: month,
        months: 1,
        per_month,
        seasons: [1.0; 12],
        ..Profile::default()
    }
}

pub fn fill(db: &Db, per_month: u64, months: u32, backend: &str) -> Month {
    // The morning after the last month: everything in it has happened.
    let first = Month::new(2026, 1).unwrap();
    let mut month = first;
    for _ in 1..months {
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
    import_months(db, first, months, per_month, now, backend);
    analyze(db);
    month
}

/// The year before the filled one (2025), at `per_month` tickets a month, when it is not there
/// yet: what a year's report compares with (同比). Returns how many tickets 2025 holds.
#[allow(dead_code)] // the bulletin's benchmark alone compares years
pub fn fill_year_before(db: &Db, per_month: u64, backend: &str) -> i64 {
    let year = Month::new(2025, 1).unwrap();
    let count = || -> i64 {
        let next_year = Month::new(2026, 1).unwrap().period(TIMEZONE).from;
        db.read(|c| {
            hotline::per_backend!(c, |c| tickets::table
                .filter(tickets::created_at.lt(hotline::store::sql::At(next_year)))
                .count()
                .get_result(c))
            .map_err(StoreError::from)
        })
        .unwrap()
    };
    if count() > 0 || per_month == 0 {
        return count();
    }
    let now = Month::new(2026, 1).unwrap().period(TIMEZONE).from + chrono::Duration::hours(9);
    import_months(db, year, 12, per_month, now, backend);
    analyze(db);
    count()
}

/// Generated months imported in order, `per_month` tickets each.
fn import_months(
    db: &Db,
    first: Month,
    months: u32,
    per_month: u64,
    now: chrono::DateTime<chrono::Utc>,
    backend: &str,
) {
    let hotline = Hotline::load(db, TIMEZONE).unwrap();
    let mut importer = Importer::new(db, TIMEZONE, 6, now, false).unwrap();
    let started = Instant::now();
    let mut written = 0;
    let mut current = first;
    for _ in 0..months {
        let records = generate::records(&profile(current, per_month), &hotline, now).unwrap();
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
}

/// What autovacuum does to a table that has just grown by a million rows, on PostgreSQL:
/// statistics for the planner and the visibility map that lets index-only scans skip the heap.
/// Done here because a server may run with autovacuum off (this machine's does).
fn analyze(db: &Db) {
    if let hotline::store::Backend::Postgres = db.backend() {
        db.read(|c| {
            // A million rows take longer than a request's statement timeout.
            diesel::connection::SimpleConnection::batch_execute(c, "SET statement_timeout = 0")?;
            diesel::connection::SimpleConnection::batch_execute(c, "VACUUM ANALYZE")?;
            diesel::connection::SimpleConnection::batch_execute(c, "RESET statement_timeout")
                .map_err(StoreError::from)
        })
        .unwrap();
    }
}
