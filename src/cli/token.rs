//! `scimd token create|list|rotate|revoke`: the same `service::tokens`
//! operations as `/api/v1/tokens`, audited under `cli`.

use clap::Subcommand;
use uuid::Uuid;

use super::{org, CliError, Session};
use crate::service::tokens::{self, CreateTokenRequest, TokenError};
use crate::service::Requester;
use crate::store::orgs::DEFAULT_ORG_NAME;

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
        /// Requests per second this token may make, e.g. `50` or `50/s`.
        #[arg(long = "rate-limit")]
        rate_limit: Option<String>,
        /// Most requests at once (default: one second's worth).
        #[arg(long)]
        burst: Option<i64>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// List the tokens of an organization (never their values).
    List {
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Issue a new value for a token (same id, name, scopes, expiry); the old
    /// value keeps working for the grace period (e.g. 90s, 10m, 2h; at most 24h).
    Rotate {
        id: String,
        #[arg(long, default_value = "0s")]
        grace: String,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Revoke a token by id; it fails from the next request on.
    Revoke {
        id: String,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
}

pub(super) fn run(s: &Session, cmd: TokenCommand) -> Result<(), CliError> {
    match cmd {
        TokenCommand::Create {
            name,
            scopes,
            expires,
            rate_limit,
            burst,
            org,
        } => {
            let by = Requester::cli(org::id(s, &org)?);
            let request = CreateTokenRequest {
                name,
                scopes,
                expires_at: expires,
                rate_limit: super::rate(rate_limit.as_deref(), burst)?,
            };
            let max = s.config.max_tokens_per_org;
            let created = s
                .wait(tokens::create(
                    &s.pool,
                    &s.retries,
                    &by,
                    request,
                    max,
                    s.clock.now(),
                ))
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
            let org_id = org::id(s, &org)?;
            let views = s.wait(tokens::list(&s.pool, org_id, s.clock.now()))?;
            println!(
                "{:<36}  {:<24}  {:<26}  {:<20}  {:<20}  STATUS",
                "ID", "NAME", "SCOPES", "EXPIRES", "LAST USED"
            );
            for v in views {
                let status = if v.revoked_at.is_some() {
                    "revoked"
                } else if v.expired {
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
            let by = Requester::cli(org::id(s, &org)?);
            let id = token_id(&id)?;
            let grace = parse_grace(&grace)?;
            let rotated = s
                .wait(tokens::rotate(
                    &s.pool,
                    &s.retries,
                    &by,
                    id,
                    grace,
                    s.clock.now(),
                ))
                .map_err(|e| match e {
                    TokenError::NotFound => {
                        CliError::new(format!("no token {id} in organization {org}"))
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
            let by = Requester::cli(org::id(s, &org)?);
            let id = token_id(&id)?;
            s.wait(tokens::revoke(&s.pool, &s.retries, &by, id, s.clock.now()))
                .map_err(|e| match e {
                    TokenError::NotFound => {
                        CliError::new(format!("no active token {id} in organization {org}"))
                    }
                    other => CliError::new(other),
                })?;
            println!("Revoked token {id}");
            Ok(())
        }
    }
}

fn token_id(text: &str) -> Result<Uuid, CliError> {
    Uuid::parse_str(text).map_err(|_| CliError::new(format!("{text:?} is not a token id")))
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
