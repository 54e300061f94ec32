//! One throwaway PostgreSQL cluster per test process, made with the same
//! code as scimd's embedded cluster, in a temp dir. A template database is
//! migrated once; each test gets its own copy and drops it when done.
//!
//! The Rust test harness runs no destructors for statics, so a small
//! watchdog shell process stops the cluster and deletes its directory when
//! this process exits: nothing is left running on the machine.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use scimd::store::embedded::{self, Cluster};
use scimd::store::migrate;

const TEMPLATE: &str = "scimd_template";

struct Shared {
    cluster: Cluster,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let root = std::env::temp_dir().join(format!(
            "scimd-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let bin = embedded::find_bin_dir(None).expect("PostgreSQL server binaries");
        let cluster = Cluster::init(&root, bin).expect("initdb for the test cluster");
        cluster.start().expect("start the test cluster");
        spawn_watchdog(&root, cluster.dir());
        let admin = cluster.url("postgres");
        let mut conn = PgConnection::establish(&admin).expect("connect to the test cluster");
        conn.batch_execute(&format!("CREATE DATABASE {TEMPLATE}"))
            .expect("create template database");
        migrate::run_pending(&cluster.url(TEMPLATE)).expect("migrate the template");
        Shared { cluster }
    })
}

fn spawn_watchdog(root: &std::path::Path, pgdata: &std::path::Path) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         kill -QUIT $(head -1 '{pgdata}/postmaster.pid') 2>/dev/null; sleep 2; rm -rf '{root}'",
        pid = std::process::id(),
        pgdata = pgdata.display(),
        root = root.display()
    );
    // Deliberately not waited for: it must outlive this process.
    let _watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the test cluster watchdog");
    std::mem::forget(_watchdog);
}

/// The test cluster's Unix socket, for the chaos proxy to forward to.
pub fn socket_path() -> std::path::PathBuf {
    shared().cluster.dir().join(".s.PGSQL.5432")
}

/// A database of its own for one test, migrated, dropped on drop.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let s = shared();
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::SeqCst));
        let mut conn = PgConnection::establish(&s.cluster.url("postgres")).expect("connect");
        conn.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
            .expect("create test database");
        TestDb {
            url: s.cluster.url(&name),
            name,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to test database")
    }

    /// A fresh, unmigrated database, for migration tests.
    pub fn empty() -> TestDb {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let s = shared();
        let name = format!("e{}", NEXT.fetch_add(1, Ordering::SeqCst));
        let mut conn = PgConnection::establish(&s.cluster.url("postgres")).expect("connect");
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create empty database");
        TestDb {
            url: s.cluster.url(&name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&shared().cluster.url("postgres")) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
