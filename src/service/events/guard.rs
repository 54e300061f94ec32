//! Which webhook destinations scimd may call: the operator's allowed list
//! (`SCIMD_WEBHOOK_ALLOWED_HOSTS`), what counts as a public address, and
//! the check of a subscription's URL. `transport` applies the same checks
//! at call time, in its resolver.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use reqwest::Url;

/// The variable the allowed list comes from, named in errors.
const VAR: &str = "SCIMD_WEBHOOK_ALLOWED_HOSTS";
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
    pub(super) fn names(&self, host: &TargetHost, port: u16) -> bool {
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

    pub(super) fn in_nets(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// Whether connecting to `ip` is allowed; `trusted` when the URL's host
    /// is itself an entry. The error says why not.
    pub(super) fn check_address(&self, ip: IpAddr, trusted: bool) -> Result<(), String> {
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
pub(super) enum TargetHost {
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
pub(super) struct Target {
    pub(super) url: Url,
    pub(super) host: TargetHost,
    pub(super) port: u16,
    /// An entry names the host: its addresses need not be public.
    pub(super) trusted: bool,
}

/// Scheme, userinfo and host checks, and the address check of an IP
/// literal; names are resolved by the caller.
pub(super) fn target(allowed: &Allowed, url: &str) -> Result<Target, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
