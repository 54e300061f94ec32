//! `scimd org create|list`, and the `--org NAME` every token command takes.

use clap::Subcommand;
use diesel::pg::PgConnection;
use uuid::Uuid;

use super::CliError;
use crate::clock::Clock;
use crate::store::{orgs, StoreError};

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List organizations.
    List,
}

pub(super) fn run(conn: &mut PgConnection, cmd: OrgCommand, clock: &Clock) -> Result<(), CliError> {
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

pub(super) fn id(conn: &mut PgConnection, name: &str) -> Result<Uuid, CliError> {
    match orgs::by_name(conn, name) {
        Ok(o) => Ok(o.id),
        Err(StoreError::NotFound) => Err(CliError::new(format!(
            "no organization named {name:?} (see `scimd org list`)"
        ))),
        Err(e) => Err(e.into()),
    }
}
