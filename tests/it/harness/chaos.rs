//! A TCP proxy in front of the test cluster's Unix socket that a test can
//! cut (every live connection is dropped and new ones are refused) and
//! restore, to show how scimd behaves while its database is unreachable.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

pub struct ChaosProxy {
    pub port: u16,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<(TcpStream, UnixStream)>>>,
}

fn pump(mut from: impl Read, mut to: impl Write) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

impl ChaosProxy {
    pub fn start(target: PathBuf) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<(TcpStream, UnixStream)>>> = Arc::default();
        let (cut2, live2) = (cut.clone(), live.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                // The cut flag is read and the connection registered under
                // the one lock `cut` takes: a connection accepted while a
                // cut runs is either refused here or dropped by the cut,
                // never left alive through it.
                let mut live = live2.lock().expect("lock");
                if cut2.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = UnixStream::connect(&target) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                live.push((
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                ));
                drop(live);
                thread::spawn(move || pump(client, s2));
                thread::spawn(move || pump(server, c2));
            }
        });
        ChaosProxy { port, cut, live }
    }

    /// libpq connection string for `dbname` through the proxy.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=scimd dbname={dbname}",
            self.port
        )
    }

    pub fn cut(&self) {
        let mut live = self.live.lock().expect("lock");
        self.cut.store(true, Ordering::SeqCst);
        for (c, s) in live.drain(..) {
            let _ = c.shutdown(Shutdown::Both);
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
