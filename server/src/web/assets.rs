//! The pages' static files, embedded in the binary (so `cargo run` and a copied binary need
//! nothing beside them): Bootstrap Italia's distributed build as `scripts/web-assets` vendors
//! it, and Sportello's own small stylesheet and script.
//!
//! Every URL carries one hash of all the files (`/assets/<hash>/<path>`): relative URLs between
//! them (the stylesheet's fonts) stay valid, and a new build changes every URL, so browsers may
//! keep a file for a year without asking again. A URL with an older hash still gets the file,
//! revalidated each time, so a page cached across an upgrade does not lose its look.

use std::sync::LazyLock;

use std::io::Write;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// An embedded file: its path under `server/assets/`, type and bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/", $path)),
        }
    };
}

static ASSETS: &[Asset] = &[
    asset!(
        "vendor/bootstrap-italia/css/bootstrap-italia.min.css",
        "text/css; charset=utf-8"
    ),
    asset!("vendor/bootstrap-italia/svg/sprites.svg", "image/svg+xml"),
    asset!(
        "vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-300.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-600.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-700.woff2",
        "font/woff2"
    ),
    asset!("vendor/bootstrap-italia/LICENSE", "text/plain; charset=utf-8"),
    asset!(
        "vendor/bootstrap-italia/fonts/Titillium_Web/OFL.txt",
        "text/plain; charset=utf-8"
    ),
    asset!("web/site.css", "text/css; charset=utf-8"),
    asset!("web/near.js", "text/javascript; charset=utf-8"),
    asset!("web/app.js", "text/javascript; charset=utf-8"),
    asset!("web/icon.svg", "image/svg+xml"),
    // Rendered from icon.svg by Chromium (the sizes a web app manifest needs to be installable).
    asset!("web/icon-192.png", "image/png"),
    asset!("web/icon-512.png", "image/png"),
];

/// The first 12 hex digits of the SHA-256 of every file's path and bytes.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for asset in ASSETS {
        hash.update(asset.path.as_bytes());
        hash.update((asset.bytes.len() as u64).to_le_bytes());
        hash.update(asset.bytes);
    }
    hex::encode(&hash.finalize()[..6])
});

/// Each text asset gzipped (the stylesheet shrinks from 600 KB to a seventh), once, at the
/// first request for an asset; fonts and PNG images are compressed already.
static GZIPPED: LazyLock<Vec<Option<Vec<u8>>>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            if asset.content_type.starts_with("font/") || asset.content_type == "image/png" {
                return None;
            }
            let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(asset.bytes).ok()?;
            encoder.finish().ok()
        })
        .collect()
});

/// The URL of an embedded file, `path` relative to `server/assets/`.
pub fn url(path: &str) -> String {
    debug_assert!(ASSETS.iter().any(|a| a.path == path), "no asset {path}");
    format!("/assets/{}/{path}", *VERSION)
}

/// The assets' hash, which names the service worker's cache.
pub fn version() -> &'static str {
    &VERSION
}

/// The URLs the service worker caches at install: every asset but the licence texts.
pub fn shell() -> Vec<String> {
    ASSETS
        .iter()
        .filter(|a| !a.content_type.starts_with("text/plain"))
        .map(|a| url(a.path))
        .collect()
}

/// The URL of an icon of Bootstrap Italia's sprite (`it-calendar`); a name the sprite lacks
/// (an empty square on the page) stops a debug build, so the browser tests catch it.
pub fn icon(name: &str) -> String {
    #[cfg(debug_assertions)]
    {
        let id = format!("id=\"{name}\"");
        let sprite = ASSETS
            .iter()
            .find(|a| a.path.ends_with("sprites.svg"))
            .map_or(&[][..], |a| a.bytes);
        assert!(
            sprite.windows(id.len()).any(|w| w == id.as_bytes()),
            "no icon {name} in the sprite"
        );
    }
    format!("{}#{name}", url("vendor/bootstrap-italia/svg/sprites.svg"))
}

/// `GET /assets/{version}/{*path}`.
pub async fn serve(Path((version, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.path == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let asset = &ASSETS[index];
    let current = version == *VERSION;
    let etag = format!("\"{}\"", *VERSION);
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|coding| coding.trim().starts_with("gzip")))
        .then(|| GZIPPED[index].as_deref())
        .flatten();
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some(gzipped) = gzip {
        let mut response = gzipped.to_vec().into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        asset.bytes.into_response()
    };
    let out = response.headers_mut();
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_there_once_and_not_empty() {
        for (i, asset) in ASSETS.iter().enumerate() {
            assert!(!asset.bytes.is_empty(), "{} is empty", asset.path);
            assert!(
                ASSETS[..i].iter().all(|a| a.path != asset.path),
                "{} twice",
                asset.path
            );
            if asset.content_type.starts_with("font/") {
                assert_eq!(asset.content_type, "font/woff2");
                assert_eq!(&asset.bytes[..4], b"wOF2", "{} is not woff2", asset.path);
            }
        }
        assert_eq!(url("web/site.css"), format!("/assets/{}/web/site.css", *VERSION));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "no icon it-nothing in the sprite")]
    fn an_icon_the_sprite_lacks_stops_a_debug_build() {
        assert!(icon("it-calendar").ends_with("sprites.svg#it-calendar"));
        let _ = icon("it-nothing");
    }

    #[test]
    fn the_stylesheet_names_only_fonts_that_are_embedded() {
        let css = ASSETS.iter().find(|a| a.path == "web/site.css").unwrap();
        let css = std::str::from_utf8(css.bytes).unwrap();
        let mut fonts = 0;
        for part in css.split("url(").skip(1) {
            let target = part.split(')').next().unwrap().trim_matches(['"', '\'']);
            let resolved = target.strip_prefix("../").expect("fonts are relative to web/");
            assert!(
                ASSETS.iter().any(|a| a.path == resolved),
                "{resolved} is not embedded"
            );
            fonts += 1;
        }
        assert_eq!(fonts, 4);
    }
}
