//! `scimd serve` with no DATABASE_URL: it runs its own PostgreSQL in the data
//! directory, stops it on SIGTERM, and keeps the data across restarts.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::get;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scimd(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimd"));
    c.env_remove("DATABASE_URL")
        .env_remove("AUTH_SECRET")
        .env("SCIMD_DATA_DIR", data);
    c
}

fn serve(data: &Path, port: u16) -> Child {
    scimd(data)
        .arg("serve")
        .env("SCIMD_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && get(&format!("http://127.0.0.1:{port}/ready"), None).status == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "server not ready in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn terminate(child: Child) -> String {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "exit {:?}: {log}", out.status);
    log
}

fn cluster_running(data: &Path) -> bool {
    data.join("pg/postmaster.pid").exists()
}

#[test]
fn serve_starts_its_own_postgres_stops_it_and_keeps_data() {
    let tmp =
        std::env::temp_dir().join(format!("scimd-embedded-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let server = serve(&tmp, port);
    wait_ready(port);
    assert!(cluster_running(&tmp));

    // A CLI command shares the running server's cluster.
    let out = scimd(&tmp)
        .args(["token", "create", "--name", "keep", "--scope", "all"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        get(&format!("{base}/api/v1/tokens"), Some(&token)).status,
        200
    );

    // A second server on the same data directory is refused, clearly.
    let second = scimd(&tmp)
        .arg("serve")
        .env("SCIMD_LISTEN", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));

    let log = terminate(server);
    assert!(log.contains("stopping the embedded PostgreSQL"), "{log}");
    assert!(!cluster_running(&tmp), "cluster stopped with the server");

    // Restart: the token made before is still there and still works.
    let port2 = free_port();
    let server = serve(&tmp, port2);
    wait_ready(port2);
    let r = get(
        &format!("http://127.0.0.1:{port2}/api/v1/tokens"),
        Some(&token),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("keep"));
    terminate(server);
    assert!(!cluster_running(&tmp));
    let _ = std::fs::remove_dir_all(&tmp);
}
