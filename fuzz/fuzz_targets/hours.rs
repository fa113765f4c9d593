//! Opening hours as a library's officer sends them (`opening_hours` and `closures` of the
//! libraries API): the first line is the weekly pattern, each further line one exception.
//! Properties: no panic, in parsing or in working out "open now" on awkward days (daylight
//! saving changes, holidays, the exceptions' own first and last days, the ends of the
//! calendar); a parsed pattern prints back to text that parses to the same pattern; each
//! day's intervals are ordered and non-empty; an open library closes later, a closed one opens
//! later.
#![no_main]

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use libfuzzer_sys::fuzz_target;
use sportello_core::catalog::hours::{OpeningHours, rome};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let weekly = lines.next().unwrap_or_default();
    let exceptions: Vec<String> = lines.map(str::to_owned).collect();
    let Ok(hours) = OpeningHours::parse(weekly, &exceptions) else {
        return;
    };
    for day in &hours.weekly {
        assert!(day.iter().all(|i| i.opens < i.closes));
        assert!(day.windows(2).all(|w| w[0].opens <= w[1].opens));
    }
    let printed = hours.to_string();
    let again = OpeningHours::parse(&printed, &[])
        .unwrap_or_else(|e| panic!("printed pattern {printed:?} does not parse: {e}"));
    assert_eq!(again.weekly, hours.weekly, "{printed}");
    assert_eq!(again.closed_on_holidays, hours.closed_on_holidays);

    let mut instants: Vec<Timestamp> = [
        "2026-03-29T00:30:00Z",
        "2026-03-29T01:30:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-25T01:30:00Z",
        "2026-12-24T22:59:59Z",
        "2026-04-06T10:00:00Z",
    ]
    .iter()
    .filter_map(|t| t.parse().ok())
    .collect();
    instants.extend([Timestamp::MIN, Timestamp::MAX]);
    for exception in hours.exceptions.iter().take(4) {
        for date in [exception.from, exception.to] {
            instants.extend(start_of(date));
            instants.extend(date.checked_sub(jiff::ToSpan::days(1)).ok().and_then(start_of));
        }
    }
    for now in instants {
        let status = hours.status_at(now);
        if status.open_now {
            assert!(status.closes_at.is_some_and(|c| c > now), "{status:?} at {now}");
        } else {
            assert!(status.closes_at.is_none(), "{status:?} at {now}");
        }
        if let Some(next) = status.next_opening {
            assert!(next > now, "{status:?} at {now}");
        }
    }
});

/// Midnight in Rome at the start of `date`, when that instant exists.
fn start_of(date: Date) -> Option<Timestamp> {
    date.to_datetime(Time::midnight())
        .to_zoned_datetime(rome().clone())
        .ok()
        .map(|z| z.timestamp())
}
