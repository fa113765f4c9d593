//! When a follower is reminded of an occurrence: a lead time before it starts, moved earlier
//! when that moment falls in the person's quiet hours, so the push is not held until after the
//! event began (the notification worker holds pushes until quiet hours end).

use jiff::{SignedDuration, Timestamp};

use crate::calendar::ROME;
use crate::notify::{QuietHours, TimeOfDay};

/// The instant to remind a follower of an occurrence starting at `start`: `lead` before it, or
/// the minute before their quiet hours began when that instant is quiet (in Rome time).
pub fn reminder_at(start: Timestamp, lead: SignedDuration, quiet: Option<QuietHours>) -> Timestamp {
    let at = start.saturating_sub(lead).unwrap_or(start);
    let Some(quiet) = quiet else {
        return at;
    };
    let local = ROME.to_datetime(at);
    let Some(now) = u8::try_from(local.hour())
        .ok()
        .zip(u8::try_from(local.minute()).ok())
        .and_then(|(h, m)| TimeOfDay::from_hm(h, m))
    else {
        return at;
    };
    match quiet.minutes_since_start(now) {
        // Back to the start of the quiet period, and one minute more: the start is quiet too.
        Some(minutes) => at
            .saturating_sub(SignedDuration::from_mins(i64::from(minutes) + 1))
            .unwrap_or(at),
        None => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rome(text: &str) -> Timestamp {
        ROME.to_timestamp(text.parse::<jiff::civil::DateTime>().unwrap())
            .unwrap()
    }

    fn night() -> QuietHours {
        QuietHours {
            start: TimeOfDay::parse("22:00").unwrap(),
            end: TimeOfDay::parse("07:00").unwrap(),
        }
    }

    #[test]
    fn a_day_ahead_when_awake() {
        let day = SignedDuration::from_hours(24);
        assert_eq!(
            reminder_at(rome("2026-12-12T21:00"), day, None),
            rome("2026-12-11T21:00")
        );
        assert_eq!(
            reminder_at(rome("2026-12-12T21:00"), day, Some(night())),
            rome("2026-12-11T21:00")
        );
    }

    #[test]
    fn before_quiet_hours_when_the_moment_is_quiet() {
        let day = SignedDuration::from_hours(24);
        // 06:30 is quiet (22:00-07:00): the evening before, at 21:59.
        assert_eq!(
            reminder_at(rome("2026-12-12T06:30"), day, Some(night())),
            rome("2026-12-10T21:59")
        );
        assert_eq!(
            reminder_at(rome("2026-12-12T22:00"), day, Some(night())),
            rome("2026-12-11T21:59")
        );
        // Two hours ahead of a 23:30 start is 21:30: not quiet.
        assert_eq!(
            reminder_at(
                rome("2026-12-12T23:30"),
                SignedDuration::from_hours(2),
                Some(night())
            ),
            rome("2026-12-12T21:30")
        );
    }
}
