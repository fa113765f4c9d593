//! The `[notify]` section: the inbox's delivery worker and the push senders
//! (docs/notifications.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Inbox and push delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Run the delivery worker in this process (several instances may all run one).
    pub worker: bool,
    /// VAPID `sub` claim: how push services can reach the operator (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// Hosts Web Push endpoints may point at; a subscription elsewhere is refused, so users
    /// cannot make the server post to arbitrary addresses. `*.` prefixes match subdomains.
    pub webpush_allowed_hosts: Vec<String>,
    /// Accept `http://` push endpoints (local simulators only).
    pub allow_insecure_endpoints: bool,
    /// Pushes claimed per round.
    pub batch_size: u32,
    /// Pushes in flight at once per round.
    pub concurrency: usize,
    /// Rounds (claimed batches) in flight at once per instance. More than one overlaps the
    /// database work of a batch with the network time of another; the at-least-once window after
    /// a crash grows to `rounds_in_flight × batch_size` pushes.
    pub rounds_in_flight: usize,
    /// Idle wait between polls, milliseconds.
    pub poll_interval_ms: u64,
    /// How long a claimed push is reserved for the worker that claimed it, seconds. A worker
    /// that dies releases its pushes when the lease ends: the at-least-once window.
    pub lease_secs: u64,
    /// How long an undelivered push is kept, seconds.
    pub ttl_secs: u64,
    /// Largest number of devices per person.
    pub max_devices_per_user: u32,
    /// Firebase Cloud Messaging (HTTP v1); off when absent.
    pub fcm: Option<FcmConfig>,
}

/// Firebase Cloud Messaging settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcmConfig {
    /// Google service-account key file (JSON).
    pub service_account_file: PathBuf,
    /// API base URL.
    #[serde(default = "default_fcm_api_url")]
    pub api_url: String,
    /// Token endpoint; default: the key file's `token_uri`.
    #[serde(default)]
    pub token_url: Option<String>,
}

fn default_fcm_api_url() -> String {
    "https://fcm.googleapis.com".to_owned()
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            worker: true,
            vapid_subject: "mailto:sportello@comune.genova.it".to_owned(),
            webpush_allowed_hosts: [
                "fcm.googleapis.com",
                "updates.push.services.mozilla.com",
                "*.push.apple.com",
                "*.notify.windows.com",
            ]
            .map(str::to_owned)
            .to_vec(),
            allow_insecure_endpoints: false,
            batch_size: 256,
            concurrency: 64,
            rounds_in_flight: 2,
            poll_interval_ms: 500,
            lease_secs: 60,
            ttl_secs: 7 * 24 * 3600,
            max_devices_per_user: 20,
            fcm: None,
        }
    }
}
