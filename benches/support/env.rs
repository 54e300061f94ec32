//! The benchmark's world: a throwaway PostgreSQL cluster in a temp dir (made
//! by scimd's own embedded-cluster code), a migrated database, scimd served
//! in this process on a loopback port (or, for the soak, as its own process,
//! so its memory is measured apart from the clients'), and an `all` token.
//!
//! Clean-up: [`ClusterGuard`] stops the cluster and deletes its directory
//! when dropped (normal exit, error, panic); a watchdog shell process does
//! the same if this process is killed outright.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use scimd::auth::scope::Scope;
use scimd::clock::Clock;
use scimd::config::{Config, ConfigArgs};
use scimd::service::tokens::{self, NewToken};
use scimd::state::AppState;
use scimd::store::embedded::{self, Cluster};
use scimd::store::orgs::DEFAULT_ORG_ID;
use scimd::store::{self, migrate, PoolSettings};

use super::Res;

pub const DB_NAME: &str = "scimd_bench";
/// HTTP workers, as the brief for these figures says.
const WORKERS: usize = 2;

/// A running throwaway cluster; dropping it shuts it down and deletes it.
pub struct ClusterGuard {
    root: PathBuf,
    cluster: Cluster,
}

impl ClusterGuard {
    pub fn start() -> Res<ClusterGuard> {
        let root = std::env::temp_dir().join(format!("scimd-bench-{}", std::process::id()));
        let bin = embedded::find_bin_dir(None)?;
        let cluster = match Cluster::init(&root, bin) {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&root);
                return Err(e.into());
            }
        };
        // From here on the directory exists: clean it up on every path out.
        let guard = ClusterGuard { root, cluster };
        spawn_watchdog(&guard.root, guard.cluster.dir())?;
        guard.cluster.start()?;
        Ok(guard)
    }

    pub fn url(&self, dbname: &str) -> String {
        self.cluster.url(dbname)
    }

    /// Creates and migrates the benchmark database; returns its URL.
    pub fn prepare_database(&self) -> Res<String> {
        store::ensure_database(&self.url("postgres"), DB_NAME)?;
        let url = self.url(DB_NAME);
        migrate::run_pending(&url)?;
        Ok(url)
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.cluster.dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        // Immediate shutdown (SIGQUIT): the data is thrown away anyway.
        if let Some(pid) = self.postmaster_pid() {
            let pid = Pid::from_raw(pid);
            if kill(pid, Signal::SIGQUIT).is_ok() {
                let deadline = Instant::now() + Duration::from_secs(15);
                while kill(pid, None).is_ok() && Instant::now() < deadline {
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            eprintln!("could not delete {}: {e}", self.root.display());
        }
    }
}

/// Stops the cluster and deletes its directory once this process is gone,
/// however it ended (the guard's `Drop` does not run on SIGKILL).
fn spawn_watchdog(root: &Path, pgdata: &Path) -> Res<()> {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         [ -f '{pgdata}/postmaster.pid' ] && kill -QUIT $(head -1 '{pgdata}/postmaster.pid') 2>/dev/null; \
         sleep 2; rm -rf '{root}'",
        pid = std::process::id(),
        pgdata = pgdata.display(),
        root = root.display()
    );
    // Deliberately not waited for: it must outlive this process.
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::mem::forget(child);
    Ok(())
}

/// `scimd serve`'s command-line flags, to build a [`Config`] the way the
/// server does (with its defaults and checks).
#[derive(clap::Parser)]
struct Flags {
    #[command(flatten)]
    config: ConfigArgs,
}

/// The flags `scimd serve` runs with here, in-process or as a child: its
/// defaults, pointed at the benchmark database. The settings that shape the
/// figures are given explicitly (they are the defaults), so environment
/// variables cannot change them.
fn serve_flags(db_url: &str, data_dir: &str, listen: &str) -> Vec<String> {
    [
        "--database-url",
        db_url,
        "--data-dir",
        data_dir,
        "--listen",
        listen,
        "--db-pool-size",
        "10",
        "--db-acquire-timeout-ms",
        "1500",
        "--db-statement-timeout-ms",
        "10000",
    ]
    .map(String::from)
    .to_vec()
}

fn config(db_url: &str) -> Res<Config> {
    let data_dir = std::env::temp_dir().display().to_string();
    let args = std::iter::once("scimd-bench".to_string()).chain(serve_flags(
        db_url,
        &data_dir,
        "127.0.0.1:0",
    ));
    let flags = Flags::try_parse_from(args)?;
    Ok(flags.config.into_config()?)
}

/// scimd serving in this process; dropping it stops the server.
pub struct ServerGuard {
    pub base: String,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl ServerGuard {
    pub fn start(db_url: &str) -> Res<ServerGuard> {
        let config = config(db_url)?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        let pool = store::build_pool(
            db_url,
            &PoolSettings {
                size: config.db_pool_size,
                acquire_timeout: config.db_acquire_timeout,
                statement_timeout: config.db_statement_timeout,
            },
        );
        let state = AppState::new(pool, config, Clock::default())?;
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let sys = actix_web::rt::System::new();
            sys.block_on(async move {
                match scimd::server::start(state, listener, WORKERS) {
                    Ok(server) => {
                        let _ = tx.send(Ok(server.handle()));
                        let _ = server.await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        });
        let handle = rx.recv()??;
        Ok(ServerGuard {
            base,
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        actix_web::rt::System::new().block_on(handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The `scimd` binary serving in a child process, with the flags
/// [`config`] uses; dropping it stops it with SIGTERM.
pub struct ChildServer {
    pub base: String,
    child: Child,
    data_dir: PathBuf,
}

impl ChildServer {
    pub fn start(db_url: &str) -> Res<ChildServer> {
        // A port the kernel just handed out; the moment between releasing
        // it and scimd binding it is the only race, and loopback is ours.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let data_dir =
            std::env::temp_dir().join(format!("scimd-bench-child-{}", std::process::id()));
        std::fs::create_dir_all(&data_dir)?;
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_scimd"))
            .args(serve_flags(
                db_url,
                &data_dir.display().to_string(),
                &listen,
            ))
            .arg("serve")
            .env_remove("AUTH_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = ChildServer {
            base: format!("http://{listen}"),
            child,
            data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{}/ready", server.base)).call().is_err() {
            if Instant::now() > deadline {
                return Err("scimd (child process) did not become ready in 30 s".into());
            }
            thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The server process's resident memory in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        status_field(&format!("/proc/{}/status", self.child.id()), "VmRSS:")
    }

    /// The server process's peak resident memory in KiB (`VmHWM`).
    pub fn peak_kib(&self) -> u64 {
        status_field(&format!("/proc/{}/status", self.child.id()), "VmHWM:")
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Mints an `all` token in the default organization; returns its value.
pub fn mint_token(db_url: &str) -> Res<String> {
    let mut conn = PgConnection::establish(db_url)?;
    let new = NewToken {
        name: "bench".into(),
        scopes: vec![Scope::All],
        expires_at: None,
        connector: None,
        rate: None,
    };
    let created = tokens::issue(
        &mut conn,
        DEFAULT_ORG_ID,
        new,
        "bench",
        Clock::default().now(),
    )?;
    Ok(created.token)
}

/// Runs SQL statements on a fresh connection to `db_url`.
pub fn sql(db_url: &str, statements: &str) -> Res<()> {
    let mut conn = PgConnection::establish(db_url)?;
    conn.batch_execute(statements)?;
    Ok(())
}

/// The machine, for the report: core count and CPU model.
pub fn machine() -> String {
    let cores = thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| (kb + (1 << 19)) >> 20);
    format!("nproc = {cores}, {model}, {mem_gib} GiB RAM")
}

fn status_field(status_file: &str, field: &str) -> u64 {
    std::fs::read_to_string(status_file)
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
