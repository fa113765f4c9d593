//! HTTP handlers: devices, preferences, the inbox, the VAPID key and broadcasts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use sportello_core::api;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::ApiError;
use crate::identity::Principal;
use crate::pagination::PageRequest;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// The server's VAPID public key, for `pushManager.subscribe({applicationServerKey})`.
#[utoipa::path(get, path = "/v1/push/vapid-public-key", tag = "notifications",
    responses((status = 200, body = api::VapidPublicKey)))]
#[tracing::instrument(skip_all)]
pub async fn vapid_public_key(State(state): State<AppState>) -> Json<api::VapidPublicKey> {
    Json(api::VapidPublicKey {
        public_key: state.notifier.vapid_public_key().to_owned(),
    })
}

/// Registers a Web Push subscription or an FCM/APNs token for the caller.
#[utoipa::path(post, path = "/v1/me/devices", tag = "notifications", security(("bearer" = [])),
    request_body = api::DeviceRegistration,
    responses((status = 201, body = api::Device),
        (status = 422, description = "`validation`: the subscription or token, or too many devices")))]
#[tracing::instrument(skip_all)]
pub async fn register_device(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(registration): ApiJson<api::DeviceRegistration>,
) -> Result<(StatusCode, Json<api::Device>), ApiError> {
    let device = state
        .notifier
        .register_device(&principal.user_id, &registration)
        .await?;
    Ok((StatusCode::CREATED, Json(device)))
}

/// The caller's devices.
#[utoipa::path(get, path = "/v1/me/devices", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = api::DeviceList)))]
#[tracing::instrument(skip_all)]
pub async fn list_devices(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<api::DeviceList>, ApiError> {
    let items = state.notifier.devices(&principal.user_id).await?;
    Ok(Json(api::DeviceList { items }))
}

/// Removes one of the caller's devices.
#[utoipa::path(delete, path = "/v1/me/devices/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 404, description = "`not-found`")))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.notifier.delete_device(&principal.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notification preferences (defaults until changed).
#[utoipa::path(get, path = "/v1/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = api::NotificationPreferences)))]
#[tracing::instrument(skip_all)]
pub async fn get_preferences(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<api::NotificationPreferences>, ApiError> {
    let preferences = state.notifier.preferences(&principal.user_id).await?;
    Ok(Json(preferences))
}

/// Replaces the caller's notification preferences.
#[utoipa::path(put, path = "/v1/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = api::NotificationPreferences,
    responses((status = 200, body = api::NotificationPreferences),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all)]
pub async fn put_preferences(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(preferences): ApiJson<api::NotificationPreferences>,
) -> Result<Json<api::NotificationPreferences>, ApiError> {
    let saved = state
        .notifier
        .set_preferences(&principal.user_id, preferences)
        .await?;
    Ok(Json(saved))
}

/// Inbox page query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Cursor from the previous page.
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/v1/me/inbox", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = api::InboxPage),
        (status = 422)))]
#[tracing::instrument(skip_all)]
pub async fn inbox(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<api::InboxPage>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    Ok(Json(state.notifier.inbox(&principal.user_id, &page).await?))
}

/// One message of the caller's inbox.
#[utoipa::path(get, path = "/v1/me/inbox/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = api::InboxMessage),
        (status = 404, description = "`not-found`")))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn inbox_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<api::InboxMessage>, ApiError> {
    Ok(Json(state.notifier.inbox_message(&principal.user_id, &id).await?))
}

/// Marks a message read.
#[utoipa::path(post, path = "/v1/me/inbox/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 404, description = "`not-found`")))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn mark_read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.notifier.mark_read(&principal.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a message.
#[utoipa::path(delete, path = "/v1/me/inbox/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204),
        (status = 404, description = "`not-found`")))]
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete_message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.notifier.delete_message(&principal.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Area broadcast (e.g. a civil-protection alert) to everyone with an alert area among the
/// municipalities: admins anywhere, operators only in their own municipalities.
#[utoipa::path(post, path = "/v1/broadcasts", tag = "notifications", security(("bearer" = [])),
    request_body = api::BroadcastRequest,
    responses((status = 202, body = api::BroadcastAccepted),
        (status = 403, description = "`forbidden`: not an admin nor an operator of every municipality of the area"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all)]
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
