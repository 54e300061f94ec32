//! `scimd backup` and `scimd restore`: a consistent dump (pg_dump takes a
//! snapshot, so the server may keep running) and its restore into an empty
//! database, in one transaction so a failed restore leaves nothing behind.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::embedded;
use super::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Tools(#[from] embedded::EmbeddedError),
    #[error("cannot run {0}: {1}")]
    Spawn(&'static str, std::io::Error),
    #[error("{0} failed: {1}")]
    Failed(&'static str, String),
    #[error("restore needs an empty database, but this one already holds {0} table(s); use a new SCIMD_DATA_DIR (or an empty DATABASE_URL)")]
    NotEmpty(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn run(tool: &'static str, bin_dir: &Path, args: &[&std::ffi::OsStr]) -> Result<(), BackupError> {
    let out = Command::new(embedded::find_tool(bin_dir, tool))
        .args(args)
        .output()
        .map_err(|e| BackupError::Spawn(tool, e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::Failed(
            tool,
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .replace('\n', "; "),
        ))
    }
}

pub fn backup(url: &str, bin_dir: &Path, file: &Path) -> Result<(), BackupError> {
    run(
        "pg_dump",
        bin_dir,
        &[
            "--format=custom".as_ref(),
            "--no-owner".as_ref(),
            "--file".as_ref(),
            file.as_os_str(),
            "--dbname".as_ref(),
            url.as_ref(),
        ],
    )
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

pub fn restore(url: &str, bin_dir: &Path, file: &Path) -> Result<(), BackupError> {
    let mut conn =
        PgConnection::establish(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let tables: Count =
        diesel::sql_query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")
            .get_result(&mut conn)
            .map_err(StoreError::from)?;
    if tables.n > 0 {
        return Err(BackupError::NotEmpty(tables.n));
    }
    drop(conn);
    run(
        "pg_restore",
        bin_dir,
        &[
            "--no-owner".as_ref(),
            "--exit-on-error".as_ref(),
            "--single-transaction".as_ref(),
            "--dbname".as_ref(),
            url.as_ref(),
            file.as_os_str(),
        ],
    )
}
