//! Choosing and preparing the database at start-up: `DATABASE_URL` when set,
//! otherwise the embedded cluster in the data directory, which this process
//! starts and later stops. A lock file in the data directory lets one server
//! own the cluster while CLI commands share it.

use std::fs::{self, File, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::store::embedded::{self, Cluster, EmbeddedError};
use crate::store::{self, migrate, StoreError};

const DB_NAME: &str = "scimd";
/// How long `serve` waits for a CLI command to release the data directory.
const SERVE_LOCK_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `scimd serve`: owns the data directory exclusively.
    Server,
    /// A CLI command: uses a running server's cluster, or starts one briefly.
    Command,
}

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("another scimd server is already running on data directory {0}")]
    Locked(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

pub struct Database {
    pub url: String,
    /// The embedded cluster, when this process owns it and so must stop it.
    owned: Option<Arc<Cluster>>,
    /// Set when shutting down, so the supervisor does not restart the
    /// cluster that `close` is stopping.
    closing: Arc<AtomicBool>,
    _lock: Option<File>,
}

/// How often the supervisor checks that the embedded cluster is alive.
const SUPERVISE_EVERY: Duration = Duration::from_secs(1);
/// Attempts to restart a dead cluster; its orphaned backends may need a few
/// seconds to notice the postmaster died and release shared memory.
const RESTART_ATTEMPTS: usize = 10;

impl Database {
    pub fn open(config: &Config, role: Role) -> Result<Database, BootError> {
        let db = Self::open_unmigrated(config, role)?;
        let applied = migrate::run_pending(&db.url)?;
        if applied > 0 {
            log::info!("applied {applied} database migration(s)");
        }
        Ok(db)
    }

    /// Opens the database without touching its schema (for `restore`).
    pub fn open_unmigrated(config: &Config, role: Role) -> Result<Database, BootError> {
        let db = match &config.database_url {
            Some(url) => Database {
                url: url.expose().to_string(),
                owned: None,
                closing: Arc::new(AtomicBool::new(false)),
                _lock: None,
            },
            None => open_embedded(config, role)?,
        };
        Ok(db)
    }

    /// Watches the embedded cluster (if this process owns one): when its
    /// postmaster dies, starts it again, which runs PostgreSQL's crash
    /// recovery; when that fails, logs why and calls `fatal`, so the process
    /// exits non-zero for its service manager instead of serving 503s forever.
    /// `up` reports each check (for the `embedded_postgres_up` gauge).
    pub fn supervise(&self, up: impl Fn(bool) + Send + 'static, fatal: impl Fn() + Send + 'static) {
        let (Some(cluster), closing) = (self.owned.clone(), self.closing.clone()) else {
            return;
        };
        up(true);
        std::thread::spawn(move || {
            while !closing.load(Ordering::SeqCst) {
                std::thread::sleep(SUPERVISE_EVERY);
                if closing.load(Ordering::SeqCst) {
                    continue;
                }
                let running = cluster.is_running();
                up(running);
                if running {
                    continue;
                }
                log::error!("the embedded PostgreSQL cluster is not running; restarting it");
                if restart(&cluster, &closing) {
                    up(true);
                    log::warn!("the embedded PostgreSQL cluster is running again");
                } else if !closing.load(Ordering::SeqCst) {
                    log::error!("cannot restart the embedded PostgreSQL cluster; exiting");
                    fatal();
                    return;
                }
            }
        });
    }

    /// Stops the embedded cluster if this process owns it.
    pub fn close(self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Some(cluster) = self.owned {
            log::info!("stopping the embedded PostgreSQL cluster");
            if let Err(e) = cluster.stop() {
                log::error!("could not stop the embedded PostgreSQL cluster: {e}");
            }
        }
    }
}

fn open_embedded(config: &Config, role: Role) -> Result<Database, BootError> {
    let dir = &config.data_dir;
    fs::create_dir_all(dir).map_err(|source| BootError::Io {
        context: format!("cannot create data directory {}", dir.display()),
        source,
    })?;
    let (lock, exclusive) = lock_data_dir(dir, role)?;
    let bin_dir = embedded::find_bin_dir(config.pg_bin.as_deref())?;
    let cluster = Cluster::init(dir, bin_dir)?;
    let started = if exclusive {
        let started = cluster.start()?;
        if started {
            log::info!("started embedded PostgreSQL in {}", cluster.dir().display());
        }
        started
    } else {
        false
    };
    if exclusive && !started {
        reach_found_cluster(&cluster)?;
    } else {
        store::ensure_database(&cluster.url("postgres"), DB_NAME)?;
    }
    let url = cluster.url(DB_NAME);
    // A server owns the cluster even when it found it running (left behind
    // by a killed scimd); a command only stops what it started itself.
    let owned = started || (exclusive && role == Role::Server);
    Ok(Database {
        url,
        owned: owned.then(|| Arc::new(cluster)),
        closing: Arc::new(AtomicBool::new(false)),
        _lock: Some(lock),
    })
}

/// How long a server waits for a cluster it found running to take
/// connections (crash recovery, or a killed postmaster not yet gone).
const FOUND_CLUSTER_WAIT: Duration = Duration::from_secs(30);

/// A cluster found running (left behind by a killed scimd) may be
/// recovering, shutting down, or dead with its pid not yet reaped: wait for
/// it to take connections, starting it if it turns out gone. Without this,
/// a server started right after `kill -9` of scimd and its PostgreSQL
/// exited with "connection refused".
fn reach_found_cluster(cluster: &Cluster) -> Result<(), BootError> {
    let deadline = Instant::now() + FOUND_CLUSTER_WAIT;
    loop {
        match store::ensure_database(&cluster.url("postgres"), DB_NAME) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(e) => {
                log::info!("waiting for the embedded PostgreSQL cluster found running: {e}");
                std::thread::sleep(Duration::from_millis(500));
                if !cluster.is_running() && cluster.start()? {
                    log::info!("started embedded PostgreSQL in {}", cluster.dir().display());
                }
            }
        }
    }
}

fn restart(cluster: &Cluster, closing: &AtomicBool) -> bool {
    for attempt in 1..=RESTART_ATTEMPTS {
        if closing.load(Ordering::SeqCst) {
            return false;
        }
        match cluster.start() {
            Ok(_) => return true,
            Err(e) => {
                log::warn!("restart attempt {attempt}/{RESTART_ATTEMPTS} failed: {e}");
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
    false
}

/// The server holds an exclusive lock for its lifetime; the kernel drops it
/// when the process dies, so a crash leaves no stale lock. Returns the lock
/// file and whether this process holds it (a command may run without it
/// while a server owns the directory).
fn lock_data_dir(dir: &Path, role: Role) -> Result<(File, bool), BootError> {
    let path = dir.join("scimd.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| BootError::Io {
            context: format!("cannot open {}", path.display()),
            source,
        })?;
    let deadline = Instant::now() + SERVE_LOCK_WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok((file, true)),
            Err(TryLockError::WouldBlock) => match role {
                Role::Command => return Ok((file, false)),
                // A CLI command may hold the lock for a moment; a server holds
                // it for good. Wait out the first, refuse the second.
                Role::Server if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Role::Server => return Err(BootError::Locked(dir.display().to_string())),
            },
            Err(TryLockError::Error(source)) => {
                return Err(BootError::Io {
                    context: format!("cannot lock {}", path.display()),
                    source,
                })
            }
        }
    }
}
