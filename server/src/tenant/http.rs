//! HTTP handlers for municipalities (public, no login).

use axum::Json;
use axum::extract::{Path, State};
use sportello_core::api;
use sportello_core::tenant::Municipality;

use crate::AppState;
use crate::http::problem::ApiError;

/// Lists the municipalities served, by name.
#[utoipa::path(get, path = "/v1/municipalities", tag = "municipalities",
    responses((status = 200, body = api::MunicipalityList)))]
#[tracing::instrument(skip_all)]
pub async fn list_municipalities(
    State(state): State<AppState>,
) -> Result<Json<api::MunicipalityList>, ApiError> {
    let items = state.municipalities.all().iter().map(to_wire).collect();
    Ok(Json(api::MunicipalityList { items }))
}

/// One municipality by ISTAT code.
#[utoipa::path(get, path = "/v1/municipalities/{istat_code}", tag = "municipalities",
    params(("istat_code" = String, Path, description = "Six-digit ISTAT code", example = "010025")),
    responses((status = 200, body = api::Municipality),
        (status = 404, description = "`municipality-not-found`"),
        (status = 422, description = "`validation`: not an ISTAT code")))]
#[tracing::instrument(skip_all, fields(istat_code = %istat_code))]
pub async fn get_municipality(
    State(state): State<AppState>,
    Path(istat_code): Path<String>,
) -> Result<Json<api::Municipality>, ApiError> {
    Ok(Json(to_wire(state.municipalities.require(&istat_code)?)))
}

fn to_wire(m: &Municipality) -> api::Municipality {
    api::Municipality {
        istat_code: m.istat_code.to_string(),
        name: m.name.clone(),
        belfiore_code: m.belfiore_code.clone(),
        fiscal_code: m.fiscal_code.to_string(),
        ipa_code: m.ipa_code.clone(),
        province: m.province.clone(),
        lat: m.location.lat(),
        lon: m.location.lon(),
        population: m.population,
        postal_codes: m.postal_codes.clone(),
    }
}
