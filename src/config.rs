//! Settings from the environment, typed and defaulted; the README lists every variable.

use std::fmt;
use std::time::Duration;

use chrono_tz::Tz;

use crate::store::files::{BucketSettings, StorageLocation};
use crate::store::{Backend, DatabaseUrl, PoolOptions};

/// A value that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    /// A PostgreSQL standby for the reads that may be a little stale.
    pub replica_url: Option<DatabaseUrl>,
    /// How far behind the primary the standby may be and still serve them.
    pub replica_max_lag: Duration,
    pub bind: String,
    pub jwt_secret: Option<Secret>,
    /// The key of the callers' phone-number index; derived from the token secret when unset.
    pub phone_key: Option<Secret>,
    pub token_ttl: Duration,
    pub timezone: Tz,
    pub pool: PoolOptions,
    pub body_limit: usize,
    pub log_format: LogFormat,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    pub ticket_number_digits: usize,
    /// How long a signed-in user's role and status are trusted before they are read again.
    pub auth_cache_ttl: Duration,
    /// Where evidence files are kept (shared by every instance).
    pub storage: StorageLocation,
    /// How long one evidence-store operation may take, retries included.
    pub storage_timeout: Duration,
    pub attachment_max_bytes: usize,
    /// How often the urge ladder runs inside the server; `None` when it does not.
    pub ladder_interval: Option<Duration>,
    /// The hotline's name as its bulletins print it.
    pub hotline_name: String,
    /// Reverse proxies whose `X-Forwarded-For` tells the client's address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub webhooks: WebhookSettings,
    /// How many months ticket events, the audit log and sent webhooks are kept before
    /// `hotline archive` may move them out of the database.
    pub keep_months: u32,
}

/// How the server sends webhooks.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// How often the worker looks for events to send; `None`: this instance sends none.
    pub interval: Option<Duration>,
    /// Addresses on loopback, link-local or private networks that deliveries may reach all the
    /// same (a receiver on the hotline's own network).
    pub allowed_targets: Vec<crate::domain::webhook::AddressRange>,
    pub connect_timeout: Duration,
    /// For a whole attempt: connecting, sending, and the receiver's answer.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// `HOTLINE_STORAGE_URL=s3://bucket[/prefix]` puts evidence in a bucket; otherwise it goes to
/// `HOTLINE_STORAGE_DIR`.
fn storage_location(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<StorageLocation, ConfigError> {
    let Some(url) = lookup("HOTLINE_STORAGE_URL") else {
        return Ok(StorageLocation::Directory(
            lookup("HOTLINE_STORAGE_DIR")
                .unwrap_or_else(|| "storage".to_owned())
                .into(),
        ));
    };
    let (bucket, prefix) =
        BucketSettings::parse_url(url.trim()).map_err(|e| invalid("HOTLINE_STORAGE_URL", e))?;
    let credentials = match (
        lookup("HOTLINE_S3_ACCESS_KEY_ID"),
        lookup("HOTLINE_S3_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Some((id.trim().to_owned(), secret.trim().to_owned())),
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                "HOTLINE_S3_SECRET_ACCESS_KEY",
                "is required with HOTLINE_S3_ACCESS_KEY_ID",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "HOTLINE_S3_ACCESS_KEY_ID",
                "is required with HOTLINE_S3_SECRET_ACCESS_KEY",
            ));
        }
    };
    let endpoint = match lookup("HOTLINE_S3_ENDPOINT") {
        None => None,
        Some(endpoint) => {
            let endpoint = endpoint.trim().trim_end_matches('/').to_owned();
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(invalid(
                    "HOTLINE_S3_ENDPOINT",
                    format!("`{endpoint}` is not an http:// or https:// address"),
                ));
            }
            Some(endpoint)
        }
    };
    Ok(StorageLocation::Bucket(BucketSettings {
        bucket,
        prefix,
        endpoint,
        region: lookup("HOTLINE_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
        credentials,
    }))
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://hotline.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_HOTLINE_NAME: &str = "12345政务服务便民热线";

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so that tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let number = |variable: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(variable) {
                None => Ok(default),
                Some(text) => text
                    .trim()
                    .parse()
                    .map_err(|_| invalid(variable, format!("`{text}` is not a whole number"))),
            }
        };
        let milliseconds =
            |variable: &'static str, default: u64| -> Result<Duration, ConfigError> {
                match number(variable, default)? {
                    ms @ 100..=86_400_000 => Ok(Duration::from_millis(ms)),
                    _ => Err(invalid(
                        variable,
                        "must be between 100 and 86400000 milliseconds",
                    )),
                }
            };
        let database_url = DatabaseUrl::parse(
            &lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        )
        .map_err(|e| invalid("DATABASE_URL", e.to_string()))?;
        let replica_url = match lookup("DATABASE_REPLICA_URL") {
            None => None,
            Some(url) => {
                let url = DatabaseUrl::parse(&url)
                    .map_err(|e| invalid("DATABASE_REPLICA_URL", e.to_string()))?;
                if url.backend() != Backend::Postgres || database_url.backend() != Backend::Postgres
                {
                    return Err(invalid(
                        "DATABASE_REPLICA_URL",
                        "a read replica is a PostgreSQL standby of a PostgreSQL DATABASE_URL",
                    ));
                }
                Some(url)
            }
        };
        let timezone: Tz = match lookup("HOTLINE_TIMEZONE") {
            None => chrono_tz::Asia::Shanghai,
            Some(name) => name
                .trim()
                .parse()
                .map_err(|_| invalid("HOTLINE_TIMEZONE", format!("unknown time zone `{name}`")))?,
        };
        let default_pool = match database_url.backend() {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool_size = number("HOTLINE_DB_POOL_SIZE", default_pool)?;
        if pool_size == 0 || pool_size > 1_000 {
            return Err(invalid(
                "HOTLINE_DB_POOL_SIZE",
                "must be between 1 and 1000",
            ));
        }
        let log_format = match lookup("HOTLINE_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "HOTLINE_LOG_FORMAT",
                    format!("`{other}` is neither `pretty` nor `json`"),
                ));
            }
        };
        let workers = match number("HOTLINE_WORKERS", 0)? {
            0 => None,
            n => Some(n as usize),
        };
        let digits = number("HOTLINE_TICKET_NUMBER_DIGITS", 4)?;
        if !(3..=8).contains(&digits) {
            return Err(invalid(
                "HOTLINE_TICKET_NUMBER_DIGITS",
                "must be between 3 and 8",
            ));
        }
        let token_ttl = number("HOTLINE_TOKEN_TTL_SECONDS", 3_600)?;
        if !(60..=86_400).contains(&token_ttl) {
            return Err(invalid(
                "HOTLINE_TOKEN_TTL_SECONDS",
                "must be between 60 and 86400 (integrations get long-lived tokens from `hotline mint-token`)",
            ));
        }
        Ok(Self {
            database_url,
            bind: lookup("HOTLINE_BIND").unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            jwt_secret: lookup("HOTLINE_JWT_SECRET").map(Secret::new),
            phone_key: lookup("HOTLINE_PHONE_KEY").map(Secret::new),
            token_ttl: Duration::from_secs(token_ttl),
            timezone,
            pool: PoolOptions {
                max_size: pool_size as u32,
                checkout_timeout: Duration::from_millis(number("HOTLINE_DB_TIMEOUT_MS", 3_000)?),
                statement_timeout: milliseconds("HOTLINE_DB_STATEMENT_TIMEOUT_MS", 5_000)?,
                report_timeout: milliseconds("HOTLINE_DB_REPORT_TIMEOUT_MS", 120_000)?,
            },
            body_limit: number("HOTLINE_BODY_LIMIT_BYTES", 256 * 1024)? as usize,
            log_format,
            workers,
            ticket_number_digits: digits as usize,
            auth_cache_ttl: Duration::from_millis(number("HOTLINE_AUTH_CACHE_MS", 2_000)?),
            replica_url,
            replica_max_lag: milliseconds("HOTLINE_REPLICA_MAX_LAG_MS", 10_000)?,
            storage: storage_location(&lookup)?,
            storage_timeout: milliseconds("HOTLINE_STORAGE_TIMEOUT_MS", 10_000)?,
            attachment_max_bytes: number("HOTLINE_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)?
                as usize,
            ladder_interval: match number("HOTLINE_LADDER_INTERVAL_SECONDS", 60)? {
                0 => None,
                seconds => Some(Duration::from_secs(seconds)),
            },
            trusted_proxies: match lookup("HOTLINE_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse().map_err(|_| {
                            invalid(
                                "HOTLINE_TRUSTED_PROXIES",
                                format!("`{a}` is not an IP address"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            keep_months: match number("HOTLINE_KEEP_MONTHS", 120)? {
                months @ 1..=1_200 => months as u32,
                _ => {
                    return Err(invalid(
                        "HOTLINE_KEEP_MONTHS",
                        "must be between 1 and 1200 months",
                    ));
                }
            },
            webhooks: WebhookSettings {
                interval: match number("HOTLINE_WEBHOOK_INTERVAL_MS", 200)? {
                    0 => None,
                    ms @ 10..=60_000 => Some(Duration::from_millis(ms)),
                    _ => {
                        return Err(invalid(
                            "HOTLINE_WEBHOOK_INTERVAL_MS",
                            "must be 0 (send no webhooks) or between 10 and 60000 milliseconds",
                        ));
                    }
                },
                allowed_targets: lookup("HOTLINE_WEBHOOK_ALLOWED_TARGETS")
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        crate::domain::webhook::AddressRange::parse(a)
                            .map_err(|m| invalid("HOTLINE_WEBHOOK_ALLOWED_TARGETS", m))
                    })
                    .collect::<Result<_, _>>()?,
                connect_timeout: milliseconds("HOTLINE_WEBHOOK_CONNECT_TIMEOUT_MS", 5_000)?,
                timeout: milliseconds("HOTLINE_WEBHOOK_TIMEOUT_MS", 15_000)?,
            },
            hotline_name: match lookup("HOTLINE_NAME") {
                Some(name) if name.trim().chars().count() > 60 => {
                    return Err(invalid("HOTLINE_NAME", "must be at most 60 characters"));
                }
                Some(name) => name.trim().to_owned(),
                None => DEFAULT_HOTLINE_NAME.to_owned(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_give_an_embedded_service_on_localhost() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url.backend(), Backend::Sqlite);
        assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(s.pool.max_size, 8);
        assert_eq!(s.ticket_number_digits, 4);
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.ladder_interval, Some(Duration::from_secs(60)));
        assert_eq!(s.webhooks.interval, Some(Duration::from_millis(200)));
        assert!(s.webhooks.allowed_targets.is_empty());
        assert_eq!(s.hotline_name, "12345政务服务便民热线");
        assert_eq!(s.pool.statement_timeout, Duration::from_secs(5));
        assert_eq!(s.pool.report_timeout, Duration::from_secs(120));
    }

    #[test]
    fn timeouts_are_bounded() {
        let s = settings(&[("HOTLINE_DB_STATEMENT_TIMEOUT_MS", "1500")]).unwrap();
        assert_eq!(s.pool.statement_timeout, Duration::from_millis(1500));
        assert_eq!(
            settings(&[("HOTLINE_DB_STATEMENT_TIMEOUT_MS", "0")])
                .unwrap_err()
                .variable,
            "HOTLINE_DB_STATEMENT_TIMEOUT_MS"
        );
    }

    #[test]
    fn the_ladder_can_be_left_to_another_instance() {
        let s = settings(&[("HOTLINE_LADDER_INTERVAL_SECONDS", "0")]).unwrap();
        assert_eq!(s.ladder_interval, None);
        let s = settings(&[("HOTLINE_LADDER_INTERVAL_SECONDS", "15")]).unwrap();
        assert_eq!(s.ladder_interval, Some(Duration::from_secs(15)));
    }

    #[test]
    fn postgres_gets_a_larger_pool() {
        let s = settings(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap();
        assert_eq!(s.pool.max_size, 16);
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            settings(&[("HOTLINE_TIMEZONE", "Mars/Olympus")])
                .unwrap_err()
                .variable,
            "HOTLINE_TIMEZONE"
        );
        assert_eq!(
            settings(&[("HOTLINE_DB_POOL_SIZE", "many")])
                .unwrap_err()
                .variable,
            "HOTLINE_DB_POOL_SIZE"
        );
        assert_eq!(
            settings(&[("DATABASE_URL", "postgres:oops")])
                .unwrap_err()
                .variable,
            "DATABASE_URL"
        );
        assert_eq!(
            settings(&[("HOTLINE_LOG_FORMAT", "xml")])
                .unwrap_err()
                .variable,
            "HOTLINE_LOG_FORMAT"
        );
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = settings(&[("HOTLINE_JWT_SECRET", "do-not-print-this-value-ever-1234")]).unwrap();
        assert!(!format!("{s:?}").contains("do-not-print"));
    }
}
