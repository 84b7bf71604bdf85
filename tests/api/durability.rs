//! What is acknowledged is durable: write transactions committed together on SQLite keep each
//! one's refusal to itself, and registrations answered before the process is killed with
//! SIGKILL are all there when it starts again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use diesel::prelude::*;
use hotline::domain::access::TicketScope;
use hotline::store::schema::ticket_number_days;
use hotline::store::{Backend, Db, StoreError, migrations};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

fn day_row(c: &mut hotline::store::DbConnection, day: &str) -> Result<usize, StoreError> {
    Ok(hotline::per_backend!(c, |c| diesel::insert_into(
        ticket_number_days::table
    )
    .values((
        ticket_number_days::day.eq(day.to_owned()),
        ticket_number_days::last_value.eq(1_i64),
    ))
    .execute(c))?)
}

fn days(db: &Db) -> Vec<String> {
    db.read(|c| {
        Ok::<_, StoreError>(hotline::per_backend!(c, |c| ticket_number_days::table
            .select(ticket_number_days::day)
            .order(ticket_number_days::day)
            .load::<String>(c))?)
    })
    .unwrap()
}

/// Twelve writers queue while the database is held; they are committed as one group, and the
/// three that refuse leave nothing behind while the nine others are kept.
#[test]
fn a_group_commits_together_and_a_refusal_rolls_back_only_itself() {
    let (url, _database) = fresh_database();
    let db = open_db(&url);
    db.read(migrations::run).unwrap();
    let sqlite = db.backend() == Backend::Sqlite;
    let (release, released) = mpsc::channel::<()>();
    let (holding, held) = mpsc::channel::<()>();
    let results: Vec<Result<usize, StoreError>> = std::thread::scope(|scope| {
        let (holder_db, holding) = (db.clone(), holding);
        let holder = scope.spawn(move || {
            holder_db.write(|c| {
                day_row(c, "2026-01-31")?;
                holding.send(()).unwrap();
                released.recv().unwrap();
                Ok::<_, StoreError>(())
            })
        });
        held.recv().unwrap();
        let writers: Vec<_> = (1..=12)
            .map(|i| {
                let db = db.clone();
                scope.spawn(move || {
                    db.write_grouped(move |c| {
                        day_row(c, &format!("2026-02-{i:02}"))?;
                        if i % 4 == 0 {
                            return Err(StoreError::Corrupt(format!("writer {i} refuses")));
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        // SQLite's writers wait in the queue for the held database; PostgreSQL's write at once.
        while sqlite && db.group_commits().waiting < 12 {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
        holder.join().unwrap().unwrap();
        writers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    for (i, result) in (1..=12).zip(&results) {
        match result {
            Ok(n) => assert_eq!((*n, i % 4 != 0), (i, true)),
            Err(e) => assert!(i % 4 == 0 && e.to_string().contains("refuses"), "{i}: {e}"),
        }
    }
    let mut expected: Vec<String> = (1..=12)
        .filter(|i| i % 4 != 0)
        .map(|i| format!("2026-02-{i:02}"))
        .collect();
    expected.insert(0, "2026-01-31".into());
    assert_eq!(days(&db), expected);
    if sqlite {
        let groups = db.group_commits();
        assert_eq!((groups.groups, groups.writes), (1, 9), "one commit for all");
    }
}

/// A `hotline serve` process on the database under test, and the port it listens on.
struct Server {
    child: Child,
    port: u16,
}

fn hotline(url: &str, storage: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .env("DATABASE_URL", url)
        .env(
            "HOTLINE_JWT_SECRET",
            "kill-nine-secret-that-is-long-enough-for-hs256",
        )
        .env("HOTLINE_BIND", "127.0.0.1:0")
        .env("HOTLINE_LOG_FORMAT", "json")
        .env("HOTLINE_STORAGE_DIR", storage)
        .env("HOTLINE_LADDER_INTERVAL_SECONDS", "0")
        .env("RUST_LOG", "info");
    command
}

impl Server {
    fn start(url: &str, storage: &std::path::Path) -> Self {
        let mut child = hotline(url, storage)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the service logs that it listens")
                .unwrap();
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(port) = entry["fields"]["port"]
                .as_u64()
                .or_else(|| entry["port"].as_u64())
            {
                break port as u16;
            }
        };
        // Keep reading its log, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Self { child, port }
    }
}

/// Three times: registrations from 32 clients at once, the process killed with SIGKILL while
/// they are in flight (the writers are committed in groups, so the kill falls in the middle of
/// one), and started again. Every registration answered 201 is there afterwards.
#[actix_web::test]
async fn registrations_answered_before_a_kill_9_are_all_kept() {
    let (url, _database) = fresh_database();
    let storage = tempfile::tempdir().unwrap();
    let demo = hotline(&url, storage.path())
        .args(["demo", "--password", "kill-nine-pass-2026"])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{demo:?}");
    let mut acknowledged: Vec<Uuid> = Vec::new();
    for round in 0..3 {
        let mut server = Server::start(&url, storage.path());
        let base = format!("http://127.0.0.1:{}", server.port);
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        let mut signed_in = client
            .post(format!("{base}/api/v1/auth/token"))
            .send_json(&json!({"username": "agent", "password": "kill-nine-pass-2026"}))
            .await
            .unwrap();
        let token: Value = signed_in.json().await.unwrap();
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let (answered, answers) = tokio::sync::mpsc::unbounded_channel::<Uuid>();
        for client_no in 0..32 {
            let (client, base, bearer, answered) = (
                client.clone(),
                base.clone(),
                bearer.clone(),
                answered.clone(),
            );
            actix_web::rt::spawn(async move {
                for n in 0.. {
                    let sent = client
                        .post(format!("{base}/api/v1/tickets"))
                        .insert_header(("authorization", bearer.as_str()))
                        .send_json(&json!({
                            "type": "complaint",
                            "title": format!("第{round}轮 第{client_no}路 第{n}件"),
                            "content": "夜间施工噪音扰民",
                        }))
                        .await;
                    let Ok(mut response) = sent else { break };
                    if response.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(ticket) = response.json::<Value>().await else {
                        break;
                    };
                    let id = Uuid::parse_str(ticket["id"].as_str().unwrap()).unwrap();
                    if answered.send(id).is_err() {
                        break;
                    }
                }
            });
        }
        drop(answered);
        let mut answers = answers;
        let mut this_round = 0;
        while this_round < 200 {
            acknowledged.push(answers.recv().await.expect("registrations are answered"));
            this_round += 1;
        }
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .body()
            .await
            .unwrap();
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        // Answers that were on their way when the process died are acknowledged too.
        while let Some(id) = answers.recv().await {
            acknowledged.push(id);
        }
        let metrics = String::from_utf8_lossy(&metrics);
        let counter = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if url.ends_with(".db") {
            assert!(
                counter("hotline_db_grouped_writes_total")
                    > counter("hotline_db_write_groups_total"),
                "writes were committed in groups: {metrics}"
            );
        }
    }
    let db = open_db(&url);
    let missing: Vec<Uuid> = db
        .read(|c| {
            let mut missing = Vec::new();
            for id in &acknowledged {
                match hotline::store::tickets::get(c, *id, TicketScope::All) {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => missing.push(*id),
                    Err(e) => return Err(e),
                }
            }
            Ok(missing)
        })
        .unwrap();
    assert!(acknowledged.len() >= 600);
    assert_eq!(missing, Vec::<Uuid>::new(), "acknowledged and lost");
}

/// Whoever finds the queue without a leader is handed the duty to lead; if it cannot start a
/// thread for it and drops it, the queue is served there and then, never left waiting.
#[test]
fn a_leader_dropped_without_leading_still_serves_the_queue() {
    let (url, _database) = fresh_database();
    let db = open_db(&url);
    db.read(migrations::run).unwrap();
    if !db.commits_in_groups() {
        return;
    }
    let first = db.queue_write(|c| day_row(c, "2026-03-01"));
    let second = db.queue_write(|c| day_row(c, "2026-03-02"));
    assert!(first.leader.is_some() && second.leader.is_none());
    drop(first.leader);
    assert_eq!(first.answer.blocking_recv().unwrap().unwrap(), 1);
    assert_eq!(second.answer.blocking_recv().unwrap().unwrap(), 1);
    // The queue has no leader again: the next writer leads.
    assert!(
        db.queue_write(|c| day_row(c, "2026-03-03"))
            .leader
            .is_some()
    );
}
