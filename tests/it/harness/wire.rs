//! A TCP proxy in front of the test cluster that reads the PostgreSQL
//! frontend protocol its clients send, to count what a request really costs
//! on the wire: every simple `Query` and every `Sync` is one round trip (the
//! client then waits for `ReadyForQuery`), and a `Parse` with an empty name
//! is a statement PostgreSQL parses and plans again each time.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

/// One frontend message, as far as counting needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Simple query (`Q`): one round trip.
    Query(String),
    /// `Parse`: statement name ("" = unnamed) and its SQL.
    Parse { name: String, sql: String },
    /// `Bind` to a statement name.
    Bind(String),
    /// `Sync`: the end of an extended-protocol exchange, one round trip.
    Sync,
}

#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Sent>>>);

impl Log {
    /// Everything sent since the last call, and forgets it.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

pub struct WireProxy {
    pub port: u16,
    pub log: Log,
}

impl WireProxy {
    pub fn start(target: PathBuf) -> WireProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let log = Log::default();
        let log2 = log.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = UnixStream::connect(&target) else {
                    continue;
                };
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let log = log2.clone();
                thread::spawn(move || upstream(client, s2, log));
                thread::spawn(move || downstream(server, c2));
            }
        });
        WireProxy { port, log }
    }

    /// libpq connection string for `dbname` through the proxy.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=scimd dbname={dbname} sslmode=disable gssencmode=disable",
            self.port
        )
    }
}

fn downstream(mut from: UnixStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// Client → server: forwards every byte and records each message.
fn upstream(mut from: TcpStream, mut to: UnixStream, log: Log) {
    let mut pending: Vec<u8> = Vec::new();
    let mut started = false;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        loop {
            // The startup message has no type byte: length, then payload.
            let (head, typed) = if started { (5, true) } else { (4, false) };
            if pending.len() < head {
                break;
            }
            let at = if typed { 1 } else { 0 };
            let len = u32::from_be_bytes(pending[at..at + 4].try_into().unwrap()) as usize;
            let total = at + len;
            if pending.len() < total {
                break;
            }
            let msg: Vec<u8> = pending.drain(..total).collect();
            if !typed {
                started = true;
                continue;
            }
            if let Some(sent) = parse(msg[0], &msg[5..]) {
                log.0.lock().unwrap().push(sent);
            }
        }
    }
}

fn cstr(b: &[u8]) -> (String, &[u8]) {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let rest = if end < b.len() {
        &b[end + 1..]
    } else {
        &[][..]
    };
    (String::from_utf8_lossy(&b[..end]).into_owned(), rest)
}

fn parse(kind: u8, body: &[u8]) -> Option<Sent> {
    match kind {
        b'Q' => Some(Sent::Query(cstr(body).0)),
        b'P' => {
            let (name, rest) = cstr(body);
            let (sql, _) = cstr(rest);
            Some(Sent::Parse { name, sql })
        }
        b'B' => {
            let (_portal, rest) = cstr(body);
            Some(Sent::Bind(cstr(rest).0))
        }
        b'S' => Some(Sent::Sync),
        _ => None,
    }
}

/// What a list of messages cost.
#[derive(Debug)]
pub struct Cost {
    /// Simple queries plus syncs.
    pub round_trips: usize,
    /// Statements parsed without a name (planned again on every use).
    pub unnamed: Vec<String>,
    /// Every message, for the failure message.
    pub transcript: String,
}

pub fn cost(sent: &[Sent]) -> Cost {
    let round_trips = sent
        .iter()
        .filter(|s| matches!(s, Sent::Query(_) | Sent::Sync))
        .count();
    let unnamed = sent
        .iter()
        .filter_map(|s| match s {
            Sent::Parse { name, sql } if name.is_empty() => Some(sql.clone()),
            _ => None,
        })
        .collect();
    let transcript = sent
        .iter()
        .map(|s| match s {
            Sent::Query(q) => format!("  Query {}", short(q)),
            Sent::Parse { name, sql } => format!("  Parse {name:?} {}", short(sql)),
            Sent::Bind(name) => format!("  Bind {name:?}"),
            Sent::Sync => "  Sync".to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    Cost {
        round_trips,
        unnamed,
        transcript,
    }
}

fn short(sql: &str) -> String {
    let one: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("{}…", one.chars().take(160).collect::<String>())
    } else {
        one
    }
}
