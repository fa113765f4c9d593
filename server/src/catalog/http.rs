//! HTTP handlers: libraries, search, availability and DAIA (public); library edits, imports and
//! copy status (library operators of the library's municipality).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use serde::Deserialize;
use sportello_core::api;
use sportello_core::geo::Coordinates;
use sportello_core::identity::{Office, may_operate};
use sportello_core::tenant::IstatCode;
use utoipa::IntoParams;

use super::search::SearchRequest;
use super::{ImportRequest, LIBRARY_LIST_LIMIT};
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Message};
use crate::identity::Principal;
use crate::tenant::malformed_istat_code;

/// Query of `GET /v1/libraries`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LibraryQuery {
    /// Only this municipality (ISTAT code).
    municipality: Option<String>,
    /// `lat,lon`: nearest first, with distances.
    near: Option<String>,
    /// At most this many (1–500, default 500).
    limit: Option<usize>,
}

/// `near=lat,lon` of a query, checked (422 naming `near`); the web pages read it the same way.
pub fn parse_near(near: Option<&str>) -> Result<Option<Coordinates>, ApiError> {
    near.map(str::parse::<Coordinates>).transpose().map_err(|e| {
        ApiError::field(
            "near",
            Message::new(
                format!("Posizione non valida: {e}"),
                format!("Invalid position: {e}"),
            ),
        )
    })
}

/// Libraries of the network, with whether they are open now.
#[utoipa::path(get, path = "/v1/libraries", tag = "catalog", params(LibraryQuery),
    responses((status = 200, body = api::LibraryList)))]
#[tracing::instrument(skip_all, fields(municipality = query.municipality.as_deref()))]
pub async fn list_libraries(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LibraryQuery>,
) -> Result<Json<api::LibraryList>, ApiError> {
    let municipality = query
        .municipality
        .as_deref()
        .map(|code| IstatCode::parse(code).map_err(|_| malformed_istat_code("municipality", code)))
        .transpose()?;
    let near = parse_near(query.near.as_deref())?;
    let max = usize::try_from(LIBRARY_LIST_LIMIT).unwrap_or(500);
    let limit = query.limit.unwrap_or(max);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            Message::new("Da 1 a 500.", "From 1 to 500."),
        ));
    }
    let items = state
        .catalog
        .list_libraries(municipality.as_ref().map(IstatCode::as_str), near, limit)
        .await?;
    Ok(Json(api::LibraryList { items }))
}

/// One library.
#[utoipa::path(get, path = "/v1/libraries/{id}", tag = "catalog",
    params(("id" = String, Path, example = "ge-berio")),
    responses((status = 200, body = api::Library),
        (status = 404, description = "`library-not-found`")))]
#[tracing::instrument(skip_all, fields(library = %id))]
pub async fn get_library(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<api::Library>, ApiError> {
    Ok(Json(state.catalog.library(&id).await?))
}

/// The municipality of the path, once the caller is known to be one of its library operators.
fn operator_municipality(principal: &Principal, istat_code: &str) -> Result<IstatCode, ApiError> {
    let code = IstatCode::parse(istat_code)?;
    if !may_operate(&principal.roles, &code, Office::Library) {
        return Err(ApiError::Forbidden);
    }
    Ok(code)
}

/// Creates or updates a library of the operator's municipality.
#[utoipa::path(put, path = "/v1/municipalities/{istat_code}/libraries/{id}", tag = "catalog",
    security(("bearer" = [])), request_body = api::LibraryInput,
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path, example = "ge-berio")),
    responses((status = 200, body = api::Library),
        (status = 403, description = "`forbidden`: not a library operator of this municipality"),
        (status = 404, description = "`library-not-found`: the id names a library of another municipality"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, library = %id))]
pub async fn put_library(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<api::LibraryInput>,
) -> Result<Json<api::Library>, ApiError> {
    let code = operator_municipality(&principal, &istat_code)?;
    Ok(Json(state.catalog.put_library(&code, &id, input).await?))
}

/// Query of an import.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `auto` (default), `marc21`, `unimarc`, `marcxml`.
    format: Option<String>,
    /// Holdings presets to try, comma-separated: `sbn950`, `bncf960`, `sbn899`, `marc852`,
    /// `marc949`, `koha952` (default: by flavour).
    holdings: Option<String>,
    /// Source library codes of other libraries of this municipality, `CODE:library-id,…`.
    map: Option<String>,
}

/// Imports a MARC export (ISO 2709 or XML, MARC 21 or UNIMARC) into a library: the request
/// body is the file. Bad records are skipped and listed; re-importing is idempotent.
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/libraries/{id}/imports", tag = "catalog",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path, example = "ge-berio"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The MARC file"),
    responses((status = 200, body = api::ImportSummary),
        (status = 403, description = "`forbidden`: not a library operator of this municipality"),
        (status = 404, description = "`library-not-found`"),
        (status = 422, description = "`validation`: a parameter, an empty or interrupted upload")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, library = %id))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Body,
) -> Result<Json<api::ImportSummary>, ApiError> {
    let code = operator_municipality(&principal, &istat_code)?;
    let request = ImportRequest {
        format: query.format.as_deref(),
        holdings: query.holdings.as_deref(),
        map: query.map.as_deref(),
    };
    let summary = state
        .catalog
        .import(&code, &id, request, body.into_data_stream())
        .await?;
    Ok(Json(summary))
}

/// Sets the live status of a copy (from the library's circulation system).
#[utoipa::path(put, path = "/v1/municipalities/{istat_code}/libraries/{id}/copies/{item_id}", tag = "catalog",
    security(("bearer" = [])), request_body = api::CopyStatusUpdate,
    params(("istat_code" = String, Path), ("id" = String, Path), ("item_id" = String, Path)),
    responses((status = 204, description = "Updated"),
        (status = 403, description = "`forbidden`: not a library operator of this municipality"),
        (status = 404, description = "`library-not-found`, `record-not-found`"),
        (status = 422, description = "`validation`")))]
#[tracing::instrument(skip_all, fields(municipality = %istat_code, library = %id, item = %item_id))]
pub async fn put_copy_status(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id, item_id)): Path<(String, String, String)>,
    ApiJson(update): ApiJson<api::CopyStatusUpdate>,
) -> Result<axum::http::StatusCode, ApiError> {
    let code = operator_municipality(&principal, &istat_code)?;
    state
        .catalog
        .set_copy_status(&code, &id, &item_id, &update)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Searches the metropolitan catalogue; each hit carries its live availability.
#[utoipa::path(get, path = "/v1/catalog/search", tag = "catalog", params(api::CatalogQuery),
    responses((status = 200, body = api::SearchResults)))]
#[tracing::instrument(skip_all, fields(municipality = params.municipality.as_deref(), library = params.library.as_deref()))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<api::CatalogQuery>,
) -> Result<Json<api::SearchResults>, ApiError> {
    let request = SearchRequest::parse(params)?;
    Ok(Json(state.catalog.search(&request).await?))
}

/// One catalogue record.
#[utoipa::path(get, path = "/v1/catalog/records/{id}", tag = "catalog",
    params(("id" = String, Path)),
    responses((status = 200, body = api::CatalogRecord),
        (status = 404, description = "`record-not-found`")))]
#[tracing::instrument(skip_all, fields(record = %id))]
pub async fn get_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<api::CatalogRecord>, ApiError> {
    Ok(Json(state.catalog.record(&id).await?))
}

/// Query with an optional position.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NearQuery {
    /// `lat,lon`: libraries nearest first, with distances.
    near: Option<String>,
}

/// Where a record's copies are: per library, on shelf / on loan (due date) / in transit /
/// reference only, distance, open now and next opening.
#[utoipa::path(get, path = "/v1/catalog/records/{id}/availability", tag = "catalog",
    params(("id" = String, Path), NearQuery),
    responses((status = 200, body = api::RecordAvailability),
        (status = 404, description = "`record-not-found`")))]
#[tracing::instrument(skip_all, fields(record = %id))]
pub async fn availability(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<NearQuery>,
) -> Result<Json<api::RecordAvailability>, ApiError> {
    let near = parse_near(query.near.as_deref())?;
    Ok(Json(state.catalog.availability(&id, near).await?))
}

/// Query of a DAIA request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaiaQuery {
    /// Document ids separated by `|`: a record id (`urn:uuid:…` or bare) or `urn:isbn:…`.
    id: String,
    /// Only `json` is supported.
    format: Option<String>,
}

/// Availability as DAIA 1.0 JSON, for discovery tools that speak DAIA.
#[utoipa::path(get, path = "/v1/daia", tag = "catalog", params(DaiaQuery),
    responses((status = 200, description = "DAIA 1.0 response", content_type = "application/json")))]
#[tracing::instrument(skip_all, fields(records = %query.id))]
pub async fn daia(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DaiaQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if query.format.as_deref().is_some_and(|f| f != "json") {
        return Err(ApiError::field(
            "format",
            Message::new("Solo json.", "Only json."),
        ));
    }
    let requested: Vec<&str> = query
        .id
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if requested.is_empty() || requested.len() > 20 || query.id.len() > 2000 {
        return Err(ApiError::field(
            "id",
            Message::new(
                "Da 1 a 20 identificativi separati da |.",
                "From 1 to 20 ids separated by |.",
            ),
        ));
    }
    let public = state.config.public_url();
    let mut documents = Vec::new();
    for id in requested {
        documents.extend(super::daia::documents(&state, &public, id).await?);
    }
    Ok(Json(serde_json::json!({
        "timestamp": jiff::Timestamp::now().to_string(),
        "institution": {
            "content": "Biblioteche della Città Metropolitana di Genova",
            "href": public,
        },
        "document": documents,
    })))
}
