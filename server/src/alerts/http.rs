//! HTTP handlers: officers' alerts (JSON or CAP 1.2), the public list, one alert (JSON or CAP)
//! and the Atom feed.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sportello_core::api;
use utoipa::IntoParams;

use super::ListRequest;
use crate::AppState;
use crate::http::extract::{ApiQuery, declares_json};
use crate::http::problem::ApiError;
use crate::http::with_content_type;
use crate::identity::Principal;

/// Largest alert body, JSON or CAP: 20 polygons of 1,000 vertices fit with room to spare.
pub const MAX_ALERT_BYTES: usize = 1_048_576;
/// The CAP media type.
const CAP_XML: &str = "application/cap+xml";

fn is_cap(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains(CAP_XML))
}

/// Publishes an alert, an update or a cancellation (civil-protection officers of every
/// municipality alerted, or admins): JSON, or a CAP 1.2 document with
/// `Content-Type: application/cap+xml` (a CAP identifier its sender sent before answers 200
/// with the stored alert). People with an alert area there get a push at once, quiet hours or
/// not; an update replaces the earlier push, a cancellation withdraws it.
#[utoipa::path(post, path = "/v1/alerts", tag = "alerts", operation_id = "publish_alert",
    security(("bearer" = [])),
    request_body(content((api::AlertInput = "application/json"), (String = "application/cap+xml")),
        description = "At most 1 MiB"),
    responses((status = 201, body = api::Alert),
        (status = 200, body = api::Alert, description = "A CAP document received before"),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 409, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 415, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<api::Alert>), ApiError> {
    let cap = is_cap(&headers, header::CONTENT_TYPE);
    if !cap && !declares_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, MAX_ALERT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    if cap {
        let (created, alert) = state
            .alerts
            .import_cap(&principal.roles, &principal.fiscal_code, &bytes)
            .await?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(alert)));
    }
    let Json(input) =
        Json::<api::AlertInput>::from_bytes(&bytes).map_err(|e| ApiError::MalformedJson(e.body_text()))?;
    let alert = state
        .alerts
        .issue(&principal.roles, &principal.fiscal_code, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(alert)))
}

/// Query of the public list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts covering this municipality (ISTAT code).
    municipality: Option<String>,
    /// Only alerts of this zone (`A`–`E`).
    zone: Option<String>,
    /// `lat,lon`: alerts whose drawn area contains the point, or covering the municipality
    /// whose representative point is nearest (among the 500 most recent active alerts).
    near: Option<String>,
    /// Cursor from the previous page.
    cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    limit: Option<i64>,
}

/// Active alerts (public), most recent first.
#[utoipa::path(get, path = "/v1/alerts", tag = "alerts", operation_id = "list_alerts", params(AlertQuery),
    responses((status = 200, body = api::AlertPage),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> Result<Json<api::AlertPage>, ApiError> {
    let request = ListRequest {
        municipality: query.municipality,
        zone: query.zone,
        near: query.near,
        cursor: query.cursor,
        limit: query.limit,
    };
    Ok(Json(state.alerts.list(&request).await?))
}

/// One alert (public), whatever its status: JSON, or CAP 1.2 with `Accept: application/cap+xml`.
#[utoipa::path(get, path = "/v1/alerts/{id}", tag = "alerts", operation_id = "get_alert",
    params(("id" = String, Path)),
    responses((status = 200, description = "The alert: JSON, or a CAP 1.2 document as `Accept` asks",
            content((api::Alert = "application/json"), (String = "application/cap+xml"))),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(alert = %id))]
pub async fn get_alert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mut response = if is_cap(&headers, header::ACCEPT) {
        with_content_type(
            state.alerts.get_cap(&id).await?,
            "application/cap+xml; charset=utf-8",
        )
    } else {
        Json(state.alerts.get(&id).await?).into_response()
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// The active alerts as an Atom feed (public, at most 500), each entry with its CAP 1.2
/// document as content, for other systems to take.
#[utoipa::path(get, path = "/v1/alerts/feed.atom", tag = "alerts", operation_id = "alert_feed",
    responses((status = 200, body = String, content_type = "application/atom+xml")))]
#[tracing::instrument(skip_all)]
pub async fn feed(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(with_content_type(
        state.alerts.feed().await?,
        "application/atom+xml; charset=utf-8",
    ))
}
