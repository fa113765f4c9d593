//! When an event happens: one date, several dates, or an RFC 5545 recurrence rule with
//! exceptions, always in Europe/Rome wall-clock time (an event "every Thursday at 21:00" stays at
//! 21:00 across the DST changes).
//!
//! Rules are expanded by the `rrule` crate (see docs/events.md for why); extra dates and
//! exceptions are applied here, on civil date-times, so an exception names the wall-clock start
//! it removes exactly as an organiser writes it.

use jiff::civil::DateTime;
use jiff::{SignedDuration, Timestamp};

use crate::calendar::ROME;

/// Most explicit start dates of one event.
pub const MAX_DATES: usize = 100;
/// Most exceptions (EXDATE) of one event.
pub const MAX_EXCEPTIONS: usize = 200;
/// Longest recurrence rule, in characters.
pub const MAX_RULE_LEN: usize = 256;
/// Longest occurrence: a year (an exhibition open every day is one occurrence per day, but an
/// installation may be given as one long occurrence).
pub const MAX_DURATION_MINUTES: u32 = 366 * 24 * 60;
/// Rule steps looked at in one expansion: a daily rule started years ago still ends quickly.
const MAX_RULE_STEPS: usize = 20_000;

/// One occurrence: its start and end instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    /// First instant.
    pub start: Timestamp,
    /// First instant after it.
    pub end: Timestamp,
}

/// Why a schedule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Neither a date nor a rule.
    #[error("an event needs at least one date")]
    NoDate,
    /// More than [`MAX_DATES`] dates or [`MAX_EXCEPTIONS`] exceptions.
    #[error("too many dates")]
    TooManyDates,
    /// A date that is not `YYYY-MM-DDTHH:MM`.
    #[error("`{0}` is not a local date and time (YYYY-MM-DDTHH:MM)")]
    Date(String),
    /// A duration of zero or beyond [`MAX_DURATION_MINUTES`].
    #[error("duration must be from 1 minute to a year")]
    Duration,
    /// A rule the `rrule` crate refuses, or one longer than [`MAX_RULE_LEN`].
    #[error("recurrence rule: {0}")]
    Rule(String),
    /// A rule more frequent than daily: not a cultural event's calendar.
    #[error("recurrence rules repeat at most daily")]
    Frequency,
}

/// When an event happens, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Start dates in Europe/Rome, sorted, without repeats; with a rule, the first is its
    /// `DTSTART` and the others are extra dates (`RDATE`).
    pub starts: Vec<DateTime>,
    /// Length of each occurrence.
    pub duration_minutes: u32,
    /// The `RRULE` value (without the `RRULE:` name), upper case.
    pub rule: Option<String>,
    /// Wall-clock starts removed (`EXDATE`), sorted.
    pub exceptions: Vec<DateTime>,
}

/// Reads a local date-time as organisers and the API write it: `2026-12-12T21:00`, seconds
/// allowed; an offset or zone is refused (every time here is Europe/Rome's).
pub fn parse_local(text: &str) -> Result<DateTime, ScheduleError> {
    let error = || ScheduleError::Date(text.chars().take(40).collect());
    if text.len() > 40 || text.ends_with('Z') || text.contains('+') || text.contains('[') {
        return Err(error());
    }
    text.parse::<DateTime>().map_err(|_| error())
}

/// A local date-time as the API writes it (`2026-12-12T21:00`).
pub fn format_local(at: DateTime) -> String {
    at.strftime("%Y-%m-%dT%H:%M").to_string()
}

/// The instant of a wall-clock time in Rome (the later one in the repeated autumn hour, the
/// first existing one in the skipped spring hour: jiff's "compatible" rule, as RFC 5545 asks).
pub fn rome_instant(at: DateTime) -> Option<Timestamp> {
    ROME.to_ambiguous_timestamp(at).compatible().ok()
}

impl Schedule {
    /// Validates dates, rule and exceptions as the API sends them.
    pub fn new(
        dates: &[String],
        duration_minutes: u32,
        rule: Option<&str>,
        exceptions: &[String],
    ) -> Result<Self, ScheduleError> {
        if dates.len() > MAX_DATES || exceptions.len() > MAX_EXCEPTIONS {
            return Err(ScheduleError::TooManyDates);
        }
        if duration_minutes == 0 || duration_minutes > MAX_DURATION_MINUTES {
            return Err(ScheduleError::Duration);
        }
        let mut starts = dates
            .iter()
            .map(|d| parse_local(d))
            .collect::<Result<Vec<_>, _>>()?;
        starts.sort();
        starts.dedup();
        if starts.is_empty() {
            return Err(ScheduleError::NoDate);
        }
        let mut exceptions = exceptions
            .iter()
            .map(|d| parse_local(d))
            .collect::<Result<Vec<_>, _>>()?;
        exceptions.sort();
        exceptions.dedup();
        let rule = rule
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.strip_prefix("RRULE:").unwrap_or(r).to_ascii_uppercase());
        let schedule = Self {
            starts,
            duration_minutes,
            rule,
            exceptions,
        };
        if let Some(rule) = &schedule.rule {
            if rule.len() > MAX_RULE_LEN || rule.contains(['\n', '\r', ':']) {
                return Err(ScheduleError::Rule("not a single RRULE value".to_owned()));
            }
            let freq = rule
                .split(';')
                .find_map(|part| part.strip_prefix("FREQ="))
                .unwrap_or("");
            if matches!(freq, "HOURLY" | "MINUTELY" | "SECONDLY") {
                return Err(ScheduleError::Frequency);
            }
            schedule.rule_set()?;
        }
        Ok(schedule)
    }

    /// The rule with its start, as the `rrule` crate reads it.
    fn rule_set(&self) -> Result<Option<rrule::RRuleSet>, ScheduleError> {
        let Some(rule) = &self.rule else {
            return Ok(None);
        };
        let text = format!(
            "DTSTART;TZID=Europe/Rome:{}\nRRULE:{rule}",
            self.starts[0].strftime("%Y%m%dT%H%M%S")
        );
        text.parse::<rrule::RRuleSet>()
            .map(Some)
            .map_err(|e| ScheduleError::Rule(e.to_string().chars().take(200).collect()))
    }

    /// Whether the event repeats by a rule (and so may have occurrences without end).
    pub fn is_recurring(&self) -> bool {
        self.rule.is_some()
    }

    /// The occurrences starting in `[from, to)`, in order, at most `max`.
    pub fn occurrences(&self, from: Timestamp, to: Timestamp, max: usize) -> Vec<Occurrence> {
        let length = SignedDuration::from_mins(i64::from(self.duration_minutes));
        let mut starts: Vec<DateTime> = self.starts.clone();
        if let Ok(Some(set)) = self.rule_set() {
            for start in set.into_iter().take(MAX_RULE_STEPS) {
                let at = Timestamp::from_second(start.timestamp()).unwrap_or(Timestamp::MAX);
                if at >= to {
                    break;
                }
                if at >= from {
                    starts.push(ROME.to_datetime(at));
                }
            }
        }
        starts.sort();
        starts.dedup();
        starts
            .into_iter()
            .filter(|s| self.exceptions.binary_search(s).is_err())
            .filter_map(rome_instant)
            .filter(|s| *s >= from && *s < to)
            .take(max)
            .filter_map(|start| {
                Some(Occurrence {
                    start,
                    end: start.checked_add(length).ok()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn weekly_rule_keeps_wall_clock_time_across_dst_and_skips_exceptions() {
        // Thursdays at 21:00 from 2026-10-15; 2026-10-29 is after the autumn change.
        let schedule = Schedule::new(
            &strings(&["2026-10-15T21:00"]),
            90,
            Some("FREQ=WEEKLY;BYDAY=TH;COUNT=4"),
            &strings(&["2026-10-22T21:00"]),
        )
        .unwrap();
        let found = schedule.occurrences(at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), 100);
        let starts: Vec<String> = found.iter().map(|o| o.start.to_string()).collect();
        assert_eq!(
            starts,
            [
                "2026-10-15T19:00:00Z",
                "2026-10-29T20:00:00Z",
                "2026-11-05T20:00:00Z"
            ]
        );
        assert_eq!(found[0].end, at("2026-10-15T20:30:00Z"));
    }

    #[test]
    fn several_dates_and_a_window() {
        let schedule = Schedule::new(
            &strings(&["2026-12-13T17:00", "2026-12-12T21:00", "2026-12-12T21:00"]),
            120,
            None,
            &[],
        )
        .unwrap();
        assert_eq!(schedule.starts.len(), 2);
        let found = schedule.occurrences(at("2026-12-13T00:00:00Z"), at("2026-12-14T00:00:00Z"), 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, at("2026-12-13T16:00:00Z"));
        // An unbounded rule stops at the window and at `max`.
        let daily =
            Schedule::new(&strings(&["2020-01-01T10:00"]), 60, Some("RRULE:freq=daily"), &[]).unwrap();
        let found = daily.occurrences(at("2026-12-01T00:00:00Z"), at("2026-12-08T00:00:00Z"), 100);
        assert_eq!(found.len(), 7);
        assert_eq!(
            daily
                .occurrences(at("2026-12-01T00:00:00Z"), at("2027-12-08T00:00:00Z"), 5)
                .len(),
            5
        );
    }

    #[test]
    fn refuses_what_is_not_an_event_calendar() {
        let one = strings(&["2026-12-12T21:00"]);
        assert_eq!(Schedule::new(&[], 60, None, &[]), Err(ScheduleError::NoDate));
        assert_eq!(Schedule::new(&one, 0, None, &[]), Err(ScheduleError::Duration));
        assert!(matches!(
            Schedule::new(&strings(&["2026-12-12T21:00Z"]), 60, None, &[]),
            Err(ScheduleError::Date(_))
        ));
        assert!(matches!(
            Schedule::new(&strings(&["12/12/2026"]), 60, None, &[]),
            Err(ScheduleError::Date(_))
        ));
        assert_eq!(
            Schedule::new(&one, 60, Some("FREQ=HOURLY"), &[]),
            Err(ScheduleError::Frequency)
        );
        assert!(matches!(
            Schedule::new(&one, 60, Some("FREQ=WEEKLY;BYDAY=XX"), &[]),
            Err(ScheduleError::Rule(_))
        ));
        assert!(matches!(
            Schedule::new(&one, 60, Some("FREQ=DAILY\nDTSTART:20200101T000000Z"), &[]),
            Err(ScheduleError::Rule(_))
        ));
        let many: Vec<String> = (0..=MAX_DATES)
            .map(|i| format!("2026-01-01T{:02}:00", i % 24))
            .collect();
        assert_eq!(
            Schedule::new(&many, 60, None, &[]),
            Err(ScheduleError::TooManyDates)
        );
    }
}
