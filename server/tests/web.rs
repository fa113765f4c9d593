//! The web pages over HTTP on a real demo server (both backends): what a browser test does not
//! see directly. Each page's CSP and language headers, the language cookie, assets cached for a
//! year under their content hash and revalidated under an old one, the HTML 404 for browsers
//! and the problem for API clients, bad input answered with a page naming the field, and the
//! event page's JSON-LD safe inside its script element. The pages in a browser, with axe-core:
//! `tests/web/run`.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]

mod common;

use common::{Prepared, client};
use reqwest::header;

const HTML: &str = "text/html";

async fn page(server: &common::TestServer, path: &str, accept_language: &str) -> reqwest::Response {
    client()
        .get(server.url(path))
        .header(header::ACCEPT, HTML)
        .header(header::ACCEPT_LANGUAGE, accept_language)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn pages_languages_assets_and_errors() {
    let mut prepared = Prepared::new().await;
    prepared.config.demo = true;
    let server = prepared.start().await;

    // Every page in the browser's language, with the pages' CSP and the shared headers.
    for (path, title) in [
        ("/", "Sportello"),
        ("/events", "Veranstaltungen"),
        ("/libraries", "Bibliotheken"),
        ("/catalogue?q=socialismo", "Bibliothekskatalog"),
        ("/legal", "Rechtliche Hinweise"),
    ] {
        let response = page(&server, path, "de-CH, de;q=0.9, en;q=0.5").await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with(HTML));
        assert_eq!(headers[header::CONTENT_LANGUAGE], "de", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            headers.get(header::SET_COOKIE).is_none(),
            "no cookie unless a language is chosen"
        );
        let body = response.text().await.unwrap();
        assert!(body.starts_with("<!DOCTYPE html><html lang=\"de\">"), "{path}");
        assert!(body.contains(&format!("<h1>{title}</h1>")), "{path}");
        assert!(
            !body.contains("style=\""),
            "{path}: an inline style the CSP would block"
        );
    }

    // `lang=` wins and is remembered in a cookie; the cookie then wins over the browser.
    let chosen = page(&server, "/events?lang=es", "de").await;
    assert_eq!(chosen.headers()[header::CONTENT_LANGUAGE], "es");
    let cookie = chosen.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("lang=es;") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let remembered = client()
        .get(server.url("/libraries"))
        .header(header::ACCEPT_LANGUAGE, "de")
        .header(header::COOKIE, "lang=es")
        .send()
        .await
        .unwrap();
    assert_eq!(remembered.headers()[header::CONTENT_LANGUAGE], "es");

    // Assets: a year under the current hash, revalidated under another, 304 on a match.
    let home = page(&server, "/", "it").await.text().await.unwrap();
    let css = home
        .split('"')
        .find(|part| part.ends_with("bootstrap-italia.min.css"))
        .unwrap()
        .to_owned();
    let fresh = client().get(server.url(&css)).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(
        fresh.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let etag = fresh.headers()[header::ETAG].clone();
    let plain = fresh.bytes().await.unwrap();
    assert!(plain.len() > 100_000);
    // gzip for a client that takes it, the same bytes once decoded.
    let gzipped = client()
        .get(server.url(&css))
        .header(header::ACCEPT_ENCODING, "br, gzip;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    let compressed = gzipped.bytes().await.unwrap();
    assert!(compressed.len() * 4 < plain.len(), "{} bytes", compressed.len());
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut decoded).unwrap();
    assert_eq!(decoded, plain);
    let again = client()
        .get(server.url(&css))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let version = css.split('/').nth(2).unwrap();
    let old = client()
        .get(server.url(&css.replace(version, "000000000000")))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 200);
    assert_eq!(old.headers()[header::CACHE_CONTROL], "no-cache");
    let missing = client()
        .get(server.url(&format!("/assets/{version}/vendor/nothing.css")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // An unknown address: a page for a browser, the problem for an API client.
    let lost = page(&server, "/no-such-page", "en").await;
    assert_eq!(lost.status(), 404);
    assert!(lost.text().await.unwrap().contains("<h1>Page not found</h1>"));
    let api = client().get(server.url("/no-such-page")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()[header::CONTENT_TYPE], "application/problem+json");
    let under_v1 = page(&server, "/v1/nothing", "en").await;
    assert_eq!(
        under_v1.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );

    // Bad input: the page says which field, in the language, and the status says why.
    for (path, status, field) in [
        ("/events?when=yesterday", 422, "when"),
        ("/events?near=91,0", 422, "near"),
        ("/events?municipality=12", 422, "municipality"),
        ("/events?municipality=999999", 404, ""),
        ("/libraries?near=abc", 422, "near"),
        ("/catalogue?q=x&near=0,500", 422, "near"),
        ("/libraries/no-such-library", 404, ""),
        ("/events/no-such-event", 404, ""),
    ] {
        let response = page(&server, path, "en").await;
        assert_eq!(response.status(), status, "{path}");
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(HTML),
            "{path}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("alert-danger"), "{path}");
        if !field.is_empty() {
            assert!(
                body.contains(&format!("<code>{field}</code>")),
                "{path}: names {field}"
            );
        }
    }

    // An event's page: its JSON-LD parses, names the page, and no text can close the script.
    let events = page(&server, "/events?municipality=010025", "it")
        .await
        .text()
        .await
        .unwrap();
    let href = events
        .split("href=\"")
        .find(|p| p.starts_with("/events/"))
        .unwrap();
    let href = href.split('"').next().unwrap().to_owned();
    let event = page(&server, &href, "it").await.text().await.unwrap();
    let script = event
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    assert!(!script.contains('<'));
    let json_ld: serde_json::Value = serde_json::from_str(script).unwrap();
    assert_eq!(json_ld["url"], server.url(&href));
    assert!(event.contains(&format!("{href}/calendar.ics")));
    let ics = client()
        .get(server.url(&format!("{href}/calendar.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ics.headers()[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert!(ics.text().await.unwrap().contains("BEGIN:VEVENT"));

    server.stop().await;
}
