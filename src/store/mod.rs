//! Persistence on SQLite (embedded default) and PostgreSQL (production) through one Diesel
//! codebase. Every change is written with its event in one transaction; SQLite writers take the
//! database lock up front (`BEGIN IMMEDIATE`) and queue in-process, which is what keeps
//! `synchronous=FULL` free of lock timeouts under concurrency, and the API's writes are
//! committed in groups from that queue, a disk flush per group (`group_commit`).
//!
//! Lookups by a unique key use `get_result`, never `first`: `first` binds its `LIMIT` as a
//! parameter, and SQLite then re-prepares the statement on every execution (twice the cost of a
//! primary-key read).

pub mod appeals;
pub mod archive;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod calendar;
pub mod categories;
pub mod channels;
pub mod counts;
mod error;
pub mod events;
pub mod figures;
pub mod files;
mod group_commit;
mod health;
pub mod history;
pub mod idempotency;
pub mod knowledge;
pub mod ladder;
pub mod lifecycle;
pub mod migrations;
pub mod notes;
pub mod notifications;
pub mod nuisance;
pub mod open311;
pub mod partitions;
pub mod policy;
pub mod queues;
pub mod replica;
pub mod reports;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod sql;
pub mod throttle;
pub mod tickets;
pub mod units;
pub mod users;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;

pub use error::{Outage, StoreError, outage};
pub use group_commit::{GroupCommits, Leader, Queued};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs the same Diesel expression against whichever backend `conn` is, for the few query forms
/// that do not compile through the connection enum (`ON CONFLICT`, `FOR UPDATE`, batch inserts).
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Pg($c) => $body,
            $crate::store::DbConnection::Sqlite($c) => $body,
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database address, checked before anything connects: a typo must be an error, never a
/// SQLite file named after the typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    /// What SQLite opens (a path or a `file:` URI) and the file on disk.
    Sqlite {
        open: String,
        path: PathBuf,
    },
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::Config("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        if url.starts_with("postgres") {
            return Err(StoreError::Config(
                "the database URL looks like PostgreSQL but is malformed: write postgres://user@host:port/database"
                    .into(),
            ));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Self::sqlite(path);
        }
        if let Some(uri) = url.strip_prefix("file:") {
            let path = uri.split('?').next().unwrap_or_default();
            return Ok(Self::Sqlite {
                open: url.to_owned(),
                path: PathBuf::from(path),
            });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(StoreError::Config(format!(
                "unsupported database scheme `{scheme}`: use postgres://… or a SQLite file path"
            )));
        }
        Self::sqlite(url)
    }

    fn sqlite(path: &str) -> Result<Self, StoreError> {
        if path.is_empty() || path == ":memory:" {
            return Err(StoreError::Config(
                "SQLite needs a file: an in-memory database would differ per pooled connection"
                    .into(),
            ));
        }
        Ok(Self::Sqlite {
            open: path.to_owned(),
            path: PathBuf::from(path),
        })
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The URL for logs: PostgreSQL's without its password, SQLite's file.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(url) => redact_url(url),
            Self::Sqlite { path, .. } => path.display().to_string(),
        }
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The libpq settings that bound every wait on the network, unless the URL sets its own:
/// connecting gives up after `connect_timeout`; a peer that stops answering is noticed by TCP
/// keepalives on an idle connection, and by `tcp_user_timeout` while data we sent goes
/// unacknowledged, so that a partition ends the connection instead of blocking a thread for
/// as long as it lasts.
fn with_network_bounds(url: &str, connect_timeout: Duration) -> String {
    let connect_seconds = connect_timeout.as_secs().max(2).to_string();
    let bounds = [
        ("connect_timeout", connect_seconds.as_str()),
        ("keepalives", "1"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "3"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ];
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let given: Vec<&str> = query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .collect();
    let mut bounded = url.to_owned();
    for (key, value) in bounds {
        if !given.contains(&key) {
            bounded.push(if bounded.contains('?') { '&' } else { '?' });
            bounded.push_str(&format!("{key}={value}"));
        }
    }
    bounded
}

/// Connects to the backend the URL names and reports the backend's own error when it cannot.
#[derive(Debug)]
pub struct DbManager {
    url: DatabaseUrl,
    /// The PostgreSQL URL with the network bounds added.
    pg_url: Option<String>,
    losses: health::LossCounter,
}

impl DbManager {
    fn new(url: &DatabaseUrl, options: &PoolOptions) -> Self {
        Self {
            pg_url: match url {
                DatabaseUrl::Postgres(url) => {
                    Some(with_network_bounds(url, options.checkout_timeout))
                }
                DatabaseUrl::Sqlite { .. } => None,
            },
            url: url.clone(),
            losses: health::LossCounter::default(),
        }
    }

    /// A new connection outside the pool, watched like the pool's own.
    fn establish(&self) -> Result<DbConnection, diesel::ConnectionError> {
        let mut conn: DbConnection = match (&self.url, &self.pg_url) {
            (DatabaseUrl::Postgres(_), Some(url)) => PgConnection::establish(url)?.into(),
            (DatabaseUrl::Postgres(url), None) => PgConnection::establish(url)?.into(),
            (DatabaseUrl::Sqlite { open, .. }, _) => SqliteConnection::establish(open)?.into(),
        };
        conn.set_instrumentation(health::Health::new(self.losses.clone()));
        Ok(conn)
    }
}

impl From<PgConnection> for DbConnection {
    fn from(conn: PgConnection) -> Self {
        DbConnection::Pg(conn)
    }
}

impl From<SqliteConnection> for DbConnection {
    fn from(conn: SqliteConnection) -> Self {
        DbConnection::Sqlite(conn)
    }
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction, or whose server went away, is discarded.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking()
            || diesel::r2d2::R2D2Connection::is_broken(conn)
            || health::is_lost(conn)
    }
}

fn pool_builder(options: &PoolOptions, min_idle: u32) -> r2d2::Builder<DbManager> {
    Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(min_idle))
        .connection_timeout(options.checkout_timeout)
        // No `SELECT 1` before every checkout: a connection the server dropped fails its
        // next query, which answers 503 and is discarded; the retry gets a fresh one.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout: options.statement_timeout,
        }))
}

/// Per-connection settings. SQLite's `journal_mode=WAL` is not here: it is set once before the
/// pool opens, because setting it from several new connections at once makes them fail with
/// `database is locked`. PostgreSQL's JIT is off: every query here is index-driven and done in
/// milliseconds, and compiling one (which the planner chooses for a month's report) costs
/// 100–200 ms more than it saves. PostgreSQL ends any statement that runs past the statement
/// timeout, so that a runaway query gives its connection back.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout: Duration,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
            ),
            DbConnection::Pg(c) => c.batch_execute(&format!(
                "SET jit = off; SET statement_timeout = {}",
                self.statement_timeout.as_millis()
            )),
        }
        .map_err(r2d2::Error::QueryError)
    }
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub checkout_timeout: Duration,
    /// How long one statement may run; also the bound of a request's whole database work.
    pub statement_timeout: Duration,
    /// The same for the long reads and writes of reports and imports.
    pub report_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            checkout_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(5),
            report_timeout: Duration::from_secs(120),
        }
    }
}

pub type Conn = PooledConnection<DbManager>;

/// The database: a pool of connections and, on SQLite, the queue writers wait in.
#[derive(Clone)]
pub struct Db {
    pool: Pool<DbManager>,
    url: DatabaseUrl,
    writers: Arc<Mutex<()>>,
    queue: group_commit::Queue,
    options: PoolOptions,
    /// Where reads that may be a little stale go when it is usable.
    replica: Option<Arc<replica::Replica>>,
}

impl Db {
    /// Opens the pool. PostgreSQL must be reachable now; a SQLite file is created if missing.
    pub fn open(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        if let DatabaseUrl::Postgres(address) = url {
            ensure_pg_database(address, options)?;
        }
        if let DatabaseUrl::Sqlite { open, path } = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let mut first = SqliteConnection::establish(open)
                .map_err(|e| StoreError::Config(format!("cannot open {open}: {e}")))?;
            first
                .batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
                .map_err(StoreError::from)?;
        }
        let pool = pool_builder(options, 1)
            .build(DbManager::new(url, options))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self::on_pool(pool, url, options))
    }

    /// A pool that connects when first used, never before: a server that is down now only
    /// makes checkouts fail (within the checkout timeout) until it is back.
    fn open_lazily(url: &DatabaseUrl, options: &PoolOptions) -> Self {
        let pool = pool_builder(options, 0).build_unchecked(DbManager::new(url, options));
        Self::on_pool(pool, url, options)
    }

    fn on_pool(pool: Pool<DbManager>, url: &DatabaseUrl, options: &PoolOptions) -> Self {
        Self {
            pool,
            url: url.clone(),
            writers: Arc::new(Mutex::new(())),
            queue: group_commit::Queue::default(),
            options: options.clone(),
            replica: None,
        }
    }

    /// Sends the reads that may be a little stale to `replica` while it is usable.
    pub fn with_replica(mut self, replica: replica::Replica) -> Self {
        self.replica = Some(Arc::new(replica));
        self
    }

    pub fn options(&self) -> &PoolOptions {
        &self.options
    }

    /// Applies pending migrations on a connection of their own, without the statement timeout
    /// that bounds requests: building an index over a large table may take minutes.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        if let DbConnection::Pg(c) = &mut *conn {
            c.batch_execute("SET statement_timeout = 0")?;
        }
        let applied = migrations::run(&mut conn);
        if let DbConnection::Pg(c) = &mut *conn {
            c.batch_execute(&format!(
                "SET statement_timeout = {}",
                self.options.statement_timeout.as_millis()
            ))?;
        }
        applied
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection from the pool, or `Unavailable` once the checkout timeout has passed.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.conn_within(self.options.checkout_timeout)
    }

    /// A connection from the pool within `wait`. After a connection was found lost, the others
    /// are each checked once before they are handed out, and the dead ones dropped, so that the
    /// request after a database restart already gets a live connection.
    pub fn conn_within(&self, wait: Duration) -> Result<Conn, StoreError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let mut conn = self
                .pool
                .get_timeout(left)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            if !health::needs_check(&mut conn) || conn.batch_execute("SELECT 1").is_ok() {
                health::checked(&mut conn);
                return Ok(conn);
            }
            // Dropped here; the pool sees it is lost and discards it.
        }
    }

    /// Connections open and idle, for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    pub fn max_connections(&self) -> u32 {
        self.pool.max_size()
    }

    /// Runs `f` on a pooled connection outside any explicit transaction.
    pub fn read<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Runs `first` and `second` at the same time, on two connections that see one and the same
    /// committed state: a long read (a month's bulletin) done by two cores without the halves
    /// disagreeing about a ticket that changed in between.
    ///
    /// On PostgreSQL both run in read-only repeatable-read transactions, the second on the
    /// snapshot the first exported, with room to aggregate in memory. On SQLite both read
    /// transactions begin while this process's writers are held back, so no write commits
    /// between their snapshots; writers wait only for that.
    pub fn read_consistent<A, B, E>(
        &self,
        first: impl FnOnce(&mut DbConnection) -> Result<A, E> + Send,
        second: impl FnOnce(&mut DbConnection) -> Result<B, E> + Send,
    ) -> Result<(A, B), E>
    where
        A: Send,
        B: Send,
        E: Send + From<StoreError>,
    {
        let mut one = self.conn()?;
        let mut two = self.conn()?;
        match (&mut *one, &mut *two) {
            (DbConnection::Sqlite(one), DbConnection::Sqlite(two)) => {
                let _queue = self.writers.lock().unwrap_or_else(|e| e.into_inner());
                begin_sqlite_snapshot(one)?;
                begin_sqlite_snapshot(two)?;
            }
            (DbConnection::Pg(one), DbConnection::Pg(two)) => {
                share_pg_snapshot(one, two, self.options.report_timeout)?
            }
            _ => unreachable!("one pool connects to one backend"),
        }
        let (a, b) = std::thread::scope(|scope| {
            let other = scope.spawn(|| second(&mut two));
            let a = first(&mut one);
            let b = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (a, b)
        });
        for conn in [&mut one, &mut two] {
            // Nothing was written; a connection that cannot end its transaction is discarded
            // by the pool as broken.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
        }
        Ok((a?, b?))
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`, rolled back otherwise.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = self.conn()?;
        match self.backend() {
            Backend::Sqlite => {
                let _queue = self.writers.lock().unwrap_or_else(|e| e.into_inner());
                write_transaction(&mut conn, f)
            }
            Backend::Postgres => write_transaction(&mut conn, f),
        }
    }
}

/// Connects once before the pool is built, so that an unreachable server is reported with its
/// own words at once; a database that does not exist yet is created when the account may, and
/// otherwise the error says what to run.
fn ensure_pg_database(address: &str, options: &PoolOptions) -> Result<(), StoreError> {
    let bounded = with_network_bounds(address, options.checkout_timeout);
    let error = match PgConnection::establish(&bounded) {
        Ok(_) => return Ok(()),
        Err(error) => error.to_string(),
    };
    let Some(name) = missing_database(&error) else {
        return Err(StoreError::Unavailable(format!(
            "cannot connect to {}: {}",
            redact_url(address),
            error.trim()
        )));
    };
    let maintenance = with_database_name(&bounded, "postgres");
    let created = PgConnection::establish(&maintenance)
        .map_err(|e| e.to_string())
        .and_then(|mut c| {
            c.batch_execute(&format!(
                "CREATE DATABASE \"{}\"",
                name.replace('"', "\"\"")
            ))
            .map_err(|e| e.to_string())
        });
    match created {
        Ok(()) => {
            tracing::info!(database = %name, "created the database");
            Ok(())
        }
        // Another instance starting at the same moment created it first.
        Err(e) if e.contains("already exists") => Ok(()),
        Err(e) => Err(StoreError::Config(format!(
            "the database `{name}` does not exist on the server of {} and could not be created ({e}); \
             create it with `createdb {name}` or `CREATE DATABASE \"{name}\";` as a user who may, then start again",
            redact_url(address)
        ))),
    }
}

/// The name in PostgreSQL's `database "x" does not exist`.
fn missing_database(message: &str) -> Option<String> {
    let start = message.find("database \"")? + "database \"".len();
    let rest = &message[start..];
    let end = rest.find("\" does not exist")?;
    Some(rest[..end].to_owned())
}

/// `postgres://u@h:5432/hotline?x=y` with another database name.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Inside a transaction, lets its statements run as long as a report or an import needs.
/// SQLite has no statement timeout.
pub fn allow_long_statements(conn: &mut DbConnection, timeout: Duration) -> Result<(), StoreError> {
    if let DbConnection::Pg(c) = conn {
        c.batch_execute(&format!(
            "SET LOCAL statement_timeout = {}",
            timeout.as_millis()
        ))?;
    }
    Ok(())
}

/// A read transaction whose snapshot is taken now: in WAL mode it is fixed by the first read.
fn begin_sqlite_snapshot(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN DEFERRED")?;
    conn.batch_execute("SELECT count(*) FROM sqlite_master")?;
    Ok(())
}

diesel::define_sql_function!(fn pg_export_snapshot() -> diesel::sql_types::Text);

/// Both connections in read-only repeatable-read transactions on one snapshot, each with
/// memory enough to group a month of tickets without spilling to disk.
fn share_pg_snapshot(
    one: &mut PgConnection,
    two: &mut PgConnection,
    report_timeout: Duration,
) -> Result<(), StoreError> {
    const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    let memory = format!(
        "SET LOCAL work_mem = '64MB'; SET LOCAL statement_timeout = {}",
        report_timeout.as_millis()
    );
    AnsiTransactionManager::begin_transaction_sql(one, BEGIN)?;
    let snapshot: String = diesel::select(pg_export_snapshot()).get_result(one)?;
    // `SET TRANSACTION SNAPSHOT` takes no parameters; the identifier comes from the server and
    // is checked to be what the server makes (hex digits and dashes) before it is quoted.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(StoreError::corrupt(format!(
            "unexpected snapshot identifier `{snapshot}`"
        )));
    }
    AnsiTransactionManager::begin_transaction_sql(two, BEGIN)?;
    two.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'; {memory}"))?;
    one.batch_execute(&memory)?;
    Ok(())
}

/// One write transaction, `BEGIN IMMEDIATE` on SQLite so that a transaction that reads before
/// it writes cannot fail halfway on a lock upgrade, plain `BEGIN` on PostgreSQL.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(error) => {
                    match <DbConnection as Connection>::TransactionManager::rollback_transaction(
                        conn,
                    ) {
                        Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                        Err(rollback) => Err(rollback.into()),
                    }
                }
            }
        }
        DbConnection::Pg(_) => conn.transaction(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/hotline.db").unwrap(),
            DatabaseUrl::Sqlite {
                open: "data/hotline.db".into(),
                path: "data/hotline.db".into()
            }
        );
        assert_eq!(
            DatabaseUrl::parse("hotline.db").unwrap().backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("file:x.db?mode=rwc").unwrap(),
            DatabaseUrl::Sqlite {
                open: "file:x.db?mode=rwc".into(),
                path: "x.db".into()
            }
        );
    }

    #[test]
    fn typos_are_errors_not_sqlite_files() {
        assert!(DatabaseUrl::parse("postgres:nohost").is_err());
        assert!(DatabaseUrl::parse("postgress://h/db").is_err());
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
    }

    #[test]
    fn network_bounds_are_added_unless_given() {
        assert_eq!(
            with_network_bounds("postgres://u@h/db", Duration::from_secs(3)),
            "postgres://u@h/db?connect_timeout=3&keepalives=1&keepalives_idle=10\
             &keepalives_interval=3&keepalives_count=3&tcp_user_timeout=10000"
        );
        let given = with_network_bounds(
            "postgres://u@h/db?sslmode=disable&connect_timeout=9&keepalives=0",
            Duration::from_millis(200),
        );
        assert!(given.starts_with(
            "postgres://u@h/db?sslmode=disable&connect_timeout=9&keepalives=0&keepalives_idle=10"
        ));
        assert_eq!(given.matches("connect_timeout").count(), 1);
    }

    #[test]
    fn a_missing_database_is_recognised_and_named() {
        assert_eq!(
            missing_database(
                "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"hotline\" does not exist\n"
            ),
            Some("hotline".into())
        );
        assert_eq!(
            missing_database("FATAL:  password authentication failed"),
            None
        );
        assert_eq!(
            with_database_name(
                "postgres://u:p@h:5432/hotline?connect_timeout=3",
                "postgres"
            ),
            "postgres://u:p@h:5432/postgres?connect_timeout=3"
        );
        assert_eq!(
            with_database_name("postgres://h", "postgres"),
            "postgres://h/postgres"
        );
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/hotline"),
            "postgres://app:***@db:5432/hotline"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        let malformed = DatabaseUrl::parse("postgres:app:s3cret@db").unwrap_err();
        assert!(!malformed.to_string().contains("s3cret"));
    }
}

/// Escapes `%`, `_` and `\` so that user text matches literally inside a `LIKE … ESCAPE '\'`
/// pattern, and lower-cases it to pair with `lower(column)` (PostgreSQL's `LIKE` is
/// case-sensitive, SQLite's is not).
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
