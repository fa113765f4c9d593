//! The citizen's personal area: its home, the inbox, the notification preferences (with the
//! button that subscribes this browser to Web Push), the events they follow, and following or
//! no longer following an event from its page.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sportello_core::api;

use super::i18n::citizen as words;
use super::layout::{self, icon_svg};
use super::login::CsrfForm;
use super::session::{CSRF_FIELD, CSRF_HEADER, Citizen};
use super::{CursorQuery, PageRequest, events::municipality_name, i18n};
use crate::AppState;
use crate::http::problem::{ApiError, Message};
use crate::pagination::PageRequest as Rows;

/// The topics a person can choose pushes for, in the order of the form.
const TOPICS: [&str; 5] = ["permits", "payments", "events", "library", "alerts"];

/// `GET /me`: who is signed in, and the ways into their pages.
pub async fn home(page: PageRequest, State(state): State<AppState>, citizen: Citizen) -> Response {
    let page = page.citizen();
    let result = async {
        let me = state.identity.me(&citizen.principal).await?;
        let inbox = state.notifier.inbox(&citizen.principal.user_id, &Rows::new(None, Some(1), 1, 1)?).await?;
        let name = match (&me.given_name, &me.family_name) {
            (Some(given), Some(family)) => format!("{given} {family}"),
            _ => me.fiscal_code.clone(),
        };
        Ok::<_, ApiError>(html! {
            h1 { (page.w(&words::MY_AREA)) }
            p.lead { (page.w(&words::WELCOME)) ", " (name) " (" (me.fiscal_code) ")" }
            div.row {
                (layout::card_text("/me/permits", "it-file", page.w(&words::MY_PERMITS)))
                (layout::card_text("/me/payments", "it-card", page.w(&words::MY_PAYMENTS)))
                (layout::card_text("/me/inbox", "it-mail", &format!("{} ({} {})", page.w(&words::INBOX), inbox.unread, page.w(&words::UNREAD))))
                (layout::card_text("/me/notifications", "it-settings", page.w(&words::NOTIFICATIONS)))
                (layout::card_text("/me/events", "it-calendar", page.w(&words::MY_EVENTS)))
            }
        })
    }
    .await;
    page.render(page.w(&words::MY_AREA), result)
}

/// `GET /me/inbox`: newest first, unread ones marked.
pub async fn inbox(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Query(query): Query<CursorQuery>,
) -> Response {
    let page = page.citizen();
    let result = async {
        let rows = query.rows()?;
        let found = state.notifier.inbox(&citizen.principal.user_id, &rows).await?;
        Ok::<_, ApiError>(html! {
            h1 { (page.w(&words::INBOX)) }
            p { (found.unread) " " (page.w(&words::UNREAD)) }
            @if found.items.is_empty() {
                p.alert.alert-info { (page.w(&words::NO_MESSAGES)) }
            } @else {
                ul.result-list {
                    @for message in &found.items {
                        li {
                            h2 {
                                a href={ "/me/inbox/" (message.id) } { (message.subject) }
                                @if !message.read { " " span.badge.bg-primary { (page.w(&words::NEW)) } }
                            }
                            p.meta { time datetime=(message.created_at) { (layout::date_time(page.lang, &message.created_at)) } }
                        }
                    }
                }
                @if let Some(cursor) = &found.next_cursor {
                    p { a.btn.btn-outline-primary href=(super::events::next_page(&page, cursor)) { (page.w(&words::MORE)) } }
                }
            }
        })
    }
    .await;
    page.render(page.w(&words::INBOX), result)
}

/// `GET /me/inbox/{id}`: one message, marked read.
pub async fn message(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Response {
    let page = page.citizen();
    let user = &citizen.principal.user_id;
    let result = async {
        let message = state.notifier.inbox_message(user, &id).await?;
        state.notifier.mark_read(user, &id).await?;
        Ok::<_, ApiError>(message)
    }
    .await;
    match result {
        Ok(message) => page.render(
            &message.subject.clone(),
            Ok(message_body(&page, &state, &message)),
        ),
        Err(error) => page.error(&error),
    }
}

fn message_body(page: &PageRequest, state: &AppState, message: &api::InboxMessage) -> Markup {
    html! {
        p { a href="/me/inbox" { (page.w(&words::INBOX)) } }
        h1 { (message.subject) }
        p.meta {
            time datetime=(message.created_at) { (layout::date_time(page.lang, &message.created_at)) }
            @if let Some(code) = &message.municipality { " · " (municipality_name(state, code)) }
        }
        div.message-body {
            @for paragraph in message.body.split("\n\n").filter(|p| !p.trim().is_empty()) {
                p { (paragraph.trim()) }
            }
        }
        @if let Some(due) = &message.due_date {
            p { (page.w(&words::DUE_DATE)) ": " (layout::day(page.lang, due)) }
        }
        @if let Some(payment) = &message.payment {
            p { (layout::euros(payment.amount_cents)) " · " a href="/me/payments" { (page.w(&words::PAY)) } }
        }
    }
}

/// `GET /inbox/{id}`: the address a push carries (the same for the apps' inbox), to the page.
pub async fn push_target(Path(id): Path<String>) -> Response {
    let id: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Redirect::to(&format!("/me/inbox/{id}")).into_response()
}

/// `GET /me/notifications`: the preferences form and this browser's push subscription.
pub async fn notifications(page: PageRequest, State(state): State<AppState>, citizen: Citizen) -> Response {
    let page = page.citizen();
    let result = state
        .notifier
        .preferences(&citizen.principal.user_id)
        .await
        .map_err(ApiError::from)
        .map(|preferences| preferences_body(&page, &state, &citizen, &preferences, false));
    page.render(page.w(&words::NOTIFICATIONS), result)
}

fn preferences_body(
    page: &PageRequest,
    state: &AppState,
    citizen: &Citizen,
    preferences: &api::NotificationPreferences,
    saved: bool,
) -> Markup {
    let csrf = citizen.csrf();
    let quiet = preferences.quiet_hours.as_ref();
    html! {
        h1 { (page.w(&words::NOTIFICATIONS)) }
        @if saved { p.alert.alert-success role="status" { (page.w(&words::SAVED)) } }
        section.mb-4 {
            h2.h4 { (page.w(&words::PUSH_TITLE)) }
            p { (page.w(&words::PUSH_TEXT)) }
            button.btn.btn-outline-primary type="button" data-push="" hidden
                data-vapid=(state.notifier.vapid_public_key()) data-csrf=(csrf)
                data-push-done=(page.w(&words::PUSH_DONE)) data-push-failed=(page.w(&words::PUSH_FAILED))
                aria-describedby="push-status" {
                (icon_svg("it-horn")) " " (page.w(&words::PUSH_BUTTON))
            }
            p #push-status .push-status role="status" {}
        }
        form method="post" action="/me/notifications" {
            input type="hidden" name=(CSRF_FIELD) value=(csrf);
            fieldset.mb-3 {
                legend.h5 { (page.w(&words::TOPICS)) }
                @for (index, topic) in TOPICS.iter().enumerate() {
                    div.form-check {
                        input.form-check-input type="checkbox" name="topics" value=(topic) id={ "topic-" (index) }
                            checked[preferences.topics.iter().any(|t| t == topic)];
                        label.form-check-label for={ "topic-" (index) } { (topic_label(page, topic)) }
                    }
                }
            }
            div.filters.mb-3 {
                div.form-group {
                    label for="language" { (page.t(&i18n::LANGUAGE)) }
                    select.form-select #language name="language" {
                        option value="it" selected[preferences.language == "it"] { "Italiano" }
                        option value="en" selected[preferences.language == "en"] { "English" }
                    }
                }
                div.form-group {
                    label for="quiet-start" { (page.w(&words::QUIET_FROM)) }
                    input.form-control #quiet-start type="time" name="quiet_start" value=[quiet.map(|q| q.start.as_str())];
                }
                div.form-group {
                    label for="quiet-end" { (page.w(&words::QUIET_TO)) }
                    input.form-control #quiet-end type="time" name="quiet_end" value=[quiet.map(|q| q.end.as_str())];
                }
            }
            div.form-group.stacked.mb-3 {
                label for="municipalities" { (page.w(&words::ALERT_AREAS)) }
                select.form-select #municipalities name="municipalities" multiple size="6" {
                    @for municipality in state.municipalities.all() {
                        option value=(municipality.istat_code)
                            selected[preferences.municipalities.iter().any(|m| *m == municipality.istat_code.as_str())] {
                            (municipality.name)
                        }
                    }
                }
            }
            button.btn.btn-primary type="submit" { (page.w(&words::SAVE)) }
        }
    }
}

fn topic_label(page: &PageRequest, topic: &str) -> &'static str {
    words::TOPIC_NAMES
        .iter()
        .find(|(code, _)| *code == topic)
        .map_or("", |(_, w)| page.w(w))
}

/// `POST /me/notifications` (a form whose `topics` and `municipalities` repeat).
pub async fn save_notifications(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    body: Bytes,
) -> Response {
    let page = page.citizen();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().take(200).collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let result = async {
        citizen.check_csrf(value(CSRF_FIELD).as_deref())?;
        let quiet_hours = match (value("quiet_start"), value("quiet_end")) {
            (Some(start), Some(end)) => Some(api::QuietHours { start, end }),
            (None, None) => None,
            _ => {
                return Err(ApiError::field(
                    "quiet_hours",
                    Message::new(
                        "Indica inizio e fine, o nessuno dei due.",
                        "Give both start and end, or neither.",
                    ),
                ));
            }
        };
        let preferences = api::NotificationPreferences {
            topics: all("topics"),
            language: value("language").unwrap_or_else(|| "it".to_owned()),
            quiet_hours,
            municipalities: all("municipalities"),
        };
        Ok::<_, ApiError>(
            state
                .notifier
                .set_preferences(&citizen.principal.user_id, preferences)
                .await?,
        )
    }
    .await;
    match result {
        Ok(saved) => page.render(
            page.w(&words::NOTIFICATIONS),
            Ok(preferences_body(&page, &state, &citizen, &saved, true)),
        ),
        Err(error) => page.error(&error),
    }
}

/// `POST /me/devices`: the page's script registers this browser's push subscription as one
/// of the person's devices (the notifications service's registration, as `POST
/// /v1/me/devices`), with the CSRF token in `x-csrf-token`. JSON in, JSON or a problem out.
pub async fn register_device(
    State(state): State<AppState>,
    citizen: Citizen,
    headers: HeaderMap,
    Json(registration): Json<api::DeviceRegistration>,
) -> Result<(StatusCode, Json<api::Device>), ApiError> {
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    citizen.check_csrf(token)?;
    if registration.kind != "webpush" {
        return Err(ApiError::field(
            "kind",
            Message::new("Solo webpush dal browser.", "Only webpush from a browser."),
        ));
    }
    let device = state
        .notifier
        .register_device(&citizen.principal.user_id, &registration)
        .await?;
    Ok((StatusCode::CREATED, Json(device)))
}

/// `GET /me/events`: the events the person follows.
pub async fn events(page: PageRequest, State(state): State<AppState>, citizen: Citizen) -> Response {
    let page = page.citizen();
    let result = state
        .events
        .followed(&citizen.principal.user_id, page.lang)
        .await
        .map_err(ApiError::from)
        .map(|followed| {
            html! {
                h1 { (page.w(&words::MY_EVENTS)) }
                @if followed.items.is_empty() {
                    p.alert.alert-info { (page.w(&words::NO_FOLLOWED)) " " a href="/events" { (page.t(&i18n::EVENTS)) } }
                } @else {
                    ul.result-list {
                        @for event in &followed.items {
                            li {
                                h2 { a href={ "/events/" (event.id) } lang=(event.lang) { (event.title) } }
                                @if let Some(next) = &event.next_occurrence {
                                    p.meta { (icon_svg("it-calendar")) " " time datetime=(next.starts_at) { (layout::date_time(page.lang, &next.starts_at)) } }
                                }
                                p.meta { (icon_svg("it-map-marker")) " " (event.venue.name) ", " (municipality_name(&state, &event.municipality)) }
                                (follow_form(&page, &citizen, &event.id, true))
                            }
                        }
                    }
                }
            }
        });
    page.render(page.w(&words::MY_EVENTS), result)
}

/// The follow or unfollow button of an event, for a signed-in person.
pub fn follow_form(page: &PageRequest, citizen: &Citizen, event_id: &str, following: bool) -> Markup {
    let (action, text) = if following {
        ("unfollow", page.t(&i18n::UNFOLLOW))
    } else {
        ("follow", page.t(&i18n::FOLLOW))
    };
    html! {
        form method="post" action={ "/events/" (event_id) "/" (action) } {
            input type="hidden" name=(CSRF_FIELD) value=(citizen.csrf());
            button.btn.btn-outline-primary type="submit" { (icon_svg("it-star-outline")) " " (text) }
        }
    }
}

/// `POST /events/{id}/follow`.
pub async fn follow(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    change_follow(page, &state, &citizen, &id, form, true).await
}

/// `POST /events/{id}/unfollow`.
pub async fn unfollow(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    change_follow(page, &state, &citizen, &id, form, false).await
}

async fn change_follow(
    page: PageRequest,
    state: &AppState,
    citizen: &Citizen,
    id: &str,
    form: CsrfForm,
    follow: bool,
) -> Response {
    let result = async {
        citizen.check_csrf(form.csrf.as_deref())?;
        let user = &citizen.principal.user_id;
        if follow {
            state.events.follow(user, id).await?;
        } else {
            state.events.unfollow(user, id).await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/events/{id}")).into_response(),
        Err(error) => page.error(&error),
    }
}
