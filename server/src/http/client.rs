//! Who is calling: the client's address, as the connection limits and rate limits count it.
//!
//! Behind a load balancer every connection comes from the balancer, and the client's address
//! arrives in `X-Forwarded-For`. That header is believed only from a configured trusted proxy:
//! anyone else could write any address in it and escape every per-client limit.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The address of the client a request comes from, after trusted proxies are looked through.
/// Inserted into every request's extensions by [`identify_client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose forwarded addresses are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The configured networks (`http.trusted_proxies`).
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client of a request that arrived from `peer` with these headers.
    ///
    /// Each proxy appends the address it received the request from, so the list is read from
    /// the right: trusted proxies are skipped, and the first address that is not one is the
    /// client. A malformed entry stops the walk at the last address known to be right: it was
    /// written by a trusted proxy about its own peer, or by the client itself.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or("").rsplit(','));
        for entry in forwarded {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                return client;
            };
            client = canonical(ip);
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

/// One address per client: an IPv4-mapped IPv6 address is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The key per-client limits count under: the address, or for IPv6 its /64, the smallest
/// network a provider gives one subscriber (RFC 6177), who can use any address in it.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Middleware: records the request's [`ClientAddr`] from the connection's peer address and,
/// from trusted proxies, `X-Forwarded-For`. A request without a peer address (an in-process
/// test) gets none.
pub async fn identify_client(proxies: TrustedProxies, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let client = proxies.client_of(peer, request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let headers = forwarded(&["203.0.113.7"]);
        // A client writing the header itself gains nothing.
        assert_eq!(
            proxies.client_of(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        assert_eq!(proxies.client_of(ip("10.1.2.3"), &headers), ip("203.0.113.7"));
        // No proxies configured: the peer is the client, whatever the header says.
        assert_eq!(
            TrustedProxies::default().client_of(ip("10.1.2.3"), &headers),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn the_list_is_read_from_the_right_past_every_trusted_proxy() {
        let proxies = TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.0/24".parse().unwrap(),
        ]);
        // The client made up the first entry; the outer proxy (192.0.2.9) saw 203.0.113.7.
        let headers = forwarded(&["1.2.3.4, 203.0.113.7", "192.0.2.9"]);
        assert_eq!(proxies.client_of(ip("10.0.0.1"), &headers), ip("203.0.113.7"));
        // Garbage stops the walk at the last address a trusted proxy wrote.
        let headers = forwarded(&["203.0.113.7, not-an-address, 192.0.2.9"]);
        assert_eq!(proxies.client_of(ip("10.0.0.1"), &headers), ip("192.0.2.9"));
        // A trusted proxy with no header is itself the client.
        assert_eq!(
            proxies.client_of(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(limit_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        let proxies = TrustedProxies::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(proxies.contains(ip("::ffff:127.0.0.1")));
    }
}
