//! The statuses every operation of the OpenAPI document lists, so a generated client knows each
//! answer it can get.
//!
//! A handler's `#[utoipa::path]` lists what its context answers (`(status = 404, description =
//! "…")`: 403, 404, 409, 422 of a rule…). What the shared machinery answers is added here, from
//! the operation's shape, so fifty handlers do not repeat it and none forgets it:
//! - a bearer security requirement: 401 (the `Principal` extractor), with `WWW-Authenticate`;
//! - a JSON request body: 400 (malformed or ill-typed JSON), 413 (over the body limit), 415 (not
//!   sent as JSON), from `ApiJson`; any other body: 413 (uploads are streamed with a limit);
//! - query parameters: 422 (`ApiQuery` names the parameter that does not fit);
//! - every operation: 408 (the timeout layer);
//! - every operation but those answered from memory: 500 and 503 (the database);
//! - the rate-limited operations: 429 with `Retry-After`.
//!
//! Every error response then gets the problem body (`application/problem+json`, `Problem`) unless
//! its handler gave another (readiness answers 503 with its own report).

use axum::http::StatusCode;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Ref, Type};
use utoipa::openapi::{Content, Header, OpenApi, RefOr, Response, Responses};

use super::problem::PROBLEM_JSON;

/// Operations limited per client: 429 `rate-limited` with `Retry-After` (login starts, token
/// refresh, dev login, notice verification, catalogue and event search, DAIA, device
/// registration).
pub const RATE_LIMITED: &[&str] = &[
    "oidc_login",
    "federated_login",
    "token",
    "dev_login",
    "verify",
    "search",
    "search_events",
    "daia",
    "register_device",
];

/// Operations answered from memory, without the database or anything else that can fail: no 500,
/// no 503. (Readiness reports an unreachable database as its own 503, listed by its handler.)
pub const FROM_MEMORY: &[&str] = &[
    "healthz",
    "readyz",
    "metrics",
    "providers",
    "vapid_public_key",
    "jwks",
    "list_municipalities",
    "get_municipality",
];

/// Adds the shared statuses to every operation of `openapi` (see the module documentation).
pub fn complete(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            add_shared_statuses(operation);
            for (status, response) in &mut operation.responses.responses {
                let status = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok());
                if let (Some(status), RefOr::T(response)) = (status, response)
                    && (status.is_client_error() || status.is_server_error())
                {
                    describe_problem(response, status);
                }
            }
        }
    }
}

/// The statuses the shared machinery can answer for this operation.
fn add_shared_statuses(operation: &mut Operation) {
    let id = operation.operation_id.clone().unwrap_or_default();
    let responses = &mut operation.responses;
    let bearer = operation
        .security
        .iter()
        .flatten()
        .any(|requirement| serde_json::to_value(requirement).is_ok_and(|v| v.get("bearer").is_some()));
    if bearer {
        let header = header(Type::String, "`Bearer`: send an access token.");
        let mut response = problem_response(StatusCode::UNAUTHORIZED);
        response.headers.insert("WWW-Authenticate".to_owned(), header);
        add(responses, StatusCode::UNAUTHORIZED, response);
    }
    if let Some(body) = &operation.request_body {
        if body.content.keys().any(|media| media == "application/json") {
            add_problem(responses, StatusCode::BAD_REQUEST);
            add_problem(responses, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        add_problem(responses, StatusCode::PAYLOAD_TOO_LARGE);
    }
    let has_query = operation
        .parameters
        .iter()
        .flatten()
        .any(|parameter| parameter.parameter_in == ParameterIn::Query);
    if has_query {
        add_problem(responses, StatusCode::UNPROCESSABLE_ENTITY);
    }
    add_problem(responses, StatusCode::REQUEST_TIMEOUT);
    if !FROM_MEMORY.contains(&id.as_str()) {
        add_problem(responses, StatusCode::INTERNAL_SERVER_ERROR);
        add_problem(responses, StatusCode::SERVICE_UNAVAILABLE);
    }
    if RATE_LIMITED.contains(&id.as_str()) {
        let header = header(Type::Integer, "Seconds to wait before trying again.");
        let mut response = problem_response(StatusCode::TOO_MANY_REQUESTS);
        response.headers.insert("Retry-After".to_owned(), header);
        add(responses, StatusCode::TOO_MANY_REQUESTS, response);
    }
}

fn header(schema_type: Type, description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(schema_type));
    header.description = Some(description.to_owned());
    header
}

/// Lists `status` with a problem body unless the handler listed it already.
fn add_problem(responses: &mut Responses, status: StatusCode) {
    add(responses, status, problem_response(status));
}

fn add(responses: &mut Responses, status: StatusCode, response: Response) {
    responses
        .responses
        .entry(status.as_str().to_owned())
        .or_insert(RefOr::T(response));
}

fn problem_response(status: StatusCode) -> Response {
    let mut response = Response::new("");
    describe_problem(&mut response, status);
    response
}

/// An error response gets the problem body unless its handler gave another, and the status's
/// reason phrase as its description if it has none: handlers list their errors by status alone.
fn describe_problem(response: &mut Response, status: StatusCode) {
    if response.description.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("Error")
            .clone_into(&mut response.description);
    }
    if response.content.is_empty() {
        response.content.insert(
            PROBLEM_JSON.to_owned(),
            Content::new(Some(Ref::from_schema_name("Problem"))),
        );
    }
}
