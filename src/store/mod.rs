//! Persistence on SQLite (embedded default) and PostgreSQL (production) through one Diesel
//! codebase. Every change is written with its event in one transaction; SQLite writers take the
//! database lock up front (`BEGIN IMMEDIATE`) and queue in-process, which is what keeps
//! `synchronous=FULL` free of lock timeouts under concurrency.
//!
//! Lookups by a unique key use `get_result`, never `first`: `first` binds its `LIMIT` as a
//! parameter, and SQLite then re-prepares the statement on every execution (twice the cost of a
//! primary-key read).

pub mod appeals;
pub mod attachments;
pub mod audit;
pub mod calendar;
pub mod categories;
mod error;
pub mod events;
pub mod figures;
pub mod files;
pub mod history;
pub mod idempotency;
pub mod ladder;
pub mod lifecycle;
pub mod migrations;
pub mod notifications;
pub mod policy;
pub mod reports;
pub mod schema;
pub mod tickets;
mod time;
pub mod units;
pub mod users;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;

pub use error::StoreError;
pub use time::{from_db, to_db};

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

/// Connects to the backend the URL names and reports the backend's own error when it cannot.
#[derive(Debug)]
pub struct DbManager {
    url: DatabaseUrl,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            DatabaseUrl::Sqlite { open, .. } => {
                SqliteConnection::establish(open).map(DbConnection::Sqlite)
            }
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// A connection left inside a transaction (or dropped by the server) is discarded.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Per-connection settings. SQLite's `journal_mode=WAL` is not here: it is set once before the
/// pool opens, because setting it from several new connections at once makes them fail with
/// `database is locked`. PostgreSQL's JIT is off: every query here is index-driven and done in
/// milliseconds, and compiling one (which the planner chooses for a month's report) costs
/// 100–200 ms more than it saves.
#[derive(Debug)]
struct SessionSettings;

impl CustomizeConnection<DbConnection, r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
            ),
            DbConnection::Pg(c) => c.batch_execute("SET jit = off"),
        }
        .map_err(r2d2::Error::QueryError)
    }
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub checkout_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            checkout_timeout: Duration::from_secs(3),
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
}

impl Db {
    /// Opens the pool. PostgreSQL must be reachable now; a SQLite file is created if missing.
    pub fn open(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
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
        let pool = Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(1))
            .connection_timeout(options.checkout_timeout)
            // No `SELECT 1` before every checkout: a connection the server dropped fails its
            // next query, which answers 503 and is discarded; the retry gets a fresh one.
            .test_on_check_out(false)
            .connection_customizer(Box::new(SessionSettings))
            .build(DbManager { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
            writers: Arc::new(Mutex::new(())),
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection from the pool, or `Unavailable` once the checkout timeout has passed.
    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
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
            (DbConnection::Pg(one), DbConnection::Pg(two)) => share_pg_snapshot(one, two)?,
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

/// A read transaction whose snapshot is taken now: in WAL mode it is fixed by the first read.
fn begin_sqlite_snapshot(conn: &mut SqliteConnection) -> Result<(), StoreError> {
    AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN DEFERRED")?;
    conn.batch_execute("SELECT count(*) FROM sqlite_master")?;
    Ok(())
}

diesel::define_sql_function!(fn pg_export_snapshot() -> diesel::sql_types::Text);

/// Both connections in read-only repeatable-read transactions on one snapshot, each with
/// memory enough to group a month of tickets without spilling to disk.
fn share_pg_snapshot(one: &mut PgConnection, two: &mut PgConnection) -> Result<(), StoreError> {
    const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const MEMORY: &str = "SET LOCAL work_mem = '64MB'";
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
    two.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'; {MEMORY}"))?;
    one.batch_execute(MEMORY)?;
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

pub(crate) fn parse_uuid(value: &str) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(value).map_err(|_| StoreError::corrupt(format!("bad id `{value}`")))
}

pub(crate) fn parse_opt_uuid(value: Option<&str>) -> Result<Option<uuid::Uuid>, StoreError> {
    value.map(parse_uuid).transpose()
}

pub(crate) fn parse_text<T>(value: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value.parse().map_err(StoreError::corrupt)
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
