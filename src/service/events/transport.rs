//! Outbound HTTP for webhook delivery, guarded against server-side request
//! forgery: a subscription's URL is chosen by whoever can create one, and
//! scimd would otherwise POST wherever it points, including to services on
//! its own network and to the cloud metadata endpoint.
//!
//! The guard, applied when a subscription is saved ([`check_url`]) and
//! again on every call ([`Transport::post`]):
//! - `https://` only; `http://` only to a host that
//!   `SCIMD_WEBHOOK_ALLOWED_HOSTS` names (by name, `host:port`, IP or a
//!   CIDR holding the URL's IP literal); no user name or password in the
//!   URL;
//! - every address the host resolves to must be public (see
//!   [`refusal`] for what is not), unless it lies in an allowed IP or
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
//! delivery workers), never on an actix or tokio worker; [`check_url`]
//! resolves names with blocking calls too, so an async handler should run
//! it through `web::block` or `spawn_blocking`.

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderName, HeaderValue, DATE, LOCATION, RETRY_AFTER};
use reqwest::{blocking, redirect, Url};

use crate::clock::Clock;

/// The variable the allowed list comes from, named in errors.
const VAR: &str = "SCIMD_WEBHOOK_ALLOWED_HOSTS";
/// How much of a failed answer's body goes into [`Outcome::Failed`]'s error.
const SNIPPET_CHARS: usize = 200;
/// The longest `Retry-After` honoured: a receiver asking for a day is
/// retried after an hour, and the delivery's own schedule decides the rest.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Connecting takes at most this long (or the whole timeout, if shorter),
/// so a black-holed address fails fast and leaves time for the next one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The exceptions an operator grants: hosts, `host:port`s, IPs and CIDRs
/// that webhook URLs may reach although they are not public.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    nets: Vec<Net>,
    hosts: Vec<HostEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

/// A host named by an entry; `port: None` allows every port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostEntry {
    Name { name: String, port: Option<u16> },
    IpPort { ip: IpAddr, port: u16 },
}

/// Parses `SCIMD_WEBHOOK_ALLOWED_HOSTS`: comma-separated entries, each a
/// host name (`hooks.internal`), `host:port` (`hooks.internal:8080`,
/// `10.0.0.5:8080`, `[fd00::5]:8080`), an IP (`10.0.0.5`, `fd00::5`) or a
/// CIDR (`10.0.0.0/8`, `fd00::/8`). Blank entries are skipped. An error
/// names the first bad entry.
pub fn parse_allowed(list: &str) -> Result<Allowed, String> {
    let mut allowed = Allowed::none();
    for (i, entry) in list.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let bad = |why: &str| format!("{VAR}: entry {} {entry:?} {why}", i + 1);
        if let Some((addr, prefix)) = entry.split_once('/') {
            allowed
                .nets
                .push(parse_cidr(addr, prefix).map_err(|e| bad(&e))?);
        } else if let Ok(ip) = entry.parse::<IpAddr>() {
            allowed.nets.push(Net::single(ip));
        } else if let Some(rest) = entry.strip_prefix('[') {
            let (ip, port) = rest
                .split_once(']')
                .ok_or_else(|| bad("opens a '[' it does not close"))?;
            let ip: Ipv6Addr = ip
                .parse()
                .map_err(|_| bad("holds no IPv6 address in its brackets"))?;
            match port {
                "" => allowed.nets.push(Net::single(IpAddr::V6(ip))),
                _ => {
                    let port = port
                        .strip_prefix(':')
                        .ok_or_else(|| bad("has something other than :port after ']'"))?;
                    let port = parse_port(port).map_err(|e| bad(&e))?;
                    allowed.hosts.push(HostEntry::IpPort {
                        ip: IpAddr::V6(ip),
                        port,
                    });
                }
            }
        } else {
            let (host, port) = match entry.split_once(':') {
                Some((host, port)) => (host, Some(parse_port(port).map_err(|e| bad(&e))?)),
                None => (entry, None),
            };
            match (host.parse::<Ipv4Addr>(), port) {
                (Ok(ip), Some(port)) => allowed.hosts.push(HostEntry::IpPort {
                    ip: IpAddr::V4(ip),
                    port,
                }),
                _ => {
                    let name = parse_host_name(host).map_err(|e| bad(&e))?;
                    allowed.hosts.push(HostEntry::Name { name, port });
                }
            }
        }
    }
    Ok(allowed)
}

fn parse_cidr(addr: &str, prefix: &str) -> Result<Net, String> {
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| "is not a CIDR: the part before '/' is not an IP address".to_string())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| *p <= max)
        .ok_or_else(|| format!("is not a CIDR: the prefix length must be 0 to {max}"))?;
    let net = Net { addr, prefix };
    // A set host bit is most likely a typo (10.1.0.0/8 for 10.1.0.0/16)
    // that would allow far more than meant: refuse rather than widen.
    if net.masked(addr) != addr {
        return Err(format!(
            "has bits set past its prefix; the network is {}/{prefix}",
            net.masked(addr)
        ));
    }
    Ok(net.canonical())
}

fn parse_port(port: &str) -> Result<u16, String> {
    port.parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| "has a port that is not 1 to 65535".to_string())
}

/// A host name as the URL parser leaves it: ASCII, lower case, no trailing
/// dot. Non-ASCII names must be given in their `xn--` form, which is what
/// URLs carry after parsing.
fn parse_host_name(host: &str) -> Result<String, String> {
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(
            "is not a host name, host:port, IP address or CIDR (non-ASCII names: use the xn-- form)"
                .into(),
        );
    }
    Ok(name)
}

impl Net {
    fn single(ip: IpAddr) -> Net {
        let prefix = if ip.is_ipv4() { 32 } else { 128 };
        Net { addr: ip, prefix }.canonical()
    }

    /// An IPv4-mapped IPv6 network as the IPv4 one, since addresses are
    /// compared in their canonical form.
    fn canonical(self) -> Net {
        match self.addr {
            IpAddr::V6(v6) if self.prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => Net {
                    addr: IpAddr::V4(v4),
                    prefix: self.prefix - 96,
                },
                None => self,
            },
            _ => self,
        }
    }

    fn masked(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v4) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        }
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.addr.is_ipv4() == ip.is_ipv4() && self.masked(ip) == self.addr
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) turned into
/// the IPv4 one it stands for, which is where a connection to it goes.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn is_metadata(ip: IpAddr) -> bool {
    const AWS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);
    match canonical(ip) {
        IpAddr::V4(v4) => v4 == Ipv4Addr::new(169, 254, 169, 254),
        IpAddr::V6(v6) => v6 == AWS_V6,
    }
}

/// Why `ip` is not a public address, or `None` when it is. The ranges are
/// those of the IANA special-purpose registries that are not globally
/// reachable, plus deprecated forms that embed or stand for them.
pub fn refusal(ip: IpAddr) -> Option<&'static str> {
    if is_metadata(ip) {
        return Some("a cloud metadata address");
    }
    match canonical(ip) {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let why = match (a, b, c) {
        (0, _, _) => "in 0.0.0.0/8 (this network)",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "a private address (RFC 1918)",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (127, _, _) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay anycast address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (255, 255, 255) if ip.is_broadcast() => "the broadcast address",
        (240..=255, _, _) => "a reserved address",
        _ => return None,
    };
    Some(why)
}

fn refusal_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let bits = u128::from(ip);
    let embedded_v4 = |shift: u32| Ipv4Addr::from((bits >> shift) as u32);
    let why = if ip.is_unspecified() {
        "the unspecified address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if bits >> 32 == 0 {
        "an IPv4-compatible address (deprecated)"
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        // NAT64 reaches the IPv4 address in the last 32 bits.
        return refusal_v4(embedded_v4(0)).map(|_| "a NAT64 form of a non-public IPv4 address");
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        "a local-use NAT64 address"
    } else if s[0] == 0x0100 && s[1..4] == [0; 3] {
        "a discard-only address"
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
        "a documentation address"
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        "an IETF protocol assignment (Teredo, ORCHID and others)"
    } else if s[0] == 0x2002 {
        // 6to4 reaches the IPv4 address in bits 16 to 48.
        return refusal_v4(embedded_v4(80)).map(|_| "a 6to4 form of a non-public IPv4 address");
    } else if s[0] & 0xfe00 == 0xfc00 {
        "a unique local address"
    } else if s[0] & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if s[0] & 0xffc0 == 0xfec0 {
        "a site-local address (deprecated)"
    } else if s[0] & 0xff00 == 0xff00 {
        "a multicast address"
    } else {
        return None;
    };
    Some(why)
}

impl Allowed {
    /// No exceptions: public `https://` URLs only.
    pub fn none() -> Allowed {
        Allowed::default()
    }

    /// Whether an entry names this host (and port).
    fn names(&self, host: &TargetHost, port: u16) -> bool {
        self.hosts.iter().any(|entry| match (entry, host) {
            (HostEntry::Name { name, port: p }, TargetHost::Name(h)) => {
                name == h && p.is_none_or(|p| p == port)
            }
            (HostEntry::IpPort { ip, port: p }, TargetHost::Ip(h)) => {
                canonical(*ip) == canonical(*h) && *p == port
            }
            _ => false,
        })
    }

    fn in_nets(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// Whether connecting to `ip` is allowed; `trusted` when the URL's host
    /// is itself an entry. The error says why not.
    fn check_address(&self, ip: IpAddr, trusted: bool) -> Result<(), String> {
        if is_metadata(ip) {
            if self.nets.contains(&Net::single(ip)) {
                return Ok(());
            }
            return Err(format!(
                "{ip} is a cloud metadata address; only an entry naming exactly it in {VAR} allows it"
            ));
        }
        if trusted || self.in_nets(ip) {
            return Ok(());
        }
        match refusal(ip) {
            Some(why) => Err(format!("{ip} is {why}; add it to {VAR} to allow it")),
            None => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetHost {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for TargetHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetHost::Name(n) => f.write_str(n),
            TargetHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A URL that passed the checks that need no name resolution.
#[derive(Debug)]
struct Target {
    url: Url,
    host: TargetHost,
    port: u16,
    /// An entry names the host: its addresses need not be public.
    trusted: bool,
}

/// Scheme, userinfo and host checks, and the address check of an IP
/// literal; names are resolved by the caller.
fn target(allowed: &Allowed, url: &str) -> Result<Target, String> {
    let url = Url::parse(url).map_err(|e| format!("not an absolute URL: {e}"))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(format!("the scheme must be https, not {other}")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry a user name or password".into());
    }
    // The parser has already made every IPv4 spelling (`127.1`,
    // `0x7f000001`) dotted and every IPv6 one bracketed, so these parses
    // see what a connection would go to.
    let host = match url.host_str() {
        None | Some("") => return Err("the URL has no host".into()),
        Some(h) => match h.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => match v6.parse::<Ipv6Addr>() {
                Ok(ip) => TargetHost::Ip(IpAddr::V6(ip)),
                Err(_) => return Err("the URL's IPv6 host does not parse".into()),
            },
            None => match h.parse::<Ipv4Addr>() {
                Ok(ip) => TargetHost::Ip(IpAddr::V4(ip)),
                Err(_) => TargetHost::Name(h.trim_end_matches('.').to_string()),
            },
        },
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    let trusted = allowed.names(&host, port);
    let explicit = trusted || matches!(host, TargetHost::Ip(ip) if allowed.in_nets(ip));
    if !https && !explicit {
        return Err(format!(
            "http:// is allowed only to hosts {VAR} names; use https://"
        ));
    }
    if let TargetHost::Ip(ip) = host {
        allowed.check_address(ip, trusted)?;
    }
    Ok(Target {
        url,
        host,
        port,
        trusted,
    })
}

/// Whether `url` may be a subscription's: an absolute `https://` URL (or
/// `http://` to a host the allowed list names) without userinfo, whose
/// host resolves only to public addresses (or allowed ones). A host name
/// an entry names is not resolved: the operator vouched for it. Resolves
/// with blocking calls: keep it off async workers. The error is meant for
/// the API client that sent the URL.
pub fn check_url(allowed: &Allowed, url: &str) -> Result<(), String> {
    let t = target(allowed, url)?;
    let TargetHost::Name(name) = &t.host else {
        return Ok(());
    };
    if t.trusted {
        return Ok(());
    }
    let addrs: Vec<SocketAddr> = (name.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {name}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{name} resolves to no address"));
    }
    for addr in addrs {
        allowed
            .check_address(addr.ip(), false)
            .map_err(|e| format!("{name} resolves to {e}"))?;
    }
    Ok(())
}

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
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::sync::Mutex;

    fn allowed(list: &str) -> Allowed {
        parse_allowed(list).unwrap()
    }

    #[test]
    fn public_https_urls_pass() {
        for url in [
            "https://93.184.215.14/hook",
            "https://93.184.215.14:8443/hook?x=1",
            "https://[2606:4700:4700::1111]/hook",
        ] {
            assert_eq!(check_url(&Allowed::none(), url), Ok(()), "{url}");
        }
    }

    #[test]
    fn refuses_what_is_not_public_https() {
        for (url, why) in [
            ("http://93.184.215.14/", "http:// is allowed only"),
            ("ftp://93.184.215.14/", "scheme must be https"),
            ("https://127.0.0.1/", "loopback"),
            ("https://127.1/", "loopback"),
            ("https://0x7f000001/", "loopback"),
            ("https://[::1]/", "loopback"),
            ("https://localhost/", "loopback"),
            ("https://10.1.2.3/", "private"),
            ("https://172.16.0.1/", "private"),
            ("https://192.168.1.1/", "private"),
            ("https://169.254.169.254/latest/meta-data", "metadata"),
            ("https://[fd00:ec2::254]/", "metadata"),
            ("https://169.254.1.1/", "link-local"),
            ("https://[fe80::1]/", "link-local"),
            ("https://[::ffff:127.0.0.1]/", "loopback"),
            ("https://[::ffff:a9fe:a9fe]/", "metadata"),
            ("https://[::a00:1]/", "IPv4-compatible"),
            ("https://[64:ff9b::a00:1]/", "NAT64"),
            ("https://[2002:a00:1::]/", "6to4"),
            ("https://100.64.0.1/", "carrier-grade"),
            ("https://[fd00::1]/", "unique local"),
            ("https://0.0.0.0/", "0.0.0.0/8"),
            ("https://0.1.2.3/", "0.0.0.0/8"),
            ("https://[::]/", "unspecified"),
            ("https://255.255.255.255/", "broadcast"),
            ("https://240.0.0.1/", "reserved"),
            ("https://224.0.0.1/", "multicast"),
            ("https://[ff02::1]/", "multicast"),
            ("https://192.0.2.1/", "documentation"),
            ("https://198.51.100.1/", "documentation"),
            ("https://203.0.113.1/", "documentation"),
            ("https://[2001:db8::1]/", "documentation"),
            ("https://[3fff::1]/", "documentation"),
            ("https://[2001::1]/", "IETF protocol"),
            ("https://198.18.0.1/", "benchmarking"),
            ("https://user:pw@93.184.215.14/", "user name or password"),
            ("https://user@93.184.215.14/", "user name or password"),
            ("not a url", "not an absolute URL"),
            ("/relative/path", "not an absolute URL"),
            ("https://", "not an absolute URL"),
            ("", "not an absolute URL"),
        ] {
            let err = check_url(&Allowed::none(), url).unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn allowed_entries_open_exactly_what_they_name() {
        let a = allowed("10.0.0.0/8, hooks.internal:8443, 127.0.0.1, localhost, fd00::/8");
        for url in [
            "https://10.1.2.3/",
            "http://10.1.2.3:8080/",
            "https://[::ffff:10.0.0.1]/",
            "http://127.0.0.1:9999/",
            "https://localhost/",
            "http://localhost:1234/",
            "https://hooks.internal:8443/",
            "http://hooks.internal:8443/",
            "https://[fd00::1]/",
        ] {
            assert_eq!(check_url(&a, url), Ok(()), "{url}");
        }
        for (url, why) in [
            // The entry names port 8443 only.
            ("http://hooks.internal/", "http:// is allowed only"),
            ("https://11.0.0.1:1/x", ""),
            ("https://127.0.0.2/", "loopback"),
            ("https://192.168.0.1/", "private"),
            ("https://[fc00::1]/", "unique local"),
            ("https://169.254.169.254/", "metadata"),
        ] {
            match check_url(&a, url) {
                Ok(()) => assert!(why.is_empty(), "{url} passed"),
                Err(err) => assert!(!why.is_empty() && err.contains(why), "{url}: {err}"),
            }
        }
    }

    #[test]
    fn metadata_needs_an_entry_naming_it_exactly() {
        let wide = allowed("169.254.0.0/16");
        assert_eq!(check_url(&wide, "https://169.254.1.1/"), Ok(()));
        let err = check_url(&wide, "https://169.254.169.254/").unwrap_err();
        assert!(err.contains("metadata"), "{err}");
        let exact = allowed("169.254.169.254");
        assert_eq!(check_url(&exact, "http://169.254.169.254/"), Ok(()));
    }

    #[test]
    fn parses_allowed_lists() {
        assert_eq!(allowed(""), Allowed::none());
        assert_eq!(allowed(" , ,"), Allowed::none());
        let a = allowed("Hooks.Internal., hooks.internal:8080, 10.0.0.5:80, [fd00::5]:8080, [fd00::6], ::ffff:10.0.0.0/104");
        assert_eq!(
            a.hosts,
            [
                HostEntry::Name {
                    name: "hooks.internal".into(),
                    port: None
                },
                HostEntry::Name {
                    name: "hooks.internal".into(),
                    port: Some(8080)
                },
                HostEntry::IpPort {
                    ip: "10.0.0.5".parse().unwrap(),
                    port: 80
                },
                HostEntry::IpPort {
                    ip: "fd00::5".parse().unwrap(),
                    port: 8080
                },
            ]
        );
        assert_eq!(
            a.nets,
            [
                Net::single("fd00::6".parse().unwrap()),
                Net {
                    addr: "10.0.0.0".parse().unwrap(),
                    prefix: 8
                },
            ]
        );
    }

    #[test]
    fn names_the_bad_entry() {
        for (list, why) in [
            ("10.0.0.0/33", "prefix length must be 0 to 32"),
            ("fd00::/129", "prefix length must be 0 to 128"),
            ("10.0.0.0/x", "prefix length"),
            ("nope/8", "before '/' is not an IP"),
            ("10.0.0.1/8", "the network is 10.0.0.0/8"),
            ("host:0", "port that is not 1 to 65535"),
            ("host:99999", "port that is not 1 to 65535"),
            ("host:", "port that is not"),
            (":80", "not a host name"),
            ("[fd00::1", "does not close"),
            ("[nothex]:80", "no IPv6 address"),
            ("[fd00::1]80", "other than :port"),
            ("bad host!", "not a host name"),
            ("a..b", "not a host name"),
            ("ünïcode.example", "xn--"),
        ] {
            let err = parse_allowed(&format!("localhost, {list}")).unwrap_err();
            assert!(err.starts_with(VAR), "{err}");
            assert!(err.contains(&format!("entry 2 {list:?}")), "{err}");
            assert!(err.contains(why), "{list}: {err}");
        }
    }

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
