//! One pass of the urge ladder over 100,000 open assignments, on SQLite and on PostgreSQL.
//!
//! The open work of a large hotline: assignments dispatched evenly over the last three weeks
//! (consultations, requests for help and complaints, one in fifty urgent), nine in ten of those
//! older than a day signed, on the 2026 calendar in `calendars/2026.json`. Three passes:
//!
//! 1. catch-up: the first pass over that backlog fires every rung already due (a service
//!    started on an existing backlog, or the morning after an outage);
//! 2. steady: the same instant again, nothing left to fire: what every pass costs;
//! 3. a minute later: what a pass fires in a minute of a busy hotline's day.
//!
//! Run with:
//!
//!     cargo bench --bench ladder -- --help
//!     cargo bench --bench ladder                                  # both backends
//!     cargo bench --bench ladder -- --backend sqlite --assignments 100000

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::prelude::*;
use hotline::config::Settings;
use hotline::domain::access::Role;
use hotline::domain::calendar::{Limit, WorkCalendar, YearInput, parse_year};
use hotline::domain::directory::{Attachment, UnitDraft, UnitKind};
use hotline::domain::ticket::{Assignment, AssignmentRole, AssignmentStatus};
use hotline::jobs::ladder::{PassReport, run_pass};
use hotline::startup;
use hotline::store::schema::tickets;
use hotline::store::sql::{At, Id};
use hotline::store::users::NewUser;
use hotline::store::{self, Db, StoreError};
use uuid::Uuid;

#[path = "support/args.rs"]
mod args;
#[path = "support/scratch.rs"]
mod scratch;
use args::Args;
use scratch::scratch;

const TIMEZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

const HELP: &str = "\
cargo bench --bench ladder -- [OPTIONS]

  --backend sqlite|postgres|both   which backends (default both)
  --assignments N                  open assignments in the backlog (default 100000)
  --help                           this text";

struct Options {
    backends: Vec<&'static str>,
    assignments: usize,
}

fn options() -> Option<Options> {
    let args = Args::from_env();
    if args.help() {
        return None;
    }
    Some(Options {
        backends: args.backends(),
        assignments: args.get("--assignments").unwrap_or(100_000),
    })
}

/// Wednesday 18 November 2026, 10:00 in Shanghai.
fn bench_now() -> DateTime<Utc> {
    TIMEZONE
        .with_ymd_and_hms(2026, 11, 18, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn calendar(db: &Db) -> WorkCalendar {
    let input: YearInput =
        serde_json::from_str(include_str!("../calendars/2026.json")).expect("the 2026 calendar");
    let days = parse_year(2026, input).expect("a valid calendar");
    db.write(|c| store::calendar::replace_year(c, 2026, &days))
        .unwrap();
    db.read(|c| store::calendar::load(c, TIMEZONE)).unwrap()
}

/// The open work, written straight into the tables in large transactions (registering and
/// dispatching 100,000 tickets one by one would take the benchmark's whole time).
fn backlog(db: &Db, calendar: &WorkCalendar, count: usize, now: DateTime<Utc>) {
    let units: Vec<Uuid> = db
        .write(|c| -> Result<_, StoreError> {
            (0..40)
                .map(|n| {
                    let draft = UnitDraft {
                        code: format!("u{n:02}"),
                        name: format!("单位{n:02}"),
                        kind: UnitKind::Department,
                        parent_id: None,
                        sort_order: n,
                    };
                    Ok(store::units::insert(c, &draft, now)?.id)
                })
                .collect()
        })
        .unwrap();
    let dispatcher = db
        .write(|c| {
            store::users::insert(
                c,
                &NewUser {
                    username: "dispatcher",
                    display_name: "dispatcher",
                    attachment: Attachment {
                        role: Role::Dispatcher,
                        unit_id: None,
                        channel: None,
                    },
                    password_hash: "-",
                    must_change_password: false,
                },
                now,
            )
        })
        .unwrap()
        .id;
    let span = Duration::days(21);
    for chunk in (0..count).collect::<Vec<_>>().chunks(2_000) {
        let mut ticket_rows = Vec::with_capacity(chunk.len());
        let mut assignment_rows = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let dispatched_at = now - span + span * (i as i32) / (count as i32);
            let (ticket_type, reply) = match i % 10 {
                0 | 1 => ("consult", Limit::WorkingDays(2)),
                2..=5 => ("help", Limit::WorkingDays(10)),
                _ => ("complaint", Limit::WorkingDays(15)),
            };
            let urgent = i % 50 == 0;
            let (sign, reply) = if urgent {
                (Limit::Hours(1), Limit::Hours(24))
            } else {
                (Limit::WorkingDays(1), reply)
            };
            let signed = now - dispatched_at > Duration::days(1) && i % 10 != 3;
            let ticket_id = Uuid::now_v7();
            let assignment = Assignment {
                id: Uuid::now_v7(),
                ticket_id,
                unit_id: units[i % units.len()],
                round: 1,
                role: AssignmentRole::Primary,
                status: if signed {
                    AssignmentStatus::Signed
                } else {
                    AssignmentStatus::Dispatched
                },
                forced: false,
                dispatched_by: dispatcher,
                dispatched_at,
                sign_deadline: calendar.due(dispatched_at, sign, "sign"),
                reply_deadline: calendar.due(dispatched_at, reply, "reply"),
                original_due_at: calendar.due(dispatched_at, reply, "reply").due_at,
                signed_at: signed.then(|| dispatched_at + Duration::hours(2)),
                returned_at: None,
                return_reason: None,
                replied_at: None,
                closed_at: None,
                forwarded_from: None,
            };
            ticket_rows.push((
                tickets::id.eq(Id(ticket_id)),
                tickets::number.eq(format!("B{i:09}")),
                tickets::channel.eq("phone"),
                tickets::ticket_type.eq(ticket_type),
                tickets::title.eq("积水反映"),
                tickets::content.eq("小区门口道路积水，影响出行"),
                tickets::priority.eq(if urgent { "urgent" } else { "normal" }),
                tickets::status.eq(if signed { "handling" } else { "dispatched" }),
                tickets::current_round.eq(1),
                tickets::primary_unit_id.eq(Some(Id(assignment.unit_id))),
                tickets::sign_due_at.eq(Some(At(assignment.sign_due_at()))),
                tickets::due_at.eq(Some(At(assignment.due_at()))),
                tickets::created_by.eq(Id(dispatcher)),
                tickets::version.eq(2i64),
                tickets::created_at.eq(At(dispatched_at)),
                tickets::updated_at.eq(At(dispatched_at)),
            ));
            assignment_rows.push(assignment);
        }
        db.write(|c| -> Result<(), StoreError> {
            hotline::per_backend!(&mut *c, |c| diesel::insert_into(tickets::table)
                .values(&ticket_rows)
                .execute(c))?;
            for assignment in &assignment_rows {
                store::lifecycle::insert_assignment(c, assignment)?;
            }
            Ok(())
        })
        .unwrap();
    }
}

fn timed_pass(db: &Db, now: DateTime<Utc>, backend: &str, name: &str) -> PassReport {
    let started = Instant::now();
    let report = run_pass(db, TIMEZONE, now).expect("a ladder pass");
    let elapsed = started.elapsed();
    let fired = report.total();
    println!(
        "{backend:<9} {name:<24} {:>8} {:>8} {:>8} {:>10.3} {:>10}",
        report.watched,
        report.tickets,
        fired,
        elapsed.as_secs_f64(),
        if fired > 0 {
            format!("{:.0}", fired as f64 / elapsed.as_secs_f64())
        } else {
            "-".into()
        }
    );
    assert_eq!(report.failed, 0);
    report
}

fn run(backend: &'static str, options: &Options) {
    let (url, _scratch) = scratch(backend);
    let env: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url),
        (
            "HOTLINE_JWT_SECRET",
            "bench-secret-that-is-long-enough-for-hs256".to_owned(),
        ),
    ]);
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let db = startup::open_database(&settings).unwrap();
    let now = bench_now();
    let calendar = calendar(&db);
    let started = Instant::now();
    backlog(&db, &calendar, options.assignments, now);
    eprintln!(
        "{backend}: {} open assignments written in {:.1} s",
        options.assignments,
        started.elapsed().as_secs_f64()
    );
    let catch_up = timed_pass(&db, now, backend, "1 catch-up");
    let steady = timed_pass(&db, now, backend, "2 steady (same instant)");
    assert_eq!(steady.total(), 0, "every rung fires once");
    timed_pass(&db, now + Duration::minutes(1), backend, "3 a minute later");
    for ((timer, rung), count) in &catch_up.fired {
        eprintln!("{backend}:   catch-up {timer:<8} {rung:<12} {count}");
    }
}

fn main() {
    let Some(options) = options() else {
        println!("{HELP}");
        return;
    };
    println!(
        "{:<9} {:<24} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "backend", "pass", "watched", "tickets", "fired", "seconds", "rungs/s"
    );
    for backend in options.backends.clone() {
        run(backend, &options);
    }
}
