//! Building the application: database, migrations, keys, the HTTP server. `main` and the tests
//! both start the service through [`Application::build`].

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::api::{self, AppState};
use crate::auth::{self, AuthState, TokenKeys, UserGate};
use crate::config::Settings;
use crate::domain::access::Role;
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::directory::Attachment;
use crate::metrics::Metrics;
use crate::store::tickets::Numbering;
use crate::store::users::NewUser;
use crate::store::{self, Db};
use crate::{console, jobs, telemetry};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] store::StoreError),
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// Opens the database and brings its schema up to date.
pub fn open_database(settings: &Settings) -> Result<Db, StartupError> {
    let db = Db::open(&settings.database_url, &settings.pool)?;
    let applied = db.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    index_words(&db)?;
    let Some(replica_url) = &settings.replica_url else {
        return Ok(db);
    };
    let options = store::PoolOptions {
        // A replica that stops answering costs a read this much before the primary takes it.
        checkout_timeout: settings
            .pool
            .checkout_timeout
            .min(std::time::Duration::from_secs(1)),
        ..settings.pool.clone()
    };
    let replica = store::replica::Replica::open(replica_url, &options, settings.replica_max_lag)?;
    tracing::info!(
        replica = %replica_url.redacted(),
        max_lag_ms = settings.replica_max_lag.as_millis() as u64,
        "reports, figures and dashboard counts read from the replica while it keeps up"
    );
    Ok(db.with_replica(replica))
}

/// How many rows one transaction of the start-up's indexing writes.
const INDEXED_PER_TRANSACTION: i64 = 2_000;

/// Indexes the words of the tickets and articles written before the word index existed, as
/// part of bringing the schema up to date: searches are complete from the first request on.
/// Everything written later is indexed in the transaction that writes it.
fn index_words(db: &Db) -> Result<(), StartupError> {
    use store::search::{self, Corpus};
    for corpus in [Corpus::Tickets, Corpus::Articles] {
        if db.read(|c| search::complete(c, corpus))? {
            continue;
        }
        let started = std::time::Instant::now();
        let mut indexed = 0;
        loop {
            let batch = db.write(|c| search::index_missing(c, corpus, INDEXED_PER_TRANSACTION))?;
            indexed += batch;
            if batch == 0 {
                break;
            }
            if indexed % 100_000 < INDEXED_PER_TRANSACTION as usize {
                tracing::info!(?corpus, indexed, "indexing words");
            }
        }
        tracing::info!(
            ?corpus,
            indexed,
            seconds = started.elapsed().as_secs_f64(),
            "indexed the words of rows written before the word index"
        );
    }
    Ok(())
}

/// On a database without any administrator, creates `admin` with a random password that must be
/// changed at first sign-in, and returns that password (to be shown once, never logged).
pub fn bootstrap_admin(db: &Db, clock: &dyn Clock) -> Result<Option<String>, StartupError> {
    let admins = db.read(|c| store::users::count_with_role(c, Role::Admin))?;
    if admins > 0 {
        return Ok(None);
    }
    let password = auth::generate_password(20);
    let hash = auth::hash_password(&password).map_err(|e| StartupError::Config(e.to_string()))?;
    let new = NewUser {
        username: "admin",
        display_name: "Administrator",
        attachment: Attachment {
            role: Role::Admin,
            unit_id: None,
            channel: None,
        },
        password_hash: &hash,
        must_change_password: true,
    };
    let created = db.write(|c| -> Result<bool, store::StoreError> {
        if store::users::count_with_role(c, Role::Admin)? > 0 {
            return Ok(false);
        }
        store::users::insert(c, &new, clock.now())?;
        Ok(true)
    })?;
    Ok(created.then_some(password))
}

/// The key of the callers' phone-number index: its own when configured, or derived from the
/// token secret, so that every instance of a deployment indexes numbers alike.
pub fn phone_index(settings: &Settings) -> Result<crate::domain::caller::PhoneIndex, StartupError> {
    use crate::domain::caller::PhoneIndex;
    if let Some(key) = &settings.phone_key {
        if key.expose().len() < 16 {
            return Err(StartupError::Config(
                "HOTLINE_PHONE_KEY must be at least 16 bytes".into(),
            ));
        }
        return Ok(PhoneIndex::new(key.expose().as_bytes()));
    }
    let secret = auth::resolve_secret(settings.jwt_secret.as_ref(), &settings.database_url)
        .map_err(StartupError::Config)?;
    Ok(PhoneIndex::derived_from(secret.expose().as_bytes()))
}

pub fn token_keys(settings: &Settings) -> Result<TokenKeys, StartupError> {
    let secret = auth::resolve_secret(settings.jwt_secret.as_ref(), &settings.database_url)
        .map_err(StartupError::Config)?;
    TokenKeys::new(&secret).map_err(StartupError::Config)
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    ladder: Option<jobs::ladder::Runner>,
    webhooks: Option<jobs::webhooks::Runner>,
}

impl Application {
    pub fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Arc::new(SystemClock))
    }

    /// Builds the application on an open database (tests keep a handle on it) and a clock.
    pub fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let db = open_database(&settings)?;
        Self::build_on(settings, db, clock)
    }

    pub fn build_on(
        settings: Settings,
        db: Db,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let keys = token_keys(&settings)?;
        // The urge ladder's thread keeps them made while the service runs; an instance without
        // it still makes its months on starting. A failure only costs speed: rows of a month
        // without its partition wait in the DEFAULT one.
        if let Err(error) = db.write(|c| store::partitions::make_ahead(c, clock.now())) {
            tracing::warn!(%error, "cannot make the partitions of months ahead");
        }
        let state = web::Data::new(AppState {
            db,
            auth: AuthState {
                keys,
                gate: UserGate::new(settings.auth_cache_ttl),
                token_ttl: settings.token_ttl,
            },
            metrics: Arc::new(Metrics::default()),
            clock,
            numbering: Numbering {
                timezone: settings.timezone,
                digits: settings.ticket_number_digits,
            },
            phone_index: phone_index(&settings)?,
            body_limit: settings.body_limit,
            files: {
                let files =
                    store::files::FileStore::open(&settings.storage, settings.storage_timeout)?;
                tracing::info!(store = %files.describe(), "evidence files");
                let removed = files.remove_leftovers(std::time::Duration::from_secs(3600));
                if removed > 0 {
                    tracing::info!(removed, "removed partial evidence files left by a crash");
                }
                files
            },
            attachment_max_bytes: settings.attachment_max_bytes,
            hotline_name: settings.hotline_name.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            webhook_targets: settings.webhooks.allowed_targets.clone(),
        });
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let payload = web::PayloadConfig::new(settings.body_limit);
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(payload.clone())
                .wrap(from_fn(telemetry::observe))
                .configure(console::configure)
                .configure(api::open311::configure)
                .configure(api::configure)
        })
        // Requests in flight get this long to finish when the service is told to stop.
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // Blocking work holds a database connection nearly all the time, so more threads than
        // connections would only wait for the pool; queued work waits without a thread.
        let blocking_threads = (settings.pool.max_size as usize).div_ceil(workers).max(2);
        server = server
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads);
        tracing::info!(
            port,
            database = %settings.database_url.redacted(),
            "listening"
        );
        let ladder = match settings.ladder_interval {
            Some(interval) => Some(
                jobs::ladder::Runner::start(
                    state.db.clone(),
                    state.clock.clone(),
                    state.metrics.clone(),
                    state.phone_index.clone(),
                    settings.timezone,
                    interval,
                )
                .map_err(|e| StartupError::Config(format!("cannot start the urge ladder: {e}")))?,
            ),
            None => None,
        };
        let webhooks = jobs::webhooks::Runner::start(
            state.db.clone(),
            state.clock.clone(),
            state.metrics.clone(),
            settings.webhooks.clone(),
        )
        .map_err(|e| StartupError::Config(format!("cannot start the webhook worker: {e}")))?;
        Ok(Self {
            port,
            server: server.run(),
            state,
            ladder,
            webhooks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        if let Some(ladder) = self.ladder {
            ladder.stop();
        }
        if let Some(webhooks) = self.webhooks {
            webhooks.stop();
        }
        result
    }
}
