//! The SPID and CIE identity providers of the configured federations, for the apps' login
//! buttons: each trust anchor's subordinate listing of `openid_provider`s, each listed provider's
//! trust chain resolved (one whose chain does not hold is left out), its name and logo from its
//! `federation_entity` metadata. Kept until the earliest expiry of what it was read from.

use sportello_core::api::FederatedProvider;

use super::Federation;
use super::trust::{self, TrustChain};
use crate::clock::now_ms;

/// Most providers listed per trust anchor (SPID has about a dozen): a listing is outside input.
pub const MAX_PER_ANCHOR: usize = 100;
/// Longest name kept, in characters.
const MAX_NAME_CHARS: usize = 200;
/// When a listing or a chain could not be read, how soon to try again, seconds: often enough to
/// recover quickly, rarely enough that an unreachable anchor does not slow every provider list.
const RETRY_SECS: i64 = 60;

/// The last listing and until when it holds (seconds since the epoch).
pub type Listing = tokio::sync::Mutex<Option<(Vec<FederatedProvider>, i64)>>;

impl Federation {
    /// The providers of every configured federation, from the cache while it holds.
    pub async fn providers(&self) -> Vec<FederatedProvider> {
        if self.federations.is_empty() {
            return Vec::new();
        }
        let now = now_ms() / 1000;
        // One refresh at a time: callers arriving meanwhile wait for it rather than all fetching.
        let mut slot = self.listing.lock().await;
        if let Some((providers, until)) = &*slot
            && *until > now
        {
            return providers.clone();
        }
        let (providers, until) = self.discover(now).await;
        *slot = Some((providers.clone(), until));
        providers
    }

    async fn discover(&self, now: i64) -> (Vec<FederatedProvider>, i64) {
        let mut until = i64::MAX;
        let mut providers = Vec::new();
        for (federation, config) in &self.federations {
            for anchor in config.trust_anchors.keys() {
                let ids =
                    match trust::subordinates(&self.http, anchor, &config.trust_anchors, "openid_provider")
                        .await
                    {
                        Ok((ids, anchor_expires)) => {
                            until = until.min(anchor_expires);
                            ids
                        }
                        Err(error) => {
                            tracing::warn!(%error, federation, anchor, "federation listing unavailable");
                            until = until.min(now + RETRY_SECS);
                            continue;
                        }
                    };
                for id in ids.into_iter().take(MAX_PER_ANCHOR) {
                    let resolved = self
                        .chains
                        .resolve(
                            &self.http,
                            federation,
                            &id,
                            "openid_provider",
                            &config.trust_anchors,
                            now,
                        )
                        .await;
                    match resolved {
                        Ok(chain) => {
                            until = until.min(chain.expires_at);
                            providers.push(entry(federation, &chain));
                        }
                        Err(error) => {
                            tracing::warn!(%error, federation, provider = %id, "listed provider left out");
                            until = until.min(now + RETRY_SECS);
                        }
                    }
                }
            }
        }
        providers.sort_by(|a, b| {
            (&a.federation, &a.name, &a.entity_id).cmp(&(&b.federation, &b.name, &b.entity_id))
        });
        providers.dedup_by(|a, b| a.federation == b.federation && a.entity_id == b.entity_id);
        (providers, until)
    }
}

/// A provider as the apps show it: name and logo from its `federation_entity` metadata, else
/// from its `openid_provider` metadata, else its entity id.
fn entry(federation: &str, chain: &TrustChain) -> FederatedProvider {
    let field = |name: &str| {
        chain
            .federation_entity
            .get(name)
            .and_then(serde_json::Value::as_str)
            .or_else(|| chain.metadata.get(name).and_then(serde_json::Value::as_str))
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let name = field("organization_name")
        .unwrap_or(&chain.subject)
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    // The apps load the logo: only an absolute http(s) URL is passed on.
    let logo_uri = field("logo_uri")
        .and_then(|uri| url::Url::parse(uri).ok())
        .filter(|uri| matches!(uri.scheme(), "https" | "http"))
        .map(String::from);
    FederatedProvider {
        federation: federation.to_owned(),
        entity_id: chain.subject.clone(),
        name,
        logo_uri,
    }
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
