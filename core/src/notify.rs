//! Notifications: topics people subscribe to, their delivery preferences, and the retry policy
//! of push delivery. Delivery itself (HTTP, encryption) lives in the server.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a notification setting is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Not one of the topics.
    #[error("`{0}` is not a topic (library, permits, payments, events, alerts)")]
    UnknownTopic(String),
    /// Not `HH:MM`.
    #[error("`{0}` is not a time of day (HH:MM)")]
    MalformedTime(String),
    /// Not a subject of 1..=120 characters and a body of at most 10,000.
    #[error("{reason}")]
    MalformedMessage {
        /// The part at fault: `subject` or `body`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// What a message is about; people choose the topics they receive pushes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Library services. Nothing is sent on it yet: loans and holds do not exist.
    Library,
    /// Permit status changes and deadlines.
    Permits,
    /// Payment notices and receipts.
    Payments,
    /// Cultural events (a topic people may choose already; no context sends on it yet).
    Events,
    /// Civil-protection and other public alerts.
    Alerts,
}

impl Topic {
    /// Every topic, in a stable order.
    pub const ALL: [Topic; 5] = [
        Topic::Library,
        Topic::Permits,
        Topic::Payments,
        Topic::Events,
        Topic::Alerts,
    ];

    /// The identifier used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Library => "library",
            Topic::Permits => "permits",
            Topic::Payments => "payments",
            Topic::Events => "events",
            Topic::Alerts => "alerts",
        }
    }

    /// Whether a message of this topic may wake someone during quiet hours: public-safety alerts
    /// must, everything else can wait.
    pub fn overrides_quiet_hours(self) -> bool {
        self == Topic::Alerts
    }
}

impl FromStr for Topic {
    type Err = NotifyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Topic::ALL
            .into_iter()
            .find(|topic| topic.as_str() == text)
            .ok_or_else(|| NotifyError::UnknownTopic(text.chars().take(32).collect()))
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A local time of day, minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    /// Parses `HH:MM` (24-hour).
    pub fn parse(text: &str) -> Result<Self, NotifyError> {
        let malformed = || NotifyError::MalformedTime(text.chars().take(16).collect());
        let (hours, minutes) = text.split_once(':').ok_or_else(malformed)?;
        if hours.len() != 2 || minutes.len() != 2 {
            return Err(malformed());
        }
        let hours: u16 = hours.parse().map_err(|_| malformed())?;
        let minutes: u16 = minutes.parse().map_err(|_| malformed())?;
        if hours > 23 || minutes > 59 {
            return Err(malformed());
        }
        Ok(Self(hours * 60 + minutes))
    }

    /// From hours and minutes; `None` if out of range.
    pub fn from_hm(hours: u8, minutes: u8) -> Option<Self> {
        (hours < 24 && minutes < 60).then(|| Self(u16::from(hours) * 60 + u16::from(minutes)))
    }

    /// Minutes after midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Hours (local time, Europe/Rome) when pushes wait, e.g. 22:00–07:00. The inbox still
/// receives the message at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Start, inclusive.
    pub start: TimeOfDay,
    /// End, exclusive; before `start` means the period spans midnight.
    pub end: TimeOfDay,
}

impl QuietHours {
    /// Whether `now` (local) falls in the quiet period.
    pub fn contains(self, now: TimeOfDay) -> bool {
        if self.start <= self.end {
            self.start <= now && now < self.end
        } else {
            now >= self.start || now < self.end
        }
    }

    /// Minutes since the quiet period began, when `now` (local) falls in it.
    pub fn minutes_since_start(self, now: TimeOfDay) -> Option<u16> {
        self.contains(now)
            .then(|| (now.0 + 24 * 60 - self.start.0) % (24 * 60))
    }

    /// Minutes from `now` until the quiet period ends (0 if not quiet).
    pub fn minutes_until_end(self, now: TimeOfDay) -> u16 {
        if !self.contains(now) {
            return 0;
        }
        (self.end.0 + 24 * 60 - now.0) % (24 * 60)
    }
}

/// Validates an inbox message's subject and markdown body (bounded so a push and a list stay
/// small).
pub fn validate_message(subject: &str, body: &str) -> Result<(), NotifyError> {
    let subject_chars = subject.trim().chars().count();
    if subject_chars == 0 || subject_chars > 120 {
        return Err(NotifyError::MalformedMessage {
            field: "subject",
            reason: "the subject must have 1 to 120 characters",
        });
    }
    if body.chars().count() > 10_000 {
        return Err(NotifyError::MalformedMessage {
            field: "body",
            reason: "the body must have at most 10,000 characters",
        });
    }
    Ok(())
}

/// The retry policy of push delivery: exponential backoff with full jitter, honouring the
/// push service's `Retry-After` when it asks for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay before the first retry.
    pub base: Duration,
    /// Largest delay between attempts.
    pub cap: Duration,
    /// Attempts after which a message to a device is dropped.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_mins(10),
            max_attempts: 12,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1`, given that `attempt` attempts failed (1-based).
    /// `jitter` in `[0, 1)` spreads retries of many devices ("full jitter"), but never below
    /// what the service asked for in `Retry-After`.
    pub fn delay(self, attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.cap);
        let jitter = jitter.clamp(0.0, 1.0);
        // Half fixed, half random: retries stay spread without ever collapsing to zero.
        let jittered = ceiling.mul_f64(0.5 + jitter / 2.0);
        match retry_after {
            Some(asked) => jittered.max(asked.min(Duration::from_hours(24))),
            None => jittered,
        }
    }

    /// Whether another attempt is allowed after `attempt` failures.
    pub fn should_retry(self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        for topic in Topic::ALL {
            assert_eq!(topic.as_str().parse::<Topic>().unwrap(), topic);
        }
        assert!("weather".parse::<Topic>().is_err());
        assert!(Topic::Alerts.overrides_quiet_hours() && !Topic::Library.overrides_quiet_hours());
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let night = QuietHours {
            start: TimeOfDay::parse("22:00").unwrap(),
            end: TimeOfDay::parse("07:00").unwrap(),
        };
        assert!(night.contains(TimeOfDay::parse("23:30").unwrap()));
        assert!(night.contains(TimeOfDay::parse("00:00").unwrap()));
        assert!(night.contains(TimeOfDay::parse("06:59").unwrap()));
        assert!(!night.contains(TimeOfDay::parse("07:00").unwrap()));
        assert!(!night.contains(TimeOfDay::parse("12:00").unwrap()));
        assert_eq!(
            night.minutes_until_end(TimeOfDay::parse("23:00").unwrap()),
            8 * 60
        );
        assert_eq!(night.minutes_until_end(TimeOfDay::parse("12:00").unwrap()), 0);
        let lunch = QuietHours {
            start: TimeOfDay::parse("13:00").unwrap(),
            end: TimeOfDay::parse("14:30").unwrap(),
        };
        assert!(
            lunch.contains(TimeOfDay::parse("13:00").unwrap())
                && !lunch.contains(TimeOfDay::parse("14:30").unwrap())
        );
        for bad in ["7:00", "24:00", "12:60", "1200", "ab:cd"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(TimeOfDay::parse("07:05").unwrap().to_string(), "07:05");
    }

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        let low = |attempt| policy.delay(attempt, None, 0.0);
        let high = |attempt| policy.delay(attempt, None, 0.999);
        assert_eq!(low(1), Duration::from_secs(1));
        assert!(high(1) < Duration::from_secs(2));
        assert_eq!(low(2), Duration::from_secs(2));
        assert_eq!(
            low(30),
            Duration::from_mins(5),
            "capped at 10 minutes, half fixed"
        );
        assert!(high(30) <= Duration::from_mins(10));
        assert_eq!(
            policy.delay(1, Some(Duration::from_mins(2)), 0.5),
            Duration::from_mins(2)
        );
        assert!(policy.should_retry(11) && !policy.should_retry(12));
    }

    #[test]
    fn messages_are_bounded() {
        assert!(validate_message("Allerta arancione", "Chiudete le finestre.").is_ok());
        assert!(validate_message("  ", "x").is_err());
        assert!(validate_message(&"a".repeat(121), "x").is_err());
        assert!(matches!(
            validate_message("ok", &"b".repeat(10_001)),
            Err(NotifyError::MalformedMessage { field: "body", .. })
        ));
        assert!(matches!(
            validate_message("", "x"),
            Err(NotifyError::MalformedMessage { field: "subject", .. })
        ));
    }
}
