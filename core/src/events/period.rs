//! "Today" and "this weekend" as the window of an events search, seen from an instant in
//! Europe/Rome. The web pages and the apps ask the same question; the answer lives here so that
//! both mean the same days.

use jiff::Timestamp;

use crate::calendar::{rome_date, weekend_of};

/// A window a visitor picks by name rather than by dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// From now to the end of today.
    Today,
    /// From now (or the coming Saturday's start) to the end of Sunday; on a Sunday, the rest
    /// of that day (see [`weekend_of`]).
    ThisWeekend,
}

/// The `from` and `to` of `GET /v1/events` for a [`Period`], in the forms the server reads:
/// `from` an RFC 3339 instant or a date (its start in Rome), `to` a date (its end in Rome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Window start.
    pub from: String,
    /// Window end, a date: the window runs to its end.
    pub to: String,
}

impl Period {
    /// The window seen from `now`. What has already started is left out: a search finds the
    /// events with an occurrence *starting* in the window, and one that began an hour ago is
    /// no longer something to go to.
    pub fn window(self, now: Timestamp) -> Window {
        let today = rome_date(now);
        // Whole seconds: a shorter, stable query string (and cache key) for the same minute.
        let now = Timestamp::from_second(now.as_second()).unwrap_or(now).to_string();
        match self {
            Period::Today => Window {
                from: now,
                to: today.to_string(),
            },
            Period::ThisWeekend => {
                let (saturday, sunday) = weekend_of(today);
                let from = if saturday <= today {
                    now
                } else {
                    saturday.to_string()
                };
                Window {
                    from,
                    to: sunday.to_string(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(period: Period, at: &str) -> (String, String) {
        let w = period.window(at.parse().unwrap());
        (w.from, w.to)
    }

    #[test]
    fn today_runs_from_now_to_the_end_of_the_day_in_rome() {
        // 23:30 UTC on Friday 11 December is already Saturday in Rome.
        assert_eq!(
            window(Period::Today, "2026-12-11T23:30:00.25Z"),
            ("2026-12-11T23:30:00Z".into(), "2026-12-12".into())
        );
    }

    #[test]
    fn this_weekend_from_a_weekday_a_saturday_and_a_sunday() {
        // Wednesday: the coming Saturday's start to Sunday.
        assert_eq!(
            window(Period::ThisWeekend, "2026-12-09T10:00:00Z"),
            ("2026-12-12".into(), "2026-12-13".into())
        );
        // Saturday: from now.
        assert_eq!(
            window(Period::ThisWeekend, "2026-12-12T10:00:00Z"),
            ("2026-12-12T10:00:00Z".into(), "2026-12-13".into())
        );
        // Sunday: the rest of the day, not the next weekend.
        assert_eq!(
            window(Period::ThisWeekend, "2026-12-13T10:00:00Z"),
            ("2026-12-13T10:00:00Z".into(), "2026-12-13".into())
        );
        // Friday 23:30 UTC is Saturday 00:30 in Rome: the weekend has begun.
        assert_eq!(
            window(Period::ThisWeekend, "2026-12-11T23:30:00Z"),
            ("2026-12-11T23:30:00Z".into(), "2026-12-13".into())
        );
    }
}
