//! Which address a request comes from, for `last_used_from`. `X-Forwarded-For`
//! is believed only when the direct peer is a configured trusted proxy;
//! otherwise any client could write whatever address it likes there.

use std::net::IpAddr;

/// Walks `X-Forwarded-For` from the right (the entry the nearest proxy
/// added), skipping trusted proxies; the first other address is the client.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<String> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let Some(chain) = forwarded_for else {
        return Some(peer.to_string());
    };
    for hop in chain.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return Some(ip.to_string()),
            // A malformed entry ends what can be believed.
            Err(_) => break,
        }
    }
    Some(peer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(
            client_ip(Some(ip("1.2.3.4")), Some("9.9.9.9"), &trusted).unwrap(),
            "1.2.3.4"
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("5.6.7.8"), &trusted).unwrap(),
            "5.6.7.8"
        );
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.1")),
                Some("6.6.6.6, 5.6.7.8, 10.0.0.2"),
                &trusted
            )
            .unwrap(),
            "5.6.7.8"
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), Some("junk"), &trusted).unwrap(),
            "10.0.0.1"
        );
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), None, &trusted).unwrap(),
            "10.0.0.1"
        );
        assert_eq!(client_ip(None, Some("1.1.1.1"), &trusted), None);
    }
}
