//! `scimd subscription create|list|show|pause|resume|replay|rotate-secret|delete`:
//! the same `service::events::subscriptions` operations as
//! `/api/v1/subscriptions`, audited under `cli`.

use clap::Subcommand;
use uuid::Uuid;

use super::{org, CliError, Session};
use crate::service::events::guard::{self, Allowed};
use crate::service::events::subscriptions::{
    self, CreateRequest, Env, PatchRequest, ReplayRequest, SubscriptionView,
};
use crate::service::secretbox::Sealer;
use crate::service::Requester;
use crate::store::orgs::DEFAULT_ORG_NAME;

#[derive(Debug, Subcommand)]
pub enum SubscriptionCommand {
    /// Create a subscription. Prints it and, alone on the last line, its
    /// signing secret (shown once).
    Create {
        /// Where events are POSTed (https://…, or http:// on a host in
        /// SCIMD_WEBHOOK_ALLOWED_HOSTS).
        url: String,
        /// webhook (set-push and set-poll are not built yet).
        #[arg(long, default_value = "webhook")]
        format: String,
        #[arg(long)]
        name: Option<String>,
        /// Only these kinds (repeatable): create, replace, patch, delete,
        /// restore, activate, deactivate, membership.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Only these resource types (repeatable): User, Group, or a
        /// declared type.
        #[arg(long = "type")]
        resource_types: Vec<String>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// List the subscriptions of an organization, with their delivery state.
    List {
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Stop delivering (events keep accumulating for it).
    Pause {
        id: Uuid,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Deliver again, from where it stopped.
    Resume {
        id: Uuid,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Deliver again from an event number (`--from-sequence`) or a time
    /// (`--from-time`, RFC 3339).
    Replay {
        id: Uuid,
        #[arg(long = "from-sequence")]
        from_sequence: Option<i64>,
        #[arg(long = "from-time")]
        from_time: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// A new signing secret (printed alone on the last line, once); the
    /// old one keeps signing beside it for a day.
    RotateSecret {
        id: Uuid,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Delete a subscription.
    Delete {
        id: Uuid,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
}

fn keys(s: &Session<'_>) -> Result<(Sealer, Allowed), CliError> {
    let sealer = Sealer::load(
        &s.config.data_dir,
        s.config.secrets_key.as_ref().map(|k| k.expose()),
        s.config.secrets_key_file.as_deref(),
    )
    .map_err(CliError::new)?;
    let allowed = guard::parse_allowed(&s.config.webhook_allowed_hosts)
        .map_err(|e| CliError::new(format!("SCIMD_WEBHOOK_ALLOWED_HOSTS: {e}")))?;
    Ok((sealer, allowed))
}

fn show(v: &SubscriptionView) {
    println!("Subscription {} ({})", v.name, v.id);
    println!("Format:    {}", v.format);
    if let Some(u) = &v.url {
        println!("URL:       {u}");
    }
    let list = |l: &Option<Vec<String>>| l.as_ref().map_or("all".to_string(), |l| l.join(", "));
    println!("Events:    {}", list(&v.events));
    println!("Types:     {}", list(&v.resource_types));
    println!(
        "State:     {}; position {}, {} behind, {} delivered, {} dead letters",
        if v.paused { "paused" } else { "active" },
        v.position,
        v.delivery.lag,
        v.delivery.delivered,
        v.delivery.dead_letters
    );
    if let Some(e) = &v.delivery.last_error {
        println!("Last error: {e}");
    }
}

fn some_list(v: Vec<String>) -> Option<Vec<String>> {
    (!v.is_empty()).then_some(v)
}

pub(super) fn run(s: &Session, cmd: SubscriptionCommand) -> Result<(), CliError> {
    let now = s.clock.now();
    let (sealer, allowed) = keys(s)?;
    let env = Env {
        pool: &s.pool,
        retries: &s.retries,
        sealer: &sealer,
        allowed: &allowed,
    };
    let patch = |id: Uuid, org: &str, p: PatchRequest| -> Result<(), CliError> {
        let by = Requester::cli(org::id(s, org)?);
        let v = s
            .wait(subscriptions::update(&env, &by, id, p, now))
            .map_err(CliError::new)?;
        show(&v);
        Ok(())
    };
    match cmd {
        SubscriptionCommand::Create {
            url,
            format,
            name,
            events,
            resource_types,
            org,
        } => {
            let by = Requester::cli(org::id(s, &org)?);
            let request = CreateRequest {
                name,
                format,
                url: Some(url),
                events: some_list(events),
                resource_types: some_list(resource_types),
                payload: None,
            };
            let created = s
                .wait(subscriptions::create(&env, &by, request, now))
                .map_err(CliError::new)?;
            show(&created.view);
            println!("Signing secret, shown only now:");
            println!("{}", created.secret);
            Ok(())
        }
        SubscriptionCommand::List { org } => {
            let org = org::id(s, &org)?;
            let all = s
                .wait(subscriptions::list(&s.pool, org))
                .map_err(CliError::new)?;
            println!(
                "{:<36}  {:<7}  {:<8}  {:>8}  {:>6}  URL",
                "ID", "FORMAT", "STATE", "POSITION", "BEHIND"
            );
            for v in all {
                println!(
                    "{:<36}  {:<7}  {:<8}  {:>8}  {:>6}  {}",
                    v.id,
                    v.format,
                    if v.paused { "paused" } else { "active" },
                    v.position,
                    v.delivery.lag,
                    v.url.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        SubscriptionCommand::Pause { id, org } => patch(
            id,
            &org,
            PatchRequest {
                paused: Some(true),
                ..PatchRequest::default()
            },
        ),
        SubscriptionCommand::Resume { id, org } => patch(
            id,
            &org,
            PatchRequest {
                paused: Some(false),
                ..PatchRequest::default()
            },
        ),
        SubscriptionCommand::Replay {
            id,
            from_sequence,
            from_time,
            org,
        } => {
            let by = Requester::cli(org::id(s, &org)?);
            let v = s
                .wait(subscriptions::replay(
                    &env,
                    &by,
                    id,
                    ReplayRequest {
                        from_sequence,
                        from_time,
                    },
                    now,
                ))
                .map_err(CliError::new)?;
            show(&v);
            Ok(())
        }
        SubscriptionCommand::RotateSecret { id, org } => {
            let by = Requester::cli(org::id(s, &org)?);
            let created = s
                .wait(subscriptions::rotate_secret(&env, &by, id, now))
                .map_err(CliError::new)?;
            show(&created.view);
            println!("New signing secret, shown only now:");
            println!("{}", created.secret);
            Ok(())
        }
        SubscriptionCommand::Delete { id, org } => {
            let by = Requester::cli(org::id(s, &org)?);
            s.wait(subscriptions::delete(&env, &by, id, now))
                .map_err(CliError::new)?;
            println!("Deleted subscription {id}");
            Ok(())
        }
    }
}
