//! Outbound HTTP for webhook delivery, guarded against server-side request
//! forgery: a subscription's URL is chosen by whoever can create one, and
//! scimd would otherwise POST wherever it points, including to services on
//! its own network and to the cloud metadata endpoint.
//!
//! The guard, applied when a subscription is saved ([`super::guard::check_url`]) and
//! again on every call ([`Transport::post`]):
//! - `https://` only; `http://` only to a host that
//!   `SCIMD_WEBHOOK_ALLOWED_HOSTS` names (by name, `host:port`, IP or a
//!   CIDR holding the URL's IP literal); no user name or password in the
//!   URL;
//! - every address the host resolves to must be public (see
//!   [`super::guard::refusal`] for what is not), unless it lies in an allowed IP or
//!   CIDR, or the URL's host (or `host:port`) is itself an allowed entry.
//!   Cloud metadata addresses (169.254.169.254, fd00:ec2::254) are refused
//!   even then, unless that exact address is an entry.
//!
//! At call time the addresses come from our own resolver, which drops the
//! ones the guard refuses before reqwest connects, so a name that resolved
//! to a public address when saved and to 10.0.0.5 now (DNS rebinding) is
//! caught then. IP literals never reach a resolver and are checked before
//! the call. Redirects are never followed (a public URL could redirect to
//! an internal one), and no proxy from the environment is used (a proxy
//! resolves the name itself, out of the guard's sight).
//!
//! The client is reqwest's blocking one: it runs its own event loop on a
//! thread of its own, and panics if made, used or dropped inside an async
//! runtime. Build and use a [`Transport`] on plain std threads (the
//! delivery workers), never on an actix or tokio worker; [`super::guard::check_url`]
//! resolves names with blocking calls too, so an async handler should run
//! it through `web::block` or `spawn_blocking`.

use std::fmt;
use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderName, HeaderValue, DATE, LOCATION, RETRY_AFTER};
use reqwest::{blocking, redirect};

use super::guard::{target, Allowed};
use crate::clock::Clock;

/// How much of a failed answer's body goes into [`Outcome::Failed`]'s error.
const SNIPPET_CHARS: usize = 200;
/// The longest `Retry-After` honoured: a receiver asking for a day is
/// retried after an hour, and the delivery's own schedule decides the rest.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Connecting takes at most this long (or the whole timeout, if shorter),
/// so a black-holed address fails fast and leaves time for the next one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What became of one POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// Anything else. `status` is the answer's, if one came. `retry_after`
    /// is the receiver's `Retry-After` on a 429 or 503 (at most an hour).
    /// `error` says what happened, for the delivery log: at most 200
    /// characters of the answer's body, and never the request's headers
    /// (they carry signatures).
    ///
    /// `permanent` is true only when the guard refused the URL: retrying
    /// cannot help until the subscription or the allowed list changes.
    /// Every status is retried until the delivery's retry window ends,
    /// 3xx, 400, 401, 403, 404, 410, 413 and 422 included: a receiver that
    /// is being redeployed or misconfigured answers those for a while, and
    /// giving up is the delivery schedule's decision, not one answer's.
    Failed {
        status: Option<u16>,
        retry_after: Option<Duration>,
        error: String,
        permanent: bool,
    },
}

/// The resolver the clients use: getaddrinfo on the blocking pool, then
/// only the addresses the guard allows.
struct Guarded {
    allowed: Arc<Allowed>,
    /// For the client that serves hosts an entry names: every address but
    /// a metadata one passes.
    trusted: bool,
}

/// The guard refused every address a name resolved to; found in an error's
/// source chain, it makes the failure permanent.
#[derive(Debug)]
struct Refused(String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(lookup(
            Arc::clone(&self.allowed),
            self.trusted,
            name.as_str().to_owned(),
        ))
    }
}

async fn lookup(allowed: Arc<Allowed>, trusted: bool, name: String) -> Result<Addrs, BoxError> {
    let host = name.clone();
    // getaddrinfo blocks: off the client's event loop. Port 0: the
    // connector puts the URL's port on each address.
    let found: Vec<SocketAddr> =
        tokio::task::spawn_blocking(move || (host.as_str(), 0).to_socket_addrs())
            .await
            .map_err(|e| format!("resolving {name}: {e}"))??
            .collect();
    let mut refused = Vec::new();
    let kept: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| match allowed.check_address(a.ip(), trusted) {
            Ok(()) => true,
            Err(why) => {
                refused.push(why);
                false
            }
        })
        .collect();
    match refused.first() {
        _ if !kept.is_empty() => Ok(Box::new(kept.into_iter())),
        Some(first) => Err(Box::new(Refused(format!(
            "{name} resolves only to refused addresses: {first}"
        )))),
        None => Err(format!("{name} resolves to no address").into()),
    }
}

/// Sends deliveries. See the module documentation for the guard and for
/// the threads it may be used on.
#[derive(Debug)]
pub struct Transport {
    allowed: Arc<Allowed>,
    /// Resolves through the guard: for hosts no entry names.
    guarded: blocking::Client,
    /// For hosts an entry names: their addresses need not be public.
    trusted: blocking::Client,
    timeout: Duration,
    max_response: usize,
    clock: Clock,
}

impl Transport {
    /// A transport whose calls take at most `timeout` to answer (connect
    /// included) and read at most `max_response` bytes of an answer's body.
    /// Must be called outside any async runtime.
    pub fn new(
        allowed: Allowed,
        timeout: Duration,
        max_response: usize,
    ) -> Result<Transport, String> {
        if timeout.is_zero() {
            return Err("the webhook timeout must be more than zero".into());
        }
        let allowed = Arc::new(allowed);
        let client = |trusted: bool| {
            blocking::Client::builder()
                .redirect(redirect::Policy::none())
                .no_proxy()
                .timeout(timeout)
                .connect_timeout(timeout.min(CONNECT_TIMEOUT))
                .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
                .dns_resolver(Arc::new(Guarded {
                    allowed: Arc::clone(&allowed),
                    trusted,
                }))
                .build()
                .map_err(|e| format!("building the webhook HTTP client: {}", chain(&e)))
        };
        Ok(Transport {
            guarded: client(false)?,
            trusted: client(true)?,
            allowed,
            timeout,
            max_response,
            clock: Clock::default(),
        })
    }

    /// POSTs `body` to `url` with `headers` (the caller sets
    /// `content-type` and the `webhook-*` headers). Blocks until the answer
    /// or the timeout: after the headers arrive, the body is read until
    /// `max_response` bytes, its end or the timeout's end, so a call lasts
    /// at most about twice the timeout. A cut-short body drops the
    /// connection; a whole one lets it be reused.
    pub fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Outcome {
        let target = match target(&self.allowed, url) {
            Ok(t) => t,
            Err(why) => return refused(why),
        };
        let client = if target.trusted {
            &self.trusted
        } else {
            &self.guarded
        };
        let mut request = client.post(target.url).body(body);
        for (name, value) in headers {
            let parsed = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            );
            let (Ok(name_ok), Ok(value_ok)) = parsed else {
                return failed(
                    None,
                    format!("the request header {name:?} has an invalid name or value"),
                );
            };
            request = request.header(name_ok, value_ok);
        }
        let started = Instant::now();
        let response = match request.send() {
            Ok(r) => r,
            Err(e) => return self.send_error(&e),
        };
        self.answer(response, started)
    }

    fn send_error(&self, e: &reqwest::Error) -> Outcome {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(Refused(why)) = s.downcast_ref::<Refused>() {
                return refused(why.clone());
            }
            source = s.source();
        }
        let error = if e.is_timeout() {
            format!("no answer within {:?}", self.timeout)
        } else if e.is_connect() {
            format!("could not connect: {}", chain(e))
        } else {
            format!("the request failed: {}", chain(e))
        };
        failed(None, error)
    }

    fn answer(&self, mut response: blocking::Response, started: Instant) -> Outcome {
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let (retry_header, date, location) = (header(RETRY_AFTER), header(DATE), header(LOCATION));
        let body = read_capped(&mut response, self.max_response, started + self.timeout);
        drop(response);
        if (200..300).contains(&status) {
            return Outcome::Delivered { status };
        }
        if (300..400).contains(&status) {
            let to = location
                .map(|l| format!(" to {}", snippet(l.as_bytes())))
                .unwrap_or_default();
            return failed(
                Some(status),
                format!("HTTP {status}{to}: redirects are not followed; point the subscription at the final URL"),
            );
        }
        let retry_after = match status {
            429 | 503 => retry_header.and_then(|v| {
                // The receiver's own clock, when it says what it is, so
                // that a skew between its clock and ours does not stretch
                // or shrink the wait.
                let now = date
                    .as_deref()
                    .and_then(parse_http_date)
                    .unwrap_or_else(|| self.clock.now());
                retry_after(&v, now)
            }),
            _ => None,
        };
        let text = snippet(&body);
        let error = if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        };
        Outcome::Failed {
            status: Some(status),
            retry_after,
            error,
            permanent: false,
        }
    }
}

fn refused(why: String) -> Outcome {
    Outcome::Failed {
        status: None,
        retry_after: None,
        error: format!("refused by the webhook guard: {why}"),
        permanent: true,
    }
}

fn failed(status: Option<u16>, error: String) -> Outcome {
    Outcome::Failed {
        status,
        retry_after: None,
        error,
        permanent: false,
    }
}

/// At most `max` bytes of the body, reading no further once `deadline`
/// has passed. A read error ends it: the status is what counts.
fn read_capped(response: &mut impl Read, max: usize, deadline: Instant) -> Vec<u8> {
    let mut body = Vec::new();
    let mut buf = [0u8; 8 * 1024];
    while body.len() < max && Instant::now() < deadline {
        let want = buf.len().min(max - body.len());
        match response.read(&mut buf[..want]) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    body
}

/// At most [`SNIPPET_CHARS`] characters of `bytes` as text, control
/// characters made spaces so the delivery log stays one line per entry.
fn snippet(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    text.trim().to_string()
}

/// An error and its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// How long a `Retry-After` value (RFC 9110 §10.2.3: delta-seconds or an
/// HTTP-date) asks to wait from `now`, at most an hour; a date already
/// past asks for no wait. `None` for a value that is neither.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits too many for a u64 are more than the cap too.
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    let at = parse_http_date(value)?;
    let wait = (at - now).to_std().unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

/// An HTTP-date in any of the three forms RFC 9110 §5.6.7 says recipients
/// must accept: IMF-fixdate, RFC 850 and asctime.
fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    let value = value.trim();
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::events::guard::parse_allowed;

    fn allowed(list: &str) -> Allowed {
        parse_allowed(list).unwrap()
    }
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Mutex;

    #[test]
    fn reads_retry_after_in_both_forms() {
        let now = DateTime::parse_from_rfc3339("1994-11-06T08:49:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let secs = |s| Some(Duration::from_secs(s));
        for (value, expected) in [
            ("7", secs(7)),
            (" 120 ", secs(120)),
            ("0", secs(0)),
            ("3601", secs(3600)),
            ("99999999999999999999999", secs(3600)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", secs(37)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", secs(37)),
            ("Sun Nov  6 08:49:37 1994", secs(37)),
            ("Sun, 06 Nov 1994 08:00:00 GMT", secs(0)),
            ("Mon, 07 Nov 1994 08:49:00 GMT", secs(3600)),
            ("-1", None),
            ("1.5", None),
            ("", None),
            ("soon", None),
            ("Sun, 06 Nov 1994 08:49:37", None),
        ] {
            assert_eq!(retry_after(value, now), expected, "{value:?}");
        }
    }

    /// A server on 127.0.0.1 for at most `conns` connections: on each it
    /// reads one request, records its head, and writes `answer` (then
    /// closes), or, with `hold`, keeps the connection that long unanswered.
    struct Server {
        port: u16,
        heads: Arc<Mutex<Vec<String>>>,
    }

    fn serve(answer: Vec<u8>, hold: Option<Duration>, conns: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = Arc::clone(&heads);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(conns) {
                let Ok(mut stream) = stream else { continue };
                let (seen, answer) = (Arc::clone(&seen), answer.clone());
                std::thread::spawn(move || {
                    if let Some(head) = read_request(&mut stream) {
                        seen.lock().unwrap().push(head);
                    }
                    match hold {
                        Some(d) => std::thread::sleep(d),
                        None => {
                            let _ = stream.write_all(&answer);
                        }
                    }
                });
            }
        });
        Server { port, heads }
    }

    /// The head of one request, its body read and dropped.
    fn read_request(stream: &mut TcpStream) -> Option<String> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut buf).ok().filter(|n| *n > 0)?;
            data.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while data.len() < end + length {
            let n = stream.read(&mut buf).ok().filter(|n| *n > 0)?;
            data.extend_from_slice(&buf[..n]);
        }
        Some(head)
    }

    const SIGNATURE: &str = "v1,c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw==";

    fn headers() -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "application/json".to_string()),
            ("webhook-signature", SIGNATURE.to_string()),
        ]
    }

    fn local(timeout: Duration, max_response: usize) -> Transport {
        Transport::new(allowed("127.0.0.1"), timeout, max_response).unwrap()
    }

    fn assert_no_headers(outcome: &Outcome) {
        if let Outcome::Failed { error, .. } = outcome {
            assert!(!error.contains("c2lnbmF0dXJl"), "{error}");
            assert!(!error.contains("application/json"), "{error}");
        }
    }

    #[test]
    fn delivers_with_the_headers_and_user_agent() {
        let server = serve(
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec(),
            None,
            1,
        );
        let t = local(Duration::from_secs(5), 1024);
        let url = format!("http://127.0.0.1:{}/hook", server.port);
        let outcome = t.post(&url, &headers(), br#"{"a":1}"#.to_vec());
        assert_eq!(outcome, Outcome::Delivered { status: 204 });
        let heads = server.heads.lock().unwrap();
        assert_eq!(heads.len(), 1);
        assert!(
            heads[0].starts_with("post /hook http/1.1\r\n"),
            "{}",
            heads[0]
        );
        let ua = format!("user-agent: scimd/{}\r\n", env!("CARGO_PKG_VERSION"));
        assert!(heads[0].contains(&ua), "{}", heads[0]);
        assert!(
            heads[0].contains(&format!(
                "webhook-signature: {}",
                SIGNATURE.to_ascii_lowercase()
            )),
            "{}",
            heads[0]
        );
        assert!(heads[0].contains("content-length: 7\r\n"), "{}", heads[0]);
    }

    #[test]
    fn honours_retry_after_on_503() {
        let server = serve(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbusy\r\n\x07now!"
                .to_vec(),
            None,
            1,
        );
        let t = local(Duration::from_secs(5), 1024);
        let outcome = t.post(
            &format!("http://127.0.0.1:{}/", server.port),
            &headers(),
            b"{}".to_vec(),
        );
        assert_no_headers(&outcome);
        assert_eq!(
            outcome,
            Outcome::Failed {
                status: Some(503),
                retry_after: Some(Duration::from_secs(7)),
                error: "HTTP 503: busy   now!".into(),
                permanent: false,
            }
        );
    }

    #[test]
    fn ignores_retry_after_on_other_statuses() {
        let server = serve(
            b"HTTP/1.1 500 Oops\r\nRetry-After: 7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
            None,
            1,
        );
        let t = local(Duration::from_secs(5), 1024);
        let outcome = t.post(&format!("http://127.0.0.1:{}/", server.port), &[], vec![]);
        assert_eq!(
            outcome,
            Outcome::Failed {
                status: Some(500),
                retry_after: None,
                error: "HTTP 500".into(),
                permanent: false,
            }
        );
    }

    #[test]
    fn does_not_follow_redirects() {
        let server = serve(
            b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
            None,
            2,
        );
        let t = local(Duration::from_secs(5), 1024);
        let outcome = t.post(
            &format!("http://127.0.0.1:{}/hook", server.port),
            &headers(),
            b"{}".to_vec(),
        );
        let Outcome::Failed {
            status,
            error,
            permanent,
            ..
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!((*status, *permanent), (Some(302), false));
        assert!(error.contains("redirects are not followed"), "{error}");
        assert!(error.contains("to /elsewhere"), "{error}");
        assert_eq!(server.heads.lock().unwrap().len(), 1);
    }

    #[test]
    fn reads_at_most_max_response_bytes() {
        let mut answer =
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'x', 100_000));
        let server = serve(answer, None, 1);
        let t = local(Duration::from_secs(5), 10);
        let outcome = t.post(&format!("http://127.0.0.1:{}/", server.port), &[], vec![]);
        assert_eq!(
            outcome,
            Outcome::Failed {
                status: Some(500),
                retry_after: None,
                error: format!("HTTP 500: {}", "x".repeat(10)),
                permanent: false,
            }
        );
    }

    #[test]
    fn keeps_at_most_200_characters_of_a_body() {
        let mut answer =
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
                .to_vec();
        answer.extend(std::iter::repeat_n(b'y', 1000));
        let server = serve(answer, None, 1);
        let t = local(Duration::from_secs(5), 4096);
        let outcome = t.post(&format!("http://127.0.0.1:{}/", server.port), &[], vec![]);
        let Outcome::Failed { error, .. } = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(error, format!("HTTP 400: {}", "y".repeat(200)));
    }

    #[test]
    fn gives_up_on_a_receiver_that_never_answers() {
        let server = serve(Vec::new(), Some(Duration::from_secs(5)), 1);
        let t = local(Duration::from_millis(300), 1024);
        let started = Instant::now();
        let outcome = t.post(
            &format!("http://127.0.0.1:{}/", server.port),
            &headers(),
            b"{}".to_vec(),
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_no_headers(&outcome);
        assert_eq!(
            outcome,
            Outcome::Failed {
                status: None,
                retry_after: None,
                error: "no answer within 300ms".into(),
                permanent: false,
            }
        );
    }

    #[test]
    fn a_closed_port_is_a_transient_failure() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = local(Duration::from_secs(5), 1024);
        let outcome = t.post(&format!("http://127.0.0.1:{port}/"), &headers(), vec![]);
        assert_no_headers(&outcome);
        let Outcome::Failed {
            status,
            error,
            permanent,
            ..
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!((*status, *permanent), (None, false));
        assert!(error.starts_with("could not connect"), "{error}");
    }

    #[test]
    fn refuses_guarded_urls_permanently_without_connecting() {
        let server = serve(
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec(),
            None,
            3,
        );
        let t = Transport::new(Allowed::none(), Duration::from_secs(5), 1024).unwrap();
        for (url, why) in [
            (
                format!("http://127.0.0.1:{}/", server.port),
                "http:// is allowed only",
            ),
            (format!("https://127.0.0.1:{}/", server.port), "loopback"),
            // A name: refused by the resolver, at call time.
            (
                format!("https://localhost:{}/", server.port),
                "localhost resolves only to refused addresses: 127.0.0.1 is a loopback address",
            ),
        ] {
            let outcome = t.post(&url, &headers(), b"{}".to_vec());
            let Outcome::Failed {
                status,
                error,
                permanent,
                ..
            } = &outcome
            else {
                panic!("{outcome:?}");
            };
            assert_eq!((*status, *permanent), (None, true), "{url}");
            assert!(
                error.starts_with("refused by the webhook guard: "),
                "{error}"
            );
            assert!(error.contains(why), "{url}: {error}");
        }
        assert!(server.heads.lock().unwrap().is_empty());
    }

    #[test]
    fn a_named_host_port_is_reached_through_the_trusted_client() {
        let server = serve(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            None,
            1,
        );
        let a = allowed(&format!("localhost:{}", server.port));
        let t = Transport::new(a, Duration::from_secs(5), 1024).unwrap();
        let ok = t.post(&format!("http://localhost:{}/", server.port), &[], vec![]);
        assert_eq!(ok, Outcome::Delivered { status: 200 });
        let other = t.post(
            &format!("http://localhost:{}/", server.port + 1),
            &[],
            vec![],
        );
        assert!(
            matches!(
                other,
                Outcome::Failed {
                    permanent: true,
                    ..
                }
            ),
            "{other:?}"
        );
    }

    #[test]
    fn refuses_bad_headers_without_showing_their_values() {
        let t = local(Duration::from_secs(5), 1024);
        let outcome = t.post(
            "http://127.0.0.1:1/",
            &[("webhook-signature", "v1,secret\r\nx: y".to_string())],
            vec![],
        );
        let Outcome::Failed {
            error, permanent, ..
        } = &outcome
        else {
            panic!("{outcome:?}");
        };
        assert!(!permanent);
        assert!(error.contains("\"webhook-signature\""), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn refuses_a_zero_timeout() {
        assert!(Transport::new(Allowed::none(), Duration::ZERO, 1).is_err());
    }
}
