//! Legal time: instants are UTC, but legal terms (permit clocks, due dates of payment notices) run
//! in calendar days of Europe/Rome. This small shared kernel is the only place that converts.
//!
//! Calendar-day arithmetic is done on civil dates, never by adding 24-hour durations to instants,
//! so the days of the DST changes (23 and 25 hours long) count as one day each.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The time zone of Italian legal terms. The rules are compiled in from the tzdb bundled with
/// jiff, so the result does not depend on the host's (or the phone's) zoneinfo files.
pub static ROME: TimeZone = jiff::tz::get!("Europe/Rome");

/// Seconds in a civil day: civil dates carry no time zone, so every day has exactly this many.
const SECONDS_PER_DAY: i64 = 86_400;

/// The calendar day in Europe/Rome on which `instant` falls.
pub fn rome_date(instant: Timestamp) -> Date {
    ROME.to_datetime(instant).date()
}

/// `date` moved by `days` calendar days (negative moves back); `None` beyond the supported years.
pub fn add_days(date: Date, days: i64) -> Option<Date> {
    let duration = SignedDuration::from_secs(days.checked_mul(SECONDS_PER_DAY)?);
    date.checked_add(duration).ok()
}

/// Calendar days from `from` to `to`: positive when `to` is later.
pub fn days_between(from: Date, to: Date) -> i64 {
    from.duration_until(to).as_secs() / SECONDS_PER_DAY
}

/// The first instant of `date` in Europe/Rome; `None` only at the edges of the supported years.
pub fn start_of_day(date: Date) -> Option<Timestamp> {
    date.to_zoned_datetime(ROME.clone())
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// The first instant after the whole of `date` in Europe/Rome: a term whose last day is `date`
/// has run out from this instant on.
pub fn end_of_day(date: Date) -> Option<Timestamp> {
    start_of_day(add_days(date, 1)?)
}

/// The Saturday and Sunday of "this weekend" seen from `date`: `date` itself and the next day
/// on a Saturday, `date` alone on a Sunday, else the coming Saturday and Sunday. What a
/// tourist means by "this weekend" on any day of the week.
pub fn weekend_of(date: Date) -> (Date, Date) {
    use jiff::civil::Weekday;
    let saturday = match date.weekday() {
        Weekday::Sunday => return (date, date),
        weekday => add_days(date, i64::from(Weekday::Saturday.since(weekday))).unwrap_or(date),
    };
    (saturday, add_days(saturday, 1).unwrap_or(saturday))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn instants_map_to_rome_days_across_both_dst_changes() {
        // 2026-03-29 is the last Sunday of March: Rome goes from +01:00 to +02:00 at 01:00 UTC.
        assert_eq!(rome_date(at("2026-03-28T22:59:59Z")), date(2026, 3, 28));
        assert_eq!(rome_date(at("2026-03-28T23:00:00Z")), date(2026, 3, 29));
        assert_eq!(rome_date(at("2026-03-29T21:59:59Z")), date(2026, 3, 29));
        assert_eq!(rome_date(at("2026-03-29T22:00:00Z")), date(2026, 3, 30));
        // 2026-10-25 is the last Sunday of October: back to +01:00 at 01:00 UTC.
        assert_eq!(rome_date(at("2026-10-24T21:59:59Z")), date(2026, 10, 24));
        assert_eq!(rome_date(at("2026-10-24T22:00:00Z")), date(2026, 10, 25));
        assert_eq!(rome_date(at("2026-10-25T22:59:59Z")), date(2026, 10, 25));
        assert_eq!(rome_date(at("2026-10-25T23:00:00Z")), date(2026, 10, 26));
    }

    #[test]
    fn day_arithmetic_ignores_day_length() {
        assert_eq!(add_days(date(2026, 3, 28), 2), Some(date(2026, 3, 30)));
        assert_eq!(add_days(date(2026, 10, 24), 2), Some(date(2026, 10, 26)));
        assert_eq!(add_days(date(2026, 1, 1), -1), Some(date(2025, 12, 31)));
        assert_eq!(days_between(date(2026, 3, 1), date(2026, 4, 1)), 31);
        assert_eq!(days_between(date(2026, 4, 1), date(2026, 3, 1)), -31);
        assert_eq!(add_days(date(9999, 12, 31), 1), None);
        assert_eq!(add_days(date(2026, 1, 1), i64::MAX), None);
    }

    #[test]
    fn days_start_and_end_in_rome_time() {
        assert_eq!(start_of_day(date(2026, 3, 29)), Some(at("2026-03-28T23:00:00Z")));
        // The 23-hour day: it ends at 22:00 UTC.
        assert_eq!(end_of_day(date(2026, 3, 29)), Some(at("2026-03-29T22:00:00Z")));
        // The 25-hour day.
        assert_eq!(start_of_day(date(2026, 10, 25)), Some(at("2026-10-24T22:00:00Z")));
        assert_eq!(end_of_day(date(2026, 10, 25)), Some(at("2026-10-25T23:00:00Z")));
    }

    #[test]
    fn this_weekend_from_every_day_of_a_week() {
        // 2026-12-07 is a Monday.
        for day in 7..=11 {
            assert_eq!(
                weekend_of(date(2026, 12, day)),
                (date(2026, 12, 12), date(2026, 12, 13)),
                "{day}"
            );
        }
        assert_eq!(
            weekend_of(date(2026, 12, 12)),
            (date(2026, 12, 12), date(2026, 12, 13))
        );
        assert_eq!(
            weekend_of(date(2026, 12, 13)),
            (date(2026, 12, 13), date(2026, 12, 13))
        );
        // Across a month and a year.
        assert_eq!(
            weekend_of(date(2026, 12, 31)),
            (date(2027, 1, 2), date(2027, 1, 3))
        );
    }
}
