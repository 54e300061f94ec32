//! `scimd token create|list|rotate|revoke`.

use clap::Subcommand;
use diesel::pg::PgConnection;
use diesel::Connection;
use uuid::Uuid;

use super::{org, CliError};
use crate::clock::Clock;
use crate::store::{self, audit, orgs, StoreError};
use crate::tokens::{self, CreateTokenRequest, TokenView};

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

pub(super) fn run(
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
            let org_id = org::id(conn, &org)?;
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
            let org_id = org::id(conn, &org)?;
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
            let org_id = org::id(conn, &org)?;
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
            let org_id = org::id(conn, &org)?;
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

/// Changes made from the command line are audited too, under `cli`.
fn cli_actor(org_id: Uuid) -> audit::Actor {
    audit::Actor {
        org_id,
        token_id: None,
        name: "cli".into(),
    }
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
