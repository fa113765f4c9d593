//! Opening hours of a library in Europe/Rome: a weekly pattern, the Italian public holidays and
//! dated exceptions (summer closures, shortened days), so "open now" and "next opening" are right
//! across daylight-saving changes and holidays.
//!
//! The weekly pattern uses a small subset of OpenStreetMap's `opening_hours` syntax, which
//! librarians can read and which OSM data about the same libraries already uses:
//! `Mo-Fr 08:30-19:00; Sa 08:30-13:30; PH off`. Exceptions are one per line:
//! `2026-08-10..2026-08-23 off` or `2026-12-24 09:00-12:00`.

use std::fmt;
use std::sync::OnceLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How far ahead "next opening" looks: beyond this a library is, for a citizen, closed.
const LOOKAHEAD_DAYS: i64 = 120;
/// The most intervals one day, rules per pattern, or exceptions per library may have.
const MAX_ITEMS: usize = 400;

/// Europe/Rome from the tz database bundled in the binary (mobile devices and minimal
/// containers may have no system tzdb).
pub fn rome() -> &'static TimeZone {
    static ROME: OnceLock<TimeZone> = OnceLock::new();
    ROME.get_or_init(|| {
        TimeZone::get("Europe/Rome").unwrap_or_else(|_| TimeZone::fixed(jiff::tz::Offset::constant(1)))
    })
}

/// Why an opening-hours text is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("opening hours: {0}")]
pub struct HoursError(pub String);

/// A time range within one day; `closes` is after `opens` (`24:00` is allowed as a close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Opening time.
    pub opens: Time,
    /// Closing time; [`Time::MAX`] stands for midnight at the end of the day.
    pub closes: Time,
}

/// Hours of one dated exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// First day.
    pub from: Date,
    /// Last day, inclusive.
    pub to: Date,
    /// Intervals on those days; empty: closed.
    pub intervals: Vec<Interval>,
}

/// The full opening-hours description of a library.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    /// Intervals per weekday, Monday first.
    pub weekly: [Vec<Interval>; 7],
    /// Closed on Italian public holidays (`PH off`).
    pub closed_on_holidays: bool,
    /// Dated exceptions; a later one wins over an earlier one on the same day.
    pub exceptions: Vec<Exception>,
}

/// Whether a library is open at an instant, and when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenStatus {
    /// Open at the instant asked about.
    pub open_now: bool,
    /// When it closes, if open.
    pub closes_at: Option<Timestamp>,
    /// The next opening after the instant, if closed (within [`LOOKAHEAD_DAYS`]).
    pub next_opening: Option<Timestamp>,
}

impl OpeningHours {
    /// Parses a weekly pattern and a list of exceptions.
    pub fn parse(weekly: &str, exceptions: &[String]) -> Result<Self, HoursError> {
        let mut hours = OpeningHours::default();
        for rule in weekly
            .split(';')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .take(MAX_ITEMS)
        {
            let (days, times) = rule
                .split_once(' ')
                .ok_or_else(|| HoursError(format!("`{rule}`: expected `<days> <times>`")))?;
            let intervals = parse_intervals(times.trim())?;
            if days == "PH" {
                if !intervals.is_empty() {
                    return Err(HoursError("only `PH off` is supported".to_owned()));
                }
                hours.closed_on_holidays = true;
                continue;
            }
            for day in parse_days(days)? {
                hours.weekly[day].clone_from(&intervals);
            }
        }
        if exceptions.len() > MAX_ITEMS {
            return Err(HoursError(format!("more than {MAX_ITEMS} exceptions")));
        }
        for line in exceptions {
            let line = line.split('#').next().unwrap_or_default().trim();
            let (dates, times) = line
                .split_once(' ')
                .ok_or_else(|| HoursError(format!("`{line}`: expected `<date>[..<date>] <times>`")))?;
            let (from, to) = match dates.split_once("..") {
                Some((a, b)) => (parse_date(a)?, parse_date(b)?),
                None => (parse_date(dates)?, parse_date(dates)?),
            };
            if to < from {
                return Err(HoursError(format!("`{dates}`: the range ends before it starts")));
            }
            hours.exceptions.push(Exception {
                from,
                to,
                intervals: parse_intervals(times.trim())?,
            });
        }
        Ok(hours)
    }

    /// The intervals of a calendar day in Rome, exceptions and holidays applied.
    pub fn intervals_on(&self, date: Date) -> &[Interval] {
        if let Some(exception) = self
            .exceptions
            .iter()
            .rev()
            .find(|e| e.from <= date && date <= e.to)
        {
            return &exception.intervals;
        }
        if self.closed_on_holidays && is_italian_holiday(date) {
            return &[];
        }
        &self.weekly[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
    }

    /// Open now, closing time and next opening at `now`.
    pub fn status_at(&self, now: Timestamp) -> OpenStatus {
        let tz = rome();
        let local = now.to_zoned_datetime(tz.clone());
        let today = local.date();
        let mut status = OpenStatus {
            open_now: false,
            closes_at: None,
            next_opening: None,
        };
        for offset in 0..=LOOKAHEAD_DAYS {
            let Ok(date) = today.checked_add(offset.days()) else {
                break;
            };
            for interval in self.intervals_on(date) {
                let (Some(opens), Some(closes)) = (
                    instant(date, interval.opens, tz),
                    close_instant(date, interval.closes, tz),
                ) else {
                    continue;
                };
                if offset == 0 && opens <= now && now < closes {
                    status.open_now = true;
                    status.closes_at = Some(closes);
                } else if opens > now && status.next_opening.is_none() {
                    status.next_opening = Some(opens);
                }
            }
            if status.next_opening.is_some() {
                break;
            }
        }
        status
    }
}

fn instant(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    date.to_datetime(time)
        .to_zoned_datetime(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

fn close_instant(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    if time == Time::MAX {
        let next = date.checked_add(1.day()).ok()?;
        instant(next, Time::midnight(), tz)
    } else {
        instant(date, time, tz)
    }
}

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

fn day_index(text: &str) -> Result<usize, HoursError> {
    DAYS.iter()
        .position(|d| *d == text)
        .ok_or_else(|| HoursError(format!("`{text}` is not a day (Mo Tu We Th Fr Sa Su)")))
}

fn parse_days(text: &str) -> Result<Vec<usize>, HoursError> {
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a)?, day_index(b)?);
                let mut d = a;
                loop {
                    days.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days.push(day_index(part)?),
        }
    }
    Ok(days)
}

fn parse_time(text: &str) -> Result<Time, HoursError> {
    if text == "24:00" {
        return Ok(Time::MAX);
    }
    Time::strptime("%H:%M", text).map_err(|_| HoursError(format!("`{text}` is not a time (HH:MM)")))
}

fn parse_date(text: &str) -> Result<Date, HoursError> {
    Date::strptime("%Y-%m-%d", text.trim())
        .map_err(|_| HoursError(format!("`{text}` is not a date (YYYY-MM-DD)")))
}

fn parse_intervals(text: &str) -> Result<Vec<Interval>, HoursError> {
    if text == "off" || text == "closed" {
        return Ok(Vec::new());
    }
    let mut intervals = Vec::new();
    for range in text.split(',').take(MAX_ITEMS) {
        let (a, b) = range
            .trim()
            .split_once('-')
            .ok_or_else(|| HoursError(format!("`{range}`: expected HH:MM-HH:MM")))?;
        let (opens, closes) = (parse_time(a)?, parse_time(b)?);
        if closes <= opens {
            return Err(HoursError(format!("`{range}`: closes before it opens")));
        }
        intervals.push(Interval { opens, closes });
    }
    intervals.sort_by_key(|i| i.opens);
    Ok(intervals)
}

impl fmt::Display for OpeningHours {
    /// The weekly pattern in the syntax [`OpeningHours::parse`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rules = Vec::new();
        for (i, intervals) in self.weekly.iter().enumerate() {
            let times = if intervals.is_empty() {
                "off".to_owned()
            } else {
                intervals
                    .iter()
                    .map(|iv| {
                        let close = if iv.closes == Time::MAX {
                            "24:00".to_owned()
                        } else {
                            iv.closes.strftime("%H:%M").to_string()
                        };
                        format!("{}-{close}", iv.opens.strftime("%H:%M"))
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            rules.push(format!("{} {times}", DAYS[i]));
        }
        if self.closed_on_holidays {
            rules.push("PH off".to_owned());
        }
        f.write_str(&rules.join("; "))
    }
}

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
#[allow(
    clippy::many_single_char_names,
    reason = "the algorithm's published variable names"
)]
fn easter(year: i16) -> Option<Date> {
    let y = i32::from(year);
    let (a, b, c) = (y % 19, y / 100, y % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// National public holidays of Italy (L. 260/1949 and later), plus Easter Monday. Local patron
/// saints' days are per municipality and go in the exceptions.
pub fn is_italian_holiday(date: Date) -> bool {
    const FIXED: [(i8, i8); 10] = [
        (1, 1),
        (1, 6),
        (4, 25),
        (5, 1),
        (6, 2),
        (8, 15),
        (11, 1),
        (12, 8),
        (12, 25),
        (12, 26),
    ];
    let fixed = FIXED.contains(&(date.month(), date.day()));
    fixed
        || easter(date.year())
            .and_then(|e| e.checked_add(1.day()).ok())
            .is_some_and(|monday| monday == date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", text)
            .unwrap()
            .to_zoned_datetime(rome().clone())
            .unwrap()
            .timestamp()
    }

    fn hours() -> OpeningHours {
        OpeningHours::parse(
            "Mo-Fr 08:30-13:00,14:00-19:00; Sa 09:00-13:00; Su off; PH off",
            &[
                "2026-08-10..2026-08-23 off # chiusura estiva".to_owned(),
                "2026-12-24 09:00-12:00".to_owned(),
            ],
        )
        .unwrap()
    }

    #[test]
    fn open_now_closing_and_next_opening() {
        let h = hours();
        // Thursday 26 November 2026, 10:00 in Genoa.
        let s = h.status_at(at("2026-11-26 10:00"));
        assert!(s.open_now);
        assert_eq!(s.closes_at, Some(at("2026-11-26 13:00")));
        // Lunch break: opens again at 14:00.
        let s = h.status_at(at("2026-11-26 13:30"));
        assert!(!s.open_now);
        assert_eq!(s.next_opening, Some(at("2026-11-26 14:00")));
        // Saturday evening: next opening Monday morning, Sunday is closed.
        let s = h.status_at(at("2026-11-28 18:00"));
        assert_eq!(s.next_opening, Some(at("2026-11-30 08:30")));
    }

    #[test]
    fn holidays_exceptions_and_dst() {
        let h = hours();
        // Tuesday 8 December (Immacolata) is a holiday: next opening Wednesday.
        let s = h.status_at(at("2026-12-08 10:00"));
        assert!(!s.open_now);
        assert_eq!(s.next_opening, Some(at("2026-12-09 08:30")));
        // Christmas Eve: short day.
        assert!(!h.status_at(at("2026-12-24 12:30")).open_now);
        // Summer closure ends on Sunday 23 August: Monday 24 opens.
        let s = h.status_at(at("2026-08-12 10:00"));
        assert_eq!(s.next_opening, Some(at("2026-08-24 08:30")));
        // Easter Monday 2027 is 29 March; the clocks went forward on Sunday 28 March.
        assert!(is_italian_holiday(Date::new(2027, 3, 29).unwrap()));
        let s = h.status_at(at("2027-03-27 20:00"));
        assert_eq!(s.next_opening, Some(at("2027-03-30 08:30")));
        assert_eq!(
            s.next_opening.unwrap().to_zoned_datetime(rome().clone()).offset(),
            jiff::tz::Offset::constant(2),
            "summer time"
        );
    }

    #[test]
    fn bad_hours_are_refused_and_round_trip() {
        for bad in [
            "Mo 19:00-08:00",
            "Xx 08:00-09:00",
            "Mo 8-9",
            "Mo",
            "PH 09:00-12:00",
        ] {
            assert!(OpeningHours::parse(bad, &[]).is_err(), "{bad}");
        }
        assert!(OpeningHours::parse("", &["2026-02-30 off".to_owned()]).is_err());
        let h = hours();
        assert_eq!(OpeningHours::parse(&h.to_string(), &[]).unwrap().weekly, h.weekly);
        assert_eq!(easter(2026), Date::new(2026, 4, 5).ok());
        let always_closed = OpeningHours::default().status_at(at("2026-11-26 10:00"));
        assert_eq!(always_closed.next_opening, None);
    }
}
