//! HTTP handlers: procedures (public), applications and their documents (applicant, filing
//! professional, permits officers of the municipality), the operator queue. Each extracts,
//! calls the service and maps what it returns with [`super::wire`].

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use sportello_core::api;
use sportello_core::tenant::IstatCode;
use utoipa::IntoParams;

use super::{QueueQuery, wire};
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery, declares_json};
use crate::http::lang::Lang;
use crate::http::problem::{ApiError, Message};
use crate::identity::Principal;
use crate::pagination::PageRequest;
use crate::tenant::malformed_istat_code;

/// Default page size of lists.
const DEFAULT_PAGE: usize = 50;
/// Largest page size.
const MAX_PAGE: usize = 200;

/// The application in full, as the caller sees it now: what every change answers with.
async fn permit(
    state: &AppState,
    principal: &Principal,
    id: &str,
    lang: Lang,
) -> Result<Json<api::Permit>, ApiError> {
    let view = state.permits.get(principal, id).await?;
    Ok(Json(wire::permit(&view, lang.as_str())))
}

/// Query of `GET /v1/permits/procedures`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProceduresQuery {
    /// ISTAT code of the municipality.
    municipality: String,
}

/// The procedures a municipality offers, with their clocks, documents, fields and fees.
#[utoipa::path(get, path = "/v1/permits/procedures", tag = "permits", params(ProceduresQuery),
    responses((status = 200, body = api::ProcedureList)))]
#[tracing::instrument(skip_all, fields(municipality = %query.municipality))]
pub async fn procedures(
    State(state): State<AppState>,
    lang: Lang,
    ApiQuery(query): ApiQuery<ProceduresQuery>,
) -> Result<Json<api::ProcedureList>, ApiError> {
    let code = IstatCode::parse(&query.municipality)
        .map_err(|_| malformed_istat_code("municipality", &query.municipality))?;
    let offered = state.permits.procedures(&code).await?;
    Ok(Json(wire::procedures(&offered, lang.as_str())))
}

/// Creates a draft application for the caller (or, with `applicant_fiscal_code`, for the
/// person a professional files for).
#[utoipa::path(post, path = "/v1/permits", tag = "permits", security(("bearer" = [])),
    request_body = api::NewPermit,
    responses((status = 201, body = api::Permit),
        (status = 422, description = "`validation`: municipality, procedure or applicant")))]
#[tracing::instrument(skip_all, fields(municipality = %request.municipality, permit = tracing::field::Empty))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    ApiJson(request): ApiJson<api::NewPermit>,
) -> Result<(StatusCode, Json<api::Permit>), ApiError> {
    let id = state.permits.create(&principal, &request).await?;
    tracing::Span::current().record("permit", id.as_str());
    Ok((StatusCode::CREATED, permit(&state, &principal, &id, lang).await?))
}

/// An application: status, simplified status, protocol number, deadline and days left,
/// timeline, documents, fees, and the actions the caller may take.
#[utoipa::path(get, path = "/v1/permits/{id}", tag = "permits", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = api::Permit),
        (status = 404, description = "`permit-not-found`")))]
#[tracing::instrument(skip_all, fields(permit = %id))]
pub async fn get_permit(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    Path(id): Path<String>,
) -> Result<Json<api::Permit>, ApiError> {
    permit(&state, &principal, &id, lang).await
}

/// Fills a draft: address, cadastral parcel, description, the procedure's fields, constraints.
#[utoipa::path(patch, path = "/v1/permits/{id}", tag = "permits", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = api::PermitUpdate,
    responses((status = 200, body = api::Permit),
        (status = 403, description = "a rule refuses the caller's role"),
        (status = 404, description = "`permit-not-found`"),
        (status = 409, description = "`not-a-draft`"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all, fields(permit = %id))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    Path(id): Path<String>,
    ApiJson(update): ApiJson<api::PermitUpdate>,
) -> Result<Json<api::Permit>, ApiError> {
    state.permits.update(&principal, &id, &update).await?;
    permit(&state, &principal, &id, lang).await
}

/// Takes an action: `submit`, `cancel`, `withdraw`, `submit-integration` (applicant; the
/// professional too except `withdraw`); `register` (gives the protocol number), `assign`,
/// `start-review`, `request-integration`, `complete-phase`, `declare-complex-project`,
/// `accept`, `reject`, `confirm-payment` (a payment at the counter) (officers). The body may
/// carry a `note` (the reasons). Refusals are 409 (or 403 for the wrong role) with the rule's
/// code, e.g. `not-in-status`, `integration-limit-reached`, `effect-matured`.
#[utoipa::path(post, path = "/v1/permits/{id}/actions/{action}", tag = "permits", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, example = "submit")),
    request_body(content = Option<api::PermitActionRequest>),
    responses((status = 200, body = api::Permit),
        (status = 403, description = "`not-allowed-for-actor`"),
        (status = 404, description = "`permit-not-found`"),
        (status = 409, description = "the rule's code, e.g. `not-in-status`, `integration-limit-reached`"),
        (status = 422, description = "`validation`: unknown action, note too long, incomplete application")))]
#[tracing::instrument(skip_all, fields(permit = %id, action = %action))]
pub async fn act(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<api::Permit>, ApiError> {
    // An empty body is a bare action; anything else must be the JSON request, sent as JSON like
    // every other body of the API.
    let request: api::PermitActionRequest = if body.iter().all(u8::is_ascii_whitespace) {
        api::PermitActionRequest::default()
    } else if !declares_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?
    };
    state.permits.act(&principal, &id, &action, &request).await?;
    permit(&state, &principal, &id, lang).await
}

/// Query of the document upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Document code of the procedure (`drawings`).
    kind: String,
    /// File name, without a path (`tavola-1.pdf`); its extension must match the content.
    name: String,
}

/// Uploads a document (the raw bytes as the body): PDF, signed P7M, JPEG or PNG, recognised by
/// content; at most `permits.max_document_bytes` each and `permits.max_permit_bytes` per
/// application. Streamed to storage with its SHA-256; only while a draft (`application`) or
/// while an integration is requested (`integration`).
#[utoipa::path(post, path = "/v1/permits/{id}/documents", tag = "permits", security(("bearer" = [])),
    params(("id" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = api::PermitDocument),
        (status = 403, description = "a rule refuses the caller's role"),
        (status = 404, description = "`permit-not-found`"),
        (status = 409, description = "`documents-closed`"),
        (status = 413, description = "`document-too-large`, `documents-too-large`"),
        (status = 415, description = "`unsupported-document-type`"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all, fields(permit = %id, document = tracing::field::Empty))]
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<api::PermitDocument>), ApiError> {
    // `Body` is not subject to the global JSON body limit: the service enforces the document
    // limits while streaming.
    let stream = body.into_data_stream().boxed();
    let document = state
        .permits
        .upload(&principal, &id, &query.kind, &query.name, stream)
        .await?;
    tracing::Span::current().record("document", document.id.as_str());
    Ok((StatusCode::CREATED, Json(wire::document(&document))))
}

/// Downloads a document, after verifying its SHA-256 (checked again while it is sent: a file
/// changed meanwhile cuts the response short of its `Content-Length`).
#[utoipa::path(get, path = "/v1/permits/{id}/documents/{document_id}", tag = "permits",
    security(("bearer" = [])), params(("id" = String, Path), ("document_id" = String, Path)),
    responses((status = 200, description = "The document", content_type = "application/octet-stream"),
        (status = 404, description = "`permit-not-found`, `document-not-found`"),
        (status = 500, description = "`document-damaged`: the stored file does not match its SHA-256")))]
#[tracing::instrument(skip_all, fields(permit = %id, document = %document_id))]
pub async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, document_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (row, stream) = state.permits.document(&principal, &id, &document_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, row.content_type.clone()),
            (header::CONTENT_LENGTH, row.size_bytes.to_string()),
            (header::CONTENT_DISPOSITION, wire::attachment(&row.file_name)),
            (
                header::HeaderName::from_static("x-content-sha256"),
                row.sha256.clone(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Query of `GET /v1/me/permits`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MineQuery {
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

/// The caller's applications (as applicant, or filed as a professional), most recently
/// changed first.
#[utoipa::path(get, path = "/v1/me/permits", tag = "permits", security(("bearer" = [])), params(MineQuery),
    responses((status = 200, body = api::PermitPage)))]
#[tracing::instrument(skip_all)]
pub async fn mine(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    ApiQuery(query): ApiQuery<MineQuery>,
) -> Result<Json<api::PermitPage>, ApiError> {
    let page = PageRequest::new(query.cursor.as_deref(), query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let mine = state.permits.mine(&principal, &page).await?;
    Ok(Json(wire::page(&mine, lang.as_str())))
}

/// Query of the operator queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// ISTAT code of the municipality (the caller must be in its permits office).
    municipality: String,
    /// Statuses, comma-separated (`submitted,registered`).
    status: Option<String>,
    /// Procedure code.
    procedure: Option<String>,
    /// Only open applications whose deadline is within this many days (0–365).
    deadline_within_days: Option<i64>,
    /// `true`: only open applications whose deadline has passed; `false`: not those.
    overdue: Option<bool>,
    /// From a previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1–200, default 50.
    limit: Option<i64>,
}

/// The permits office's work queue: filed applications of one municipality, nearest deadline
/// first.
#[utoipa::path(get, path = "/v1/permits", tag = "permits", security(("bearer" = [])), params(QueueParams),
    responses((status = 200, body = api::PermitPage),
        (status = 403, description = "`forbidden`: not in this municipality's permits office")))]
#[tracing::instrument(skip_all, fields(municipality = %params.municipality))]
pub async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    lang: Lang,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> Result<Json<api::PermitPage>, ApiError> {
    let page = PageRequest::new(params.cursor.as_deref(), params.limit, DEFAULT_PAGE, MAX_PAGE)?;
    if params
        .deadline_within_days
        .is_some_and(|d| !(0..=365).contains(&d))
    {
        return Err(ApiError::field(
            "deadline_within_days",
            Message::new("Da 0 a 365.", "From 0 to 365."),
        ));
    }
    let query = QueueQuery {
        municipality: params.municipality,
        statuses: params
            .status
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        procedure: params.procedure,
        deadline_within_days: params.deadline_within_days,
        overdue: params.overdue,
        page,
    };
    let queue = state.permits.queue(&principal, &query).await?;
    Ok(Json(wire::page(&queue, lang.as_str())))
}
