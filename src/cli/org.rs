//! `scimd org create|list`, and the `--org NAME` every token command takes.

use clap::Subcommand;
use uuid::Uuid;

use super::{CliError, Session};
use crate::service::orgs::{self, OrgError};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations.
    List,
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
