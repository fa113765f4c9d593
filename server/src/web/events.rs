//! The events pages: what's on today, this weekend or in the next 30 days, near the browser's
//! position or in a municipality; one event with its schema.org JSON-LD and its iCalendar.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use sportello_core::api;
use sportello_core::events::Period;

use super::layout::{self, icon_svg};
use super::session::MaybeCitizen;
use super::{PageRequest, i18n};
use crate::AppState;
use crate::events::formats;
use crate::http::problem::{ApiError, Message};

/// The query of `/events`: every field a string, checked by the events service (or here, for
/// `when`), so a bad value gets the service's message on the page.
#[derive(Debug, Default, Deserialize)]
pub struct EventsPageQuery {
    /// `today`, `weekend` or `month` (the default: the next 30 days).
    when: Option<String>,
    municipality: Option<String>,
    near: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

/// The windows a visitor can choose.
const WHENS: [(&str, &i18n::Text); 3] = [
    ("today", &i18n::TODAY),
    ("weekend", &i18n::WEEKEND),
    ("month", &i18n::NEXT_30_DAYS),
];

/// `from` and `to` of the events search for a window, seen from now in Rome (core's
/// `Period`, the apps' too).
fn window(when: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let period = match when {
        "today" => Period::Today,
        "weekend" => Period::ThisWeekend,
        "month" => return Ok((None, None)),
        _ => {
            return Err(ApiError::field(
                "when",
                Message::new("Uno tra today, weekend, month.", "One of today, weekend, month."),
            ));
        }
    };
    let window = period.window(jiff::Timestamp::now());
    Ok((Some(window.from), Some(window.to)))
}

/// `GET /events`.
pub async fn list(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<EventsPageQuery>,
) -> Response {
    let title = page.t(&i18n::EVENTS);
    let when = query.when.as_deref().filter(|w| !w.is_empty()).unwrap_or("month");
    let result = async {
        let (from, to) = window(when)?;
        let near = query
            .near
            .as_deref()
            .filter(|n| !n.is_empty())
            .map(|n| {
                n.parse::<api::Coordinates>().map_err(|e| {
                    ApiError::field(
                        "near",
                        Message::new(
                            format!("Posizione non valida: {e}"),
                            format!("Invalid position: {e}"),
                        ),
                    )
                })
            })
            .transpose()?;
        let search = api::EventQuery {
            near,
            from,
            to,
            municipality: super::municipality_param(&state, query.municipality.as_deref())?,
            q: query.q.clone(),
            cursor: query.cursor.clone(),
            ..api::EventQuery::default()
        };
        let request = state.events.search_request(&search, page.lang)?;
        let found = state.events.search(&request).await?;
        Ok(list_body(&page, &state, &query, when, &found))
    }
    .await;
    page.render(title, result)
}

fn list_body(
    page: &PageRequest,
    state: &AppState,
    query: &EventsPageQuery,
    when: &str,
    found: &api::EventPage,
) -> Markup {
    let near = query.near.as_deref().filter(|n| !n.is_empty());
    html! {
        h1 { (page.t(&i18n::EVENTS)) }
        form.filters.mb-4 method="get" action="/events" {
            div.form-group {
                label for="when" { (page.t(&i18n::WHEN)) }
                select.form-select #when name="when" {
                    @for (value, text) in WHENS {
                        option value=(value) selected[value == when] { (page.t(text)) }
                    }
                }
            }
            @if let Some(near) = near {
                input type="hidden" name="near" value=(near);
            } @else {
                (layout::municipality_picker(page, state, query.municipality.as_deref()))
            }
            button.btn.btn-primary type="submit" { (page.t(&i18n::SHOW)) }
            (layout::near_button(page))
        }
        @if near.is_some() {
            p.meta { (icon_svg("it-map-marker")) " " (page.t(&i18n::LOCATION_USED)) }
        }
        @if found.items.is_empty() {
            p.alert.alert-info { (page.t(&i18n::NO_EVENTS)) }
        } @else {
            ul.result-list {
                @for hit in &found.items {
                    li {
                        h2 { a href={ "/events/" (hit.id) } lang=(hit.lang) { (hit.title) } }
                        p.meta {
                            (icon_svg("it-calendar")) " "
                            time datetime=(hit.starts_at) { (layout::date_time(page.lang, &hit.starts_at)) }
                            " · " (i18n::category(page.lang, &hit.category))
                        }
                        p.meta {
                            (icon_svg("it-map-marker")) " " (hit.venue.name) ", " (municipality_name(state, &hit.municipality))
                            @if let Some(km) = hit.distance_km { " · " (layout::distance(km)) " " (page.t(&i18n::AWAY)) }
                        }
                        p.meta {
                            @if hit.free { (page.t(&i18n::FREE)) }
                            @else if let Some(cents) = hit.price_cents { (page.t(&i18n::PRICE)) ": " (layout::euros(cents)) }
                            @if hit.accessible { " · " (page.t(&i18n::ACCESSIBLE)) }
                        }
                    }
                }
            }
            @if let Some(cursor) = &found.next_cursor {
                p { a.btn.btn-outline-primary href=(next_page(page, cursor)) { (page.t(&i18n::MORE)) } }
            }
        }
    }
}

/// The same page's URL with `cursor` set.
pub fn next_page(page: &PageRequest, cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in page.query.iter().filter(|(name, _)| name != "cursor") {
        query.append_pair(name, value);
    }
    query.append_pair("cursor", cursor);
    format!("{}?{}", page.path, query.finish())
}

/// A municipality's name, or its code when it is not (or no longer) served.
pub fn municipality_name(state: &AppState, code: &str) -> String {
    state
        .municipalities
        .require(code)
        .map_or_else(|_| code.to_owned(), |m| m.name.clone())
}

/// `GET /events/{id}`; for a signed-in person, with the follow (or unfollow) button.
pub async fn page(
    page: PageRequest,
    State(state): State<AppState>,
    MaybeCitizen(citizen): MaybeCitizen,
    Path(id): Path<String>,
) -> Response {
    match state.events.get(&id, page.lang).await {
        Ok(event) => {
            let follow = match &citizen {
                Some(citizen) => match state.events.followed(&citizen.principal.user_id, page.lang).await {
                    Ok(followed) => {
                        let following = followed.items.iter().any(|e| e.id == event.id);
                        Some(super::me::follow_form(&page, citizen, &event.id, following))
                    }
                    Err(error) => return page.error(&error.into()),
                },
                None => Some(html! {
                    p { a.btn.btn-outline-primary href={ "/login?next=%2Fevents%2F" (event.id) } { (page.t(&i18n::LOGIN_TO_FOLLOW)) } }
                }),
            };
            let title = event.title.clone();
            page.render(&title, Ok(event_body(&page, &state, &event, follow)))
        }
        Err(error) => page.error(&error.into()),
    }
}

fn event_body(page: &PageRequest, state: &AppState, event: &api::Event, follow: Option<Markup>) -> Markup {
    let municipality = municipality_name(state, &event.municipality);
    let publisher = format!("Comune di {municipality}");
    let public_url = state.config.public_url();
    let mut json_ld = formats::json_ld(event, &public_url, &publisher);
    json_ld["url"] = serde_json::json!(format!("{public_url}/events/{}", event.id));
    html! {
        script type="application/ld+json" { (PreEscaped(script_safe_json(&json_ld))) }
        article lang=(event.lang) {
            p.meta { (i18n::category(page.lang, &event.category)) }
            h1 { (event.title) }
            @for paragraph in event.description.split("\n\n").filter(|p| !p.trim().is_empty()) {
                p { (paragraph.trim()) }
            }
        }
        div.row.mt-3 {
            div.col-12.col-lg-6 {
                h2.h4 { (page.t(&i18n::NEXT_DATES)) }
                ul {
                    @for occurrence in &event.upcoming {
                        li { time datetime=(occurrence.starts_at) { (layout::date_time(page.lang, &occurrence.starts_at)) } }
                    }
                }
                p {
                    a.btn.btn-primary href={ "/events/" (event.id) "/calendar.ics" } download {
                        (icon_svg("it-calendar")) " " (page.t(&i18n::ADD_TO_CALENDAR))
                    }
                }
                @if let Some(follow) = follow { (follow) }
            }
            div.col-12.col-lg-6 {
                h2.h4 { (page.t(&i18n::WHERE)) }
                p { (event.venue.name) br; (event.venue.address) br; (municipality) }
                p {
                    @if event.free { (page.t(&i18n::FREE)) }
                    @else if let Some(cents) = event.price_cents { (page.t(&i18n::PRICE)) ": " (layout::euros(cents)) }
                }
                @if let Some(url) = &event.ticket_url {
                    p { a href=(url) rel="noopener" { (page.t(&i18n::TICKETS)) } }
                }
                @if !event.accessibility.is_empty() || !event.venue.accessibility.is_empty() {
                    p { (page.t(&i18n::ACCESSIBLE)) }
                }
                @if event.demo { p.badge.bg-secondary { (page.t(&i18n::DEMO)) } }
            }
        }
    }
}

/// JSON safe inside `<script>`: `<`, `>` and `&` as JSON escapes, so a text holding
/// `</script>` cannot end the element.
fn script_safe_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `GET /events/{id}/calendar.ics`: the event as an iCalendar file, for "add to calendar".
pub async fn calendar(page: PageRequest, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let event = match state.events.get(&id, page.lang).await {
        Ok(event) => event,
        Err(error) => return page.error(&error.into()),
    };
    let body = formats::calendar(
        &event.title,
        std::slice::from_ref(&event),
        &state.config.public_url(),
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}.ics\"", event.id)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let value = serde_json::json!({"name": "</script><script>alert(1)</script> & co"});
        let safe = script_safe_json(&value);
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value);
    }

    #[test]
    fn windows_are_checked() {
        assert!(window("today").unwrap().1.is_some());
        assert_eq!(window("month").unwrap(), (None, None));
        assert!(window("yesterday").is_err());
    }
}
