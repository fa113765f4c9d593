//! Rate limits on the operations a client can abuse at full speed: starting logins, refreshing
//! tokens, guessing pagoPA notice numbers, scraping the catalogue, registering devices.
//!
//! Each limit is a GCRA token bucket (the `governor` crate) per client address and, when the
//! request carries a valid access token, per account too: a citizen behind a shared address (a
//! school, an office) gets their own quota, and one account cannot escape its quota by changing
//! address. A refused call gets 429 `rate-limited` with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as Gcra};

use super::client::{ClientAddr, limit_key};
use super::problem::ApiError;
use crate::AppState;
use crate::config::{Quota, RateLimitsConfig};

/// The operations with a limit of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Starting a login: SPID/CIE, OpenID Connect, dev-login.
    Login,
    /// `POST /v1/auth/token`.
    Refresh,
    /// `POST /v1/payments/verify`.
    Verify,
    /// Catalogue search, DAIA and event search, in the API and the web pages.
    Search,
    /// `POST /v1/me/devices`.
    Devices,
}

impl Limited {
    /// The limit of a route (`MatchedPath` form), if it has one.
    pub fn of_route(method: &Method, path: &str) -> Option<Self> {
        Some(match (method.as_str(), path) {
            // The web app's login starts too (server/src/web/login.rs).
            (
                "GET",
                "/v1/auth/oidc/{provider}/login" | "/v1/auth/federation/{federation}/login" | "/login/start",
            )
            | ("POST", "/v1/auth/dev-login" | "/login/dev") => Self::Login,
            ("POST", "/v1/auth/token") | ("GET", "/login/done") => Self::Refresh,
            ("POST", "/v1/payments/verify") => Self::Verify,
            // The web pages' searches too: they call the same services.
            ("GET", "/v1/catalog/search" | "/v1/daia" | "/v1/events" | "/catalogue" | "/events") => {
                Self::Search
            }
            ("POST", "/v1/me/devices" | "/me/devices") => Self::Devices,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One limit: a bucket per client key and one per account.
struct Buckets {
    by_client: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl Buckets {
    fn new(quota: Quota) -> Self {
        let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
        let period = Duration::from_mins(1) / quota.per_minute.max(1);
        let gcra = Gcra::with_period(period)
            .unwrap_or_else(|| Gcra::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            by_client: DefaultKeyedRateLimiter::keyed(gcra),
            by_account: DefaultKeyedRateLimiter::keyed(gcra),
        }
    }

    fn forget_idle(&self) {
        self.by_client.retain_recent();
        self.by_client.shrink_to_fit();
        self.by_account.retain_recent();
        self.by_account.shrink_to_fit();
    }
}

/// Every rate limit of the server.
pub struct RateLimits {
    enabled: bool,
    buckets: [Buckets; 5],
    max_tracked: usize,
    checks: AtomicU64,
    clock: DefaultClock,
}

impl RateLimits {
    /// The limits of the configuration (`[rate_limits]`).
    pub fn new(config: &RateLimitsConfig) -> Self {
        Self {
            enabled: config.enabled,
            // In the order of `Limited`'s variants.
            buckets: [
                Buckets::new(config.login),
                Buckets::new(config.refresh),
                Buckets::new(config.verify),
                Buckets::new(config.search),
                Buckets::new(config.devices),
            ],
            max_tracked: config.max_tracked_clients,
            checks: AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one call of `limited` by `client` and `account` (either may be unknown); `Err`
    /// with the time to wait when either has no call left.
    pub fn check(
        &self,
        limited: Limited,
        client: Option<IpAddr>,
        account: Option<&str>,
    ) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let buckets = &self.buckets[limited.index()];
        self.keep_bounded(buckets);
        let now = self.clock.now();
        if let Some(client) = client {
            buckets
                .by_client
                .check_key(&limit_key(client))
                .map_err(|refused| refused.wait_time_from(now))?;
        }
        if let Some(account) = account {
            buckets
                .by_account
                .check_key(&account.to_owned())
                .map_err(|refused| refused.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Forgets the keys whose buckets are full again, every few thousand calls and whenever a
    /// map holds more keys than configured, so a flood of new addresses cannot grow memory.
    fn keep_bounded(&self, buckets: &Buckets) {
        let checks = self.checks.fetch_add(1, Ordering::Relaxed);
        if checks.is_multiple_of(4096)
            || buckets.by_client.len() > self.max_tracked
            || buckets.by_account.len() > self.max_tracked
        {
            buckets.forget_idle();
        }
    }
}

/// Middleware (a route layer: it needs the matched route): applies the route's limit, if any.
pub async fn limit_rate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limited = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| Limited::of_route(request.method(), path.as_str()));
    let Some(limited) = limited else {
        return next.run(request).await;
    };
    let client = request.extensions().get::<ClientAddr>().map(|c| c.0);
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::identity::http::bearer_token);
    let account = match bearer {
        Some(token) => state.identity.account_of(token).await,
        None => None,
    };
    match state.rate_limits.check(limited, client, account.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            metrics::counter!("sportello_http_rate_limited_total", "limit" => format!("{limited:?}"))
                .increment(1);
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(burst: u32, per_minute: u32) -> RateLimits {
        let quota = Quota { per_minute, burst };
        RateLimits::new(&RateLimitsConfig {
            verify: quota,
            ..RateLimitsConfig::default()
        })
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limits = limits(3, 6);
        let client = Some("203.0.113.7".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(limits.check(Limited::Verify, client, None), Ok(()));
        }
        let wait = limits.check(Limited::Verify, client, None).unwrap_err();
        // 6 per minute: one call every 10 s.
        assert!(
            wait > Duration::from_secs(9) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        // Another client, another limit, and another operation are untouched.
        assert!(
            limits
                .check(Limited::Verify, Some("203.0.113.8".parse().unwrap()), None)
                .is_ok()
        );
        assert!(limits.check(Limited::Search, client, None).is_ok());
    }

    #[test]
    fn an_account_is_limited_across_addresses_and_ipv6_by_its_64() {
        let limits = limits(2, 1);
        let from = |ip: &str| Some(ip.parse::<IpAddr>().unwrap());
        assert!(
            limits
                .check(Limited::Verify, from("198.51.100.1"), Some("u1"))
                .is_ok()
        );
        assert!(
            limits
                .check(Limited::Verify, from("198.51.100.2"), Some("u1"))
                .is_ok()
        );
        assert!(
            limits
                .check(Limited::Verify, from("198.51.100.3"), Some("u1"))
                .is_err()
        );
        // The same /64 is one client.
        assert!(limits.check(Limited::Verify, from("2001:db8::1"), None).is_ok());
        assert!(limits.check(Limited::Verify, from("2001:db8::2"), None).is_ok());
        assert!(limits.check(Limited::Verify, from("2001:db8::3"), None).is_err());
    }

    #[test]
    fn disabled_limits_refuse_nothing() {
        let limits = RateLimits::new(&RateLimitsConfig {
            enabled: false,
            ..RateLimitsConfig::default()
        });
        let client = Some("203.0.113.7".parse().unwrap());
        for _ in 0..1000 {
            assert!(limits.check(Limited::Login, client, None).is_ok());
        }
    }

    #[test]
    fn the_limited_routes_are_the_ones_documented() {
        let limited: Vec<_> = crate::http::openapi()
            .paths
            .paths
            .iter()
            .flat_map(|(path, item)| {
                [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                ]
                .into_iter()
                .filter(|(_, has)| *has)
                .filter_map(move |(method, _)| {
                    Limited::of_route(&method, path).map(|_| format!("{method} {path}"))
                })
            })
            .collect();
        // Every pattern of `of_route` names a real operation: a renamed route fails here.
        assert_eq!(limited.len(), 9, "{limited:?}");
    }
}
