//! Spawns the real application on a fresh database for each test: a temporary SQLite file by
//! default, a new PostgreSQL database when `TEST_DATABASE_URL=postgres://…` is set. Logs only
//! with `TEST_LOG`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use awc::http::Method;
use diesel::prelude::*;
use hotline::api::AppState;
use hotline::config::Settings;
use hotline::domain::access::Role;
use hotline::domain::clock::{Clock, SystemClock};
use hotline::domain::directory::{Attachment, Unit, UnitDraft, UnitKind, User};
use hotline::domain::ticket::Channel;
use hotline::startup::Application;
use hotline::store::users::NewUser;
use hotline::store::{self, DatabaseUrl, Db, PoolOptions};
use serde_json::{Value, json};
use uuid::Uuid;

mod world;

pub use world::*;

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
pub const PASSWORD: &str = "correct horse battery";

/// Where the test's database lives; dropped with the test.
pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { server_url, name } = self
            && let Ok(mut conn) = diesel::PgConnection::establish(server_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

/// The URL of a fresh, empty database on the backend the suite runs against.
pub fn fresh_database() -> (String, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(server_url) if server_url.starts_with("postgres") => {
            let name = format!("hotline_test_{}", Uuid::now_v7().simple());
            let mut conn = diesel::PgConnection::establish(&server_url)
                .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not reachable: {e}"));
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .expect("create a test database");
            let url = store::with_database_name(&server_url, &name);
            (url, TestDatabase::Postgres { server_url, name })
        }
        Some(other) => panic!("TEST_DATABASE_URL must be a postgres:// URL, got {other}"),
        None => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = dir.path().join("hotline.db").display().to_string();
            (url, TestDatabase::Sqlite(dir))
        }
    }
}

#[derive(Default)]
pub struct Options {
    pub env: Vec<(&'static str, String)>,
    pub clock: Option<Arc<dyn Clock>>,
    /// Another instance on this database instead of a fresh one.
    pub database_url: Option<String>,
}

pub struct TestApp {
    pub address: String,
    pub state: web::Data<AppState>,
    pub client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    pub database_url: String,
    _storage: tempfile::TempDir,
    // Dropped last: the database outlives the server that uses it.
    _database: Option<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A response with its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub bytes: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The problem code of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        hotline::telemetry::init(hotline::config::LogFormat::Pretty);
    }
    let (database_url, database) = match options.database_url {
        Some(url) => (url, None),
        None => {
            let (url, database) = fresh_database();
            (url, Some(database))
        }
    };
    let storage = tempfile::tempdir().expect("a storage directory");
    let mut env: HashMap<&str, String> = HashMap::from([
        ("HOTLINE_STORAGE_DIR", storage.path().display().to_string()),
        ("DATABASE_URL", database_url.clone()),
        ("HOTLINE_BIND", "127.0.0.1:0".to_owned()),
        ("HOTLINE_JWT_SECRET", JWT_SECRET.to_owned()),
        ("HOTLINE_WORKERS", "2".to_owned()),
        ("HOTLINE_DB_POOL_SIZE", "4".to_owned()),
        // Tests run the ladder's passes themselves, at the times they choose.
        ("HOTLINE_LADDER_INTERVAL_SECONDS", "0".to_owned()),
        // And the webhook worker's looks; the receivers they start listen on this host.
        ("HOTLINE_WEBHOOK_INTERVAL_MS", "0".to_owned()),
        ("HOTLINE_WEBHOOK_ALLOWED_TARGETS", "127.0.0.1".to_owned()),
    ]);
    for (key, value) in options.env {
        env.insert(key, value);
    }
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("test settings");
    let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let app = Application::build_with_clock(settings, clock).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let handle = app.server_handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        state,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish(),
        handle,
        database_url,
        _storage: storage,
        _database: database,
    }
}

/// A pool on a database of the suite's backend, without a server: for storage-level tests.
pub fn open_db(url: &str) -> Db {
    Db::open(&DatabaseUrl::parse(url).unwrap(), &PoolOptions::default()).unwrap()
}

/// Reads a whole awc response into an [`Answer`].
macro_rules! read_answer {
    ($response:expr) => {{
        let mut response = $response;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let bytes = response
            .body()
            .limit(50 * 1024 * 1024)
            .await
            .expect("a readable body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            bytes: bytes.to_vec(),
            headers,
            body,
            text,
        }
    }};
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let response = match body {
            Some(body) => request.send_json(body).await,
            None => request.send().await,
        };
        read_answer!(response.expect("the request is answered"))
    }

    /// Sends raw bytes with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(path))
            .insert_header(("content-type", content_type));
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        read_answer!(
            request
                .send_body(body)
                .await
                .expect("the request is answered")
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), &[], None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(token), &[], Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(Method::PATCH, path, Some(token), &[], Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), &[], None)
            .await
    }

    /// The directory this instance keeps evidence files in.
    pub fn storage_dir(&self) -> &std::path::Path {
        self._storage.path()
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.now()
    }

    pub fn add_unit(&self, code: &str, kind: UnitKind) -> Unit {
        let draft = UnitDraft {
            code: code.into(),
            name: format!("单位{code}"),
            kind,
            parent_id: None,
            sort_order: 0,
        };
        self.db()
            .write(|c| store::units::insert(c, &draft, self.now()))
            .expect("insert a unit")
    }

    /// An account with [`PASSWORD`]; unit handlers get a unit of their own, integrations the
    /// upper-platform channel.
    pub fn add_user(&self, username: &str, role: Role) -> User {
        let unit_id = (role == Role::UnitHandler).then(|| {
            self.add_unit(&format!("u-{username}"), UnitKind::Department)
                .id
        });
        self.add_user_in(username, role, unit_id)
    }

    pub fn add_user_in(&self, username: &str, role: Role, unit_id: Option<Uuid>) -> User {
        let hash = hotline::auth::hash_password(PASSWORD).unwrap();
        let new = NewUser {
            username,
            display_name: username,
            attachment: Attachment {
                role,
                unit_id,
                channel: (role == Role::Integration).then_some(Channel::UpperPlatform),
            },
            password_hash: &hash,
            must_change_password: false,
        };
        self.db()
            .write(|c| store::users::insert(c, &new, self.now()))
            .expect("insert a user")
    }

    pub fn token(&self, user: &User) -> String {
        self.state
            .auth
            .keys
            .issue(user, self.now(), Duration::from_secs(30 * 86_400))
            .unwrap()
    }

    /// A new account of `role` and a token for it.
    pub fn login(&self, role: Role) -> (User, String) {
        let user = self.add_user(
            &format!(
                "{}-{}",
                role.as_str().replace('_', "-"),
                &Uuid::now_v7().simple().to_string()[24..]
            ),
            role,
        );
        let token = self.token(&user);
        (user, token)
    }

    pub async fn register(&self, token: &str, body: Value) -> Answer {
        self.post("/api/v1/tickets", token, &body).await
    }

    /// Registers a ticket that must succeed; returns it.
    pub async fn ticket(&self, token: &str, title: &str) -> Value {
        let answer = self
            .register(
                token,
                json!({"type": "complaint", "title": title, "content": "内容"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body
    }

    pub fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        self.db()
            .read(|c| {
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                    .get_result::<Count>(c)
                    .map_err(store::StoreError::from)
            })
            .expect("count rows")
            .n
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl TestApp {
    /// Dispatches a ticket to a unit as its primary unit, which must succeed.
    pub async fn dispatch(&self, token: &str, ticket_id: &str, unit_id: Uuid) -> Value {
        let answer = self
            .post(
                &format!("/api/v1/tickets/{ticket_id}/dispatch"),
                token,
                &json!({"primary_unit_id": unit_id}),
            )
            .await;
        assert_eq!(answer.status, 200, "dispatch: {}", answer.text);
        answer.body
    }
}

impl TestApp {
    /// Uploads one file as `multipart/form-data`, the way a browser form does.
    pub async fn upload(
        &self,
        token: &str,
        ticket_id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Answer {
        let boundary = "hotline-test-boundary-7d1f";
        let mut body = Vec::new();
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.send_raw(
            Method::POST,
            &format!("/api/v1/tickets/{ticket_id}/attachments"),
            Some(token),
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
    }

    /// Puts days into the working-day calendar straight into the database.
    pub fn set_calendar(&self, days: &[(&str, &str)]) {
        use hotline::store::schema::calendar_days;
        self.db()
            .write(|c| -> Result<(), store::StoreError> {
                for (day, kind) in days {
                    diesel::insert_into(calendar_days::table)
                        .values((calendar_days::day.eq(*day), calendar_days::kind.eq(*kind)))
                        .execute(c)?;
                }
                Ok(())
            })
            .expect("calendar days");
    }
}

impl TestApp {
    /// One pass of the urge ladder at the application's clock.
    pub fn tick(&self) -> hotline::jobs::ladder::PassReport {
        let report =
            hotline::jobs::ladder::run_pass(self.db(), chrono_tz::Asia::Shanghai, self.now())
                .expect("a ladder pass");
        hotline::jobs::ladder::record(&self.state.metrics, &report);
        report
    }
}
