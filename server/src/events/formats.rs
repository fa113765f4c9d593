//! An event in the formats others read: a schema.org `Event` in JSON-LD (what search engines
//! index), and iCalendar `VEVENT`s (what calendar apps subscribe to). Times are written in
//! Europe/Rome, as the event was given.

use serde_json::{Value, json};
use sportello_core::api;
use sportello_core::calendar::ROME;
use sportello_core::events::ical::{self, escape, push_line, push_local_list};
use sportello_core::events::{Category, EventStatus, schedule};

/// An RFC 3339 instant as Rome's local time with its offset (`2026-12-12T21:00:00+01:00`),
/// which schema.org consumers read as the event's own time.
fn rome_time(rfc3339: &str) -> Option<String> {
    let at: jiff::Timestamp = rfc3339.parse().ok()?;
    Some(
        at.to_zoned_datetime(ROME.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
    )
}

/// The schema.org `Event` of an event, `@id` under `public_url`.
pub fn json_ld(event: &api::Event, public_url: &str, publisher: &str) -> Value {
    let category: Category = event.category.parse().unwrap_or(Category::Other);
    let status: EventStatus = event.status.parse().unwrap_or(EventStatus::Scheduled);
    let shown = event
        .next_occurrence
        .clone()
        .or_else(|| event.upcoming.first().cloned());
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": category.schema_org_type(),
        "@id": format!("{public_url}/v1/events/{}", event.id),
        "identifier": event.id,
        "url": format!("{public_url}/v1/events/{}", event.id),
        "name": event.title,
        "description": event.description,
        "inLanguage": event.lang,
        "eventStatus": status.schema_org(),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "isAccessibleForFree": event.free,
        "location": {
            "@type": "Place",
            "name": event.venue.name,
            "address": {"@type": "PostalAddress", "streetAddress": event.venue.address, "addressCountry": "IT"},
            "geo": {"@type": "GeoCoordinates", "latitude": event.venue.lat, "longitude": event.venue.lon}
        },
        "organizer": {"@type": "GovernmentOrganization", "name": publisher},
    });
    if let Some(occurrence) = shown {
        doc["startDate"] = json!(rome_time(&occurrence.starts_at));
        doc["endDate"] = json!(rome_time(&occurrence.ends_at));
    }
    if let Some(previous) = event.previous_start.as_deref().and_then(rome_time) {
        doc["previousStartDate"] = json!(previous);
    }
    if let Some(image) = &event.image_url {
        doc["image"] = json!(image);
    }
    if !event.accessibility.is_empty() {
        doc["accessibilityFeature"] = json!(event.accessibility);
    }
    let price = event.price_cents.unwrap_or(0);
    let mut offer = json!({
        "@type": "Offer",
        "price": format!("{}.{:02}", price / 100, price % 100),
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
    });
    if let Some(url) = &event.ticket_url {
        offer["url"] = json!(url);
    }
    doc["offers"] = offer;
    doc
}

/// Appends an event's `VEVENT`: its schedule as given (DTSTART, RDATE, RRULE, EXDATE in
/// Europe/Rome), every language's title where one has it.
pub fn push_vevent(out: &mut String, event: &api::Event, public_url: &str) {
    out.push_str("BEGIN:VEVENT\r\n");
    push_line(out, &format!("UID:{}", escape(&event.uid)));
    let stamp = event
        .updated_at
        .parse::<jiff::Timestamp>()
        .map(ical::utc_value)
        .unwrap_or_default();
    push_line(out, &format!("DTSTAMP:{stamp}"));
    push_line(out, &format!("LAST-MODIFIED:{stamp}"));
    let starts: Vec<_> = event
        .dates
        .iter()
        .filter_map(|d| schedule::parse_local(d).ok())
        .collect();
    if let Some(first) = starts.first() {
        push_line(
            out,
            &format!("DTSTART;TZID=Europe/Rome:{}", ical::local_value(*first)),
        );
    }
    push_line(out, &format!("DURATION:PT{}M", event.duration_minutes));
    if let Some(rule) = &event.rrule {
        push_line(out, &format!("RRULE:{rule}"));
    }
    push_local_list(out, "RDATE", starts.get(1..).unwrap_or_default());
    let exceptions: Vec<_> = event
        .exdates
        .iter()
        .filter_map(|d| schedule::parse_local(d).ok())
        .collect();
    push_local_list(out, "EXDATE", &exceptions);
    push_line(
        out,
        &format!("SUMMARY;LANGUAGE={}:{}", event.lang, escape(&event.title)),
    );
    if !event.description.is_empty() {
        push_line(
            out,
            &format!(
                "DESCRIPTION;LANGUAGE={}:{}",
                event.lang,
                escape(&event.description)
            ),
        );
    }
    push_line(
        out,
        &format!(
            "LOCATION:{}",
            escape(&format!("{}, {}", event.venue.name, event.venue.address))
        ),
    );
    push_line(out, &format!("GEO:{:.6};{:.6}", event.venue.lat, event.venue.lon));
    push_line(out, &format!("CATEGORIES:{}", escape(&event.category)));
    let status = match event.status.parse().unwrap_or(EventStatus::Scheduled) {
        EventStatus::Cancelled => "CANCELLED",
        EventStatus::Postponed => "TENTATIVE",
        EventStatus::Scheduled | EventStatus::Rescheduled => "CONFIRMED",
    };
    push_line(out, &format!("STATUS:{status}"));
    push_line(
        out,
        &format!(
            "URL:{}",
            event
                .ticket_url
                .clone()
                .unwrap_or_else(|| format!("{public_url}/v1/events/{}", event.id))
        ),
    );
    if let Some(image) = &event.image_url {
        push_line(out, &format!("IMAGE;VALUE=URI:{image}"));
    }
    out.push_str("END:VEVENT\r\n");
}

/// A calendar of events.
pub fn calendar(name: &str, events: &[api::Event], public_url: &str) -> String {
    let mut out = ical::begin_calendar(name);
    for event in events {
        push_vevent(&mut out, event, public_url);
    }
    ical::end_calendar(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rome_times_carry_their_offset() {
        assert_eq!(
            rome_time("2026-12-12T20:00:00Z").unwrap(),
            "2026-12-12T21:00:00+01:00"
        );
        assert_eq!(
            rome_time("2026-07-12T20:00:00Z").unwrap(),
            "2026-07-12T22:00:00+02:00"
        );
    }
}
