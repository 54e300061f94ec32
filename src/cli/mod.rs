//! The command line: `scimd [serve]`, `scimd migrate`, `scimd token …`,
//! `scimd org …`, `scimd connector …`, `scimd subscription …`, `scimd schema …`, `scimd backup`, `scimd restore`. Commands work against the
//! same database as the server, including while a server runs on the same
//! data directory, and through the same `service` operations as the API.

mod connector;
mod deleted;
mod org;
mod schema;
mod subscription;
mod token;

use std::future::Future;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::config::{Config, ConfigArgs};
use crate::database::{Database, Role};
use crate::store::{self, PgPool, PoolSettings, StoreError, TxRetries};

pub use connector::ConnectorCommand;
pub use deleted::DeletedCommand;
pub use org::OrgCommand;
pub use schema::SchemaCommand;
pub use subscription::SubscriptionCommand;
pub use token::TokenCommand;

#[derive(Debug, Parser)]
#[command(name = "scimd", version, about = "SCIM 2.0 provisioning server")]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create, list and revoke API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Create and list organizations (tenants).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Create, list, change and delete connectors (identity sources) and
    /// mint their tokens.
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// List, restore and purge soft-deleted resources.
    #[command(subcommand)]
    Deleted(DeletedCommand),
    /// Create, list, pause, resume, replay and delete subscriptions to
    /// change events.
    #[command(subcommand)]
    Subscription(SubscriptionCommand),
    /// Declare, list, replace and remove extension schemas.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Write a consistent dump of the database to FILE (the server may run).
    Backup { file: std::path::PathBuf },
    /// Restore a dump made by `backup` into an empty database, then migrate.
    Restore { file: std::path::PathBuf },
}

/// A failure to report on stderr, with the process exit code.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    fn new(message: impl std::fmt::Display) -> Self {
        CliError {
            message: message.to_string(),
            code: 1,
        }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::new(e)
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let config = cli.config.into_config().map_err(|e| CliError {
        message: e.to_string(),
        code: 2,
    })?;
    let clock = Clock::default();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => crate::server::serve(config, clock).map_err(CliError::new),
        Command::Migrate => {
            Database::open(&config, Role::Command)
                .map_err(CliError::new)?
                .close();
            println!("migrations applied");
            Ok(())
        }
        Command::Backup { file } => {
            let db = Database::open(&config, Role::Command).map_err(CliError::new)?;
            let result = store::embedded::find_bin_dir(config.pg_bin.as_deref())
                .map_err(CliError::new)
                .and_then(|bin| store::backup::backup(&db.url, &bin, &file).map_err(CliError::new));
            db.close();
            result?;
            println!("Wrote a backup to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let db = Database::open_unmigrated(&config, Role::Command).map_err(CliError::new)?;
            let result = store::embedded::find_bin_dir(config.pg_bin.as_deref())
                .map_err(CliError::new)
                .and_then(|bin| store::backup::restore(&db.url, &bin, &file).map_err(CliError::new))
                .and_then(|()| {
                    store::migrate::run_pending(&db.url)
                        .map(|_| ())
                        .map_err(CliError::new)
                });
            db.close();
            result?;
            println!("Restored {}", file.display());
            Ok(())
        }
        Command::Token(t) => with_db(&config, clock, |s| token::run(s, t)),
        Command::Org(o) => with_db(&config, clock, |s| org::run(s, o)),
        Command::Schema(c) => with_db(&config, clock, |s| schema::run(s, c)),
        Command::Connector(c) => with_db(&config, clock, |s| connector::run(s, c)),
        Command::Deleted(c) => with_db(&config, clock, |s| deleted::run(s, c)),
        Command::Subscription(c) => with_db(&config, clock, |s| subscription::run(s, c)),
    }
}

/// `50`, `50/s` or `2.5/s` as requests per second.
fn per_second(text: &str) -> Result<f64, CliError> {
    let n = text.trim().trim_end_matches("/s");
    n.parse::<f64>().map_err(|_| {
        CliError::new(format!(
            "--rate-limit: expected requests per second like 50/s, got '{text}'"
        ))
    })
}

pub(super) fn rate(
    text: Option<&str>,
    burst: Option<i64>,
) -> Result<Option<crate::service::tokens::RateLimitRequest>, CliError> {
    let Some(text) = text else {
        return match burst {
            Some(_) => Err(CliError::new("--burst needs --rate-limit")),
            None => Ok(None),
        };
    };
    let per_second = per_second(text)?;
    // The checks that follow name a bad value; a cast here cannot.
    let burst = burst.map_or_else(|| per_second.ceil().max(1.0), |b| b as f64);
    Ok(Some(crate::service::tokens::RateLimitRequest {
        per_second,
        burst,
    }))
}

/// What a command's database work runs on. The `service` operations are
/// async (the server awaits them on its workers); a command drives each to
/// completion on this thread, over a pool of one connection.
struct Session<'a> {
    config: &'a Config,
    clock: Clock,
    pool: PgPool,
    retries: Arc<TxRetries>,
    runtime: tokio::runtime::Runtime,
}

impl Session<'_> {
    /// Runs one service operation to completion.
    fn wait<F: Future>(&self, operation: F) -> F::Output {
        self.runtime.block_on(operation)
    }
}

/// Opens (and migrates) the database, runs `f` on it, and closes it again,
/// stopping the embedded cluster if this command started it.
fn with_db(
    config: &Config,
    clock: Clock,
    f: impl FnOnce(&Session) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let db = Database::open(config, Role::Command).map_err(CliError::new)?;
    let result = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| {
            let session = Session {
                config,
                clock,
                pool: store::build_pool(
                    &db.url,
                    &PoolSettings {
                        size: 1,
                        acquire_timeout: config.db_acquire_timeout,
                        statement_timeout: config.db_statement_timeout,
                    },
                ),
                retries: Arc::new(TxRetries::default()),
                runtime,
            };
            // The session, and with it the pool's connection, is gone
            // before the cluster is stopped.
            f(&session)
        });
    db.close();
    result
}
