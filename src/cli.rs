//! The command line: `scimd [serve]`, `scimd migrate`, `scimd token …`,
//! `scimd org …`. Commands work against the same database as the server,
//! including while a server runs on the same data directory.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use diesel::pg::PgConnection;
use diesel::Connection;
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::{Config, ConfigArgs};
use crate::database::{Database, Role};
use crate::state::AppState;
use crate::store::{self, audit, orgs, PoolSettings, StoreError};
use crate::tokens::{self, CreateTokenRequest, TokenView};

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
    /// Write a consistent dump of the database to FILE (the server may run).
    Backup { file: std::path::PathBuf },
    /// Restore a dump made by `backup` into an empty database, then migrate.
    Restore { file: std::path::PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its value is printed alone on the last line, once.
    Create {
        #[arg(long)]
        name: String,
        /// all, admin:read, admin:write, admin:scim, connect:read, connect:write
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Expiry as RFC 3339, e.g. 2027-01-31T00:00:00Z.
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, default_value = orgs::DEFAULT_ORG_NAME)]
        org: String,
    },
    /// List the tokens of an organization (never their values).
    List {
        #[arg(long, default_value = orgs::DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Issue a new value for a token (same id, name, scopes, expiry); the old
    /// value keeps working for the grace period (e.g. 90s, 10m, 2h; at most 24h).
    Rotate {
        id: String,
        #[arg(long, default_value = "0s")]
        grace: String,
        #[arg(long, default_value = orgs::DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Revoke a token by id; it fails from the next request on.
    Revoke {
        id: String,
        #[arg(long, default_value = orgs::DEFAULT_ORG_NAME)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations.
    List,
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
        Command::Serve => serve(config, clock),
        Command::Migrate => {
            Database::open(&config, Role::Command)
                .map_err(CliError::new)?
                .close();
            println!("migrations applied");
            Ok(())
        }
        Command::Backup { file } => {
            let db = Database::open(&config, Role::Command).map_err(CliError::new)?;
            let result = crate::store::embedded::find_bin_dir(config.pg_bin.as_deref())
                .map_err(CliError::new)
                .and_then(|bin| {
                    crate::store::backup::backup(&db.url, &bin, &file).map_err(CliError::new)
                });
            db.close();
            result?;
            println!("Wrote a backup to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => {
            let db = Database::open_unmigrated(&config, Role::Command).map_err(CliError::new)?;
            let result = crate::store::embedded::find_bin_dir(config.pg_bin.as_deref())
                .map_err(CliError::new)
                .and_then(|bin| {
                    crate::store::backup::restore(&db.url, &bin, &file).map_err(CliError::new)
                })
                .and_then(|()| {
                    crate::store::migrate::run_pending(&db.url)
                        .map(|_| ())
                        .map_err(CliError::new)
                });
            db.close();
            result?;
            println!("Restored {}", file.display());
            Ok(())
        }
        Command::Token(t) => {
            let max = config.max_tokens_per_org;
            with_db(&config, |conn| token_command(conn, t, &clock, max))
        }
        Command::Org(o) => with_db(&config, |conn| org_command(conn, o, &clock)),
    }
}

fn with_db(
    config: &Config,
    f: impl FnOnce(&mut PgConnection) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let db = Database::open(config, Role::Command).map_err(CliError::new)?;
    let result = PgConnection::establish(&db.url)
        .map_err(|e| CliError::new(format!("cannot connect to the database: {e}")))
        .and_then(|mut conn| f(&mut conn));
    db.close();
    result
}

fn serve(config: Config, clock: Clock) -> Result<(), CliError> {
    let db = Database::open(&config, Role::Server).map_err(CliError::new)?;
    let listener = match TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            db.close();
            return Err(CliError::new(format!(
                "cannot listen on {}: {e}",
                config.listen
            )));
        }
    };
    let pool = store::build_pool_observed(
        &db.url,
        &PoolSettings {
            size: config.db_pool_size,
            acquire_timeout: config.db_acquire_timeout,
            statement_timeout: config.db_statement_timeout,
        },
        Some(Box::new(crate::metrics::PoolEvents)),
    );
    log::info!("scimd listening on http://{}", config.listen);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    spawn_audit_retention(pool.clone(), clock.clone(), config.audit_retention);
    let state = AppState::new(pool, config, clock);
    let metrics = state.metrics.clone();
    let fatal = Arc::new(AtomicBool::new(false));
    let result = actix_web::rt::System::new().block_on(async {
        let server = crate::server::start(state, listener, workers)?;
        let handle = server.handle();
        let flag = fatal.clone();
        db.supervise(
            move |up| metrics.set_embedded_up(up),
            move || {
                flag.store(true, Ordering::SeqCst);
                // Sends the stop command now; the future only reports completion.
                drop(handle.stop(true));
            },
        );
        server.await
    });
    log::info!("scimd stopped accepting requests");
    db.close();
    result.map_err(|e| CliError::new(format!("server error: {e}")))?;
    if fatal.load(Ordering::SeqCst) {
        return Err(CliError::new(
            "stopped: the embedded PostgreSQL cluster could not be restarted",
        ));
    }
    Ok(())
}

/// `90s`, `10m`, `2h` or plain seconds; at most [`tokens::MAX_GRACE`].
fn parse_grace(text: &str) -> Result<chrono::Duration, CliError> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| CliError::new(format!("--grace {text:?}: expected e.g. 90s, 10m or 2h")))?;
    let d = match unit {
        "" | "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        _ => {
            return Err(CliError::new(format!(
                "--grace {text:?}: the unit must be s, m or h"
            )))
        }
    };
    if d > tokens::MAX_GRACE {
        return Err(CliError::new("--grace may be at most 24h"));
    }
    Ok(d)
}

/// Deletes audit entries past the retention period, at start and hourly.
/// Several instances may do it at once; the deletes are idempotent.
fn spawn_audit_retention(pool: store::PgPool, clock: Clock, keep: chrono::Duration) {
    std::thread::spawn(move || loop {
        let before = clock.now() - keep;
        match pool.get() {
            Ok(mut conn) => match audit::purge(&mut conn, before) {
                Ok(0) => {}
                Ok(n) => log::info!("audit retention: deleted {n} entries older than {before}"),
                Err(e) => log::warn!("audit retention failed: {e}"),
            },
            Err(e) => log::warn!("audit retention: no database connection: {e}"),
        }
        std::thread::sleep(std::time::Duration::from_secs(3600));
    });
}

/// Changes made from the command line are audited too, under `cli`.
fn cli_actor(org_id: Uuid) -> audit::Actor {
    audit::Actor {
        org_id,
        token_id: None,
        name: "cli".into(),
    }
}

fn org_id(conn: &mut PgConnection, name: &str) -> Result<Uuid, CliError> {
    match orgs::by_name(conn, name) {
        Ok(o) => Ok(o.id),
        Err(StoreError::NotFound) => Err(CliError::new(format!(
            "no organization named {name:?} (see `scimd org list`)"
        ))),
        Err(e) => Err(e.into()),
    }
}

fn token_command(
    conn: &mut PgConnection,
    cmd: TokenCommand,
    clock: &Clock,
    max_tokens: i64,
) -> Result<(), CliError> {
    match cmd {
        TokenCommand::Create {
            name,
            scopes,
            expires,
            org,
        } => {
            let org_id = org_id(conn, &org)?;
            let now = clock.now();
            let new = CreateTokenRequest {
                name,
                scopes,
                expires_at: expires,
            }
            .check(now)
            .map_err(|errs| {
                CliError::new(
                    errs.iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?;
            let actor = cli_actor(org_id);
            let created = conn
                .transaction(|conn| {
                    tokens::check_limit(conn, org_id, max_tokens, now).map_err(|e| match e {
                        tokens::LimitError::Store(s) => tokens::IssueError::Store(s),
                        limit => tokens::IssueError::Refused(limit.to_string()),
                    })?;
                    let created = tokens::issue(conn, org_id, new, "cli", now)?;
                    let id = created.view.id.to_string();
                    audit::record(conn, &actor, "token.create", "Token", &id, 201, now)?;
                    Ok::<_, tokens::IssueError>(created)
                })
                .map_err(CliError::new)?;
            let v = &created.view;
            println!("Created token {} ({}) in organization {org}", v.id, v.name);
            println!("Scopes:  {}", v.scopes.join(", "));
            println!(
                "Expires: {}",
                v.expires_at.map_or("never".to_string(), |t| t.to_rfc3339())
            );
            println!("The value below is shown only this once; store it now:");
            println!("{}", created.token);
            Ok(())
        }
        TokenCommand::List { org } => {
            let org_id = org_id(conn, &org)?;
            let rows = store::tokens::list(conn, org_id)?;
            println!(
                "{:<36}  {:<24}  {:<26}  {:<20}  {:<20}  STATUS",
                "ID", "NAME", "SCOPES", "EXPIRES", "LAST USED"
            );
            let now = clock.now();
            for r in rows {
                let v = TokenView::new(r, now);
                let status = if v.revoked_at.is_some() {
                    "revoked"
                } else if v.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "active"
                };
                let fmt = |t: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
                    t.map_or(none.to_string(), |t| {
                        t.format("%Y-%m-%d %H:%M:%SZ").to_string()
                    })
                };
                println!(
                    "{:<36}  {:<24}  {:<26}  {:<20}  {:<20}  {status}",
                    v.id,
                    v.name,
                    v.scopes.join(","),
                    fmt(v.expires_at, "never"),
                    fmt(v.last_used_at, "never"),
                );
            }
            Ok(())
        }
        TokenCommand::Rotate { id, grace, org } => {
            let org_id = org_id(conn, &org)?;
            let id = Uuid::parse_str(&id)
                .map_err(|_| CliError::new(format!("{id:?} is not a token id")))?;
            let grace = parse_grace(&grace)?;
            let (actor, now) = (cli_actor(org_id), clock.now());
            let rotated = conn
                .transaction(|conn| tokens::rotate(conn, &actor, id, grace, now))
                .map_err(|e| match e {
                    tokens::IssueError::Store(StoreError::NotFound) => {
                        CliError::new(format!("no token {id} in organization {org}"))
                    }
                    tokens::IssueError::Store(StoreError::Conflict(_)) => {
                        CliError::new("a revoked or expired token cannot be rotated")
                    }
                    other => CliError::new(other),
                })?;
            println!(
                "Rotated token {id}; the old value works for {}s more",
                grace.num_seconds()
            );
            println!("The new value below is shown only this once; store it now:");
            println!("{}", rotated.token);
            Ok(())
        }
        TokenCommand::Revoke { id, org } => {
            let org_id = org_id(conn, &org)?;
            let id = Uuid::parse_str(&id)
                .map_err(|_| CliError::new(format!("{id:?} is not a token id")))?;
            let (actor, now) = (cli_actor(org_id), clock.now());
            let revoked = conn.transaction(|conn| tokens::revoke(conn, &actor, id, now));
            match revoked {
                Ok(_) => {
                    println!("Revoked token {id}");
                    Ok(())
                }
                Err(StoreError::NotFound) => Err(CliError::new(format!(
                    "no active token {id} in organization {org}"
                ))),
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn org_command(conn: &mut PgConnection, cmd: OrgCommand, clock: &Clock) -> Result<(), CliError> {
    match cmd {
        OrgCommand::Create { name } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(CliError::new(
                    "an organization name must be 1 to 100 printable characters",
                ));
            }
            match orgs::create(conn, &name, clock.now()) {
                Ok(o) => {
                    println!("Created organization {} ({})", o.name, o.id);
                    Ok(())
                }
                Err(StoreError::Conflict(_)) => Err(CliError::new(format!(
                    "an organization named {name:?} already exists"
                ))),
                Err(e) => Err(e.into()),
            }
        }
        OrgCommand::List => {
            println!("{:<36}  NAME", "ID");
            for o in orgs::list(conn)? {
                println!("{:<36}  {}", o.id, o.name);
            }
            Ok(())
        }
    }
}
