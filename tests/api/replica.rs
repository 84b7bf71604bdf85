//! Reads that may be a little stale go to a real streaming replica (`.ci/replica.sh` starts one
//! beside the suite's PostgreSQL and names it in `TEST_REPLICA_SERVER_URL`); to the primary once
//! the replica lags past the bound; and to the primary, with no error, once it is killed.

use std::process::Command;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use hotline::domain::access::Role;

use crate::helpers::{Options, TestApp, fresh_database, spawn_app_with};

/// The replica's server and the script that stops and starts it; CI must have them when the
/// suite runs on PostgreSQL.
fn replica_server() -> Option<(String, String)> {
    let on_postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"));
    match (
        std::env::var("TEST_REPLICA_SERVER_URL"),
        std::env::var("TEST_REPLICA_CONTROL"),
    ) {
        (Ok(server), Ok(control)) if on_postgres => Some((server, control)),
        _ => {
            assert!(
                !(on_postgres && std::env::var("CI").as_deref() == Ok("true")),
                "CI=true on PostgreSQL requires a replica: `source .ci/replica.sh; start_replica URL`"
            );
            eprintln!("no PostgreSQL replica to test (TEST_REPLICA_SERVER_URL): skipped");
            None
        }
    }
}

/// Brings the replica back however the test ends, for the tests and runs after it.
struct Restart(String);

impl Drop for Restart {
    fn drop(&mut self) {
        let _ = Command::new(&self.0).arg("start").output();
    }
}

#[derive(QueryableByName)]
struct Lsn {
    #[diesel(sql_type = Text)]
    lsn: String,
}

#[derive(QueryableByName)]
struct Holds {
    #[diesel(sql_type = Bool)]
    holds: bool,
}

/// Where the primary's write-ahead log ends now.
fn written_so_far(primary: &str) -> String {
    let mut primary = PgConnection::establish(primary).unwrap();
    diesel::sql_query("SELECT pg_current_wal_lsn()::text AS lsn")
        .get_result::<Lsn>(&mut primary)
        .unwrap()
        .lsn
}

/// Waits until the replica has replayed everything the primary has written so far.
fn caught_up(primary: &str, replica: &str) {
    let written = written_so_far(primary);
    let replayed = || -> Option<bool> {
        let mut replica = PgConnection::establish(replica).ok()?;
        diesel::sql_query(format!(
            "SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn AS holds"
        ))
        .get_result::<Holds>(&mut replica)
        .ok()
        .map(|r| r.holds)
    };
    for _ in 0..600 {
        if replayed() == Some(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the replica did not replay {written} within 30 s");
}

/// Replay paused on the replica until dropped: it goes on receiving the primary's changes but
/// shows none of them.
struct ReplayPaused(String);

impl ReplayPaused {
    fn new(replica: &str) -> Self {
        let mut conn = PgConnection::establish(replica).unwrap();
        diesel::sql_query("SELECT pg_wal_replay_pause()")
            .execute(&mut conn)
            .unwrap();
        Self(replica.to_owned())
    }
}

impl Drop for ReplayPaused {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.0) {
            let _ = diesel::sql_query("SELECT pg_wal_replay_resume()").execute(&mut conn);
        }
    }
}

/// Waits until the replica has received everything the primary has written so far without
/// replaying it, and its last replayed commit is more than 100 ms old.
fn received_and_older_than_100ms(primary: &str, replica: &str) {
    let written = written_so_far(primary);
    let mut replica = PgConnection::establish(replica).unwrap();
    for _ in 0..600 {
        let behind: Holds = diesel::sql_query(format!(
            "SELECT pg_last_wal_receive_lsn() >= '{written}'::pg_lsn \
             AND pg_last_wal_replay_lsn() < '{written}'::pg_lsn \
             AND now() - pg_last_xact_replay_timestamp() > interval '100 milliseconds' AS holds"
        ))
        .get_result(&mut replica)
        .unwrap();
        if behind.holds {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the paused replica did not receive {written} within 30 s");
}

fn replica_reads(metrics: &str, served_by: &str) -> u64 {
    let series = format!("hotline_db_replica_reads_total{{served_by=\"{served_by}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in /metrics"))
        .parse()
        .unwrap()
}

async fn metrics(app: &TestApp) -> String {
    app.send(awc::http::Method::GET, "/metrics", None, &[], None)
        .await
        .text
}

#[actix_web::test]
async fn reports_are_read_from_the_replica_and_from_the_primary_once_it_is_killed() {
    let Some((server, control)) = replica_server() else {
        return;
    };
    let (url, _database) = fresh_database();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let replica_url = hotline::store::with_database_name(&server, &name);
    let app = spawn_app_with(Options {
        database_url: Some(url.clone()),
        env: vec![
            ("DATABASE_REPLICA_URL", replica_url.clone()),
            ("HOTLINE_REPLICA_MAX_LAG_MS", "60000".into()),
        ],
        ..Options::default()
    })
    .await;
    let (_, agent) = app.login(Role::Agent);
    let (_, supervisor) = app.login(Role::Supervisor);
    app.ticket(&agent, "路灯不亮").await;
    app.ticket(&agent, "噪音扰民").await;
    let month = app
        .now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m")
        .to_string();
    let counts = format!("/api/v1/ticket-counts?by=day&month={month}");
    let (primary_url, replica_of_test) = (url.clone(), replica_url.clone());
    actix_web::rt::task::spawn_blocking(move || caught_up(&primary_url, &replica_of_test))
        .await
        .unwrap();

    let from_replica = app.get(&counts, &supervisor).await;
    assert_eq!(from_replica.status, 200, "{}", from_replica.text);
    assert_eq!(
        from_replica.body["total"]["registered"], 2,
        "{}",
        from_replica.text
    );
    let seen = metrics(&app).await;
    assert_eq!(replica_reads(&seen, "replica"), 1);
    assert_eq!(replica_reads(&seen, "primary"), 0);

    // The bound on staleness: with replay paused, the replica receives a third ticket it does
    // not show. An instance bound to 100 ms reads from the primary once the last replayed
    // commit is older than that; one bound to a minute still reads the replica's two.
    let strict = spawn_app_with(Options {
        database_url: Some(url.clone()),
        env: vec![
            ("DATABASE_REPLICA_URL", replica_url.clone()),
            ("HOTLINE_REPLICA_MAX_LAG_MS", "100".into()),
        ],
        ..Options::default()
    })
    .await;
    let paused = ReplayPaused::new(&replica_url);
    app.ticket(&agent, "井盖缺失").await;
    let (primary_url, replica_of_test) = (url.clone(), replica_url.clone());
    actix_web::rt::task::spawn_blocking(move || {
        received_and_older_than_100ms(&primary_url, &replica_of_test)
    })
    .await
    .unwrap();
    let lenient = app.get(&counts, &supervisor).await;
    assert_eq!(lenient.body["total"]["registered"], 2, "{}", lenient.text);
    let exact = strict.get(&counts, &supervisor).await;
    assert_eq!(exact.body["total"]["registered"], 3, "{}", exact.text);
    let seen = metrics(&strict).await;
    assert_eq!(replica_reads(&seen, "primary"), 1);
    assert_eq!(replica_reads(&seen, "replica"), 0);
    drop(paused);
    let (primary_url, replica_of_test) = (url.clone(), replica_url.clone());
    actix_web::rt::task::spawn_blocking(move || caught_up(&primary_url, &replica_of_test))
        .await
        .unwrap();
    // Caught up again, the strict instance goes back to the replica once its last verdict
    // (kept for 100 ms) is looked at again.
    let mut looks = 0;
    while replica_reads(&metrics(&strict).await, "replica") == 0 {
        assert!(
            looks < 600,
            "the strict instance never read the replica again"
        );
        let again = strict.get(&counts, &supervisor).await;
        assert_eq!(again.body["total"]["registered"], 3, "{}", again.text);
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        looks += 1;
    }

    let _restart = Restart(control.clone());
    let stopped = Command::new(&control).arg("stop").output().unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    let from_primary = app.get(&counts, &supervisor).await;
    assert_eq!(from_primary.status, 200, "{}", from_primary.text);
    assert_eq!(from_primary.body["total"]["registered"], 3);
    let bulletin = app
        .get(
            &format!("/api/v1/reports/monthly?month={month}"),
            &supervisor,
        )
        .await;
    assert_eq!(bulletin.status, 200, "{}", bulletin.text);
    let seen = metrics(&app).await;
    assert_eq!(replica_reads(&seen, "replica"), 2);
    assert_eq!(replica_reads(&seen, "primary"), 2);
}
