//! The token pair held in memory, what the app may see of it, and how it hears about changes.

use std::time::{Duration, SystemTime};

use sportello_core::api::TokenPair;

/// An access token this close to expiry is renewed before use, so that clock skew and the time a
/// request takes do not make it expire on the way.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// What the app may show about the session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionState {
    /// Whether there is a session (a refresh token, possibly not yet used since a restore).
    pub logged_in: bool,
    /// When the current access token expires; none before the first refresh after a restore.
    pub access_token_expires_at: Option<SystemTime>,
    /// When the refresh token expires, when known; after that the user must log in again.
    pub refresh_token_expires_at: Option<SystemTime>,
}

/// What the app stores to stay logged in across restarts (see `restore_session`).
///
/// The refresh token is a credential: store it only in the Android Keystore-backed storage
/// (EncryptedSharedPreferences, or a Keystore-wrapped DataStore) or the iOS Keychain, never in
/// plain preferences, files or logs.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionSnapshot {
    /// The current refresh token. It rotates at every refresh: always store the latest one.
    pub refresh_token: String,
    /// When it expires, when known.
    pub refresh_token_expires_at: Option<SystemTime>,
}

impl std::fmt::Debug for SessionSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSnapshot")
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .finish_non_exhaustive()
    }
}

/// Told about every change of the session, so the app can keep its stored refresh token current.
#[uniffi::export(with_foreign)]
pub trait SessionListener: Send + Sync {
    /// Called after a login, after every refresh (the refresh token rotates: store the new one,
    /// or the next start-up would replay the old one and the server would end the session), and
    /// with `None` after a logout or when the server ended the session (delete the stored
    /// token). Called on a library thread: hand UI work over to the main thread.
    fn on_session_changed(&self, snapshot: Option<SessionSnapshot>);
}

/// The tokens of a session.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub access_token: Option<String>,
    pub access_expires_at: Option<SystemTime>,
    pub refresh_token: String,
    pub refresh_expires_at: Option<SystemTime>,
}

/// Tokens are credentials: never printed.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    /// The tokens of a fresh pair, with expiry instants computed on receipt.
    pub fn from_pair(pair: TokenPair, now: SystemTime) -> Self {
        Self {
            access_token: Some(pair.access_token),
            access_expires_at: now.checked_add(Duration::from_secs(pair.expires_in)),
            refresh_token: pair.refresh_token,
            refresh_expires_at: now.checked_add(Duration::from_secs(pair.refresh_expires_in)),
        }
    }

    /// A session restored from storage: no access token until the first refresh.
    pub fn restored(refresh_token: String) -> Self {
        Self {
            access_token: None,
            access_expires_at: None,
            refresh_token,
            refresh_expires_at: None,
        }
    }

    /// The access token, unless it is missing or about to expire.
    pub fn usable_access_token(&self, now: SystemTime) -> Option<&str> {
        let token = self.access_token.as_deref()?;
        let expires_at = self.access_expires_at?;
        now.checked_add(EXPIRY_MARGIN)
            .is_some_and(|due| due < expires_at)
            .then_some(token)
    }

    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            refresh_token: self.refresh_token.clone(),
            refresh_token_expires_at: self.refresh_expires_at,
        }
    }

    pub fn state(&self) -> SessionState {
        SessionState {
            logged_in: true,
            access_token_expires_at: self.access_expires_at,
            refresh_token_expires_at: self.refresh_expires_at,
        }
    }
}

/// The state of no session.
pub(crate) fn logged_out() -> SessionState {
    SessionState {
        logged_in: false,
        access_token_expires_at: None,
        refresh_token_expires_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_are_renewed_shortly_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let pair = TokenPair {
            access_token: "a".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            refresh_token: "r".into(),
            refresh_expires_in: 3600,
        };
        let tokens = Tokens::from_pair(pair, now);
        assert_eq!(tokens.usable_access_token(now), Some("a"));
        assert_eq!(
            tokens.usable_access_token(now + Duration::from_secs(869)),
            Some("a")
        );
        assert_eq!(tokens.usable_access_token(now + Duration::from_secs(871)), None);
        assert_eq!(
            tokens.state().refresh_token_expires_at,
            Some(now + Duration::from_hours(1))
        );
        assert_eq!(Tokens::restored("r".into()).usable_access_token(now), None);
        assert!(
            !format!("{tokens:?}").contains("\"r\""),
            "no secrets in debug output"
        );
    }
}
