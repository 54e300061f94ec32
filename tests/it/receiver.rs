//! The test receiver itself, driven by a raw TCP client so that what it
//! records and answers is seen byte for byte: keep-alive, a reproducible
//! failure share, failing with a status, delay, down and stop. One test
//! drives it with scimd's own webhook transport, as delivery tests will.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use scimd::service::events::guard::parse_allowed;
use scimd::service::events::transport::{Outcome, Transport};

use crate::harness::receiver::Receiver;

/// A client on one connection to `r`.
struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

/// A status line's code, the headers (names lower-cased) and the body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

impl Client {
    fn connect(r: &Receiver) -> Client {
        let stream = TcpStream::connect(r.addr()).expect("connect to the receiver");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        Client {
            writer: stream.try_clone().expect("clone"),
            reader: BufReader::new(stream),
        }
    }

    fn post(&mut self, path: &str, body: &str, extra: &str) -> Option<Answer> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        self.writer.write_all(request.as_bytes()).ok()?;
        self.answer()
    }

    /// The next answer; `None` when the connection closed first.
    fn answer(&mut self) -> Option<Answer> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status = line.split(' ').nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':')?;
            headers.push((n.to_ascii_lowercase(), v.trim().to_string()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap_or(0));
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).ok()?;
        Some((status, headers, body))
    }

    /// Whether the receiver closed the connection (no answer, end of stream).
    fn closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.reader.read(&mut buf), Ok(0) | Err(_))
    }
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .1
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn records_several_requests_on_one_kept_alive_connection() {
    let r = Receiver::start();
    assert_eq!(r.url("/hook"), format!("http://{}/hook", r.addr()));
    assert_eq!(r.url("hook"), r.url("/hook"));
    let mut c = Client::connect(&r);
    let first = c
        .post("/a?x=1", r#"{"n":1}"#, "Webhook-Id: msg_1\r\n")
        .unwrap();
    assert_eq!(first, (204, vec![], vec![]));
    let second = c.post("/b", "", "").unwrap();
    assert_eq!(second.0, 204);

    let got = r.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].method.as_str(), got[0].path.as_str(), got[0].seq),
        ("POST", "/a?x=1", 0)
    );
    assert_eq!(got[0].body, br#"{"n":1}"#);
    assert_eq!(
        got[0].headers,
        [
            ("host".to_string(), "receiver".to_string()),
            ("content-type".into(), "application/json".into()),
            ("content-length".into(), "7".into()),
            ("webhook-id".into(), "msg_1".into()),
        ]
    );
    assert_eq!(got[0].header("Webhook-ID"), Some("msg_1"));
    assert!(got[0].answered_ok && got[0].status == 204);
    assert_eq!((got[1].path.as_str(), got[1].seq), ("/b", 1));
    assert!(got[1].body.is_empty());
    assert!(got[0].at <= got[1].at);

    // A request asking to close is answered, then the connection ends.
    let last = c.post("/c", "", "Connection: close\r\n").unwrap();
    assert_eq!(header(&last, "connection"), Some("close"));
    assert!(c.closed());

    r.clear();
    assert!(r.requests().is_empty());
}

#[test]
fn fails_the_same_share_of_requests_on_every_run() {
    let run = || {
        let r = Receiver::start();
        r.fail_share(0.3);
        let mut c = Client::connect(&r);
        let statuses: Vec<u16> = (0..100)
            .map(|i| c.post(&format!("/{i}"), "{}", "").unwrap().0)
            .collect();
        let recorded: Vec<(u16, bool)> = r
            .requests()
            .iter()
            .map(|q| (q.status, q.answered_ok))
            .collect();
        let expected: Vec<(u16, bool)> = statuses.iter().map(|s| (*s, *s == 204)).collect();
        assert_eq!(recorded, expected);
        statuses
    };
    let first = run();
    assert_eq!(first, run());
    let failed = first.iter().filter(|s| **s == 500).count();
    assert!((15..=45).contains(&failed), "{failed} of 100 failed");
    assert!(first.iter().all(|s| *s == 500 || *s == 204));
}

#[test]
fn fails_with_a_status_and_retry_after_until_healed() {
    let r = Receiver::start();
    let mut c = Client::connect(&r);
    r.fail_with(503, Some(7));
    let answer = c.post("/", "{}", "").unwrap();
    assert_eq!(answer.0, 503);
    assert_eq!(header(&answer, "retry-after"), Some("7"));
    r.fail_with(410, None);
    let answer = c.post("/", "{}", "").unwrap();
    assert_eq!((answer.0, header(&answer, "retry-after")), (410, None));
    r.heal();
    assert_eq!(c.post("/", "{}", "").unwrap().0, 204);
    let flags: Vec<bool> = r.requests().iter().map(|q| q.answered_ok).collect();
    assert_eq!(flags, [false, false, true]);
}

#[test]
fn answers_late_when_delayed() {
    let r = Receiver::start();
    r.delay(Duration::from_millis(300));
    let mut c = Client::connect(&r);
    let started = Instant::now();
    assert_eq!(c.post("/", "{}", "").unwrap().0, 204);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Recorded on arrival, before the answer.
    assert!(r.requests()[0].at < started + Duration::from_millis(300));
}

#[test]
fn while_down_drops_connections_unanswered_and_unrecorded() {
    let r = Receiver::start();
    let mut kept = Client::connect(&r);
    assert_eq!(kept.post("/", "{}", "").unwrap().0, 204);

    r.down(true);
    // The connection open before is cut, and new ones are closed at once.
    assert_eq!(kept.post("/", "{}", ""), None);
    let mut fresh = Client::connect(&r);
    assert_eq!(fresh.post("/", "{}", ""), None);
    assert_eq!(r.requests().len(), 1);

    r.down(false);
    let mut again = Client::connect(&r);
    assert_eq!(again.post("/", "{}", "").unwrap().0, 204);
    assert_eq!(r.requests().len(), 2);
}

#[test]
fn after_stop_connections_are_refused() {
    let r = Receiver::start();
    let mut c = Client::connect(&r);
    assert_eq!(c.post("/", "{}", "").unwrap().0, 204);
    r.stop();
    assert!(c.closed());
    assert!(TcpStream::connect(r.addr()).is_err());
    r.stop();
}

#[test]
fn refuses_chunked_requests_at_once() {
    let r = Receiver::start();
    let mut c = Client::connect(&r);
    let answer = c
        .post("/", "", "Transfer-Encoding: chunked\r\n")
        .expect("an answer");
    assert_eq!(answer.0, 501);
    assert!(c.closed());
    assert!(r.requests().is_empty());
}

#[test]
fn wait_until_sees_requests_as_they_arrive() {
    let r = Receiver::start();
    let addr = r.addr();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /late HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 64];
        let _ = s.read(&mut buf);
    });
    assert!(r.wait_until(Duration::from_secs(5), |q| q.len() == 1));
    assert_eq!(r.requests()[0].path, "/late");
    let started = Instant::now();
    assert!(!r.wait_until(Duration::from_millis(200), |q| q.len() == 2));
    assert!(started.elapsed() >= Duration::from_millis(200));
    sender.join().unwrap();
}

#[test]
fn takes_deliveries_from_the_webhook_transport() {
    let r = Receiver::start();
    let allowed = parse_allowed("127.0.0.1").unwrap();
    let t = Transport::new(allowed, Duration::from_secs(5), 4096).unwrap();
    let headers = [
        ("content-type", "application/json".to_string()),
        ("webhook-id", "msg_1".to_string()),
    ];
    for _ in 0..3 {
        let outcome = t.post(&r.url("/hook"), &headers, br#"{"a":1}"#.to_vec());
        assert_eq!(outcome, Outcome::Delivered { status: 204 });
    }
    r.fail_with(503, Some(7));
    let outcome = t.post(&r.url("/hook"), &headers, b"{}".to_vec());
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                status: Some(503),
                retry_after: Some(d),
                permanent: false,
                ..
            } if d == Duration::from_secs(7)
        ),
        "{outcome:?}"
    );
    r.heal();
    r.down(true);
    let outcome = t.post(&r.url("/hook"), &headers, b"{}".to_vec());
    assert!(
        matches!(
            outcome,
            Outcome::Failed {
                status: None,
                permanent: false,
                ..
            }
        ),
        "{outcome:?}"
    );

    let got = r.requests();
    assert_eq!(got.len(), 4);
    assert!(got
        .iter()
        .all(|q| q.method == "POST" && q.header("webhook-id") == Some("msg_1")));
    assert_eq!(got[0].body, br#"{"a":1}"#);
    assert_eq!(got[0].header("content-length"), Some("7"));
}
