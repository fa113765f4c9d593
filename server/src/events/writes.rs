//! The officers' writes: create, change, delete; the upsert by iCalendar UID that imports and
//! the demo loader use; and the occurrences every write materialises.

use sportello_core::api;
use sportello_core::catalog::record::fold;
use sportello_core::events::{EventSpec, EventStatus, Lang};
use sportello_core::geo::Coordinates;
use sportello_core::identity::Role;

use super::follows::{Change, tell_followers};
use super::grid;
use super::store::{self, EventRow, OccurrenceRow};
use super::{DAY_MS, Events, EventsError, HORIZON_DAYS, MAX_OCCURRENCES, PAST_DAYS};
use crate::clock::{now_ms, timestamp_from_ms};

/// An event checked and placed, ready to store.
struct Draft {
    input: api::EventInput,
    spec: EventSpec,
    venue: api::EventVenue,
}

impl Events {
    /// Creates an event of the municipality (an events officer's).
    pub async fn create(
        &self,
        roles: &[Role],
        user_id: &str,
        istat: &str,
        input: &api::EventInput,
        lang: Lang,
    ) -> Result<api::Event, EventsError> {
        let municipality = self.officer_of(roles, istat)?.istat_code.to_string();
        let draft = self.draft(&municipality, input.clone()).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_ms();
        let row = EventRow {
            uid: format!("{id}@sportello"),
            id,
            municipality,
            data: String::new(),
            venue: String::new(),
            search_text: String::new(),
            status: draft.spec.status.as_str().to_owned(),
            previous_start: None,
            horizon: 0,
            demo: false,
            created_by: user_id.to_owned(),
            created_at: now,
            updated_at: now,
        };
        let row = self.write(row, &draft, None).await?;
        self.to_api(&row, lang).await
    }

    /// Changes an event of the municipality. Moving the dates of a scheduled event makes it
    /// `rescheduled`; postponing or moving it keeps the start it had in `previous_start`.
    pub async fn update(
        &self,
        roles: &[Role],
        istat: &str,
        id: &str,
        patch: &api::EventPatch,
        lang: Lang,
    ) -> Result<api::Event, EventsError> {
        let municipality = self.officer_of(roles, istat)?.istat_code.to_string();
        let row = store::event(&self.db, id)
            .await?
            .filter(|e| e.municipality == municipality)
            .ok_or(EventsError::NotFound)?;
        let mut input: api::EventInput =
            serde_json::from_str(&row.data).map_err(|e| EventsError::Internal(e.to_string()))?;
        let before = (
            input.dates.clone(),
            input.duration_minutes,
            input.rrule.clone(),
            input.exdates.clone(),
        );
        apply(&mut input, patch.clone());
        let rescheduling = before
            != (
                input.dates.clone(),
                input.duration_minutes,
                input.rrule.clone(),
                input.exdates.clone(),
            );
        let draft = self.draft(&municipality, input).await?;
        let now = now_ms();
        let old_next = store::next_occurrence(&self.db, &row.id, now)
            .await?
            .map(|(start, _)| start);
        let new_next = next_start(&draft.spec, now);
        let moved = rescheduling && old_next.is_some() && old_next != new_next;
        let old_status: EventStatus = row.status.parse().unwrap_or(EventStatus::Scheduled);
        let mut status = draft.spec.status;
        if patch.status.is_none() && moved && old_status == EventStatus::Scheduled {
            status = EventStatus::Rescheduled;
        }
        let mut previous_start = row.previous_start;
        if moved
            || (status != old_status && matches!(status, EventStatus::Postponed | EventStatus::Rescheduled))
        {
            previous_start = old_next.or(previous_start);
        }
        if status == EventStatus::Scheduled {
            previous_start = None;
        }
        let mut draft = draft;
        draft.spec.status = status;
        draft.input.status = Some(status.as_str().to_owned());
        let updated = EventRow {
            status: status.as_str().to_owned(),
            previous_start,
            updated_at: now,
            ..row
        };
        let change = (status != old_status || moved).then_some(Change {
            status,
            moved_to: if moved { new_next } else { None },
        });
        let updated = self.write(updated, &draft, change).await?;
        self.to_api(&updated, lang).await
    }

    /// Deletes an event of the municipality, with its occurrences and followers.
    pub async fn delete(&self, roles: &[Role], istat: &str, id: &str) -> Result<(), EventsError> {
        let municipality = self.officer_of(roles, istat)?;
        if store::delete_event(&self.db, municipality.istat_code.as_str(), id).await? {
            Ok(())
        } else {
            Err(EventsError::NotFound)
        }
    }

    /// Creates or replaces the event of a municipality with this iCalendar UID, without an
    /// officer (imports after their own access check, the demo loader). Returns the event's id
    /// and whether it was created.
    pub async fn upsert_by_uid(
        &self,
        municipality: &str,
        uid: &str,
        input: api::EventInput,
        created_by: &str,
        demo: bool,
    ) -> Result<(String, bool), EventsError> {
        let municipality = self.municipalities.require(municipality)?.istat_code.to_string();
        let draft = self.draft(&municipality, input).await?;
        let existing = {
            let mut conn = self.db.pool().acquire().await?;
            store::event_by_uid(&mut conn, &municipality, uid).await?
        };
        let now = now_ms();
        let created = existing.is_none();
        let row = match existing {
            Some(row) => EventRow {
                status: draft.spec.status.as_str().to_owned(),
                updated_at: now,
                ..row
            },
            None => EventRow {
                id: uuid::Uuid::now_v7().to_string(),
                municipality,
                uid: uid.to_owned(),
                data: String::new(),
                venue: String::new(),
                search_text: String::new(),
                status: draft.spec.status.as_str().to_owned(),
                previous_start: None,
                horizon: 0,
                demo,
                created_by: created_by.to_owned(),
                created_at: now,
                updated_at: now,
            },
        };
        let row = self.write(row, &draft, None).await?;
        Ok((row.id, created))
    }

    /// Checks an event and finds its place.
    async fn draft(&self, municipality: &str, input: api::EventInput) -> Result<Draft, EventsError> {
        let spec = EventSpec::check(&input)?;
        let venue = self.resolve_venue(municipality, &input).await?;
        Ok(Draft { input, spec, venue })
    }

    /// Stores an event and its occurrences up to the horizon, in one transaction.
    /// Followers are told of `change` in the same transaction.
    async fn write(
        &self,
        mut row: EventRow,
        draft: &Draft,
        change: Option<Change>,
    ) -> Result<EventRow, EventsError> {
        let now = now_ms();
        let from = now - PAST_DAYS * DAY_MS;
        row.horizon = now + HORIZON_DAYS * DAY_MS;
        row.data = serde_json::to_string(&draft.input).map_err(|e| EventsError::Internal(e.to_string()))?;
        row.venue = serde_json::to_string(&draft.venue).map_err(|e| EventsError::Internal(e.to_string()))?;
        row.search_text = search_text(&draft.spec, &draft.venue);
        let occurrences = occurrence_rows(&row.municipality, &draft.spec, &draft.venue, from, row.horizon);
        let mut tx = self.db.pool().begin().await?;
        store::put_event(&mut tx, &row).await?;
        store::replace_occurrences(&mut tx, &row.id, from, &occurrences).await?;
        if let Some(change) = change {
            let title = draft.spec.text(sportello_core::events::Lang::It).1.title.clone();
            tell_followers(&mut tx, &row, &title, change).await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Materialises the occurrences of a stored event again, up to a new horizon.
    pub(super) async fn rewrite_occurrences(&self, row: &EventRow) -> Result<(), EventsError> {
        let input: api::EventInput =
            serde_json::from_str(&row.data).map_err(|e| EventsError::Internal(e.to_string()))?;
        let spec = EventSpec::check(&input)?;
        let venue: api::EventVenue =
            serde_json::from_str(&row.venue).map_err(|e| EventsError::Internal(e.to_string()))?;
        self.write(row.clone(), &Draft { input, spec, venue }, None)
            .await?;
        Ok(())
    }
}

/// The first start from `now` on, as stored milliseconds.
fn next_start(spec: &EventSpec, now: i64) -> Option<i64> {
    let from = timestamp_from_ms(now)?;
    let to = timestamp_from_ms(now + HORIZON_DAYS * DAY_MS)?;
    spec.schedule
        .occurrences(from, to, 1)
        .first()
        .map(|o| o.start.as_millisecond())
}

/// The rows search reads, for the occurrences starting in `[from, to)`.
fn occurrence_rows(
    municipality: &str,
    spec: &EventSpec,
    venue: &api::EventVenue,
    from: i64,
    to: i64,
) -> Vec<OccurrenceRow> {
    let (Some(from), Some(to)) = (timestamp_from_ms(from), timestamp_from_ms(to)) else {
        return Vec::new();
    };
    let accessible = !spec.accessibility.is_empty() || !venue.accessibility.is_empty();
    // A venue's coordinates were checked when it was written.
    let vector = Coordinates::new(venue.lat, venue.lon)
        .ok()
        .map(Coordinates::unit_vector);
    spec.schedule
        .occurrences(from, to, MAX_OCCURRENCES)
        .into_iter()
        .map(|o| OccurrenceRow {
            starts_at: o.start.as_millisecond(),
            ends_at: o.end.as_millisecond(),
            cell: grid::cell(venue.lat, venue.lon),
            lat: venue.lat,
            lon: venue.lon,
            vector,
            municipality: municipality.to_owned(),
            category: spec.category.as_str().to_owned(),
            free: spec.is_free(),
            accessible,
        })
        .collect()
}

/// What `q=` matches: the titles in every language and the place's name, folded.
fn search_text(spec: &EventSpec, venue: &api::EventVenue) -> String {
    let mut parts: Vec<&str> = spec.texts.values().map(|t| t.title.as_str()).collect();
    parts.push(&venue.name);
    format!(" {} ", fold(&parts.join(" ")))
}

/// A patch merged into the event it changes.
fn apply(input: &mut api::EventInput, patch: api::EventPatch) {
    let empty_is_none = |text: String| Some(text).filter(|t| !t.trim().is_empty());
    if let Some(texts) = patch.texts {
        input.texts = texts;
    }
    if let Some(category) = patch.category {
        input.category = category;
    }
    if let Some(venue) = patch.venue {
        input.venue = Some(venue);
        input.place = None;
    }
    if let Some(place) = patch.place {
        input.place = Some(place);
        input.venue = None;
    }
    if let Some(dates) = patch.dates {
        input.dates = dates;
    }
    if let Some(minutes) = patch.duration_minutes {
        input.duration_minutes = minutes;
    }
    if let Some(rule) = patch.rrule {
        input.rrule = empty_is_none(rule);
    }
    if let Some(exdates) = patch.exdates {
        input.exdates = exdates;
    }
    if let Some(cents) = patch.price_cents {
        input.price_cents = Some(cents);
    }
    if let Some(url) = patch.ticket_url {
        input.ticket_url = empty_is_none(url);
    }
    if let Some(features) = patch.accessibility {
        input.accessibility = features;
    }
    if let Some(url) = patch.image_url {
        input.image_url = empty_is_none(url);
    }
    if let Some(status) = patch.status {
        input.status = Some(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_replaces_only_what_it_names() {
        let mut input: api::EventInput = serde_json::from_value(serde_json::json!({
            "texts": {"it": {"title": "Mostra"}}, "category": "exhibition", "venue": "ge-berio",
            "dates": ["2026-12-12T10:00"], "duration_minutes": 60, "ticket_url": "https://example.org"
        }))
        .unwrap();
        apply(
            &mut input,
            api::EventPatch {
                ticket_url: Some(String::new()),
                rrule: Some("FREQ=DAILY;COUNT=3".into()),
                ..api::EventPatch::default()
            },
        );
        assert_eq!(input.ticket_url, None);
        assert_eq!(input.rrule.as_deref(), Some("FREQ=DAILY;COUNT=3"));
        assert_eq!(input.venue.as_deref(), Some("ge-berio"));
        assert_eq!(input.dates, vec!["2026-12-12T10:00"]);
    }
}
