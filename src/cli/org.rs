//! `scimd org create|list|configure`, and the `--org NAME` every token command takes.

use clap::Subcommand;
use uuid::Uuid;

use super::{CliError, Session};
use crate::service::connectors;
use crate::service::orgs::{self, OrgError};
use crate::service::Requester;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations.
    List,
    /// Show or change an organization's policies: who may change what a
    /// connector provisioned, and what a SCIM DELETE does.
    Configure {
        name: String,
        /// shared: any credential may change anything; owned: a connector
        /// changes only what it owns.
        #[arg(long)]
        ownership: Option<String>,
        /// hard: DELETE removes; soft: DELETE hides and keeps for the
        /// retention period.
        #[arg(long)]
        delete: Option<String>,
        /// How long a soft-deleted resource is kept (1 to 3650).
        #[arg(long = "retention-days")]
        retention_days: Option<i64>,
    },
}

pub(super) fn run(s: &Session, cmd: OrgCommand) -> Result<(), CliError> {
    match cmd {
        OrgCommand::Create { name } => {
            let o = s
                .wait(orgs::create(&s.pool, &name, s.clock.now()))
                .map_err(CliError::new)?;
            println!("Created organization {} ({})", o.name, o.id);
            Ok(())
        }
        OrgCommand::Configure {
            name,
            ownership,
            delete,
            retention_days,
        } => {
            let org = id(s, &name)?;
            let view = if ownership.is_none() && delete.is_none() && retention_days.is_none() {
                s.wait(connectors::org_settings(&s.pool, org))?
            } else {
                let request = connectors::OrgSettingsRequest {
                    ownership,
                    delete,
                    retention_days,
                };
                s.wait(connectors::configure_org(
                    &s.pool,
                    &s.retries,
                    &Requester::cli(org),
                    request,
                    s.clock.now(),
                ))
                .map_err(CliError::new)?
            };
            println!("Organization {} ({})", view.name, view.id);
            println!("Ownership:      {}", view.ownership);
            println!("Delete:         {}", view.delete);
            println!("Retention days: {}", view.retention_days);
            Ok(())
        }
        OrgCommand::List => {
            println!("{:<36}  NAME", "ID");
            for o in s.wait(orgs::list(&s.pool))? {
                println!("{:<36}  {}", o.id, o.name);
            }
            Ok(())
        }
    }
}

/// The id of the organization `name` names.
pub(super) fn id(s: &Session, name: &str) -> Result<Uuid, CliError> {
    match s.wait(orgs::by_name(&s.pool, name)) {
        Ok(o) => Ok(o.id),
        Err(e @ OrgError::NotFound(_)) => Err(CliError::new(format!("{e} (see `scimd org list`)"))),
        Err(e) => Err(CliError::new(e)),
    }
}
