//! The subscribable calendar: the events with an occurrence from a month ago to a year ahead,
//! of a municipality or category, as one iCalendar file.

use sportello_core::api;
use sportello_core::events::{Category, Lang};

use super::store::{self, OccurrenceQuery};
use super::{DAY_MS, Events, EventsError, formats, wire};
use crate::clock::now_ms;
use crate::db::MAX_BINDS;

/// Most events in one feed.
pub const FEED_LIMIT: i64 = 2_000;

/// Query of the feed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Only this municipality's events (ISTAT code).
    pub municipality: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Language of the titles (else `Accept-Language`, else Italian).
    pub lang: Option<String>,
}

impl Events {
    /// The feed as an iCalendar file.
    pub async fn feed(&self, query: &FeedQuery, lang: Lang, public_url: &str) -> Result<String, EventsError> {
        let (name, events) = self.feed_events(query, lang).await?;
        Ok(formats::calendar(&name, &events, public_url))
    }

    /// The events of the feed (by id) and its name: the open data files list the same events.
    pub async fn feed_events(
        &self,
        query: &FeedQuery,
        lang: Lang,
    ) -> Result<(String, Vec<api::Event>), EventsError> {
        let municipality = query
            .municipality
            .as_deref()
            .map(|m| self.municipalities.require(m))
            .transpose()?;
        let category = query
            .category
            .as_deref()
            .map(|c| {
                c.parse::<Category>().map_err(|()| {
                    EventsError::invalid("category", "Categoria non prevista.", "Unknown category.")
                })
            })
            .transpose()?;
        let now = now_ms();
        let matches = store::matches(
            &self.db,
            &OccurrenceQuery {
                from: now - 31 * DAY_MS,
                to: now + 366 * DAY_MS,
                municipality: municipality.map(|m| m.istat_code.to_string()),
                category: category.map(|c| c.as_str().to_owned()),
                limit: FEED_LIMIT,
                ..OccurrenceQuery::default()
            },
        )
        .await?;
        let ids: Vec<String> = matches.into_iter().map(|m| m.event_id).collect();
        let mut events: Vec<api::Event> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BINDS) {
            for row in store::events_by_ids(&self.db, chunk).await? {
                events.push(wire::event(&row, lang, &[])?);
            }
        }
        events.sort_by(|a, b| a.id.cmp(&b.id));
        let name = match (municipality, category) {
            (Some(m), _) => format!("Eventi - Comune di {}", m.name),
            (None, Some(c)) => format!("Eventi - {}", c.label_it()),
            (None, None) => "Eventi - Città Metropolitana di Genova".to_owned(),
        };
        Ok((name, events))
    }
}
