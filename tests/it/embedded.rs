//! `scimd serve` with no DATABASE_URL: it runs its own PostgreSQL in the data
//! directory, stops it on SIGTERM, and keeps the data across restarts.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::get;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn scimd(data: &Path) -> Command {
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

pub(crate) fn wait_ready(port: u16) {
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

pub(crate) fn terminate(child: Child) -> String {
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

fn create_user(base: &str, token: &str, name: &str) -> u16 {
    crate::harness::post(
        &format!("{base}/scim/v2/Users"),
        Some(token),
        &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}),
    )
    .status
}

fn user_count(base: &str, token: &str) -> i64 {
    get(&format!("{base}/scim/v2/Users?count=0"), Some(token)).json()["totalResults"]
        .as_i64()
        .unwrap()
}

pub(crate) fn cli_token(data: &Path) -> String {
    let out = scimd(data)
        .args(["token", "create", "--name", "t", "--scope", "all"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string()
}

#[test]
fn a_killed_embedded_postgres_is_restarted_and_no_acknowledged_write_is_lost() {
    let tmp = std::env::temp_dir().join(format!("scimd-crash-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let server = serve(&tmp, port);
    wait_ready(port);
    let base = format!("http://127.0.0.1:{port}");
    let token = cli_token(&tmp);
    for i in 0..20 {
        assert_eq!(create_user(&base, &token, &format!("before-{i}")), 201);
    }
    let pid: i32 = std::fs::read_to_string(tmp.join("pg/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Noticed, restarted with crash recovery, serving again.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        if get(&format!("{base}/ready"), None).status == 200
            && create_user(&base, &token, "after") == 201
        {
            break;
        }
        assert!(Instant::now() < deadline, "not serving again within 40 s");
    }
    assert_eq!(
        user_count(&base, &token),
        21,
        "every acknowledged write survived"
    );
    terminate(server);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn backup_while_serving_and_restore_into_an_empty_data_dir() {
    let src = std::env::temp_dir().join(format!("scimd-bk-{}", uuid::Uuid::new_v4().simple()));
    let dst = std::env::temp_dir().join(format!("scimd-rs-{}", uuid::Uuid::new_v4().simple()));
    let dump = std::env::temp_dir().join(format!("scimd-{}.dump", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let server = serve(&src, port);
    wait_ready(port);
    let base = format!("http://127.0.0.1:{port}");
    let token = cli_token(&src);
    for i in 0..5 {
        assert_eq!(create_user(&base, &token, &format!("u{i}")), 201);
    }
    let out = scimd(&src).arg("backup").arg(&dump).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    terminate(server);

    let out = scimd(&dst).arg("restore").arg(&dump).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second restore into the now non-empty database is refused.
    let again = scimd(&dst).arg("restore").arg(&dump).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty"));

    let port2 = free_port();
    let server = serve(&dst, port2);
    wait_ready(port2);
    // The same token and the same users, from the restored data.
    assert_eq!(user_count(&format!("http://127.0.0.1:{port2}"), &token), 5);
    terminate(server);
    for p in [&src, &dst] {
        let _ = std::fs::remove_dir_all(p);
    }
    let _ = std::fs::remove_file(&dump);
}

#[test]
fn sigterm_under_load_drains_and_every_acknowledged_write_survives_a_restart() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let tmp = std::env::temp_dir().join(format!("scimd-term-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();
    let server = serve(&tmp, port);
    wait_ready(port);
    let base = format!("http://127.0.0.1:{port}");
    let token = cli_token(&tmp);
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, token, acked, stop) = (base.clone(), token.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let name = format!("t{w}-{i}");
                    let r = ureq::post(&format!("{base}/scim/v2/Users"))
                        .set("Authorization", &format!("Bearer {token}"))
                        .set("Content-Type", "application/scim+json")
                        .send_string(&serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}).to_string());
                    match r {
                        Ok(resp) if resp.status() == 201 => acked.lock().unwrap().push(name),
                        // Refused or cut off by the shutdown: not acknowledged.
                        _ => std::thread::sleep(Duration::from_millis(20)),
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    terminate(server);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(!cluster_running(&tmp));
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 10,
        "too few writes to mean anything: {}",
        acked.len()
    );

    let port2 = free_port();
    let server = serve(&tmp, port2);
    wait_ready(port2);
    let base2 = format!("http://127.0.0.1:{port2}");
    let listed = get(
        &format!("{base2}/scim/v2/Users?count=1000&attributes=userName"),
        Some(&token),
    )
    .json();
    let stored: Vec<String> = listed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_string())
        .collect();
    for name in &acked {
        assert!(
            stored.contains(name),
            "acknowledged {name} lost across SIGTERM"
        );
    }
    terminate(server);
    let _ = std::fs::remove_dir_all(&tmp);
}
