//! HTTP handlers: devices, preferences, the inbox, the VAPID key and broadcasts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sportello_core::api;
use sportello_core::notify::{TimeOfDay, Topic};
use utoipa::IntoParams;

use super::{NotifyError, store};
use crate::AppState;
use crate::clock::rfc3339_from_ms;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Message};
use crate::identity::Principal;

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/v1/push/vapid-public-key", tag = "notifications",
    responses((status = 200, body = api::VapidPublicKey)))]
pub async fn vapid_public_key(State(state): State<AppState>) -> Json<api::VapidPublicKey> {
    Json(api::VapidPublicKey {
        public_key: state.notifier.vapid_public_key().to_owned(),
    })
}

fn device_to_wire(device: store::Device) -> api::Device {
    let label = if device.kind == "webpush" {
        url::Url::parse(&device.address)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        let tail: String = device
            .address
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    };
    api::Device {
        id: device.id,
        kind: device.kind,
        label,
        created_at: rfc3339_from_ms(device.created_at),
    }
}

/// Registers a Web Push subscription or an FCM/APNs token for the caller.
#[utoipa::path(post, path = "/v1/me/devices", tag = "notifications", security(("bearer" = [])),
    request_body = api::DeviceRegistration,
    responses((status = 201, body = api::Device),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn register_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(registration): ApiJson<api::DeviceRegistration>,
) -> Result<(StatusCode, Json<api::Device>), ApiError> {
    let device = state
        .notifier
        .register_device(&principal.user_id, &registration)
        .await?;
    Ok((StatusCode::CREATED, Json(device_to_wire(device))))
}

/// The caller's devices.
#[utoipa::path(get, path = "/v1/me/devices", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = api::DeviceList)))]
pub async fn list_devices(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<api::DeviceList>, ApiError> {
    let items = store::list_devices(&state.db, &principal.user_id)
        .await?
        .into_iter()
        .map(device_to_wire)
        .collect();
    Ok(Json(api::DeviceList { items }))
}

/// Removes one of the caller's devices.
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn delete_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_device(&state.db, &principal.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NotifyError::NotFound.into())
    }
}

/// The caller's notification preferences (defaults until changed).
#[utoipa::path(get, path = "/v1/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = api::NotificationPreferences)))]
pub async fn get_preferences(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<api::NotificationPreferences>, ApiError> {
    let stored = store::get_preferences(&state.db, &principal.user_id).await?;
    let municipalities = store::alert_areas(&state.db, &principal.user_id).await?;
    let preferences = match stored {
        Some(p) => api::NotificationPreferences {
            topics: p.topics,
            language: p.language,
            quiet_hours: p
                .quiet_start
                .zip(p.quiet_end)
                .map(|(start, end)| api::QuietHours { start, end }),
            municipalities,
        },
        None => api::NotificationPreferences {
            topics: Topic::ALL.iter().map(|t| t.as_str().to_owned()).collect(),
            language: "it".to_owned(),
            quiet_hours: None,
            municipalities,
        },
    };
    Ok(Json(preferences))
}

/// Replaces the caller's notification preferences.
#[utoipa::path(put, path = "/v1/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = api::NotificationPreferences,
    responses((status = 200, body = api::NotificationPreferences),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn put_preferences(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(preferences): ApiJson<api::NotificationPreferences>,
) -> Result<Json<api::NotificationPreferences>, ApiError> {
    let mut topics = Vec::new();
    for topic in &preferences.topics {
        let topic: Topic = topic.parse().map_err(|e: sportello_core::notify::NotifyError| {
            ApiError::field("topics", Message::new(e.to_string(), e.to_string()))
        })?;
        if !topics.contains(&topic.as_str().to_owned()) {
            topics.push(topic.as_str().to_owned());
        }
    }
    if !["it", "en"].contains(&preferences.language.as_str()) {
        return Err(ApiError::field(
            "language",
            Message::new("Lingue: it, en.", "Languages: it, en."),
        ));
    }
    if let Some(quiet) = &preferences.quiet_hours {
        for value in [&quiet.start, &quiet.end] {
            TimeOfDay::parse(value)
                .map_err(|e| ApiError::field("quiet_hours", Message::new(e.to_string(), e.to_string())))?;
        }
    }
    let mut municipalities = state
        .notifier
        .check_municipalities(&preferences.municipalities)
        .await?;
    municipalities.sort();
    let stored = store::Preferences {
        topics: topics.clone(),
        language: preferences.language.clone(),
        quiet_start: preferences.quiet_hours.as_ref().map(|q| q.start.clone()),
        quiet_end: preferences.quiet_hours.as_ref().map(|q| q.end.clone()),
    };
    store::put_preferences(&state.db, &principal.user_id, &stored).await?;
    store::set_alert_areas(&state.db, &principal.user_id, &municipalities).await?;
    Ok(Json(api::NotificationPreferences {
        topics,
        municipalities,
        ..preferences
    }))
}

/// Inbox page query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Cursor from the previous page.
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

fn message_to_wire(message: store::Message) -> api::InboxMessage {
    let payment = match (
        message.payment_notice,
        message.payment_amount_cents,
        message.payment_creditor,
    ) {
        (Some(notice_number), Some(amount_cents), Some(creditor_fiscal_code)) => Some(api::PaymentData {
            notice_number,
            amount_cents,
            creditor_fiscal_code,
        }),
        _ => None,
    };
    api::InboxMessage {
        id: message.id,
        topic: message.topic,
        subject: message.subject,
        body: message.body,
        municipality: message.municipality,
        due_date: message.due_date,
        payment,
        created_at: rfc3339_from_ms(message.created_at),
        read: message.read_at.is_some(),
    }
}

fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (at, id) = text.split_once(':')?;
    Some((at.parse().ok()?, id.to_owned()))
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/v1/me/inbox", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = api::InboxPage),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn inbox(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<api::InboxPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            Message::new("Da 1 a 100.", "From 1 to 100."),
        ));
    }
    let after = match &query.cursor {
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
            ApiError::field("cursor", Message::new("Cursore non valido.", "Invalid cursor."))
        })?),
        None => None,
    };
    let mut messages = store::list_messages(&state.db, &principal.user_id, after, limit + 1).await?;
    let next_cursor = if messages.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
        messages.pop();
        messages
            .last()
            .map(|last| URL_SAFE_NO_PAD.encode(format!("{}:{}", last.created_at, last.id)))
    } else {
        None
    };
    let unread = store::unread_count(&state.db, &principal.user_id).await?;
    Ok(Json(api::InboxPage {
        items: messages.into_iter().map(message_to_wire).collect(),
        next_cursor,
        unread,
    }))
}

/// One message of the caller's inbox.
#[utoipa::path(get, path = "/v1/me/inbox/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = api::InboxMessage), (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn inbox_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<api::InboxMessage>, ApiError> {
    let message = store::get_message(&state.db, &principal.user_id, &id)
        .await?
        .ok_or(NotifyError::NotFound)?;
    Ok(Json(message_to_wire(message)))
}

/// Marks a message read.
#[utoipa::path(post, path = "/v1/me/inbox/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn mark_read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::mark_read(&state.db, &principal.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NotifyError::NotFound.into())
    }
}

/// Deletes a message.
#[utoipa::path(delete, path = "/v1/me/inbox/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn delete_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_message(&state.db, &principal.user_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(NotifyError::NotFound.into())
    }
}

/// Area broadcast (e.g. a civil-protection alert) to everyone with an alert area among the
/// municipalities: admins anywhere, operators only in their own municipalities.
#[utoipa::path(post, path = "/v1/broadcasts", tag = "notifications", security(("bearer" = [])),
    request_body = api::BroadcastRequest,
    responses((status = 202, body = api::BroadcastAccepted),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn broadcast(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<api::BroadcastRequest>,
) -> Result<(StatusCode, Json<api::BroadcastAccepted>), ApiError> {
    let (id, recipients, pushes) = state
        .notifier
        .broadcast(&principal.fiscal_code, &principal.roles, &request)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(api::BroadcastAccepted {
            id,
            recipients,
            pushes,
        }),
    ))
}
