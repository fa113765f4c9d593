//! The HTTP surface: routes of every context, the OpenAPI document, and the middleware stack
//! (request id, tracing, metrics, problem rendering, timeout, body limit).

pub mod extract;
pub mod lang;
pub mod ops;
pub mod problem;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::middleware;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::{AppState, identity, tenant};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sportello API",
        description = "Digital front desk of the municipalities of the Città Metropolitana di Genova. \
                       Errors are RFC 9457 problem+json, in Italian or English (Accept-Language).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "municipalities", description = "The 67 municipalities (tenants)"),
        (name = "auth", description = "SPID/CIE login, tokens, identity"),
        (name = "ops", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every route with its OpenAPI description.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(tenant::http::list_municipalities))
        .routes(routes!(tenant::http::get_municipality))
        .routes(routes!(identity::http::municipality_operators))
        .routes(routes!(identity::http::providers))
        .routes(routes!(identity::http::dev_login))
        .routes(routes!(identity::http::oidc_login))
        .routes(routes!(identity::http::oidc_callback))
        .routes(routes!(identity::http::token))
        .routes(routes!(identity::http::logout))
        .routes(routes!(identity::http::me))
        .routes(routes!(identity::http::jwks))
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// The complete application.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = api_routes().split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");
    let timeout = Duration::from_secs(state.config.http.request_timeout_secs);
    let body_limit = state.config.http.body_limit_bytes;
    routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .route_layer(middleware::from_fn(ops::record_metrics))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(problem::render_problems))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout))
                .layer(DefaultBodyLimit::max(body_limit)),
        )
}

/// Formats stored milliseconds as RFC 3339 UTC.
pub fn rfc3339_from_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
