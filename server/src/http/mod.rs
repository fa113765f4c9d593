//! The HTTP surface: routes of every context, the OpenAPI document, the middleware stack
//! (request id, tracing, metrics, problem rendering, timeout, body limit, client address, rate
//! limits, CORS, security headers) and the accept loop with its connection limits.

pub mod client;
pub mod contract;
pub mod extract;
pub mod lang;
pub mod listener;
pub mod ops;
pub mod problem;
pub mod rate_limit;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware;
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::HttpConfig;
use crate::{AppState, alerts, catalog, events, identity, notify, opendata, payments, permits, tenant, web};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sportello API",
        description = "Digital front desk of the municipalities of the Città Metropolitana di Genova. \
                       Errors are RFC 9457 problem+json, in Italian or English (Accept-Language).",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    modifiers(&BearerAuth),
    // Problem is every error's body (`contract`); the enums of the catalogue's query parameters
    // are referenced by those parameters only, which utoipa does not collect.
    components(schemas(
        sportello_core::api::Problem,
        sportello_core::api::MaterialFormat,
        sportello_core::api::CatalogSort
    )),
    tags(
        (name = "municipalities", description = "The 67 municipalities (tenants)"),
        (name = "auth", description = "SPID/CIE login, tokens, identity"),
        (name = "notifications", description = "Inbox, devices, push, area broadcasts"),
        (name = "catalog", description = "Libraries, catalogue search, availability, DAIA, imports"),
        (name = "permits", description = "Building and other permits: procedures, applications, documents, legal clocks, the officers' queue"),
        (name = "payments", description = "pagoPA debt positions, notices, receipts"),
        (name = "events", description = "Cultural events and their venues: officers' writes, public search, one event"),
        (name = "alerts", description = "Civil-protection alerts: officers' alerts (JSON or CAP 1.2), the public list, CAP and Atom"),
        (name = "opendata", description = "Open data: the DCAT-AP catalogue and its datasets (CSV, JSON, iCalendar)"),
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
        .routes(routes!(identity::http::entity_configuration))
        .routes(routes!(identity::http::federated_login))
        .routes(routes!(identity::http::federated_callback))
        .routes(routes!(notify::http::vapid_public_key))
        .routes(routes!(notify::http::register_device, notify::http::list_devices))
        .routes(routes!(notify::http::delete_device))
        .routes(routes!(
            notify::http::get_preferences,
            notify::http::put_preferences
        ))
        .routes(routes!(notify::http::inbox))
        .routes(routes!(notify::http::inbox_message, notify::http::delete_message))
        .routes(routes!(notify::http::mark_read))
        .routes(routes!(notify::http::broadcast))
        .routes(routes!(catalog::http::list_libraries))
        .routes(routes!(catalog::http::get_library))
        .routes(routes!(catalog::http::put_library))
        .routes(routes!(catalog::http::import))
        .routes(routes!(catalog::http::put_copy_status))
        .routes(routes!(catalog::http::search))
        .routes(routes!(catalog::http::get_record))
        .routes(routes!(catalog::http::availability))
        .routes(routes!(catalog::http::daia))
        .routes(routes!(permits::http::procedures))
        .routes(routes!(permits::http::create, permits::http::queue))
        .routes(routes!(permits::http::get_permit, permits::http::update))
        .routes(routes!(permits::http::act))
        .routes(routes!(permits::http::upload))
        .routes(routes!(permits::http::download))
        .routes(routes!(permits::http::mine))
        .routes(routes!(
            payments::http::create_position,
            payments::http::list_positions
        ))
        .routes(routes!(payments::http::get_position))
        .routes(routes!(payments::http::publish_position))
        .routes(routes!(payments::http::invalidate_position))
        .routes(routes!(payments::http::my_payments))
        .routes(routes!(payments::http::my_receipt))
        .routes(routes!(payments::http::verify))
        .routes(routes!(events::http::create))
        .routes(routes!(
            events::http::get_in_municipality,
            events::http::update,
            events::http::delete
        ))
        .routes(routes!(events::http::put_venue))
        .routes(routes!(events::http::venues))
        .routes(routes!(events::http::search))
        .routes(routes!(events::http::get_event))
        .routes(routes!(events::http::feed))
        .routes(routes!(events::http::import))
        .routes(routes!(events::http::follow, events::http::unfollow))
        .routes(routes!(events::http::my_events))
        .routes(routes!(alerts::http::publish, alerts::http::list))
        .routes(routes!(alerts::http::get_alert))
        .routes(routes!(alerts::http::feed))
        .routes(routes!(opendata::http::catalog))
        .routes(routes!(opendata::http::file))
}

/// The routes and their OpenAPI document, with the statuses every route shares
/// ([`contract`]).
fn routes_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut openapi) = api_routes().split_for_parts();
    contract::complete(&mut openapi);
    (routes, openapi)
}

/// A text answer with its media type (calendars, JSON-LD, CAP, Atom, open data files).
pub fn with_content_type(body: String, content_type: &'static str) -> Response {
    use axum::response::IntoResponse;
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document().1
}

/// The complete application.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = routes_and_document();
    let http = state.config.http.clone();
    let https = state.config.public_url().starts_with("https://");
    let limits_state = state.clone();
    // The pagoPA Node's SOAP endpoint, with its guard: outside the OpenAPI document (its
    // contract is the WSDL); it reads its body itself, up to `pagopa.body_limit_bytes`. Not
    // here when the channel has its own listener.
    let channel = &state.config.pagopa.channel;
    let routes = if channel.listen.is_none() {
        routes.merge(payments::channel::node_routes(channel))
    } else {
        routes
    };
    // The web pages (outside the OpenAPI document: they are HTML for people, not the API), under
    // the same rate limits as the API operations they call.
    let app = routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .merge(web::routes())
        .fallback(web::not_found)
        .route_layer(middleware::from_fn_with_state(
            limits_state,
            rate_limit::limit_rate,
        ))
        .route_layer(middleware::from_fn(ops::record_metrics))
        .with_state(state);
    let proxies = client::TrustedProxies::new(http.trusted_proxies.clone());
    let mut app = with_middleware(app, &http).layer(middleware::from_fn(move |request, next| {
        client::identify_client(proxies.clone(), request, next)
    }));
    if let Some(cors) = cors(&http.cors_allowed_origins) {
        app = app.layer(cors);
    }
    app.layer(middleware::from_fn(move |request, next| {
        security_headers(https, request, next)
    }))
}

/// Cross-origin access for the configured web origins only (none by default). Tokens travel in
/// the `Authorization` header, never in cookies, so credentials are not allowed.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let request_id = HeaderName::from_static("x-request-id");
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                request_id.clone(),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                header::LOCATION,
                header::CONTENT_LANGUAGE,
                header::CONTENT_DISPOSITION,
                request_id,
            ])
            .max_age(Duration::from_hours(1)),
    )
}

/// The Content-Security-Policy of the web pages (`web`): scripts, styles, fonts and images
/// from this origin only, no inline script or style (the pages have none; a JSON-LD block is
/// data, which CSP does not run), `data:` images and fonts because Bootstrap Italia's stylesheet
/// draws its small icons (select arrows, checkmarks) as data URLs and embeds a font so (the
/// browser loads it whether a page uses it or not), forms posting only here, no framing by
/// anyone, the web app manifest and the service worker from here.
pub const PAGE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'; \
    worker-src 'self'";

/// Headers that keep browsers from misreading or framing any answer: no MIME sniffing, no
/// referrer sent onwards, no framing by other sites (clickjacking), and, when Sportello is
/// served over https, HSTS so browsers never try plain http again. A handler's own value wins.
pub async fn security_headers(
    https: bool,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'");
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// The middleware every request goes through, outermost first: request id, tracing span,
/// request-id propagation, problem rendering, timeout (408) and body limit (413).
pub fn with_middleware(app: Router, http: &HttpConfig) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
            }))
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(middleware::from_fn(problem::render_problems))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(http.request_timeout_secs),
            ))
            .layer(DefaultBodyLimit::max(http.body_limit_bytes)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn every_answer_carries_the_security_headers_and_hsts_only_over_https() {
        for https in [false, true] {
            let app = Router::new()
                .route("/", get(|| async { "ok" }))
                .layer(middleware::from_fn(move |request, next| {
                    security_headers(https, request, next)
                }));
            let response = app
                .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
                .await
                .unwrap();
            let headers = response.headers();
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
            assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
            assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "frame-ancestors 'none'");
            assert_eq!(headers.contains_key(header::STRICT_TRANSPORT_SECURITY), https);
        }
    }

    #[tokio::test]
    async fn slow_requests_time_out_with_a_problem() {
        let slow = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        // A whole second is the smallest configurable timeout; pause time to skip the wait.
        tokio::time::pause();
        let http = HttpConfig {
            request_timeout_secs: 1,
            body_limit_bytes: 16,
            ..HttpConfig::default()
        };
        let response = with_middleware(slow, &http)
            .oneshot(Request::builder().uri("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(response.headers()["content-type"], problem::PROBLEM_JSON);
        assert!(response.headers().contains_key("x-request-id"));
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let problem: sportello_core::api::Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!((problem.code.as_str(), problem.status), ("timeout", 408));
        assert!(problem.request_id.is_some());
    }
}
