//! HTTP handlers: the events officers' writes, venues, public search and one event.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sportello_core::api;
use sportello_core::events::Lang;
use utoipa::IntoParams;

use super::imports::{ImportDefaults, MAX_CALENDAR_BYTES};
use super::{FeedQuery, formats};
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::with_content_type;
use crate::identity::Principal;

/// The language of an answer: `lang=` if it is one of ours, else `Accept-Language`, else Italian.
pub fn answer_lang(headers: &HeaderMap, asked: Option<&str>) -> Lang {
    asked
        .and_then(Lang::from_tag)
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        })
        .unwrap_or(Lang::It)
}

/// `lang=` alone.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// it, en, fr, de, es (else `Accept-Language`, else Italian).
    lang: Option<String>,
}

/// Query of the venue list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VenueQuery {
    /// Only this municipality's (ISTAT code).
    municipality: Option<String>,
}

/// Creates an event of the municipality (its events officers).
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/events", tag = "events", operation_id = "create_event",
    security(("bearer" = [])), request_body = api::EventInput,
    params(("istat_code" = String, Path, example = "010025"), LangQuery),
    responses((status = 201, body = api::Event),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 415, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(istat_code): Path<String>,
    ApiQuery(query): ApiQuery<LangQuery>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<api::EventInput>,
) -> Result<(StatusCode, Json<api::Event>), ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    let event = state
        .events
        .create(&principal.roles, &principal.user_id, &istat_code, &input, lang)
        .await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// One event of the municipality, for its events officers.
#[utoipa::path(get, path = "/v1/municipalities/{istat_code}/events/{id}", tag = "events", operation_id = "get_municipality_event",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path), LangQuery),
    responses((status = 200, body = api::Event),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, event = %id))]
pub async fn get_in_municipality(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<api::Event>, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    Ok(Json(
        state
            .events
            .get_in(&principal.roles, &istat_code, &id, lang)
            .await?,
    ))
}

/// Changes an event: the fields given replace the event's.
#[utoipa::path(patch, path = "/v1/municipalities/{istat_code}/events/{id}", tag = "events", operation_id = "update_event",
    security(("bearer" = [])), request_body = api::EventPatch,
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path), LangQuery),
    responses((status = 200, body = api::Event),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 415, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, event = %id))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<LangQuery>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<api::EventPatch>,
) -> Result<Json<api::Event>, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    Ok(Json(
        state
            .events
            .update(&principal.roles, &istat_code, &id, &patch, lang)
            .await?,
    ))
}

/// Deletes an event, with its occurrences and followers.
#[utoipa::path(delete, path = "/v1/municipalities/{istat_code}/events/{id}", tag = "events", operation_id = "delete_event",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path)),
    responses((status = 204),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, event = %id))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.events.delete(&principal.roles, &istat_code, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds or changes a venue of the municipality (museums, theatres, squares; libraries are
/// venues already).
#[utoipa::path(put, path = "/v1/municipalities/{istat_code}/event-venues/{id}", tag = "events", operation_id = "put_event_venue",
    security(("bearer" = [])), request_body = api::EventVenueInput,
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path, example = "ge-palazzo-ducale")),
    responses((status = 200, body = api::EventVenue),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 415, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, venue = %id))]
pub async fn put_venue(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<api::EventVenueInput>,
) -> Result<Json<api::EventVenue>, ApiError> {
    Ok(Json(
        state
            .events
            .put_venue(&principal.roles, &istat_code, &id, &input)
            .await?,
    ))
}

/// Venues of events, libraries included (public).
#[utoipa::path(get, path = "/v1/events/venues", tag = "events", operation_id = "list_event_venues", params(VenueQuery),
    responses((status = 200, body = api::EventVenueList),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn venues(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<VenueQuery>,
) -> Result<Json<api::EventVenueList>, ApiError> {
    Ok(Json(state.events.venues(query.municipality.as_deref()).await?))
}

/// Searches events with an occurrence in a window (public): nearest first with `near`, else
/// soonest first; "this weekend" is `from=<saturday>&to=<sunday>`.
#[utoipa::path(get, path = "/v1/events", tag = "events", operation_id = "search_events", params(api::EventQuery),
    responses((status = 200, body = api::EventPage),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<api::EventQuery>,
) -> Result<Json<api::EventPage>, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    let request = state.events.search_request(&query, lang)?;
    Ok(Json(state.events.search(&request).await?))
}

/// One event (public), in the language asked for: JSON; a schema.org `Event` with
/// `Accept: application/ld+json`; an iCalendar `VEVENT` with `Accept: text/calendar`.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "events",
    params(("id" = String, Path), LangQuery),
    responses((status = 200, description = "The event: JSON, schema.org JSON-LD or one iCalendar VEVENT, as `Accept` asks",
            content((api::Event = "application/json"), (Object = "application/ld+json"), (String = "text/calendar"))),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(event = %id))]
pub async fn get_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    let event = state.events.get(&id, lang).await?;
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let public_url = state.config.public_url();
    let mut response = if accept.contains("application/ld+json") {
        let publisher = state
            .municipalities
            .require(&event.municipality)
            .map(|m| format!("Comune di {}", m.name))?;
        let body = formats::json_ld(&event, &public_url, &publisher);
        with_content_type(body.to_string(), "application/ld+json")
    } else if accept.contains("text/calendar") {
        let body = formats::calendar(&event.title, std::slice::from_ref(&event), &public_url);
        with_content_type(body, "text/calendar; charset=utf-8")
    } else {
        Json(event).into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept, accept-language"));
    Ok(response)
}

/// The events of a municipality or category as a calendar to subscribe to (iCalendar): those
/// with an occurrence from a month ago to a year ahead, at most 2,000.
#[utoipa::path(get, path = "/v1/events/feed.ics", tag = "events", operation_id = "event_feed", params(FeedQuery),
    responses((status = 200, body = String, content_type = "text/calendar"),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Response, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    let body = state
        .events
        .feed(&query, lang, &state.config.public_url())
        .await?;
    Ok(with_content_type(body, "text/calendar; charset=utf-8"))
}

/// Imports an iCalendar file (RFC 5545) into the municipality's events: upserted by UID,
/// recurrences kept, entries that cannot be taken listed with their line and skipped.
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/events/imports", tag = "events", operation_id = "import_events",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/calendar", description = "At most 8 MiB"),
    params(("istat_code" = String, Path, example = "010025"), ImportDefaults),
    responses((status = 200, body = api::EventImportSummary),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 415, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Path(istat_code): Path<String>,
    ApiQuery(defaults): ApiQuery<ImportDefaults>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<api::EventImportSummary>, ApiError> {
    let calendar = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/calendar"));
    if !calendar {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, MAX_CALENDAR_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::field(
            "body",
            crate::http::problem::Message::new("Il calendario non è in UTF-8.", "The calendar is not UTF-8."),
        )
    })?;
    Ok(Json(
        state
            .events
            .import(
                &principal.roles,
                &principal.user_id,
                &istat_code,
                &text,
                &defaults,
            )
            .await?,
    ))
}

/// Follows an event: a push when it is cancelled, postponed or moved.
#[utoipa::path(post, path = "/v1/me/events/{id}/follow", tag = "events", operation_id = "follow_event", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(event = %id))]
pub async fn follow(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.events.follow(&principal.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops following an event.
#[utoipa::path(delete, path = "/v1/me/events/{id}/follow", tag = "events", operation_id = "unfollow_event", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(event = %id))]
pub async fn unfollow(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.events.unfollow(&principal.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The events the person follows.
#[utoipa::path(get, path = "/v1/me/events", tag = "events", security(("bearer" = [])), params(LangQuery),
    responses((status = 200, body = api::EventList),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn my_events(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<LangQuery>,
    headers: HeaderMap,
) -> Result<Json<api::EventList>, ApiError> {
    let lang = answer_lang(&headers, query.lang.as_deref());
    Ok(Json(state.events.followed(&principal.user_id, lang).await?))
}
