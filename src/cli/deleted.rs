//! `scimd deleted list|restore|purge`: the same `service::deleted`
//! operations as `/api/v1/deleted`, audited under `cli`.

use clap::Subcommand;
use uuid::Uuid;

use super::{org, CliError, Session};
use crate::service::deleted;
use crate::service::Requester;
use crate::store::orgs::DEFAULT_ORG_NAME;

#[derive(Debug, Subcommand)]
pub enum DeletedCommand {
    /// List soft-deleted resources, newest first.
    List {
        /// Only this type (User, Group or a declared type).
        #[arg(long = "type")]
        resource_type: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Restore one by id: same id, memberships in the groups that remain.
    Restore {
        id: String,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Remove one for good now, or with `--expired` every one past its
    /// organization's retention (what the server does every ten minutes).
    Purge {
        id: Option<String>,
        #[arg(long)]
        expired: bool,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
}

fn id_of(raw: &str) -> Result<Uuid, CliError> {
    Uuid::parse_str(raw).map_err(|_| CliError::new(format!("'{raw}' is not an id")))
}

pub(super) fn run(s: &Session, cmd: DeletedCommand) -> Result<(), CliError> {
    let now = s.clock.now();
    match cmd {
        DeletedCommand::List {
            resource_type,
            limit,
            org,
        } => {
            let org = org::id(s, &org)?;
            let page = s.wait(deleted::list(
                &s.pool,
                org,
                resource_type,
                None,
                limit.clamp(1, 500),
            ))?;
            println!("{:<36}  {:<10}  {:<25}  NAME", "ID", "TYPE", "DELETED");
            for r in page.resources {
                println!(
                    "{:<36}  {:<10}  {:<25}  {}",
                    r.id,
                    r.resource_type,
                    r.deleted_at.to_rfc3339(),
                    r.display.unwrap_or_default()
                );
            }
            Ok(())
        }
        DeletedCommand::Restore { id, org } => {
            let org = org::id(s, &org)?;
            let r = s
                .wait(deleted::restore(
                    &s.pool,
                    &s.retries,
                    &Requester::cli(org),
                    id_of(&id)?,
                    now,
                ))
                .map_err(CliError::new)?;
            println!("Restored {} {}", r.resource_type, r.id);
            Ok(())
        }
        DeletedCommand::Purge { id, expired, org } => match (id, expired) {
            (Some(id), false) => {
                let org = org::id(s, &org)?;
                if !s.wait(deleted::purge(
                    &s.pool,
                    &s.retries,
                    &Requester::cli(org),
                    id_of(&id)?,
                    now,
                ))? {
                    return Err(CliError::new(format!("no deleted resource {id}")));
                }
                println!("Purged {id}");
                Ok(())
            }
            (None, true) => {
                let n = deleted::purge_expired(&s.pool, now)?;
                println!("Purged {n} soft-deleted resources past retention");
                Ok(())
            }
            _ => Err(CliError::new("give an id or --expired")),
        },
    }
}
