//! iCalendar (RFC 5545): events written as `VEVENT`s in Europe/Rome time, and calendars read
//! back for import. The reader takes what municipalities' calendars carry (UID, SUMMARY,
//! DESCRIPTION, DTSTART/DTEND/DURATION, RRULE, RDATE, EXDATE, LOCATION, GEO, CATEGORIES, STATUS,
//! URL) and reports each entry it cannot take with the line where the entry starts.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::DateTime;

use crate::calendar::ROME;

/// Europe/Rome as a `VTIMEZONE` (the EU rule since 1996), which RFC 5545 asks to accompany every
/// `TZID` used.
pub const VTIMEZONE_ROME: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Rome\r\nBEGIN:DAYLIGHT\r\n\
TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n\
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\n\
TZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n\
END:STANDARD\r\nEND:VTIMEZONE\r\n";

/// Most lines of one imported calendar.
pub const MAX_LINES: usize = 200_000;
/// Most events of one imported calendar.
pub const MAX_EVENTS: usize = 5_000;
/// Longest unfolded line, in bytes.
const MAX_LINE: usize = 16_384;

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`].
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends a content line, folded at 75 octets (never inside a UTF-8 sequence), with CRLF.
pub fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

/// A local time as iCalendar writes it (`20261212T210000`).
pub fn local_value(at: DateTime) -> String {
    at.strftime("%Y%m%dT%H%M%S").to_string()
}

/// An instant as iCalendar writes it in UTC (`20261212T200000Z`).
pub fn utc_value(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// One entry of an imported calendar, as read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportedEvent {
    /// Line where its `BEGIN:VEVENT` is (1-based).
    pub line: usize,
    /// UID.
    pub uid: String,
    /// SUMMARY.
    pub summary: String,
    /// DESCRIPTION.
    pub description: String,
    /// Language of SUMMARY (`LANGUAGE=` parameter), if given.
    pub language: Option<String>,
    /// DTSTART and RDATEs, in Europe/Rome wall-clock time.
    pub starts: Vec<DateTime>,
    /// Minutes, from DTEND or DURATION (60 when neither).
    pub duration_minutes: u32,
    /// RRULE.
    pub rule: Option<String>,
    /// EXDATEs, in Europe/Rome wall-clock time.
    pub exceptions: Vec<DateTime>,
    /// LOCATION.
    pub location: Option<String>,
    /// GEO.
    pub geo: Option<(f64, f64)>,
    /// First CATEGORIES value, lower case.
    pub category: Option<String>,
    /// STATUS (upper case).
    pub status: Option<String>,
    /// URL.
    pub url: Option<String>,
}

/// An entry that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    /// Line where the entry (or the bad line) is.
    pub line: usize,
    /// Why, in English.
    pub reason: String,
}

/// What a calendar held: its entries and those that could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar {
    /// Entries read.
    pub events: Vec<ImportedEvent>,
    /// Entries skipped.
    pub bad: Vec<BadEntry>,
}

/// A content line: name, parameters (upper-cased names) and value.
struct ContentLine<'a> {
    name: String,
    params: Vec<(String, &'a str)>,
    value: &'a str,
}

fn content_line(line: &str) -> Option<ContentLine<'_>> {
    // The value starts at the first colon outside a quoted parameter value.
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
        None
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    if name.is_empty() {
        return None;
    }
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim_matches('"')))
        .collect();
    Some(ContentLine { name, params, value })
}

impl ContentLine<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

/// A DATE-TIME or DATE value as Europe/Rome wall-clock time: UTC (`Z`) converted, a `TZID`
/// other than Europe/Rome converted through jiff's bundled database, floating taken as Rome's.
fn date_time(value: &str, tzid: Option<&str>) -> Result<DateTime, String> {
    let value = value.trim();
    let bad = || {
        format!(
            "`{}` is not a date-time",
            value.chars().take(40).collect::<String>()
        )
    };
    if value.len() == 8 {
        let date = jiff::civil::Date::strptime("%Y%m%d", value).map_err(|_| bad())?;
        return Ok(date.to_datetime(jiff::civil::Time::midnight()));
    }
    if let Some(utc) = value.strip_suffix('Z') {
        let civil = DateTime::strptime("%Y%m%dT%H%M%S", utc).map_err(|_| bad())?;
        let at = jiff::tz::TimeZone::UTC.to_timestamp(civil).map_err(|_| bad())?;
        return Ok(ROME.to_datetime(at));
    }
    let civil = DateTime::strptime("%Y%m%dT%H%M%S", value).map_err(|_| bad())?;
    match tzid {
        None | Some("Europe/Rome") => Ok(civil),
        Some(zone) => {
            let tz = jiff::tz::db().get(zone).map_err(|_| {
                format!(
                    "unknown time zone `{}`",
                    zone.chars().take(40).collect::<String>()
                )
            })?;
            let at = tz.to_ambiguous_timestamp(civil).compatible().map_err(|_| bad())?;
            Ok(ROME.to_datetime(at))
        }
    }
}

/// An RFC 5545 DURATION (`PT1H30M`, `P1D`, `P1W`) in minutes.
fn duration_minutes(value: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "`{}` is not a duration",
            value.chars().take(40).collect::<String>()
        )
    };
    let text = value.trim().strip_prefix('+').unwrap_or(value.trim());
    let text = text.strip_prefix('P').ok_or_else(bad)?;
    let mut minutes: u64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    for c in text.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => number.push(c),
            unit => {
                let n: u64 = number.parse().map_err(|_| bad())?;
                number.clear();
                minutes += match (unit, in_time) {
                    ('W', false) => n * 7 * 24 * 60,
                    ('D', false) => n * 24 * 60,
                    ('H', true) => n * 60,
                    ('M', true) => n,
                    ('S', true) => n / 60,
                    _ => return Err(bad()),
                };
            }
        }
    }
    if !number.is_empty() {
        return Err(bad());
    }
    u32::try_from(minutes).map_err(|_| bad())
}

/// Reads a calendar. Entries that cannot be read are listed and skipped; a calendar over the
/// limits stops at them, with the line where it stopped.
pub fn read(text: &str) -> Calendar {
    let mut calendar = Calendar::default();
    // Unfold: a line starting with a space or tab continues the previous one.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if index >= MAX_LINES {
            calendar.bad.push(BadEntry {
                line: index + 1,
                reason: format!("more than {MAX_LINES} lines: the rest is not read"),
            });
            break;
        }
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, previous))) if previous.len() + rest.len() <= MAX_LINE => {
                previous.push_str(rest);
            }
            (Some(_), Some(_)) => {}
            _ if raw.is_empty() => {}
            _ => lines.push((index + 1, raw.to_owned())),
        }
    }
    let mut current: Option<(ImportedEvent, Option<String>, Option<DateTime>)> = None;
    let mut depth = 0usize;
    for (number, line) in &lines {
        let Some(content) = content_line(line) else {
            if let Some((_, error, _)) = current.as_mut()
                && error.is_none()
            {
                *error = Some(format!("line {number} is not a content line"));
            }
            continue;
        };
        match (
            content.name.as_str(),
            content.value.trim().to_ascii_uppercase().as_str(),
        ) {
            ("BEGIN", "VEVENT") => {
                if calendar.events.len() + calendar.bad.len() >= MAX_EVENTS {
                    calendar.bad.push(BadEntry {
                        line: *number,
                        reason: format!("more than {MAX_EVENTS} events: the rest is not read"),
                    });
                    return calendar;
                }
                current = Some((
                    ImportedEvent {
                        line: *number,
                        duration_minutes: 60,
                        ..ImportedEvent::default()
                    },
                    None,
                    None,
                ));
                depth = 0;
                continue;
            }
            ("END", "VEVENT") => {
                if let Some((mut event, error, end)) = current.take() {
                    let error = error.or_else(|| finish(&mut event, end).err());
                    match error {
                        None => calendar.events.push(event),
                        Some(reason) => calendar.bad.push(BadEntry {
                            line: event.line,
                            reason,
                        }),
                    }
                }
                continue;
            }
            ("BEGIN", _) if current.is_some() => {
                // VALARM and other components inside an event: skipped.
                depth += 1;
                continue;
            }
            ("END", _) if current.is_some() && depth > 0 => {
                depth -= 1;
                continue;
            }
            _ => {}
        }
        let Some((event, error, end)) = current.as_mut() else {
            continue;
        };
        if depth > 0 || error.is_some() {
            continue;
        }
        if let Err(reason) = property(event, end, &content) {
            *error = Some(format!("line {number}: {reason}"));
        }
    }
    if let Some((event, _, _)) = current {
        calendar.bad.push(BadEntry {
            line: event.line,
            reason: "the event has no END:VEVENT".to_owned(),
        });
    }
    calendar
}

fn property(
    event: &mut ImportedEvent,
    end: &mut Option<DateTime>,
    content: &ContentLine<'_>,
) -> Result<(), String> {
    let tzid = content.param("TZID");
    match content.name.as_str() {
        "UID" => content.value.trim().clone_into(&mut event.uid),
        "SUMMARY" => {
            event.summary = unescape(content.value);
            event.language = content.param("LANGUAGE").map(str::to_ascii_lowercase);
        }
        "DESCRIPTION" => event.description = unescape(content.value),
        "DTSTART" => event.starts.insert(0, date_time(content.value, tzid)?),
        "DTEND" => *end = Some(date_time(content.value, tzid)?),
        "DURATION" => event.duration_minutes = duration_minutes(content.value)?,
        "RRULE" => {
            if event.rule.is_some() {
                return Err("more than one RRULE".to_owned());
            }
            event.rule = Some(content.value.trim().to_owned());
        }
        "RDATE" => {
            for value in content.value.split(',') {
                event.starts.push(date_time(value, tzid)?);
            }
        }
        "EXDATE" => {
            for value in content.value.split(',') {
                event.exceptions.push(date_time(value, tzid)?);
            }
        }
        "LOCATION" => event.location = Some(unescape(content.value)),
        "GEO" => {
            let (lat, lon) = content
                .value
                .split_once(';')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .ok_or_else(|| "GEO is not `lat;lon`".to_owned())?;
            event.geo = Some((lat, lon));
        }
        "CATEGORIES" => {
            event.category = unescape(content.value)
                .split(',')
                .next()
                .map(|c| c.trim().to_ascii_lowercase());
        }
        "STATUS" => event.status = Some(content.value.trim().to_ascii_uppercase()),
        "URL" => event.url = Some(content.value.trim().to_owned()),
        _ => {}
    }
    Ok(())
}

fn finish(event: &mut ImportedEvent, end: Option<DateTime>) -> Result<(), String> {
    if event.uid.is_empty() {
        return Err("the event has no UID".to_owned());
    }
    if event.starts.is_empty() {
        return Err("the event has no DTSTART".to_owned());
    }
    if let Some(end) = end {
        let (start, end) = (
            crate::events::schedule::rome_instant(event.starts[0]),
            crate::events::schedule::rome_instant(end),
        );
        if let (Some(start), Some(end)) = (start, end) {
            let minutes = end.duration_since(start).as_mins();
            event.duration_minutes =
                u32::try_from(minutes).map_err(|_| "DTEND is before DTSTART".to_owned())?;
        }
    }
    Ok(())
}

/// Begins a calendar (with the Rome time zone) named `name`.
pub fn begin_calendar(name: &str) -> String {
    let mut out = String::new();
    out.push_str(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sportello//Eventi//IT\r\nCALSCALE:GREGORIAN\r\n",
    );
    push_line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    out.push_str("X-WR-TIMEZONE:Europe/Rome\r\n");
    out.push_str(VTIMEZONE_ROME);
    out
}

/// Ends a calendar.
pub fn end_calendar(out: &mut String) {
    out.push_str("END:VCALENDAR\r\n");
}

/// The date-time list of a property in Rome time: `NAME;TZID=Europe/Rome:v1,v2`.
pub fn push_local_list(out: &mut String, name: &str, values: &[DateTime]) {
    if values.is_empty() {
        return;
    }
    let list = values
        .iter()
        .map(|d| local_value(*d))
        .collect::<Vec<_>>()
        .join(",");
    let mut line = String::new();
    let _ = write!(line, "{name};TZID=Europe/Rome:{list}");
    push_line(out, &line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_lines_short_and_utf8_whole() {
        let mut out = String::new();
        push_line(&mut out, &format!("SUMMARY:{}", "è".repeat(60)));
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{}", line.len());
        }
        let calendar = read(&format!(
            "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20261212T210000\r\n{out}END:VEVENT\r\n"
        ));
        assert_eq!(calendar.events[0].summary, "è".repeat(60));
    }

    #[test]
    fn reads_times_zones_durations_and_lists_bad_entries_with_their_line() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:one\r\nSUMMARY;LANGUAGE=it:Concerto\\, musica\r\n\
DTSTART;TZID=Europe/Rome:20261212T210000\r\nDTEND;TZID=Europe/Rome:20261212T223000\r\n\
RRULE:FREQ=WEEKLY;COUNT=3\r\nEXDATE;TZID=Europe/Rome:20261219T210000\r\nGEO:44.4;8.93\r\n\
BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:two\r\nDTSTART:20261212T200000Z\r\nDURATION:PT2H\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nSUMMARY:no uid\r\nDTSTART:20261212T200000Z\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:three\r\nDTSTART:domani\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let calendar = read(text);
        assert_eq!(calendar.events.len(), 2);
        let one = &calendar.events[0];
        assert_eq!(
            (one.summary.as_str(), one.duration_minutes, one.geo),
            ("Concerto, musica", 90, Some((44.4, 8.93)))
        );
        assert_eq!(one.exceptions.len(), 1);
        assert_eq!(calendar.events[1].starts[0].to_string(), "2026-12-12T21:00:00");
        assert_eq!(calendar.events[1].duration_minutes, 120);
        let lines: Vec<usize> = calendar.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![19, 23]);
        assert!(calendar.bad[1].reason.contains("line 25"), "{:?}", calendar.bad);
    }
}
