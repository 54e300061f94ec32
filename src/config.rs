//! Configuration: one `Config`, built once from flags and environment
//! variables (each flag has an env fallback), validated at start-up and passed
//! down. Every variable scimd reads is listed here:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DATABASE_URL` | unset | PostgreSQL to connect to; unset = scimd runs its own cluster in the data dir |
//! | `SCIMD_DATA_DIR` | `./data` | where the embedded cluster lives |
//! | `SCIMD_LISTEN` | `127.0.0.1:8080` | address the HTTP server binds |
//! | `SCIMD_PUBLIC_URL` | unset | external base URL (`https://scim.example.com`), for `meta.location` |
//! | `AUTH_SECRET` | unset | a static bearer credential equal to an `all` token of `default` (≥ 32 chars) |
//! | `SCIMD_DB_POOL_SIZE` | 10 | connections in the pool |
//! | `SCIMD_DB_ACQUIRE_TIMEOUT_MS` | 1500 | how long a request waits for a pooled connection |
//! | `SCIMD_DB_STATEMENT_TIMEOUT_MS` | 10000 | `statement_timeout` on every connection |
//! | `SCIMD_SHUTDOWN_TIMEOUT_SECS` | 30 | how long SIGTERM waits for in-flight requests |
//! | `SCIMD_CLIENT_TIMEOUT_MS` | 5000 | time a client has to send the request head |
//! | `SCIMD_BODY_TIMEOUT_MS` | 30000 | time a client has to send the request body |
//! | `SCIMD_MAX_CONNECTIONS` | 1024 | open client connections per worker |
//! | `SCIMD_AUDIT_RETENTION_DAYS` | 90 | audit entries older than this are deleted |
//! | `SCIMD_TRUSTED_PROXIES` | unset | proxies whose `X-Forwarded-For` is believed |
//! | `SCIMD_MAX_TOKENS_PER_ORG` | 50 | active tokens an organization may hold |
//! | `SCIMD_MAX_VALUES_PER_ATTRIBUTE` | 1000 | values a multi-valued attribute may hold (Group `members` excepted) |
//! | `SCIMD_WEBHOOK_ALLOWED_HOSTS` | unset | non-public destinations (hosts, `host:port`s, IPs, CIDRs) webhooks may call, and over plain HTTP |
//! | `SCIMD_SECRETS_KEY` / `SCIMD_SECRETS_KEY_FILE` | `secrets.key` in the data dir | key sealing webhook secrets in the database (base64, 32 bytes; the same on every instance) |
//! | `SCIMD_EVENT_RETENTION_DAYS` | 7 | change events kept for replays |
//! | `SCIMD_DELIVERY_WORKERS` | 4 | event delivery threads in this instance |
//! | `SCIMD_DELIVERY_TIMEOUT_MS` | 10000 | time one delivery may take |
//! | `SCIMD_DELIVERY_RETRY_HOURS` | 72 | how long a failing delivery is retried before it is parked |
//! | `SCIMD_DELIVERY_BATCH` | 100 | events per webhook POST |
//! | `SCIMD_PG_BIN` | unset | directory holding `initdb`/`pg_ctl`, if not on PATH or in /usr/lib/postgresql |
//! | `RUST_LOG` | `info` | log verbosity (env_logger syntax) |

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// A secret value: never printed by `Debug`, so it cannot leak through logs
/// or error chains.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
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

pub const MIN_AUTH_SECRET_LEN: usize = 32;

/// The flags shared by every subcommand; `global = true` lets them stand
/// before or after the subcommand name.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// PostgreSQL URL; without it scimd runs its own cluster in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory for the embedded PostgreSQL cluster and the process lock.
    #[arg(long, env = "SCIMD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "SCIMD_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// External base URL of this server, used in meta.location.
    #[arg(long, env = "SCIMD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Static bearer secret (at least 32 characters) equal to an `all` token.
    #[arg(long, env = "AUTH_SECRET", global = true, hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "SCIMD_DB_POOL_SIZE", default_value_t = 10, global = true)]
    pub db_pool_size: u32,
    /// Milliseconds a request waits for a pooled connection before 503.
    #[arg(
        long,
        env = "SCIMD_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 1500,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// statement_timeout set on every database connection, in milliseconds.
    #[arg(
        long,
        env = "SCIMD_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 10000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,
    /// Seconds SIGTERM/SIGINT waits for in-flight requests before exiting.
    #[arg(
        long,
        env = "SCIMD_SHUTDOWN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout_secs: u64,
    /// Milliseconds a client has to send the request line and headers.
    #[arg(
        long,
        env = "SCIMD_CLIENT_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub client_timeout_ms: u64,
    /// Milliseconds a client has to send the request body.
    #[arg(
        long,
        env = "SCIMD_BODY_TIMEOUT_MS",
        default_value_t = 30000,
        global = true
    )]
    pub body_timeout_ms: u64,
    /// Open client connections per worker; more wait in the accept queue.
    #[arg(
        long,
        env = "SCIMD_MAX_CONNECTIONS",
        default_value_t = 1024,
        global = true
    )]
    pub max_connections: usize,
    /// Days audit entries are kept; older ones are deleted by the server.
    #[arg(
        long,
        env = "SCIMD_AUDIT_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub audit_retention_days: u32,
    /// Comma-separated proxy addresses whose X-Forwarded-For is believed.
    #[arg(long, env = "SCIMD_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// Active (not revoked, not expired) tokens an organization may hold.
    #[arg(
        long,
        env = "SCIMD_MAX_TOKENS_PER_ORG",
        default_value_t = 50,
        global = true
    )]
    pub max_tokens_per_org: u32,
    /// Extension schemas an organization may declare (`/api/v1/schemas`).
    #[arg(
        long,
        env = "SCIMD_MAX_SCHEMAS_PER_ORG",
        default_value_t = 50,
        global = true
    )]
    pub max_schemas_per_org: u32,
    /// Values a multi-valued attribute (emails, roles, …) may hold; Group
    /// members are not limited.
    #[arg(
        long,
        env = "SCIMD_MAX_VALUES_PER_ATTRIBUTE",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub max_values_per_attribute: u32,
    /// Directory with PostgreSQL's server binaries (initdb, pg_ctl).
    #[arg(long, env = "SCIMD_PG_BIN", global = true)]
    pub pg_bin: Option<PathBuf>,
    /// Connectors' request log: `mask` (the default) replaces personal data
    /// and filter literals by a keyed hash; `keep` stores them as sent.
    /// Passwords and tokens are never stored either way.
    #[arg(
        long,
        env = "SCIMD_REQUEST_LOG_PII",
        default_value = "mask",
        value_parser = ["mask", "keep"],
        global = true
    )]
    pub request_log_pii: String,
    /// Days a connector's request is kept in the request log.
    #[arg(
        long,
        env = "SCIMD_REQUEST_LOG_RETENTION_DAYS",
        default_value_t = 14,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub request_log_retention_days: u32,
    /// Most request-log rows an organization keeps (the oldest go first).
    #[arg(
        long,
        env = "SCIMD_REQUEST_LOG_MAX_ROWS",
        default_value_t = 100_000,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub request_log_max_rows: u32,
    /// Records the request log holds in memory waiting to be written; when
    /// full, new ones are dropped and counted
    /// (`scimd_request_log_dropped_total`), never slowing a request.
    #[arg(
        long,
        env = "SCIMD_REQUEST_LOG_QUEUE",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub request_log_queue: u32,
    /// Destinations webhooks may reach although they are not public:
    /// comma-separated hosts, `host:port`s, IPs or CIDRs (and the hosts
    /// allowed to be called over plain HTTP). Everything else must be a
    /// public HTTPS address.
    #[arg(long, env = "SCIMD_WEBHOOK_ALLOWED_HOSTS", global = true)]
    pub webhook_allowed_hosts: Option<String>,
    /// The key (base64 of 32 bytes) that seals webhook secrets in the
    /// database; every instance sharing one database needs the same.
    /// Default: `secrets.key` in the data directory, created on first use.
    #[arg(long, env = "SCIMD_SECRETS_KEY", global = true, hide_env_values = true)]
    pub secrets_key: Option<String>,
    /// A file holding that key, instead of the variable.
    #[arg(long, env = "SCIMD_SECRETS_KEY_FILE", global = true)]
    pub secrets_key_file: Option<PathBuf>,
    /// Days change events are kept for replays.
    #[arg(
        long,
        env = "SCIMD_EVENT_RETENTION_DAYS",
        default_value_t = 7,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub event_retention_days: u32,
    /// Event delivery threads in this instance (0: this instance delivers
    /// nothing; others sharing the database do).
    #[arg(
        long,
        env = "SCIMD_DELIVERY_WORKERS",
        default_value_t = 4,
        value_parser = clap::value_parser!(u32).range(0..=256),
        global = true
    )]
    pub delivery_workers: u32,
    /// Milliseconds one delivery (connect, send, answer) may take.
    #[arg(
        long,
        env = "SCIMD_DELIVERY_TIMEOUT_MS",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(100..=300_000),
        global = true
    )]
    pub delivery_timeout_ms: u64,
    /// Hours a failing delivery is retried before its events are parked
    /// as dead letters.
    #[arg(
        long,
        env = "SCIMD_DELIVERY_RETRY_HOURS",
        default_value_t = 72,
        value_parser = clap::value_parser!(u64).range(0..=8760),
        global = true
    )]
    pub delivery_retry_hours: u64,
    /// Events one webhook POST carries at most.
    #[arg(
        long,
        env = "SCIMD_DELIVERY_BATCH",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    pub delivery_batch: u32,
}

/// The request log's settings (`SCIMD_REQUEST_LOG_*`).
#[derive(Debug, Clone)]
pub struct RequestLogConfig {
    pub keep_pii: bool,
    pub retention: chrono::Duration,
    pub max_rows: i64,
    pub queue: usize,
}

impl Default for RequestLogConfig {
    fn default() -> Self {
        RequestLogConfig {
            keep_pii: false,
            retention: chrono::Duration::days(14),
            max_rows: 100_000,
            queue: 10_000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Option<Secret>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub auth_secret: Option<Secret>,
    pub db_pool_size: u32,
    pub db_acquire_timeout: Duration,
    pub db_statement_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub client_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    pub audit_retention: chrono::Duration,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub max_tokens_per_org: i64,
    pub max_schemas_per_org: usize,
    pub max_values_per_attribute: usize,
    pub request_log: RequestLogConfig,
    pub pg_bin: Option<PathBuf>,
    pub events: crate::service::events::EventsConfig,
    pub webhook_allowed_hosts: String,
    pub secrets_key: Option<Secret>,
    pub secrets_key_file: Option<PathBuf>,
}

/// A configuration problem, worded for the operator: it names the variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigArgs {
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "SCIMD_LISTEN must be an address like 127.0.0.1:8080 (got {:?})",
                self.listen
            ))
        })?;
        let public_url = match self.public_url.filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(u) => {
                let u = u.trim().trim_end_matches('/').to_string();
                if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(' ') {
                    return Err(ConfigError(format!(
                        "SCIMD_PUBLIC_URL must be an absolute http(s) URL (got {u:?})"
                    )));
                }
                Some(u)
            }
        };
        let auth_secret = match self.auth_secret.filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if s.chars().count() < MIN_AUTH_SECRET_LEN => {
                return Err(ConfigError(format!(
                    "AUTH_SECRET must be at least {MIN_AUTH_SECRET_LEN} characters (it has {})",
                    s.chars().count()
                )))
            }
            Some(s) if s.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err(ConfigError(
                    "AUTH_SECRET must not contain whitespace or control characters".into(),
                ))
            }
            Some(s) => Some(Secret::new(s)),
        };
        if !(1..=1000).contains(&self.db_pool_size) {
            return Err(ConfigError(format!(
                "SCIMD_DB_POOL_SIZE must be between 1 and 1000 (got {})",
                self.db_pool_size
            )));
        }
        if self.db_acquire_timeout_ms == 0 {
            return Err(ConfigError(
                "SCIMD_DB_ACQUIRE_TIMEOUT_MS must be greater than 0".into(),
            ));
        }
        for (name, v) in [
            ("SCIMD_CLIENT_TIMEOUT_MS", self.client_timeout_ms),
            ("SCIMD_BODY_TIMEOUT_MS", self.body_timeout_ms),
            ("SCIMD_MAX_CONNECTIONS", self.max_connections as u64),
            (
                "SCIMD_AUDIT_RETENTION_DAYS",
                u64::from(self.audit_retention_days),
            ),
        ] {
            if v == 0 {
                return Err(ConfigError(format!("{name} must be greater than 0")));
            }
        }
        let mut trusted_proxies = Vec::new();
        for part in self.trusted_proxies.iter().flat_map(|s| s.split(',')) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            trusted_proxies.push(part.parse().map_err(|_| {
                ConfigError(format!(
                    "SCIMD_TRUSTED_PROXIES must list IP addresses (got {part:?})"
                ))
            })?);
        }
        let database_url = self
            .database_url
            .filter(|u| !u.trim().is_empty())
            .map(Secret::new);
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError("SCIMD_DATA_DIR must not be empty".into()));
        }
        Ok(Config {
            database_url,
            data_dir: self.data_dir,
            listen,
            public_url,
            auth_secret,
            db_pool_size: self.db_pool_size,
            db_acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            db_statement_timeout: Duration::from_millis(self.db_statement_timeout_ms),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            client_timeout: Duration::from_millis(self.client_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
            max_connections: self.max_connections,
            audit_retention: chrono::Duration::days(i64::from(self.audit_retention_days)),
            trusted_proxies,
            max_tokens_per_org: i64::from(self.max_tokens_per_org),
            max_schemas_per_org: usize::try_from(self.max_schemas_per_org).unwrap_or(usize::MAX),
            max_values_per_attribute: usize::try_from(self.max_values_per_attribute)
                .unwrap_or(usize::MAX),
            pg_bin: self.pg_bin,
            request_log: RequestLogConfig {
                keep_pii: self.request_log_pii == "keep",
                retention: chrono::Duration::days(i64::from(self.request_log_retention_days)),
                max_rows: i64::from(self.request_log_max_rows),
                queue: usize::try_from(self.request_log_queue).unwrap_or(10_000),
            },
            events: crate::service::events::EventsConfig {
                workers: usize::try_from(self.delivery_workers).unwrap_or(4),
                batch: i64::from(self.delivery_batch),
                timeout: Duration::from_millis(self.delivery_timeout_ms),
                retry_window: Duration::from_secs(self.delivery_retry_hours * 3600),
                retention: chrono::Duration::days(i64::from(self.event_retention_days)),
                ..crate::service::events::EventsConfig::default()
            },
            webhook_allowed_hosts: self.webhook_allowed_hosts.unwrap_or_default(),
            secrets_key: self
                .secrets_key
                .filter(|k| !k.trim().is_empty())
                .map(Secret::new),
            secrets_key_file: self.secrets_key_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        c: ConfigArgs,
    }

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["t"];
        all.extend_from_slice(args);
        T::parse_from(all).c.into_config()
    }

    #[test]
    fn short_auth_secret_is_refused_with_the_variable_named() {
        let err = parse(&["--auth-secret", "short"]).unwrap_err().to_string();
        assert!(err.contains("AUTH_SECRET"), "{err}");
        assert!(
            !err.contains("short"),
            "the secret must not be echoed: {err}"
        );
    }

    #[test]
    fn bad_listen_and_public_url_are_refused() {
        assert!(parse(&["--listen", "nope"]).is_err());
        assert!(parse(&["--public-url", "ftp://x"]).is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let c = parse(&["--auth-secret", &"x".repeat(40)]).unwrap();
        assert!(!format!("{c:?}").contains("xxxx"));
    }
}
