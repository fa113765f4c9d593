//! HTTP handlers: libraries, search, availability and DAIA (public); library edits, imports and
//! copy status (library operators of the library's municipality).

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use serde::Deserialize;
use sportello_core::api;
use sportello_core::catalog::InputFormat;
use sportello_core::catalog::holdings::HoldingsMapping;
use sportello_core::geo::Coordinates;
use sportello_core::identity::{Office, may_operate};
use sportello_core::tenant::IstatCode;
use utoipa::IntoParams;

use super::import::{ImportOptions, import_files};
use super::search::SearchRequest;
use super::{CatalogError, LIBRARY_LIST_LIMIT, store, validate_library};
use crate::AppState;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Message};
use crate::identity::Principal;
use crate::upload;

/// Query of `GET /v1/libraries`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LibraryQuery {
    /// Only this municipality (ISTAT code).
    municipality: Option<String>,
    /// `lat,lon`: nearest first, with distances.
    near: Option<String>,
    /// At most this many (1–500, default 500).
    limit: Option<usize>,
}

fn parse_near(near: Option<&str>) -> Result<Option<Coordinates>, ApiError> {
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
    responses((status = 200, body = api::LibraryList),
        (status = 400, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn list_libraries(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LibraryQuery>,
) -> Result<Json<api::LibraryList>, ApiError> {
    let municipality = query.municipality.as_deref().map(IstatCode::parse).transpose()?;
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
        .list_libraries(
            &state.db,
            municipality.as_ref().map(IstatCode::as_str),
            near,
            limit,
        )
        .await?;
    Ok(Json(api::LibraryList { items }))
}

/// One library.
#[utoipa::path(get, path = "/v1/libraries/{id}", tag = "catalog",
    params(("id" = String, Path, example = "ge-berio")),
    responses((status = 200, body = api::Library),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn get_library(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<api::Library>, ApiError> {
    let library = store::get_library(&state.db, &id)
        .await?
        .ok_or_else(|| CatalogError::LibraryNotFound(id.clone()))?;
    let list = state
        .catalog
        .list_libraries(&state.db, Some(&library.municipality), None, 500)
        .await?;
    list.into_iter()
        .find(|l| l.id == id)
        .map(Json)
        .ok_or_else(|| CatalogError::LibraryNotFound(id).into())
}

/// Checks that the caller is a library operator of the municipality and that the library, if
/// it exists, belongs to it.
async fn operator_library(
    state: &AppState,
    principal: &Principal,
    istat_code: &str,
    library_id: &str,
    must_exist: bool,
) -> Result<(IstatCode, Option<store::LibraryRow>), ApiError> {
    let code = IstatCode::parse(istat_code)?;
    if !may_operate(&principal.roles, &code, Office::Library) {
        return Err(ApiError::Forbidden);
    }
    let library = store::get_library(&state.db, library_id).await?;
    match &library {
        // Another municipality's library looks like no library at all.
        Some(l) if l.municipality != code.as_str() => {
            Err(CatalogError::LibraryNotFound(library_id.to_owned()).into())
        }
        None if must_exist => Err(CatalogError::LibraryNotFound(library_id.to_owned()).into()),
        _ => Ok((code, library)),
    }
}

/// Creates or updates a library of the operator's municipality.
#[utoipa::path(put, path = "/v1/municipalities/{istat_code}/libraries/{id}", tag = "catalog",
    security(("bearer" = [])), request_body = api::LibraryInput,
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path, example = "ge-berio")),
    responses((status = 200, body = api::Library),
        (status = 401, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn put_library(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiJson(input): ApiJson<api::LibraryInput>,
) -> Result<Json<api::Library>, ApiError> {
    let (code, existing) = operator_library(&state, &principal, &istat_code, &id, false).await?;
    state.municipalities.require_code(&code)?;
    let demo = existing.is_some_and(|l| l.demo);
    let row = validate_library(&id, code.as_str(), input, demo)?;
    state.catalog.put_library(&state.db, row).await?;
    get_library(State(state), Path(id)).await
}

/// Query of an import.
#[derive(Debug, Deserialize, IntoParams)]
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

/// Parses the import options shared by the API and the CLI.
pub fn import_options(
    library: store::LibraryRow,
    format: Option<&str>,
    holdings: Option<&str>,
    map: &[(String, store::LibraryRow)],
) -> Result<ImportOptions, CatalogError> {
    let format = InputFormat::parse(format.unwrap_or("auto")).ok_or_else(|| {
        CatalogError::invalid(
            "format",
            "Formato: auto, marc21, unimarc, marcxml.",
            "Format: auto, marc21, unimarc, marcxml.",
        )
    })?;
    let holdings = match holdings {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                HoldingsMapping::preset(name).ok_or_else(|| {
                    let presets = HoldingsMapping::PRESETS.join(", ");
                    CatalogError::invalid(
                        "holdings",
                        format!("Schema di copie sconosciuto `{name}`: {presets}."),
                        format!("Unknown holdings preset `{name}`: {presets}."),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let code_map: HashMap<String, (String, String)> = map
        .iter()
        .map(|(code, l)| (code.clone(), (l.id.clone(), l.municipality.clone())))
        .collect();
    Ok(ImportOptions {
        library,
        format,
        holdings,
        code_map,
    })
}

/// Imports a MARC export (ISO 2709 or XML, MARC 21 or UNIMARC) into a library: the request
/// body is the file. Bad records are skipped and listed; re-importing is idempotent.
#[utoipa::path(post, path = "/v1/municipalities/{istat_code}/libraries/{id}/imports", tag = "catalog",
    security(("bearer" = [])),
    params(("istat_code" = String, Path, example = "010025"), ("id" = String, Path, example = "ge-berio"), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The MARC file"),
    responses((status = 200, body = api::ImportSummary),
        (status = 401, body = api::Problem, content_type = "application/problem+json"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 413, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<ImportQuery>,
    body: Body,
) -> Result<Json<api::ImportSummary>, ApiError> {
    let (code, library) = operator_library(&state, &principal, &istat_code, &id, true).await?;
    let library = library.ok_or_else(|| CatalogError::LibraryNotFound(id.clone()))?;
    let mut map = Vec::new();
    for pair in query
        .map
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .take(1000)
    {
        let (source_code, target) = pair.split_once(':').ok_or_else(|| {
            ApiError::field(
                "map",
                Message::new("Formato: CODICE:id-biblioteca,…", "Format: CODE:library-id,…"),
            )
        })?;
        // Only libraries of the same municipality: an operator cannot write another's copies.
        let target = store::get_library(&state.db, target.trim())
            .await?
            .filter(|l| l.municipality == code.as_str())
            .ok_or_else(|| CatalogError::LibraryNotFound(target.trim().to_owned()))?;
        map.push((source_code.trim().to_owned(), target));
    }
    let options = import_options(library, query.format.as_deref(), query.holdings.as_deref(), &map)?;

    // Stream the upload to a file: the readers then stream it again, so memory stays flat.
    let uploads = state.config.data_dir.join("uploads");
    tokio::fs::create_dir_all(&uploads)
        .await
        .map_err(ApiError::internal)?;
    let path = uploads.join(format!("{}.upload", uuid::Uuid::now_v7()));
    let limits = upload::Limits::size(state.config.catalog.import_body_limit_bytes);
    let written = upload::save(body.into_data_stream(), &path, &limits).await;
    let result = match written {
        Ok(_) => {
            let mut summary = api::ImportSummary::default();
            let outcome = import_files(
                &state.db,
                &options,
                &[(path.clone(), "upload".to_owned())],
                &mut summary,
            )
            .await;
            outcome.map(|_| summary)
        }
        Err(error) => Err(CatalogError::from(error)),
    };
    let _ = tokio::fs::remove_file(&path).await;
    let summary = result?;
    state
        .catalog
        .index()
        .sync(&state.db)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(library = %id, read = summary.read, imported = summary.imported, updated = summary.updated,
        skipped = summary.skipped, "catalogue import");
    Ok(Json(summary))
}

/// Sets the live status of a copy (from the library's circulation system).
#[utoipa::path(put, path = "/v1/municipalities/{istat_code}/libraries/{id}/copies/{item_id}", tag = "catalog",
    security(("bearer" = [])), request_body = api::CopyStatusUpdate,
    params(("istat_code" = String, Path), ("id" = String, Path), ("item_id" = String, Path)),
    responses((status = 204, description = "Updated"),
        (status = 403, body = api::Problem, content_type = "application/problem+json"),
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn put_copy_status(
    State(state): State<AppState>,
    principal: Principal,
    Path((istat_code, id, item_id)): Path<(String, String, String)>,
    ApiJson(update): ApiJson<api::CopyStatusUpdate>,
) -> Result<axum::http::StatusCode, ApiError> {
    let (code, _) = operator_library(&state, &principal, &istat_code, &id, true).await?;
    state
        .catalog
        .set_copy_status(&state.db, code.as_str(), &id, &item_id, &update)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Searches the metropolitan catalogue; each hit carries its live availability.
#[utoipa::path(get, path = "/v1/catalog/search", tag = "catalog", params(api::CatalogQuery),
    responses((status = 200, body = api::SearchResults),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<api::CatalogQuery>,
) -> Result<Json<api::SearchResults>, ApiError> {
    let request = SearchRequest::parse(params)?;
    Ok(Json(
        super::search::search(&state.catalog, &state.db, &request).await?,
    ))
}

/// One catalogue record.
#[utoipa::path(get, path = "/v1/catalog/records/{id}", tag = "catalog",
    params(("id" = String, Path)),
    responses((status = 200, body = api::CatalogRecord),
        (status = 404, body = api::Problem, content_type = "application/problem+json")))]
pub async fn get_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<api::CatalogRecord>, ApiError> {
    let row = store::get_record(&state.db, &id)
        .await?
        .ok_or_else(|| CatalogError::RecordNotFound(id.clone()))?;
    let record =
        super::record_from_json(&row.data).ok_or_else(|| ApiError::internal("unreadable record data"))?;
    Ok(Json(super::to_wire(&row.id, &record)))
}

/// Query with an optional position.
#[derive(Debug, Deserialize, IntoParams)]
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
        (status = 404, body = api::Problem, content_type = "application/problem+json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
pub async fn availability(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<NearQuery>,
) -> Result<Json<api::RecordAvailability>, ApiError> {
    let near = parse_near(query.near.as_deref())?;
    Ok(Json(state.catalog.availability(&state.db, &id, near).await?))
}

/// Query of a DAIA request.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DaiaQuery {
    /// Document ids separated by `|`: a record id (`urn:uuid:…` or bare) or `urn:isbn:…`.
    id: String,
    /// Only `json` is supported.
    format: Option<String>,
}

/// Availability as DAIA 1.0 JSON, for discovery tools that speak DAIA.
#[utoipa::path(get, path = "/v1/daia", tag = "catalog", params(DaiaQuery),
    responses((status = 200, description = "DAIA 1.0 response", content_type = "application/json"),
        (status = 422, body = api::Problem, content_type = "application/problem+json")))]
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
