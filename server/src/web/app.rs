//! What makes the pages an installable web app: the manifest, the service worker (the shell
//! cached, an offline page when the network is gone) and that offline page.

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::{Value, json};

use super::layout::THEME_COLOR;
use super::{PageRequest, assets, i18n};

/// The service worker's source; `__VERSION__` and `__SHELL__` are filled in when served.
const SERVICE_WORKER: &str = include_str!("../../assets/web/sw.js");

/// `GET /manifest.webmanifest`: name, icons, colours, start page, in the page's language.
pub async fn manifest(page: PageRequest) -> Response {
    let icon =
        |path: &str, sizes: &str, kind: &str| json!({"src": assets::url(path), "sizes": sizes, "type": kind});
    let body: Value = json!({
        "name": format!("{} · {}", i18n::SERVICE, page.t(&i18n::OWNER)),
        "short_name": i18n::SERVICE,
        "description": page.t(&i18n::TAGLINE),
        "lang": page.lang.as_str(),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [
            icon("web/icon-192.png", "192x192", "image/png"),
            icon("web/icon-512.png", "512x512", "image/png"),
            icon("web/icon.svg", "any", "image/svg+xml"),
        ],
    });
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/manifest+json"),
    );
    response
}

/// `GET /sw.js`: the shell it caches is every asset, the manifest and the offline page; served from the root so its scope is every page; never cached by the browser
/// beyond a revalidation, so a new build's worker is found at the next visit.
pub async fn service_worker() -> Response {
    let shell: Vec<String> = assets::shell()
        .into_iter()
        .chain(["/manifest.webmanifest".to_owned(), "/offline".to_owned()])
        .collect();
    let body = SERVICE_WORKER
        .replace("__VERSION__", assets::version())
        .replace("__SHELL__", &Value::from(shell).to_string());
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /offline`: what the service worker shows for a page when there is no network.
pub async fn offline(page: PageRequest) -> Response {
    let body = html! {
        h1 { (page.t(&i18n::OFFLINE)) }
        p { (page.t(&i18n::OFFLINE_TEXT)) }
        p { a.btn.btn-primary href="/" { (page.t(&i18n::BACK_HOME)) } }
    };
    page.render(page.t(&i18n::OFFLINE), Ok(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_worker_caches_every_asset_of_this_build_and_the_offline_page() {
        let response = service_worker().await;
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let script = String::from_utf8(body.to_vec()).unwrap();
        assert!(!script.contains("__VERSION__") && !script.contains("__SHELL__"));
        assert!(script.contains(&format!("const VERSION = \"{}\";", assets::version())));
        assert!(script.contains(&format!(
            "\"{}\"",
            assets::url("vendor/bootstrap-italia/css/bootstrap-italia.min.css")
        )));
        assert!(script.contains("\"/offline\"]"));
    }
}
