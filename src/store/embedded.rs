//! The embedded PostgreSQL cluster: with no `DATABASE_URL`, scimd creates (on
//! first run) or reuses a cluster in `<data dir>/pg`, listening only on a Unix
//! socket inside that directory, and stops it when it exits. The test harness
//! uses the same code to make its throwaway clusters.
//!
//! PostgreSQL refuses to run as root, so when scimd runs as root every server
//! binary is run as the `postgres` OS user, which then owns the cluster files.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::unistd::{Gid, Uid, User};

/// The socket file name PostgreSQL uses for `port`; scimd never opens a TCP
/// port for the embedded cluster, so the number only names the socket.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes by `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 107;
pub const SUPERUSER: &str = "scimd";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, in SCIMD_PG_BIN or under /usr/lib/postgresql/*/bin; install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL")]
    BinariesNotFound,
    #[error("scimd runs as root, and PostgreSQL refuses root: a 'postgres' OS user is needed to run the embedded cluster (create one, run scimd as another user, or set DATABASE_URL)")]
    NoPostgresUser,
    #[error("the socket path {0} is longer than the 107 bytes Unix sockets allow; choose a shorter SCIMD_DATA_DIR")]
    SocketPathTooLong(String),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// Finds the directory holding `initdb` and `pg_ctl`: an explicit one, then
/// PATH, then the newest Debian/Ubuntu `/usr/lib/postgresql/<version>/bin`.
pub fn find_bin_dir(explicit: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = explicit {
        return if has_tools(d) {
            Ok(d.to_path_buf())
        } else {
            Err(EmbeddedError::BinariesNotFound)
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_tools(&d) {
                // Follow links (e.g. /usr/local/bin/initdb) to the real
                // installation, which also holds pg_dump and pg_restore.
                let real = fs::canonicalize(d.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|r| has_tools(r));
                return Ok(real.unwrap_or(d));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, d)| d)
        .ok_or(EmbeddedError::BinariesNotFound)
}

/// A PostgreSQL client tool (`pg_dump`, `pg_restore`): beside the server
/// binaries when it is there, else wherever PATH has it.
pub fn find_tool(bin_dir: &Path, tool: &str) -> PathBuf {
    let beside = bin_dir.join(tool);
    if beside.is_file() {
        return beside;
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|d| d.join(tool))
                .find(|p| p.is_file())
        })
        .unwrap_or(beside)
}

/// Who the server binaries run as: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

fn run_as() -> Result<Option<RunAs>, EmbeddedError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(u)) => Ok(Some(RunAs {
            uid: u.uid,
            gid: u.gid,
        })),
        _ => Err(EmbeddedError::NoPostgresUser),
    }
}

/// A PostgreSQL cluster directory that scimd manages.
#[derive(Debug)]
pub struct Cluster {
    bin_dir: PathBuf,
    /// `<data dir>/pg`: PGDATA, and also the socket directory.
    dir: PathBuf,
    log_file: PathBuf,
    run_as: Option<RunAs>,
}

impl Cluster {
    /// Prepares `<data_dir>/pg`, running initdb when it holds no cluster yet.
    pub fn init(data_dir: &Path, bin_dir: PathBuf) -> Result<Cluster, EmbeddedError> {
        let run_as = run_as()?;
        fs::create_dir_all(data_dir).map_err(io_err(format!(
            "cannot create data directory {}",
            data_dir.display()
        )))?;
        let data_dir = data_dir.canonicalize().map_err(io_err(format!(
            "cannot resolve data directory {}",
            data_dir.display()
        )))?;
        let dir = data_dir.join("pg");
        let socket = dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::SocketPathTooLong(
                socket.display().to_string(),
            ));
        }
        let cluster = Cluster {
            bin_dir,
            log_file: data_dir.join("postgres.log"),
            dir,
            run_as,
        };
        if let Some(ra) = run_as {
            make_traversable(&data_dir, ra)?;
        }
        if !cluster.dir.join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        cluster.write_settings()?;
        Ok(cluster)
    }

    fn owned_path(&self, path: &Path, dir: bool) -> Result<(), EmbeddedError> {
        if dir {
            fs::create_dir_all(path)
        } else {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(|_| ())
        }
        .map_err(io_err(format!("cannot create {}", path.display())))?;
        if let Some(ra) = self.run_as {
            std::os::unix::fs::chown(path, Some(ra.uid.as_raw()), Some(ra.gid.as_raw())).map_err(
                io_err(format!("cannot chown {} to postgres", path.display())),
            )?;
        }
        if dir {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .map_err(io_err(format!("cannot chmod {}", path.display())))?;
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), EmbeddedError> {
        self.owned_path(&self.dir, true)?;
        // Locale C keeps sorting byte-wise and identical on every machine;
        // scimd folds case itself, in Rust, for case-insensitive attributes.
        let out = self.run(
            "initdb",
            &[
                "-D".as_ref(),
                self.dir.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--auth=trust".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--no-locale".as_ref(),
            ],
        )?;
        check(out, "initdb")?;
        let conf = self.dir.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_err("cannot read postgresql.conf"))?;
        text.push_str("\n# scimd: settings that depend on where the cluster lives\ninclude_if_exists = 'scimd.conf'\n");
        fs::write(&conf, text).map_err(io_err("cannot write postgresql.conf"))
    }

    /// Rewritten before every start, so a moved data directory still works.
    fn write_settings(&self) -> Result<(), EmbeddedError> {
        let socket_dir = self.dir.display().to_string().replace('\'', "''");
        let text = format!(
            "# written by scimd at every start; edit postgresql.conf instead\n\
             listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{socket_dir}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 200\n"
        );
        let path = self.dir.join("scimd.conf");
        fs::write(&path, text).map_err(io_err("cannot write scimd.conf"))?;
        if let Some(ra) = self.run_as {
            std::os::unix::fs::chown(&path, Some(ra.uid.as_raw()), Some(ra.gid.as_raw()))
                .map_err(io_err("cannot chown scimd.conf"))?;
        }
        Ok(())
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<Output, EmbeddedError> {
        let mut cmd = Command::new(self.bin_dir.join(tool));
        cmd.args(args)
            .current_dir("/")
            .env_remove("PGDATA")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null());
        if let Some(ra) = self.run_as {
            cmd.uid(ra.uid.as_raw()).gid(ra.gid.as_raw());
        }
        cmd.output().map_err(io_err(format!("cannot run {tool}")))
    }

    pub fn is_running(&self) -> bool {
        self.run(
            "pg_ctl",
            &["status".as_ref(), "-D".as_ref(), self.dir.as_os_str()],
        )
        .map(|o| o.status.success())
        .unwrap_or(false)
    }

    /// Starts the cluster unless it already runs. Returns whether this call
    /// started it (and so whether the caller should stop it).
    pub fn start(&self) -> Result<bool, EmbeddedError> {
        if self.is_running() {
            return Ok(false);
        }
        self.owned_path(&self.log_file, false)?;
        let out = self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-D".as_ref(),
                self.dir.as_os_str(),
                "-l".as_ref(),
                self.log_file.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
            ],
        )?;
        check(out, "pg_ctl start").map_err(|e| match e {
            EmbeddedError::Command { what, detail } => EmbeddedError::Command {
                what,
                detail: format!("{detail} (see {})", self.log_file.display()),
            },
            other => other,
        })?;
        Ok(true)
    }

    /// A fast shutdown: open transactions roll back, committed data is flushed.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.is_running() {
            return Ok(());
        }
        let out = self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-D".as_ref(),
                self.dir.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
            ],
        )?;
        check(out, "pg_ctl stop")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A libpq key/value connection string for `dbname` over the socket.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host={} port={PORT} user={SUPERUSER} dbname={}",
            conninfo_quote(&self.dir.display().to_string()),
            conninfo_quote(dbname)
        )
    }
}

/// Quotes a libpq conninfo value: single quotes, with `\` and `'` escaped.
fn conninfo_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn check(out: Output, what: &str) -> Result<(), EmbeddedError> {
    if out.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    Err(EmbeddedError::Command {
        what: what.to_string(),
        detail: format!("{} ({})", detail.replace('\n', "; "), out.status),
    })
}

/// The postgres user must be able to reach the cluster through every parent
/// directory (a checkout under /root is not reachable by default). Grants only
/// search permission (o+x), never read, and says so in the log.
fn make_traversable(dir: &Path, ra: RunAs) -> Result<(), EmbeddedError> {
    use std::os::unix::fs::MetadataExt;
    for anc in dir.ancestors() {
        let meta = fs::metadata(anc).map_err(io_err(format!("cannot stat {}", anc.display())))?;
        let mode = meta.mode();
        let ok = if meta.uid() == ra.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == ra.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            log::warn!(
                "granting search permission (o+x) on {} so the postgres user can reach the embedded cluster",
                anc.display()
            );
            fs::set_permissions(anc, fs::Permissions::from_mode((mode & 0o7777) | 0o001))
                .map_err(io_err(format!("cannot chmod o+x {}", anc.display())))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_values_are_quoted() {
        assert_eq!(conninfo_quote("/a b/it's"), "'/a b/it\\'s'");
    }

    #[test]
    fn explicit_bin_dir_without_tools_is_refused() {
        assert!(matches!(
            find_bin_dir(Some(Path::new("/nonexistent"))),
            Err(EmbeddedError::BinariesNotFound)
        ));
    }
}
