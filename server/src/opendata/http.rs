//! HTTP handlers: the catalogue and the dataset files. Public, cacheable for five minutes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use sportello_core::api;

use super::dcat;
use crate::AppState;
use crate::http::problem::ApiError;

const CACHE: &str = "public, max-age=300";

fn with_type(body: String, content_type: &'static str) -> Response {
    let mut response = crate::http::with_content_type(body, content_type);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    response
}

/// The DCAT-AP catalogue of the open data: JSON-LD, or Turtle with `Accept: text/turtle`.
#[utoipa::path(get, path = "/opendata/catalog", tag = "opendata", operation_id = "opendata_catalog",
    responses((status = 200, description = "DCAT-AP 3.0 catalogue (also DCAT-AP_IT classes)",
        content((serde_json::Value = "application/ld+json"), (String = "text/turtle")))))]
#[tracing::instrument(skip_all)]
pub async fn catalog(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let turtle = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/turtle"));
    let nodes = state.opendata.catalogue();
    let mut response = if turtle {
        with_type(dcat::turtle(&nodes), "text/turtle; charset=utf-8")
    } else {
        with_type(dcat::json_ld(&nodes).to_string(), "application/ld+json")
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// A dataset file: `municipalities`, `libraries`, `events`, `permit-applications` as `.csv` or
/// `.json`; `events.ics` the events as iCalendar.
#[utoipa::path(get, path = "/opendata/{file}", tag = "opendata", operation_id = "opendata_file",
    params(("file" = String, Path, example = "events.csv")),
    responses((status = 200, description = "The dataset",
            content((String = "text/csv"), (serde_json::Value = "application/json"), (String = "text/calendar"))),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
#[tracing::instrument(skip_all, fields(file = %file))]
pub async fn file(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let file = state.opendata.file(&file).await?;
    Ok(with_type(file.body, file.content_type))
}
