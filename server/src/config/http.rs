//! The `[http]` and `[rate_limits]` sections: what a server on the open internet needs to survive
//! careless and hostile clients (see docs/deployment.md, "Limits").

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// HTTP limits: requests, connections, the proxies in front, cross-origin callers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Whole-request timeout, seconds.
    pub request_timeout_secs: u64,
    /// Maximum JSON request body, bytes.
    pub body_limit_bytes: usize,
    /// Open connections the server holds at most; beyond it a new connection is closed at once.
    /// Lowered at start-up to what the process's file-descriptor limit leaves room for.
    pub max_connections: usize,
    /// Open connections one client address holds at most (an IPv6 client is its /64; never more
    /// than `max_connections`). Trusted proxies are exempt: everyone's traffic arrives through
    /// them.
    pub max_connections_per_client: usize,
    /// Time a client has to send a request's whole head (line and headers), seconds: a client
    /// that sends part of it and waits is disconnected.
    pub header_read_timeout_secs: u64,
    /// A connection on which nothing moves for this long, seconds, is closed (after the request
    /// in hand, if any, is answered).
    pub idle_timeout_secs: u64,
    /// Proxies (load balancers) whose `X-Forwarded-For` is believed, as networks
    /// (`10.0.0.0/8`, `127.0.0.1/32`). Empty: the client is the TCP peer.
    pub trusted_proxies: Vec<IpNet>,
    /// Web origins allowed to call the API from a browser (CORS), e.g.
    /// `https://sportello.comune.genova.it`. Empty (the default): no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_client: 256,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
        }
    }
}

impl HttpConfig {
    /// Rejects limits that would make the server useless.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.body_limit_bytes > 0, "http.body_limit_bytes must be > 0");
        anyhow::ensure!(
            self.request_timeout_secs > 0,
            "http.request_timeout_secs must be > 0"
        );
        anyhow::ensure!(
            self.max_connections > 0 && self.max_connections_per_client > 0,
            "http.max_connections and http.max_connections_per_client must be > 0"
        );
        anyhow::ensure!(
            self.header_read_timeout_secs > 0 && self.idle_timeout_secs > 0,
            "http.header_read_timeout_secs and http.idle_timeout_secs must be > 0"
        );
        for origin in &self.cors_allowed_origins {
            let url = url::Url::parse(origin)
                .map_err(|e| anyhow::anyhow!("http.cors_allowed_origins: `{origin}`: {e}"))?;
            // An origin is scheme, host and port: a path or a trailing slash would never match
            // the `Origin` header a browser sends.
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https") && url.origin().ascii_serialization() == *origin,
                "http.cors_allowed_origins: `{origin}` is not an origin (scheme://host[:port], \
                 no path, no trailing slash)"
            );
        }
        Ok(())
    }
}

/// How often one client may call an expensive or guessable operation: a token bucket that holds
/// `burst` calls and refills at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Sustained calls per minute.
    pub per_minute: u32,
    /// Calls allowed at once before the sustained rate applies.
    pub burst: u32,
}

/// Rate limits, per client address and, for a caller with a token, per account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitsConfig {
    /// Off only for benchmarks and contract tests that call one route at full speed.
    pub enabled: bool,
    /// Starting a login (SPID/CIE, OpenID Connect, dev-login).
    pub login: Quota,
    /// Refreshing tokens.
    pub refresh: Quota,
    /// Verifying a pagoPA notice by number: the limit is what makes enumerating notices useless.
    pub verify: Quota,
    /// Catalogue search and DAIA availability.
    pub search: Quota,
    /// Registering a device for push.
    pub devices: Quota,
    /// Client keys remembered at most per limit; beyond it the oldest idle ones are forgotten.
    pub max_tracked_clients: usize,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            login: Quota {
                per_minute: 20,
                burst: 10,
            },
            refresh: Quota {
                per_minute: 30,
                burst: 10,
            },
            verify: Quota {
                per_minute: 30,
                burst: 10,
            },
            // A person browsing the catalogue types a few queries a minute; an app's
            // search-as-you-type a few per second for a moment. A scraper wants thousands.
            search: Quota {
                per_minute: 300,
                burst: 60,
            },
            devices: Quota {
                per_minute: 10,
                burst: 5,
            },
            max_tracked_clients: 100_000,
        }
    }
}

impl RateLimitsConfig {
    /// Rejects quotas that would refuse every call.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, quota) in self.quotas() {
            anyhow::ensure!(
                quota.per_minute > 0 && quota.burst > 0,
                "rate_limits.{name}: per_minute and burst must be > 0"
            );
        }
        anyhow::ensure!(
            self.max_tracked_clients > 0,
            "rate_limits.max_tracked_clients must be > 0"
        );
        Ok(())
    }

    /// Every quota with its name in the configuration.
    pub fn quotas(&self) -> [(&'static str, Quota); 5] {
        [
            ("login", self.login),
            ("refresh", self.refresh),
            ("verify", self.verify),
            ("search", self.search),
            ("devices", self.devices),
        ]
    }
}
