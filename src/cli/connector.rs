//! `scimd connector create|list|show|update|token|delete|transfer`: the
//! same `service::connectors` operations as `/api/v1/connectors`, audited
//! under `cli`.

use clap::Subcommand;
use uuid::Uuid;

use super::{org, rate, CliError, Session};
use crate::service::connectors::{
    self, ConnectorTokenRequest, ConnectorView, CreateConnectorRequest, Env, PatchConnectorRequest,
    TransferRequest,
};
use crate::service::Requester;
use crate::store::orgs::DEFAULT_ORG_NAME;

#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Create a connector. Prints its SCIM base URL and, alone on the last
    /// line, the value of its first `admin:scim` token (shown once).
    Create {
        name: String,
        /// okta, entra or generic.
        #[arg(long)]
        kind: String,
        /// lenient, okta, entra or strict (default: the kind's).
        #[arg(long)]
        profile: Option<String>,
        /// shared or owned (default: the organization's policy).
        #[arg(long)]
        ownership: Option<String>,
        /// Requests per second, e.g. `50` or `50/s`.
        #[arg(long = "rate-limit")]
        rate_limit: Option<String>,
        /// Most requests at once (default: one second's worth).
        #[arg(long)]
        burst: Option<i64>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// List the connectors of an organization.
    List {
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Change a connector (by id or name); only the options given change.
    Update {
        connector: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        profile: Option<String>,
        /// shared, owned, or `org` to follow the organization's policy.
        #[arg(long)]
        ownership: Option<String>,
        /// Requests per second (`50` or `50/s`), or `none`.
        #[arg(long = "rate-limit")]
        rate_limit: Option<String>,
        #[arg(long)]
        burst: Option<i64>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Mint another token for a connector; its value is printed alone on
    /// the last line, once.
    Token {
        connector: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        expires: Option<String>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Delete a connector and its tokens (refused while it owns resources).
    Delete {
        connector: String,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Give the resources one connector owns (or, with `--from none`, those
    /// no connector owns) to another (`--to none`: to no connector).
    Transfer {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Only this type (User, Group or a declared type).
        #[arg(long = "type")]
        resource_type: Option<String>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
}

fn env<'a>(s: &'a Session<'_>) -> Env<'a> {
    let root = s
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", s.config.listen));
    Env {
        pool: &s.pool,
        retries: &s.retries,
        scim_url: format!("{}/scim/v2", root.trim_end_matches('/')),
        max_tokens: s.config.max_tokens_per_org,
    }
}

/// The connector `key` names (its id, or its name case-insensitively).
fn find(s: &Session, org: Uuid, key: &str) -> Result<ConnectorView, CliError> {
    let all = s
        .wait(connectors::list(&env(s), org, s.clock.now()))
        .map_err(CliError::new)?;
    all.into_iter()
        .find(|c| c.id.to_string() == key || c.name.eq_ignore_ascii_case(key))
        .ok_or_else(|| CliError::new(format!("no connector '{key}' (see `scimd connector list`)")))
}

fn show(c: &ConnectorView) {
    println!("Connector {} ({})", c.name, c.id);
    println!("Kind:      {}", c.kind);
    println!("Profile:   {}", c.profile);
    println!(
        "Ownership: {}{}",
        c.effective_ownership,
        if c.ownership.is_none() {
            " (the organization's)"
        } else {
            ""
        }
    );
    match &c.rate_limit {
        Some(r) => println!("Rate:      {}/s, burst {}", r.per_second, r.burst),
        None => println!("Rate:      no limit"),
    }
    println!("SCIM URL:  {}", c.scim_url);
}

pub(super) fn run(s: &Session, cmd: ConnectorCommand) -> Result<(), CliError> {
    let now = s.clock.now();
    match cmd {
        ConnectorCommand::Create {
            name,
            kind,
            profile,
            ownership,
            rate_limit,
            burst,
            org,
        } => {
            let by = Requester::cli(org::id(s, &org)?);
            let request = CreateConnectorRequest {
                name,
                kind,
                profile,
                ownership,
                rate_limit: rate(rate_limit.as_deref(), burst)?,
            };
            let created = s
                .wait(connectors::create(&env(s), &by, request, now))
                .map_err(CliError::new)?;
            show(&created.view);
            println!(
                "Token {} (admin:scim); its value, shown only now:",
                created.token_id
            );
            println!("{}", created.token);
            Ok(())
        }
        ConnectorCommand::List { org } => {
            let org = org::id(s, &org)?;
            let all = s
                .wait(connectors::list(&env(s), org, s.clock.now()))
                .map_err(CliError::new)?;
            println!(
                "{:<36}  {:<8}  {:<8}  {:<9}  NAME",
                "ID", "KIND", "PROFILE", "OWNERSHIP"
            );
            for c in all {
                println!(
                    "{:<36}  {:<8}  {:<8}  {:<9}  {}",
                    c.id, c.kind, c.profile, c.effective_ownership, c.name
                );
            }
            Ok(())
        }
        ConnectorCommand::Update {
            connector,
            name,
            kind,
            profile,
            ownership,
            rate_limit,
            burst,
            org,
        } => {
            let org = org::id(s, &org)?;
            let c = find(s, org, &connector)?;
            let rate_limit = match rate_limit.as_deref() {
                Some("none") => Some(None),
                Some(t) => Some(rate(Some(t), burst)?),
                None if burst.is_some() => return Err(CliError::new("--burst needs --rate-limit")),
                None => None,
            };
            let patch = PatchConnectorRequest {
                name,
                kind,
                profile,
                ownership: ownership.map(|o| (o != "org").then_some(o)),
                rate_limit,
            };
            let view = s
                .wait(connectors::update(
                    &env(s),
                    &Requester::cli(org),
                    c.id,
                    patch,
                    now,
                ))
                .map_err(CliError::new)?;
            show(&view);
            Ok(())
        }
        ConnectorCommand::Token {
            connector,
            name,
            scopes,
            expires,
            org,
        } => {
            let org = org::id(s, &org)?;
            let c = find(s, org, &connector)?;
            let request = ConnectorTokenRequest {
                name,
                scopes: (!scopes.is_empty()).then_some(scopes),
                expires_at: expires,
            };
            let created = s
                .wait(connectors::mint_token(
                    &env(s),
                    &Requester::cli(org),
                    c.id,
                    request,
                    now,
                ))
                .map_err(CliError::new)?;
            println!(
                "Created token {} ({}) for connector {}; its value, shown only now:",
                created.view.id, created.view.name, c.name
            );
            println!("{}", created.token);
            Ok(())
        }
        ConnectorCommand::Delete { connector, org } => {
            let org = org::id(s, &org)?;
            let c = find(s, org, &connector)?;
            s.wait(connectors::delete(&env(s), &Requester::cli(org), c.id, now))
                .map_err(CliError::new)?;
            println!("Deleted connector {} ({}) and its tokens", c.name, c.id);
            Ok(())
        }
        ConnectorCommand::Transfer {
            from,
            to,
            resource_type,
            org,
        } => {
            let org = org::id(s, &org)?;
            let pick = |key: &str| -> Result<Option<Uuid>, CliError> {
                if key == "none" {
                    Ok(None)
                } else {
                    Ok(Some(find(s, org, key)?.id))
                }
            };
            let request = TransferRequest {
                from: pick(&from)?,
                to: pick(&to)?,
                resource_type,
                resource_id: None,
            };
            let done = s
                .wait(connectors::transfer(
                    &s.pool,
                    &s.retries,
                    &Requester::cli(org),
                    request,
                    now,
                ))
                .map_err(CliError::new)?;
            println!(
                "Transferred {} resources from {from} to {to}",
                done.transferred
            );
            Ok(())
        }
    }
}
