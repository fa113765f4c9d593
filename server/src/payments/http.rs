//! HTTP handlers: debt positions (payments office operators of the municipality), the
//! citizen's payments and receipts, notice verification, and the pagoPA Node's SOAP endpoint.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sportello_core::api;
use utoipa::IntoParams;

use super::node::Answer;
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::ApiError;
use crate::identity::Principal;

/// Query of the operators' list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PositionQuery {
    /// Only this GPD status (`VALID`, `PAID`, …).
    status: Option<String>,
    /// Only this debtor (fiscal code).
    debtor: Option<String>,
    /// Only positions created by this, e.g. `permit:<id>`.
    origin: Option<String>,
    /// From the `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–100 (default 50).
    limit: Option<i64>,
}

/// Creates a debt position (DRAFT) of the municipality.
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/payment-positions", tag = "payments",
    security(("bearer" = [])), request_body = api::PaymentPositionInput,
    params(("istat_code" = String, Path, example = "010025")),
    responses((status = 201, body = api::PaymentPosition),
        (status = 403, description = "`forbidden`: not in this municipality's payments office"),
        (status = 404, description = "`payment-not-found`: the municipality is not a pagoPA creditor here"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code))]
pub async fn create_position(
    State(state): State<AppState>,
    principal: Principal,
    Path(istat_code): Path<String>,
    ApiJson(input): ApiJson<api::PaymentPositionInput>,
) -> Result<(StatusCode, Json<api::PaymentPosition>), ApiError> {
    let position = state
        .payments
        .create_position(&principal.roles, &principal.user_id, &istat_code, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(position)))
}

/// The municipality's debt positions, newest first.
#[utoipa::path(get, path = "/v1/municipalities/{istat_code}/payment-positions", tag = "payments",
    security(("bearer" = [])), params(("istat_code" = String, Path, example = "010025"), PositionQuery),
    responses((status = 200, body = api::PaymentPositionPage),
        (status = 403, description = "`forbidden`: not in this municipality's payments office"),
        (status = 404, description = "`payment-not-found`: the municipality is not a pagoPA creditor here")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code))]
pub async fn list_positions(
    State(state): State<AppState>,
    principal: Principal,
    Path(istat_code): Path<String>,
    ApiQuery(query): ApiQuery<PositionQuery>,
) -> Result<Json<api::PaymentPositionPage>, ApiError> {
    let page = state
        .payments
        .list(
            &principal.roles,
            &istat_code,
            query.status.as_deref(),
            query.debtor.as_deref(),
            query.origin.as_deref(),
            query.cursor.as_deref(),
            query.limit,
        )
        .await?;
    Ok(Json(page))
}

/// One debt position.
#[utoipa::path(get, path = "/v1/municipalities/{istat_code}/payment-positions/{id}", tag = "payments",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path)),
    responses((status = 200, body = api::PaymentPosition),
        (status = 403, description = "`forbidden`: not in this municipality's payments office"),
        (status = 404, description = "`payment-not-found`"),
        (status = 422, description = "`validation`: not an ISTAT code")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, position = %id))]
pub async fn get_position(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
) -> Result<Json<api::PaymentPosition>, ApiError> {
    Ok(Json(
        state.payments.get(&principal.roles, &istat_code, &id).await?,
    ))
}

/// Publishes a DRAFT position: payable at once (VALID) or from its validity date (PUBLISHED).
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/payment-positions/{id}/publish", tag = "payments",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path)),
    responses((status = 200, body = api::PaymentPosition),
        (status = 403, description = "`forbidden`: not in this municipality's payments office"),
        (status = 404, description = "`payment-not-found`"),
        (status = 409, description = "`position-status`"),
        (status = 422, description = "`validation`: not an ISTAT code")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, position = %id))]
pub async fn publish_position(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
) -> Result<Json<api::PaymentPosition>, ApiError> {
    Ok(Json(
        state.payments.publish(&principal.roles, &istat_code, &id).await?,
    ))
}

/// Withdraws a PUBLISHED or VALID position (INVALID: pagoPA refuses its notices).
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/payment-positions/{id}/invalidate", tag = "payments",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path)),
    responses((status = 200, body = api::PaymentPosition),
        (status = 403, description = "`forbidden`: not in this municipality's payments office"),
        (status = 404, description = "`payment-not-found`"),
        (status = 409, description = "`position-status`"),
        (status = 422, description = "`validation`: not an ISTAT code")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, position = %id))]
pub async fn invalidate_position(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
) -> Result<Json<api::PaymentPosition>, ApiError> {
    Ok(Json(
        state
            .payments
            .invalidate(&principal.roles, &istat_code, &id)
            .await?,
    ))
}

/// The caller's notices: due, paid, expired.
#[utoipa::path(get, path = "/v1/me/payments", tag = "payments", security(("bearer" = [])),
    responses((status = 200, body = api::MyPaymentList)))]
#[tracing::instrument(skip_all)]
pub async fn my_payments(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<api::MyPaymentList>, ApiError> {
    Ok(Json(state.payments.my_payments(&principal.fiscal_code).await?))
}

/// The pagoPA receipt of one of the caller's paid notices (the XML the Node sent).
#[utoipa::path(get, path = "/v1/me/payments/{id}/receipt", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path, description = "The notice's id from /v1/me/payments")),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 404, description = "`payment-not-found`")))]
#[tracing::instrument(skip_all, fields(notice = %id))]
pub async fn my_receipt(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let xml = state.payments.receipt(&principal.fiscal_code, &id).await?;
    let mut response = xml.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"ricevuta-{id}.xml\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// What a scanned notice number or QR code would pay (no login needed: the notice is the key).
#[utoipa::path(post, path = "/v1/payments/verify", tag = "payments", request_body = api::VerifyPaymentRequest,
    responses((status = 200, body = api::VerifiedPayment),
        (status = 404, description = "`payment-not-found`"),
        (status = 409, description = "`notice-paid`, `notice-expired`, `notice-cancelled`, `notice-not-payable`, `notice-superseded`"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all)]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<api::VerifyPaymentRequest>,
) -> Result<Json<api::VerifiedPayment>, ApiError> {
    Ok(Json(state.payments.verify(&request).await?))
}

/// `POST /pagopa/paForNode`: the Node's SOAP calls. Answers are SOAP (never problem+json):
/// KO outcomes with a PAA_* fault travel in a 200 response, as the Node expects.
#[tracing::instrument(skip_all)]
pub async fn pa_for_node(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let action = headers
        .get("soapaction")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            // SOAP 1.2 carries the action in the content type.
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|ct| ct.split(';').find_map(|p| p.trim().strip_prefix("action=")))
        });
    let answer = match axum::body::to_bytes(body, state.config.pagopa.body_limit_bytes).await {
        Ok(bytes) => state.payments.answer_node(&state.notifier, action, &bytes).await,
        Err(_) => {
            // Too large (or a broken connection): answer in SOAP, naming the operation if the
            // header did.
            match action.and_then(super::soap::Operation::from_action) {
                Some(operation) => Answer::Response(super::soap::fault_response(
                    operation,
                    &super::soap::Fault::new(super::soap::FaultCode::SintassiXsd, "request too large"),
                    &state.config.pagopa.broker_id,
                )),
                None => Answer::SoapFault(super::soap::soap_fault("request too large")),
            }
        }
    };
    let (status, xml) = match answer {
        Answer::Response(xml) => (StatusCode::OK, xml),
        Answer::SoapFault(xml) => (StatusCode::INTERNAL_SERVER_ERROR, xml),
    };
    let mut response = (status, xml).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}
