//! `scimd schema add|list|show|replace|remove`: the same `service::schemas`
//! operations as `/api/v1/schemas`, audited under `cli`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;

use super::{org, CliError, Session};
use crate::scim::schema::Registry;
use crate::service::custom::{self, TypeRequest};
use crate::service::schemas::{self, DeclareRequest, Env, SchemaError, Settings};
use crate::service::Requester;
use crate::store::orgs::DEFAULT_ORG_NAME;

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Declare the schemas in FILE (`-` for stdin): one
    /// `{"extends": "User", "schema": {…}}` object or an array of them, as
    /// the API takes; each is declared in order, in its own transaction,
    /// and the first refusal stops the rest.
    Add {
        file: PathBuf,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// List the schemas an organization declared.
    List {
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Print a declared schema as the API shows it.
    Show {
        urn: String,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Replace a declared schema with the one object in FILE.
    Replace {
        file: PathBuf,
        /// Apply even if stored values no longer fit; they are removed.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Show, or set, what the organization does with attributes nobody
    /// declared: `reject` (400, the default) or `ignore` (accepted without
    /// them; the audit entry lists them).
    Undeclared {
        #[arg(value_parser = ["reject", "ignore"])]
        mode: Option<String>,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
    /// Remove a declared schema.
    Remove {
        urn: String,
        /// Remove it even if resources carry it; their values go with it.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = DEFAULT_ORG_NAME)]
        org: String,
    },
}

/// One entry of a `schema add` file: an extension schema, or a resource
/// type with its core schema (told apart by the `resourceType` key).
enum Entry {
    Schema(DeclareRequest),
    Type(TypeRequest),
}

/// The entries in `file`: one object or an array of objects.
fn read_entries(file: &Path) -> Result<Vec<Entry>, CliError> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::new(format!("{} is not JSON: {e}", file.display())))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let is_type = v.get("resourceType").is_some();
            let bad = |e: serde_json::Error| {
                CliError::new(format!(
                    "{} entry {i}: {e} (expected {{\"extends\": \"User\", \"required\": false, \"schema\": {{…}}}} or {{\"resourceType\": {{…}}, \"schema\": {{…}}}})",
                    file.display()
                ))
            };
            if is_type {
                serde_json::from_value(v).map(Entry::Type).map_err(bad)
            } else {
                serde_json::from_value(v).map(Entry::Schema).map_err(bad)
            }
        })
        .collect()
}

fn explain(e: SchemaError) -> CliError {
    match e {
        SchemaError::Invalid(fields) => CliError::new(
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        other => CliError::new(other),
    }
}

pub(super) fn run(s: &Session, cmd: SchemaCommand) -> Result<(), CliError> {
    let base = Arc::new(Registry::new().with_max_values(s.config.max_values_per_attribute));
    let env = Env {
        pool: &s.pool,
        retries: &s.retries,
        base,
        max_schemas: s.config.max_schemas_per_org,
    };
    match cmd {
        SchemaCommand::Add { file, org } => {
            let by = Requester::cli(org::id(s, &org)?);
            for entry in read_entries(&file)? {
                match entry {
                    Entry::Schema(request) => {
                        let view = s
                            .wait(schemas::add(&env, &by, request, s.clock.now()))
                            .map_err(explain)?;
                        println!(
                            "Declared {} (extends {}) in organization {org}",
                            view.id, view.extends
                        );
                    }
                    Entry::Type(request) => {
                        let view = s
                            .wait(custom::add_type(&env, &by, request, s.clock.now()))
                            .map_err(explain)?;
                        println!(
                            "Declared resource type {} at {} in organization {org}",
                            view.name, view.endpoint
                        );
                    }
                }
            }
            Ok(())
        }
        SchemaCommand::List { org } => {
            let org_id = org::id(s, &org)?;
            let views = s.wait(schemas::list(&s.pool, org_id))?;
            println!(
                "{:<64}  {:<7}  {:<8}  ATTRIBUTES",
                "URN", "EXTENDS", "REQUIRED"
            );
            for v in views {
                let attributes = v.schema["attributes"].as_array().map_or(0, Vec::len);
                println!(
                    "{:<64}  {:<7}  {:<8}  {attributes}",
                    v.id, v.extends, v.required
                );
            }
            for t in s.wait(custom::list_types(&s.pool, org_id))? {
                let attributes = t.schema["attributes"].as_array().map_or(0, Vec::len);
                println!(
                    "{:<64}  {:<7}  {:<8}  {attributes}",
                    format!("{} (resource type, {})", t.name, t.endpoint),
                    "-",
                    "-"
                );
            }
            Ok(())
        }
        SchemaCommand::Show { urn, org } => {
            let org_id = org::id(s, &org)?;
            let view = s
                .wait(schemas::get(&s.pool, org_id, &urn))
                .map_err(explain)?;
            let text = serde_json::to_string_pretty(&view).map_err(CliError::new)?;
            println!("{text}");
            Ok(())
        }
        SchemaCommand::Replace { file, force, org } => {
            let by = Requester::cli(org::id(s, &org)?);
            let mut entries = read_entries(&file)?;
            if entries.len() != 1 {
                return Err(CliError::new(format!(
                    "{} must hold one schema or resource type to replace, not {}",
                    file.display(),
                    entries.len()
                )));
            }
            match entries.remove(0) {
                Entry::Schema(request) => {
                    let urn = request.schema["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let view = s
                        .wait(schemas::replace(
                            &env,
                            &by,
                            &urn,
                            request,
                            force,
                            s.clock.now(),
                        ))
                        .map_err(explain)?;
                    println!("Replaced {} in organization {org}", view.id);
                }
                Entry::Type(request) => {
                    let name = request.resource_type["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let view = s
                        .wait(custom::replace_type(
                            &env,
                            &by,
                            &name,
                            request,
                            force,
                            s.clock.now(),
                        ))
                        .map_err(explain)?;
                    println!("Replaced resource type {} in organization {org}", view.name);
                }
            }
            Ok(())
        }
        SchemaCommand::Undeclared { mode, org } => {
            let org_id = org::id(s, &org)?;
            let now = match mode {
                None => s.wait(schemas::settings(&s.pool, org_id))?,
                Some(mode) => s
                    .wait(schemas::set_settings(
                        &env,
                        &Requester::cli(org_id),
                        Settings {
                            undeclared_attributes: mode,
                        },
                        s.clock.now(),
                    ))
                    .map_err(explain)?,
            };
            println!(
                "undeclared_attributes: {} (organization {org})",
                now.undeclared_attributes
            );
            Ok(())
        }
        SchemaCommand::Remove { urn, force, org }
            if !urn.to_ascii_lowercase().starts_with("urn:") =>
        {
            let by = Requester::cli(org::id(s, &org)?);
            s.wait(custom::remove_type(&env, &by, &urn, force, s.clock.now()))
                .map_err(explain)?;
            println!("Removed resource type {urn} from organization {org}");
            Ok(())
        }
        SchemaCommand::Remove { urn, force, org } => {
            let by = Requester::cli(org::id(s, &org)?);
            s.wait(schemas::remove(&env, &by, &urn, force, s.clock.now()))
                .map_err(explain)?;
            println!("Removed {urn} from organization {org}");
            Ok(())
        }
    }
}
