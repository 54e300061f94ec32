//! A webhook receiver for delivery tests: an HTTP/1.1 server on 127.0.0.1
//! that records every request and answers as the test says, changeable
//! at any moment: succeed, fail a share of requests, fail all with a
//! status (and `Retry-After`), answer late, drop connections unanswered
//! (down), or stop listening altogether.
//!
//! Plain std threads, one per connection, so it needs no runtime and
//! works beside the blocking delivery workers. Keep-alive and several
//! requests per connection are supported; bodies must carry
//! `Content-Length`, which is what reqwest sends for the byte bodies our
//! transport posts. A chunked request is answered 501 so that a test
//! meeting one fails at once instead of hanging.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest request head or body accepted: far above any delivery, low
/// enough that a runaway client cannot make a test eat memory.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    /// Its place among the requests this receiver answered, from 0; what
    /// `fail_share` draws on.
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// In arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status chosen for it. A client that gave up during a `delay`
    /// never saw it.
    pub status: u16,
    /// Whether `status` is 2xx.
    pub answered_ok: bool,
}

impl Received {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Behaviour {
    fail_share: f64,
    fail_with: Option<(u16, Option<u64>)>,
    delay: Duration,
    down: bool,
}

#[derive(Default)]
struct State {
    requests: Vec<Received>,
    next_seq: u64,
    behaviour: Behaviour,
    /// Clones of the live connections, for `stop` and `down` to cut.
    live: Vec<TcpStream>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled whenever a request is recorded, for `wait_until`.
    arrived: Condvar,
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test thread that panicked while holding the lock has already
        // failed its test; the state is still fine to read.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Mutex<Option<JoinHandle<()>>>,
}

impl Receiver {
    /// Listens on 127.0.0.1 on a free port, answering `204 No Content`.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        let acceptor = thread::spawn(move || accept(listener, accepting));
        Receiver {
            addr,
            shared,
            acceptor: Mutex::new(Some(acceptor)),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path}", self.addr)
    }

    /// Every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests (sequence numbers go on counting).
    pub fn clear(&self) {
        self.shared.lock().requests.clear();
    }

    /// Answers `500` to about `share` (0 to 1) of requests. Which ones
    /// depends only on their sequence numbers, so a test run twice sees
    /// the same requests fail.
    pub fn fail_share(&self, share: f64) {
        self.shared.lock().behaviour.fail_share = share.clamp(0.0, 1.0);
    }

    /// Answers every request with `status`, and `Retry-After: <secs>` when
    /// given, until [`Receiver::heal`].
    pub fn fail_with(&self, status: u16, retry_after: Option<u64>) {
        self.shared.lock().behaviour.fail_with = Some((status, retry_after));
    }

    /// Waits this long after reading a request before answering it.
    pub fn delay(&self, delay: Duration) {
        self.shared.lock().behaviour.delay = delay;
    }

    /// While down, connections are accepted and closed at once, and
    /// requests on connections already open are closed on unanswered and
    /// unrecorded: a receiver that died behind a load balancer.
    pub fn down(&self, down: bool) {
        let mut state = self.shared.lock();
        state.behaviour.down = down;
        if down {
            cut(&mut state.live);
        }
    }

    /// Back to answering every request `204` at once.
    pub fn heal(&self) {
        self.shared.lock().behaviour = Behaviour::default();
    }

    /// Closes the listener and every open connection; from its return on,
    /// connections are refused.
    pub fn stop(&self) {
        if self.shared.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wakes the acceptor, which sees `stopped` and drops the listener.
        let _ = TcpStream::connect(self.addr);
        let acceptor = self
            .acceptor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(acceptor) = acceptor {
            let _ = acceptor.join();
        }
        cut(&mut self.shared.lock().live);
    }

    /// Whether `pred` held of the recorded requests within `timeout`,
    /// checked at each arrival.
    pub fn wait_until(&self, timeout: Duration, pred: impl Fn(&[Received]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if pred(&state.requests) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn cut(live: &mut Vec<TcpStream>) {
    for conn in live.drain(..) {
        let _ = conn.shutdown(Shutdown::Both);
    }
}

fn accept(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        let mut state = shared.lock();
        if state.behaviour.down {
            let _ = conn.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(clone) = conn.try_clone() else {
            continue;
        };
        state.live.push(clone);
        drop(state);
        let shared = Arc::clone(&shared);
        thread::spawn(move || serve(conn, shared));
    }
}

/// One request's parts, before it is recorded.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    close: bool,
}

enum Read1 {
    Request(Request),
    /// Chunked, or too large: answered with this status, then closed.
    Refuse(u16),
    /// The client closed, or sent something that is not HTTP.
    Gone,
}

fn serve(conn: TcpStream, shared: Arc<Shared>) {
    let peer = conn.peer_addr().ok();
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let request = match read_request(&mut reader) {
            Read1::Request(r) => r,
            Read1::Refuse(status) => {
                let _ = writer.write_all(&response(status, None, true));
                break;
            }
            Read1::Gone => break,
        };
        let (status, retry_after, delay) = {
            let mut state = shared.lock();
            if state.behaviour.down || shared.stopped.load(Ordering::SeqCst) {
                break;
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            let b = &state.behaviour;
            let (status, retry_after) = match b.fail_with {
                Some(answer) => answer,
                None if draw(seq) < b.fail_share => (500, None),
                None => (204, None),
            };
            let delay = b.delay;
            state.requests.push(Received {
                at: Instant::now(),
                seq,
                method: request.method,
                path: request.path,
                headers: request.headers,
                body: request.body,
                status,
                answered_ok: (200..300).contains(&status),
            });
            shared.arrived.notify_all();
            (status, retry_after, delay)
        };
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        if writer
            .write_all(&response(status, retry_after, request.close))
            .is_err()
            || request.close
        {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    shared
        .lock()
        .live
        .retain(|c| c.peer_addr().ok() != peer || peer.is_none());
}

/// A uniform draw in [0, 1) from the sequence number alone (SplitMix64's
/// finaliser), so a share of failures is the same on every run.
fn draw(seq: u64) -> f64 {
    let mut x = seq.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Read1 {
    let mut head_len = 0;
    let Some(request_line) = read_line(reader, &mut head_len) else {
        return Read1::Gone;
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Read1::Gone;
    };
    let (method, path, version) = (method.to_string(), path.to_string(), version.to_string());
    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader, &mut head_len) else {
            return Read1::Gone;
        };
        if line.is_empty() {
            break;
        }
        if head_len > MAX_HEAD {
            return Read1::Refuse(431);
        }
        let Some((name, value)) = line.split_once(':') else {
            return Read1::Gone;
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    if value("transfer-encoding").is_some() {
        return Read1::Refuse(501);
    }
    let length = match value("content-length").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) if n <= MAX_BODY => n,
        Some(_) => return Read1::Refuse(413),
    };
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return Read1::Gone;
    }
    let connection = value("connection").unwrap_or_default();
    let close = if version == "HTTP/1.0" {
        !connection.contains("keep-alive")
    } else {
        connection.contains("close")
    };
    Read1::Request(Request {
        method,
        path,
        headers,
        body,
        close,
    })
}

/// One line without its CRLF; `None` at the end of the stream.
fn read_line(reader: &mut BufReader<TcpStream>, head_len: &mut usize) -> Option<String> {
    let mut line = Vec::new();
    let limit = (MAX_HEAD + 1 - (*head_len).min(MAX_HEAD)) as u64;
    let n = reader
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut line)
        .ok()?;
    if n == 0 || !line.ends_with(b"\n") {
        return None;
    }
    *head_len += n;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

fn response(status: u16, retry_after: Option<u64>, close: bool) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if let Some(secs) = retry_after {
        head.push_str(&format!("retry-after: {secs}\r\n"));
    }
    if close {
        head.push_str("connection: close\r\n");
    }
    // 204 and 304 carry no body, not even a length.
    let body = match status {
        204 | 304 => String::new(),
        _ => format!("receiver: answering {status} as the test asked\n"),
    };
    if !matches!(status, 204 | 304) {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(&body);
    head.into_bytes()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        410 => "Gone",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Receiver Answer",
    }
}
