//! The web app for tourists and citizens: pages rendered on the server (maud templates) with
//! Bootstrap Italia's look, readable without JavaScript; a small script only asks the browser
//! for the position. The handlers are thin, like the API's: they call the same services and
//! render the wire types those return, never SQL and never the HTTP API.
//!
//! Every page's language is [`i18n::page_lang`]; its links are shareable URLs (the query says
//! everything the page shows). The pages' Content-Security-Policy is
//! [`crate::http::PAGE_CONTENT_SECURITY_POLICY`]: scripts, styles, fonts and images from this
//! origin only (no inline script or style).

mod app;
pub mod assets;
mod catalogue;
mod events;
pub mod i18n;
mod layout;
mod libraries;
mod login;
mod me;
mod my_payments;
mod my_permits;
pub mod session;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use sportello_core::events::Lang;

use sportello_core::tenant::IstatCode;

use crate::AppState;
use crate::http::problem::ApiError;
use crate::tenant::malformed_istat_code;

/// The pages and their assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/legal", get(legal))
        .route("/events", get(events::list))
        .route("/events/{id}", get(events::page))
        .route("/events/{id}/calendar.ics", get(events::calendar))
        .route("/libraries", get(libraries::list))
        .route("/libraries/{id}", get(libraries::page))
        .route("/catalogue", get(catalogue::search))
        .route("/login", get(login::page))
        .route("/login/start", get(login::start))
        .route(crate::identity::WEB_LOGIN_DONE, get(login::done))
        .route("/login/dev", post(login::dev))
        .route("/logout", post(login::logout))
        .route("/me", get(me::home))
        .route("/me/permits", get(my_permits::list))
        .route("/me/permits/{id}", get(my_permits::page))
        .route(
            "/me/permits/{id}/documents",
            // The permits service holds the upload to its document limits while streaming.
            post(my_permits::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/me/permits/{id}/submit-integration",
            post(my_permits::submit_integration),
        )
        .route("/me/payments", get(my_payments::list))
        .route("/me/payments/{id}/qr.svg", get(my_payments::qr))
        .route("/me/inbox", get(me::inbox))
        .route("/me/inbox/{id}", get(me::message))
        .route("/inbox/{id}", get(me::push_target))
        .route(
            "/me/notifications",
            get(me::notifications).post(me::save_notifications),
        )
        .route("/me/devices", post(me::register_device))
        .route("/me/events", get(me::events))
        .route("/events/{id}/follow", post(me::follow))
        .route("/events/{id}/unfollow", post(me::unfollow))
        .route("/assets/{version}/{*path}", get(assets::serve))
        .route("/manifest.webmanifest", get(app::manifest))
        .route("/sw.js", get(app::service_worker))
        .route("/offline", get(app::offline))
        .layer(middleware::from_fn(page_headers))
}

/// What every page knows of its request: the language, whether the query chose it, and the
/// path and query (for the language switch, which keeps the page and changes the language).
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub lang: Lang,
    lang_from_query: bool,
    path: String,
    query: Vec<(String, String)>,
    /// The request's headers (cookies: the session, the login in progress).
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for PageRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query();
        let (lang, lang_from_query) = i18n::page_lang(raw, &parts.headers);
        let query = raw
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .filter(|(name, value)| name != "lang" && !value.is_empty())
                    .take(MAX_QUERY_PAIRS)
                    .map(|(n, v)| (n.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            lang,
            lang_from_query,
            path: parts.uri.path().to_owned(),
            query,
            headers: parts.headers.clone(),
        })
    }
}

/// The query of a citizen's list page (permits, inbox): where the previous page ended.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CursorQuery {
    cursor: Option<String>,
}

impl CursorQuery {
    /// The rows of this page: 20 after the cursor.
    pub fn rows(&self) -> Result<crate::pagination::PageRequest, ApiError> {
        Ok(crate::pagination::PageRequest::new(
            self.cursor.as_deref(),
            None,
            20,
            20,
        )?)
    }
}

/// Query pairs a page keeps for its links; a form has far fewer fields.
const MAX_QUERY_PAIRS: usize = 32;

impl PageRequest {
    /// This page in another language.
    pub fn in_lang(&self, lang: Lang) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.query {
            query.append_pair(name, value);
        }
        query.append_pair("lang", lang.as_str());
        format!("{}?{}", self.path, query.finish())
    }

    /// A text in the page's language.
    pub fn t(&self, text: &i18n::Text) -> &'static str {
        text.get(self.lang)
    }

    /// A citizen's page's text (Italian or English).
    pub fn w(&self, words: &i18n::citizen::Words) -> &'static str {
        words.get(self.lang)
    }

    /// This request as a citizen's page: in Italian, or else in English (the pages after
    /// login are in the two languages of the API's texts).
    #[must_use]
    pub fn citizen(mut self) -> Self {
        if self.lang != Lang::It {
            self.lang = Lang::En;
        }
        self
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The CSRF token of the session the request's cookie names (the header's logout form),
    /// or `None` without one; whether the session is still open is for the handlers to check.
    pub fn session_csrf(&self) -> Option<String> {
        session::cookie(&self.headers, session::SESSION_COOKIE).map(|secret| session::csrf_token(&secret))
    }

    /// A page in the layout, or the error page of `result`'s error.
    pub fn render(&self, title: &str, result: Result<Markup, ApiError>) -> Response {
        match result {
            Ok(body) => self.respond(StatusCode::OK, title, &body),
            Err(error) => self.error(&error),
        }
    }

    /// The error page: the problem's title and detail, and each field's message, so the person
    /// sees what to change in the form.
    pub fn error(&self, error: &ApiError) -> Response {
        let problem = error.to_problem(i18n::problem_lang(self.lang), None);
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = html! {
            h1 { (problem.title) }
            div.alert.alert-danger role="alert" {
                p.mb-0 { (problem.detail) }
                @if !problem.errors.is_empty() {
                    ul.mb-0 { @for field in &problem.errors { li { code { (field.field) } ": " (field.message) } } }
                }
            }
            p { a href="/" { (self.t(&i18n::BACK_HOME)) } }
        };
        self.respond(status, &problem.title, &body)
    }

    fn respond(&self, status: StatusCode, title: &str, body: &Markup) -> Response {
        let mut response = (status, layout::page(self, title, body)).into_response();
        let headers = response.headers_mut();
        if let Ok(lang) = HeaderValue::from_str(self.lang.as_str()) {
            headers.insert(header::CONTENT_LANGUAGE, lang);
        }
        headers.insert(header::VARY, HeaderValue::from_static("accept-language, cookie"));
        if self.lang_from_query {
            // Remembered for the next pages, whose links don't carry `lang`: a year, this site
            // only, never sent by other sites' requests.
            let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", self.lang);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// The `municipality` of a page's query: none when empty, 422 naming `municipality` when not
/// six digits (the form's field, where the service would name its own), 404 when no
/// municipality served here has the code.
pub fn municipality_param(state: &AppState, code: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let parsed = IstatCode::parse(code).map_err(|_| malformed_istat_code("municipality", code))?;
    Ok(Some(
        state.municipalities.require_code(&parsed)?.istat_code.to_string(),
    ))
}

/// The pages' security headers: their Content-Security-Policy (a handler's own wins, as in
/// [`crate::http::security_headers`], which adds the others).
/// A citizen's pages and the login's are never stored by a browser's or a proxy's cache.
async fn page_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let personal =
        path == "/me" || path.starts_with("/me/") || path == "/login" || path.starts_with("/login/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::http::PAGE_CONTENT_SECURITY_POLICY),
    );
    if personal {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// The home page: the three ways in, and the municipality picker.
async fn home(page: PageRequest, axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let body = html! {
        h1 { (i18n::SERVICE) }
        p.lead { (page.t(&i18n::HOME_INTRO)) }
        div.row {
            (layout::card(&page, "/events", "it-calendar", &i18n::EVENTS))
            (layout::card(&page, "/libraries", "it-pa", &i18n::LIBRARIES))
            (layout::card(&page, "/catalogue", "it-search", &i18n::CATALOGUE))
        }
        h2.h4.mt-4 { (page.t(&i18n::PICK_MUNICIPALITY)) }
        form.filters method="get" action="/events" {
            (layout::municipality_picker(&page, &state, None))
            button.btn.btn-primary type="submit" { (page.t(&i18n::EVENTS)) }
        }
    };
    page.render(i18n::SERVICE, Ok(body))
}

/// The legal notes: licence, cookies, position.
async fn legal(page: PageRequest) -> Response {
    let body = html! {
        h1 { (page.t(&i18n::LEGAL)) }
        p { (page.t(&i18n::LEGAL_TEXT)) }
        p {
            "Bootstrap Italia, BSD-3-Clause: "
            a href=(assets::url("vendor/bootstrap-italia/LICENSE")) { "LICENSE" }
            ". Titillium Web, SIL Open Font License 1.1: "
            a href=(assets::url("vendor/bootstrap-italia/fonts/Titillium_Web/OFL.txt")) { "OFL.txt" }
            "."
        }
    };
    page.render(page.t(&i18n::LEGAL), Ok(body))
}

/// The page for an address that is no page: HTML for browsers, the API's problem for everyone
/// else (`/v1/…`, clients asking for JSON).
pub async fn not_found(page: PageRequest, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if !wants_html || request.uri().path().starts_with("/v1/") {
        return ApiError::RouteNotFound.into_response();
    }
    let body = html! {
        h1 { (page.t(&i18n::NOT_FOUND)) }
        p { (page.t(&i18n::NOT_FOUND_TEXT)) }
        p { a.btn.btn-primary href="/" { (page.t(&i18n::BACK_HOME)) } }
    };
    let mut response = page.respond(StatusCode::NOT_FOUND, page.t(&i18n::NOT_FOUND), &body);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::http::PAGE_CONTENT_SECURITY_POLICY),
    );
    response
}
