//! Every migration applies, reverts and applies again, and each `down.sql`
//! undoes exactly what its `up.sql` did: the schema (`pg_dump
//! --schema-only`) after reverting a migration is the schema from before it
//! was applied.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use diesel::migration::MigrationSource;
use diesel::pg::{Pg, PgConnection};
use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use crate::harness::TestDb;
use scimd::store::embedded;
use scimd::store::migrate::{self, MIGRATIONS};

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty();
    assert!(migrate::run_pending(&db.url).unwrap() > 0);
    assert_eq!(migrate::run_pending(&db.url).unwrap(), 0, "idempotent");
    migrate::revert_all(&db.url).unwrap();
    assert!(migrate::run_pending(&db.url).unwrap() > 0);
}

#[test]
fn every_down_migration_restores_the_schema_before_its_up() {
    let failures = reversal_failures(&TestDb::empty(), || MIGRATIONS);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The check above would catch a `down.sql` that forgets an index: here it
/// is run over our migrations plus one that does.
#[test]
fn a_down_migration_that_leaves_an_index_behind_is_caught() {
    let dir = std::env::temp_dir().join(format!("scimd-leaky-{}", uuid::Uuid::new_v4()));
    copy_dir(Path::new("migrations"), &dir);
    let leaky = dir.join("2999-01-01-000001_leaky");
    std::fs::create_dir(&leaky).unwrap();
    std::fs::write(
        leaky.join("up.sql"),
        "CREATE INDEX leaky_idx ON organizations (created_at);",
    )
    .unwrap();
    std::fs::write(leaky.join("down.sql"), "SELECT 1;").unwrap();
    let source = FileBasedMigrations::from_path(&dir).unwrap();
    let failures = reversal_failures(&TestDb::empty(), || source.clone());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("leaky"), "{}", failures[0]);
    assert!(failures[0].contains("leaky_idx"), "{}", failures[0]);
}

/// Applies the migrations `source` gives one at a time, dumping the schema after
/// each, then reverts them one at a time and compares. Returns one message
/// per migration whose revert does not restore the earlier schema, and one
/// if applying everything again does not give the same schema as the first
/// time.
fn reversal_failures<S: MigrationSource<Pg>>(db: &TestDb, source: impl Fn() -> S) -> Vec<String> {
    let mut conn = PgConnection::establish(&db.url).unwrap();
    let names: Vec<String> = conn
        .pending_migrations(source())
        .unwrap()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    assert!(!names.is_empty());
    let mut schemas = vec![schema(db)];
    for _ in &names {
        conn.run_next_migration(source()).unwrap();
        schemas.push(schema(db));
    }
    let mut failures = Vec::new();
    // What a later revert left behind shows up again at every earlier step;
    // each migration is blamed only for what its own revert adds.
    let mut left = BTreeSet::new();
    for (i, name) in names.iter().enumerate().rev() {
        conn.revert_last_migration(source()).unwrap();
        let now = difference(&schemas[i], &schema(db));
        let new: Vec<&String> = now.difference(&left).collect();
        if !new.is_empty() {
            let lines: Vec<&str> = new.iter().map(|l| l.as_str()).collect();
            failures.push(format!(
                "reverting {name} does not restore the schema:\n{}",
                lines.join("\n")
            ));
        }
        left = now;
    }
    conn.run_pending_migrations(source()).unwrap();
    let again = difference(&schemas[names.len()], &schema(db));
    if !again.is_empty() {
        let lines: Vec<&str> = again.iter().map(|l| l.as_str()).collect();
        failures.push(format!(
            "applying again gives another schema:\n{}",
            lines.join("\n")
        ));
    }
    failures
}

/// The schema as `pg_dump` writes it, without comments, blank lines,
/// diesel's own bookkeeping table, or the random `\restrict` keys newer
/// pg_dump releases add.
fn schema(db: &TestDb) -> String {
    let bin = embedded::find_bin_dir(None).unwrap();
    let out = Command::new(embedded::find_tool(&bin, "pg_dump"))
        .args(["--schema-only", "--no-owner", "--no-privileges"])
        .args(["--exclude-table", "__diesel_schema_migrations"])
        .arg("--dbname")
        .arg(&db.url)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The statements only one of two dumps has, marked `-` (lost) or `+`
/// (left over); empty when they are equal. Two dumps with the same
/// statements in another order count as different.
fn difference(before: &str, after: &str) -> BTreeSet<String> {
    let a: BTreeSet<&str> = before.lines().collect();
    let b: BTreeSet<&str> = after.lines().collect();
    let mut out: BTreeSet<String> = a.difference(&b).map(|l| format!("  - {l}")).collect();
    out.extend(b.difference(&a).map(|l| format!("  + {l}")));
    if out.is_empty() && before != after {
        out.insert("  (the same statements, in another order)".into());
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
