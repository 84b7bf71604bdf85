//! What the environment does to the service: PostgreSQL dropping its connections or its network
//! path freezing, the disk under SQLite or the evidence files filling up or refusing writes.
//! Each answers a documented 503 or 507 with `Retry-After`, within a bound, changes nothing
//! half-way, and the service works again as soon as the environment does.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use awc::http::Method;
use diesel::prelude::*;
use hotline::domain::access::Role;
use serde_json::json;

use crate::helpers::*;

/// A TCP relay between the service and PostgreSQL that can stand still (a network path that
/// freezes: nothing is lost, nothing arrives) or cut every connection (a restart, a failover).
struct Relay {
    port: u16,
    frozen: Arc<(Mutex<bool>, Condvar)>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new((Mutex::new(false), Condvar::new()));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let (f, s) = (frozen.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                let mut kept = s.lock().unwrap();
                kept.push(client.try_clone().unwrap());
                kept.push(server.try_clone().unwrap());
                for (from, to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let frozen = f.clone();
                    std::thread::spawn(move || pump(from, to, &frozen));
                }
            }
        });
        Self {
            port,
            frozen,
            streams,
        }
    }

    fn freeze(&self, frozen: bool) {
        let (flag, thawed) = &*self.frozen;
        *flag.lock().unwrap() = frozen;
        thawed.notify_all();
    }

    fn cut(&self) {
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.freeze(false);
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &(Mutex<bool>, Condvar)) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let (flag, thawed) = frozen;
        let mut is_frozen = flag.lock().unwrap();
        while *is_frozen {
            is_frozen = thawed.wait(is_frozen).unwrap();
        }
        drop(is_frozen);
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

/// `postgres://user@host:port/db?…` → (`host:port`, the same URL through `127.0.0.1:relay`).
fn relayed(url: &str, relay_port: u16) -> (String, String) {
    let start = url.find('@').map(|i| i + 1).unwrap_or("postgres://".len());
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    let target = url[start..end].to_owned();
    let target = if target.contains(':') {
        target
    } else {
        format!("{target}:5432")
    };
    let through = format!("{}127.0.0.1:{relay_port}{}", &url[..start], &url[end..]);
    (target, through)
}

fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// Ends every connection the service holds to its database, as a restart or an administrator
/// would (`pg_terminate_backend`).
fn terminate_connections(server: &str, database_url: &str) -> usize {
    #[derive(QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let name = database_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let mut admin = diesel::PgConnection::establish(server).unwrap();
    diesel::sql_query(format!(
        "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .get_result::<Ended>(&mut admin)
    .unwrap()
    .n as usize
}

/// The database connections are killed under the service: the request that meets a dead one
/// is answered 503 with `Retry-After`, never 500, and the next one works.
#[actix_web::test]
async fn dropped_database_connections_answer_503_and_the_next_request_works() {
    let Some(server) = postgres_server() else {
        // SQLite has no connection to lose; the PostgreSQL run of the suite covers this.
        return;
    };
    let app = spawn_app().await;
    let (_, token) = app.login(Role::Agent);
    for round in 0..5 {
        // Enough requests that the pool holds idle connections, then kill them all.
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/tickets", &token).await.status, 200);
        }
        assert!(terminate_connections(&server, &app.database_url) > 0);
        let read = app.get("/api/v1/tickets", &token).await;
        assert_eq!(
            (read.status, read.code()),
            (503, "unavailable"),
            "round {round}: {}",
            read.text
        );
        assert_eq!(read.header("retry-after"), Some("1"));
        let again = app.get("/api/v1/tickets", &token).await;
        assert_eq!(again.status, 200, "round {round}: {}", again.text);
        // A write meets the same and is not half-done.
        for _ in 0..3 {
            assert_eq!(app.get("/api/v1/tickets", &token).await.status, 200);
        }
        let before = app.count("tickets");
        terminate_connections(&server, &app.database_url);
        let write = app
            .register(
                &token,
                json!({"type": "help", "title": "t", "content": "c"}),
            )
            .await;
        assert!(
            write.status == 503 || write.status == 201,
            "round {round}: {}",
            write.text
        );
        let written = app.count("tickets") - before;
        assert_eq!(written, i64::from(write.status == 201), "round {round}");
        assert_eq!(app.count("ticket_events"), app.count("tickets"));
    }
    let metrics = app
        .send(Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    assert!(
        !metrics.contains("hotline_failures_total{code=\"unavailable\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("hotline_failures_total{code=\"internal\"} 0"));
}

/// The network path to PostgreSQL freezes: requests are answered 503 within the statement
/// timeout instead of hanging for as long as it lasts, `/readyz` within two seconds, and
/// everything works again once the path does.
#[actix_web::test]
async fn a_frozen_database_answers_503_within_the_bound() {
    let Some(_) = postgres_server() else {
        return;
    };
    let (url, _database) = fresh_database();
    let (target, _) = relayed(&url, 0);
    let relay = Relay::start(target);
    let (_, through) = relayed(&url, relay.port);
    let app = spawn_app_with(Options {
        env: vec![
            ("HOTLINE_DB_STATEMENT_TIMEOUT_MS", "1000".into()),
            ("HOTLINE_DB_TIMEOUT_MS", "1000".into()),
            ("HOTLINE_AUTH_CACHE_MS", "600000".into()),
        ],
        database_url: Some(through),
        ..Options::default()
    })
    .await;
    let (_, token) = app.login(Role::Agent);
    assert_eq!(app.get("/api/v1/tickets", &token).await.status, 200);
    assert_eq!(app.get("/api/v1/auth/me", &token).await.status, 200);

    relay.freeze(true);
    let bound = Duration::from_millis(1000 + 1500);
    let started = Instant::now();
    let read = app.get("/api/v1/tickets", &token).await;
    let waited = started.elapsed();
    assert_eq!(
        (read.status, read.code()),
        (503, "database_timeout"),
        "{}",
        read.text
    );
    assert!(read.header("retry-after").is_some());
    assert!(waited < bound, "answered after {waited:?}");
    let started = Instant::now();
    let ready = app.send(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let write = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(write.status, 503, "{}", write.text);
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    let metrics = app
        .send(Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    assert!(
        !metrics.contains("hotline_failures_total{code=\"database_timeout\"} 0"),
        "{metrics}"
    );

    relay.freeze(false);
    let again = app.get("/api/v1/tickets", &token).await;
    assert_eq!(again.status, 200, "{}", again.text);
    let ready = app.send(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    // The connections cut for good: 503, then the pool connects anew.
    relay.cut();
    let cut = app.get("/api/v1/tickets", &token).await;
    assert!(cut.status == 503 || cut.status == 200, "{}", cut.text);
    assert_eq!(app.get("/api/v1/tickets", &token).await.status, 200);
}

/// A small filesystem of its own (tmpfs), so that filling it is real and harms nothing else.
/// Mounting needs root, which CI has; a developer without it is told and the test skips.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            return Some(Self { dir });
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must be able to mount a tmpfs (run as root) for the storage tests"
        );
        eprintln!("SKIPPED: mounting a tmpfs needs root");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn available(&self) -> u64 {
        let out = std::process::Command::new("df")
            .args(["-B1", "--output=avail"])
            .arg(self.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Fills the disk with a file of its own until only `left` bytes are free.
    fn fill_leaving(&self, left: u64) -> PathBuf {
        let filler = self.path().join("filler");
        let size = self.available().saturating_sub(left);
        std::fs::write(&filler, vec![0u8; size as usize]).unwrap();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The disk under SQLite fills up: writes are answered 507 `storage_full` and leave nothing
/// half-written, reads keep working, and writing works again once there is room.
#[actix_web::test]
async fn a_full_disk_under_sqlite_answers_507_and_reads_go_on() {
    let Some(disk) = SmallDisk::mount(8 * 1024 * 1024) else {
        return;
    };
    let app = spawn_app_with(Options {
        database_url: Some(disk.path().join("hotline.db").display().to_string()),
        ..Options::default()
    })
    .await;
    let (_, token) = app.login(Role::Agent);
    let first = app.ticket(&token, "before the disk filled").await;
    let filler = disk.fill_leaving(48 * 1024);
    let mut full = None;
    let mut registered = 1;
    for i in 0..2_000 {
        let answer = app
            .register(
                &token,
                json!({"type": "help", "title": format!("第{i}件"), "content": "长".repeat(2_000)}),
            )
            .await;
        match answer.status {
            201 => registered += 1,
            _ => {
                full = Some(answer);
                break;
            }
        }
    }
    let full = full.expect("the disk filled up");
    assert_eq!(
        (full.status, full.code()),
        (507, "storage_full"),
        "{}",
        full.text
    );
    assert!(full.header("retry-after").is_some());
    // Reads go on, and what was acknowledged is all there, each with its event.
    let read = app
        .get(
            &format!("/api/v1/tickets/{}", first["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(app.count("tickets"), registered);
    assert_eq!(app.count("ticket_events"), registered);
    let metrics = app
        .send(Method::GET, "/metrics", None, &[], None)
        .await
        .text;
    assert!(!metrics.contains("hotline_failures_total{code=\"storage_full\"} 0"));
    // Room again: writes work.
    std::fs::remove_file(filler).unwrap();
    let after = app
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(after.status, 201, "{}", after.text);
}

/// The SQLite file can be read but not written (a read-only volume): writes are answered 503
/// `storage_read_only`, reads keep working.
#[actix_web::test]
async fn a_read_only_sqlite_file_answers_503_to_writes_and_reads_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hotline.db").display().to_string();
    let writable = spawn_app_with(Options {
        database_url: Some(path.clone()),
        ..Options::default()
    })
    .await;
    let (_, token) = writable.login(Role::Agent);
    let ticket = writable.ticket(&token, "t").await;
    let read_only = spawn_app_with(Options {
        database_url: Some(format!("file:{path}?mode=ro")),
        ..Options::default()
    })
    .await;
    let read = read_only
        .get(
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    let write = read_only
        .register(
            &token,
            json!({"type": "help", "title": "t", "content": "c"}),
        )
        .await;
    assert_eq!(
        (write.status, write.code()),
        (503, "storage_read_only"),
        "{}",
        write.text
    );
    assert!(write.header("retry-after").is_some());
    assert_eq!(writable.count("tickets"), 1);
}

/// The evidence folder fills up: the upload is answered 507, leaves no partial file, and the
/// next one that fits, and every one once there is room, is stored.
#[actix_web::test]
async fn a_full_evidence_folder_answers_507_and_recovers() {
    let Some(disk) = SmallDisk::mount(2 * 1024 * 1024) else {
        return;
    };
    let app = spawn_app_with(Options {
        env: vec![("HOTLINE_STORAGE_DIR", disk.path().display().to_string())],
        ..Options::default()
    })
    .await;
    let (_, token) = app.login(Role::Agent);
    let ticket = app.ticket(&token, "t").await;
    let id = ticket["id"].as_str().unwrap();
    let filler = disk.fill_leaving(200 * 1024);
    let mut big = crate::lifecycle::jpeg();
    big.extend(std::iter::repeat_n(7u8, 400 * 1024));
    let refused = app.upload(&token, id, "现场照片.jpg", &big).await;
    assert_eq!(
        (refused.status, refused.code()),
        (507, "storage_full"),
        "{}",
        refused.text
    );
    assert!(refused.header("retry-after").is_some());
    let leftovers = std::fs::read_dir(disk.path().join("tmp")).unwrap().count();
    assert_eq!(leftovers, 0, "no partial file is left behind");
    assert_eq!(app.count("attachments"), 0);
    let mut small = crate::lifecycle::jpeg();
    small.truncate(83);
    let fits = app.upload(&token, id, "small.jpg", &small).await;
    assert_eq!(fits.status, 201, "{}", fits.text);
    std::fs::remove_file(filler).unwrap();
    let roomy = app.upload(&token, id, "现场照片.jpg", &big).await;
    assert_eq!(roomy.status, 201, "{}", roomy.text);
}

/// `hotline migrate` and the first start create a missing PostgreSQL database when the account
/// may, and otherwise say what to run.
#[test]
fn a_missing_postgres_database_is_created_or_named() {
    let Some(server) = postgres_server() else {
        return;
    };
    let name = format!("hotline_new_{}", uuid::Uuid::now_v7().simple());
    let url = hotline::store::with_database_name(&server, &name);
    let db = hotline::store::Db::open(
        &hotline::store::DatabaseUrl::parse(&url).unwrap(),
        &hotline::store::PoolOptions::default(),
    )
    .expect("the database is created");
    assert!(!db.migrate().unwrap().is_empty());
    drop(db);
    let mut admin = diesel::PgConnection::establish(&server).unwrap();
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();

    let role = format!("hotline_nocreate_{}", uuid::Uuid::now_v7().simple());
    diesel::sql_query(format!("CREATE ROLE \"{role}\" LOGIN NOCREATEDB"))
        .execute(&mut admin)
        .unwrap();
    let as_role = with_user(&url, &role);
    let refused = hotline::store::Db::open(
        &hotline::store::DatabaseUrl::parse(&as_role).unwrap(),
        &hotline::store::PoolOptions::default(),
    )
    .err()
    .expect("refused")
    .to_string();
    diesel::sql_query(format!("DROP ROLE \"{role}\""))
        .execute(&mut admin)
        .unwrap();
    assert!(
        refused.contains(&format!("createdb {name}")) && refused.contains("does not exist"),
        "{refused}"
    );
}

fn with_user(url: &str, user: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority..];
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("{}{user}@{host}", &url[..authority])
}
