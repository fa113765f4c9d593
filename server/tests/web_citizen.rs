//! The citizen's web pages over HTTP on a real demo server (both backends): login with
//! `--dev-auth` through the login page's form, the session cookie's attributes, every page
//! after login for its owner, and for everyone else nothing: without a session a redirect to
//! the login page, another citizen or an operator of any municipality never sees a permit, a
//! notice, a QR code or a message that is not theirs, every form without its CSRF token is
//! refused with 403, and logout ends the session. The same pages in a browser:
//! `tests/web/run` (`tests/web/citizen.mjs`).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
#![allow(clippy::too_many_lines, reason = "one scenario, read top to bottom")]

mod common;

use common::{ARENZANO_OPERATOR, CITIZEN, GENOVA_OPERATOR, Prepared, TestServer, client};
use reqwest::{StatusCode, header};

/// Laura Bianchi of the demo: a citizen with no application and no notice.
const OTHER_CITIZEN: &str = "BNCLRA75M41D969C";

/// A signed-in browser: its cookies and the CSRF token of its session's forms.
struct Browser {
    cookie: String,
    csrf: String,
}

/// The value of `name="csrf"` in a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// The `name=value` of the `Set-Cookie` of `name` in a response, and the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|whole| (whole.split(';').next().unwrap().to_owned(), whole))
}

/// Logs in through the login page's demo form, as a browser does.
async fn login(server: &TestServer, fiscal_code: &str) -> Browser {
    let page = client().get(server.url("/login?lang=en")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let (form_cookie, _) = set_cookie(&page, "sportello_csrf").unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(fiscal_code), "the demo people are listed");
    let form_csrf = csrf_of(&html);
    // Without the login page's token, no session.
    let refused = client()
        .post(server.url("/login/dev"))
        .header(header::COOKIE, &form_cookie)
        .form(&[("fiscal_code", fiscal_code), ("next", "/me")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let response = client()
        .post(server.url("/login/dev"))
        .header(header::COOKIE, &form_cookie)
        .form(&[
            ("csrf", form_csrf.as_str()),
            ("fiscal_code", fiscal_code),
            ("next", "/me"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/me");
    let (session, whole) = set_cookie(&response, "sportello_session").unwrap();
    assert!(
        whole.contains("HttpOnly") && whole.contains("SameSite=Lax") && whole.contains("Path=/"),
        "{whole}"
    );
    assert!(!whole.contains("Secure"), "plain http here: {whole}");
    let cookie = format!("{session}; lang=en");
    let home = get(server, &cookie, "/me").await;
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains(fiscal_code), "the personal area names who is in");
    Browser {
        csrf: csrf_of(&html),
        cookie,
    }
}

async fn get(server: &TestServer, cookie: &str, path: &str) -> reqwest::Response {
    client()
        .get(server.url(path))
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap()
}

async fn text_of(server: &TestServer, cookie: &str, path: &str) -> String {
    get(server, cookie, path).await.text().await.unwrap()
}

async fn post_form(
    server: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(server.url(path))
        .header(header::COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

/// A multipart upload as a browser's form sends it.
async fn upload(
    server: &TestServer,
    cookie: &str,
    path: &str,
    csrf: Option<&str>,
    kind: &str,
) -> reqwest::Response {
    let boundary = "sportello-test-boundary";
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    };
    if let Some(csrf) = csrf {
        field("csrf", csrf);
    }
    field("kind", kind);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"relazione.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-1.4\n% relazione geologica\n%%EOF\n\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    client()
        .post(server.url(path))
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The ids of the links `prefix<id>"` of a page.
fn linked_ids(html: &str, prefix: &str) -> Vec<String> {
    html.split(prefix)
        .skip(1)
        .map(|rest| rest.split(['"', '#', '/']).next().unwrap().to_owned())
        .filter(|id| !id.is_empty())
        .collect()
}

fn redirects_to_login(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::SEE_OTHER
        && response.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
}

#[tokio::test]
async fn citizens_see_their_own_pages_and_nobody_else_does() {
    let mut prepared = Prepared::new().await;
    prepared.config.demo = true;
    let server = prepared.start().await;

    // Without a session, every page and form sends the browser to the login page, which
    // comes back to the page asked.
    for path in [
        "/me",
        "/me/permits",
        "/me/permits/x",
        "/me/payments",
        "/me/payments/x/qr.svg",
        "/me/inbox",
        "/me/inbox/x",
        "/me/notifications",
        "/me/events",
    ] {
        let response = get(&server, "", path).await;
        assert!(redirects_to_login(&response), "{path}: {}", response.status());
    }
    let response = get(&server, "", "/me/permits?cursor=abc").await;
    assert_eq!(
        response.headers()[header::LOCATION],
        "/login?next=%2Fme%2Fpermits%3Fcursor%3Dabc"
    );
    for path in [
        "/logout",
        "/me/notifications",
        "/me/permits/x/submit-integration",
        "/me/permits/x/documents",
        "/me/devices",
        "/events/x/follow",
        "/events/x/unfollow",
    ] {
        let response = post_form(&server, "", path, &[("csrf", "x")]).await;
        assert!(
            redirects_to_login(&response),
            "POST {path}: {}",
            response.status()
        );
    }
    let forged = get(&server, "sportello_session=not-a-session", "/me").await;
    assert!(redirects_to_login(&forged));

    let mario = login(&server, CITIZEN).await;

    // My permits: the demo's four applications, each with its page.
    let list = get(&server, &mario.cookie, "/me/permits").await;
    assert_eq!(list.status(), 200);
    assert_eq!(list.headers()[header::CACHE_CONTROL], "private, no-store");
    assert_eq!(list.headers()[header::CONTENT_LANGUAGE], "en");
    let html = list.text().await.unwrap();
    assert!(html.contains("<h1>My applications</h1>"));
    let permits = linked_ids(&html, "href=\"/me/permits/");
    assert_eq!(permits.len(), 4, "{permits:?}");
    let mut integration = None;
    for id in &permits {
        let page = get(&server, &mario.cookie, &format!("/me/permits/{id}")).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Timeline"), "{id}");
        if html.contains("Documents requested") && html.contains("multipart/form-data") {
            integration = Some(id.clone());
        }
    }
    let integration = integration.expect("one demo application waits for documents");

    // My payments: each notice with its code, its QR code and the link to pagoPA Checkout.
    let html = text_of(&server, &mario.cookie, "/me/payments").await;
    assert!(html.contains("<h1>My payments</h1>"));
    let notices = linked_ids(&html, "src=\"/me/payments/");
    assert!(!notices.is_empty(), "the demo citizen has notices");
    assert!(html.contains("Notice code"));
    assert!(
        html.contains("href=\"https://checkout.pagopa.it/"),
        "the configured Checkout"
    );
    let qr = get(
        &server,
        &mario.cookie,
        &format!("/me/payments/{}/qr.svg", notices[0]),
    )
    .await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert!(qr.text().await.unwrap().contains("<svg"));

    // The inbox, and one message (read from then on).
    let html = text_of(&server, &mario.cookie, "/me/inbox").await;
    let messages = linked_ids(&html, "href=\"/me/inbox/");
    assert!(!messages.is_empty(), "the demo's steps left messages");
    let message = get(&server, &mario.cookie, &format!("/me/inbox/{}", messages[0])).await;
    assert_eq!(message.status(), 200);
    // A push's address leads to the message's page.
    let pushed = get(&server, &mario.cookie, &format!("/inbox/{}", messages[0])).await;
    assert_eq!(
        pushed.headers()[header::LOCATION].to_str().unwrap(),
        format!("/me/inbox/{}", messages[0])
    );

    // Every form without its token is refused, with the session.
    let event_page = client()
        .get(server.url("/events?municipality=010025"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let event = linked_ids(&event_page, "href=\"/events/")
        .into_iter()
        .find(|id| !id.contains('?') && !id.contains(".ics"))
        .unwrap();
    for path in [
        "/logout".to_owned(),
        "/me/notifications".to_owned(),
        format!("/me/permits/{integration}/submit-integration"),
        format!("/events/{event}/follow"),
        format!("/events/{event}/unfollow"),
    ] {
        let without = post_form(&server, &mario.cookie, &path, &[("topics", "permits")]).await;
        assert_eq!(without.status(), StatusCode::FORBIDDEN, "{path}");
        let wrong = post_form(&server, &mario.cookie, &path, &[("csrf", "AAAA")]).await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let path = format!("/me/permits/{integration}/documents");
    assert_eq!(
        upload(&server, &mario.cookie, &path, None, "geological_report")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let device = serde_json::json!({"kind": "webpush", "endpoint": "https://fcm.googleapis.com/fcm/send/x",
        "keys": {"p256dh": "x", "auth": "x"}});
    let without = client()
        .post(server.url("/me/devices"))
        .header(header::COOKIE, &mario.cookie)
        .json(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);

    // Answering the request for documents: an upload (the permits service's checks), then the
    // answer sent.
    let page = text_of(&server, &mario.cookie, &format!("/me/permits/{integration}")).await;
    let kind = page
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let uploaded = upload(&server, &mario.cookie, &path, Some(&mario.csrf), &kind).await;
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let page = text_of(&server, &mario.cookie, &format!("/me/permits/{integration}")).await;
    assert!(page.contains("relazione.pdf"), "the document is listed");
    let sent = post_form(
        &server,
        &mario.cookie,
        &format!("/me/permits/{integration}/submit-integration"),
        &[("csrf", &mario.csrf)],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let page = text_of(&server, &mario.cookie, &format!("/me/permits/{integration}")).await;
    assert!(page.contains("Documents sent") && !page.contains("multipart/form-data"));

    // Preferences, the push subscription as a device, following an event.
    let saved = post_form(
        &server,
        &mario.cookie,
        "/me/notifications",
        &[
            ("csrf", &mario.csrf),
            ("topics", "permits"),
            ("topics", "payments"),
            ("language", "en"),
            ("quiet_start", "22:00"),
            ("quiet_end", "07:00"),
            ("municipalities", "010025"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 200);
    let html = saved.text().await.unwrap();
    assert!(html.contains("Preferences saved."));
    assert!(html.contains("value=\"22:00\""));
    let registered = client()
        .post(server.url("/me/devices"))
        .header(header::COOKIE, &mario.cookie)
        .header("x-csrf-token", &mario.csrf)
        .json(&serde_json::json!({"kind": "webpush",
            "endpoint": "https://fcm.googleapis.com/fcm/send/web-test",
            "keys": {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                     "auth": "tBHItJI5svbpez7KI4CCXg"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        registered.status(),
        StatusCode::CREATED,
        "{:?}",
        registered.text().await
    );
    let follow = post_form(
        &server,
        &mario.cookie,
        &format!("/events/{event}/follow"),
        &[("csrf", &mario.csrf)],
    )
    .await;
    assert_eq!(follow.status(), StatusCode::SEE_OTHER);
    let html = text_of(&server, &mario.cookie, "/me/events").await;
    assert!(html.contains(&format!("href=\"/events/{event}\"")));
    let html = text_of(&server, &mario.cookie, &format!("/events/{event}")).await;
    assert!(html.contains(&format!("action=\"/events/{event}/unfollow\"")));
    let anonymous = client()
        .get(server.url(&format!("/events/{event}")))
        .send()
        .await
        .unwrap();
    let anonymous = anonymous.text().await.unwrap();
    assert!(!anonymous.contains("/follow\""), "no button without a session");
    assert!(
        anonymous.contains(&format!("href=\"/login?next=%2Fevents%2F{event}\"")),
        "but the way to log in and back"
    );

    // Another citizen sees none of it.
    let laura = login(&server, OTHER_CITIZEN).await;
    for (path, links) in [
        ("/me/permits", "href=\"/me/permits/"),
        ("/me/payments", "src=\"/me/payments/"),
        ("/me/inbox", "href=\"/me/inbox/"),
    ] {
        let page = text_of(&server, &laura.cookie, path).await;
        assert!(linked_ids(&page, links).is_empty(), "{path}");
    }
    let preferences = text_of(&server, &laura.cookie, "/me/notifications").await;
    assert!(
        !preferences.contains("value=\"22:00\""),
        "her own preferences, not his"
    );
    let followed = text_of(&server, &laura.cookie, "/me/events").await;
    assert!(!followed.contains(&format!("href=\"/events/{event}\"")));
    assert_cannot_see(
        &server,
        &laura,
        &permits,
        &notices,
        &messages[0],
        &integration,
        &kind,
    )
    .await;

    // Nor does an operator of another municipality, nor one of Genova's own permits office
    // (whose back office is not these pages).
    for operator in [ARENZANO_OPERATOR, GENOVA_OPERATOR] {
        let browser = login(&server, operator).await;
        assert_cannot_see(
            &server,
            &browser,
            &permits,
            &notices,
            &messages[0],
            &integration,
            &kind,
        )
        .await;
    }

    // Logout ends the session: its cookie opens nothing any more.
    let out = post_form(&server, &mario.cookie, "/logout", &[("csrf", &mario.csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (cleared, _) = set_cookie(&out, "sportello_session").unwrap();
    assert_eq!(cleared, "sportello_session=");
    assert!(redirects_to_login(
        &get(&server, &mario.cookie, "/me/permits").await
    ));
    server.stop().await;
}

/// `browser` gets a 404 for each of someone else's permits, notices' QR codes, messages,
/// and cannot upload to or answer their application.
async fn assert_cannot_see(
    server: &TestServer,
    browser: &Browser,
    permits: &[String],
    notices: &[String],
    message: &str,
    integration: &str,
    kind: &str,
) {
    for id in permits {
        let response = get(server, &browser.cookie, &format!("/me/permits/{id}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "permit {id}");
    }
    for id in notices {
        let response = get(server, &browser.cookie, &format!("/me/payments/{id}/qr.svg")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "notice {id}");
    }
    let response = get(server, &browser.cookie, &format!("/me/inbox/{message}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "message");
    let path = format!("/me/permits/{integration}/documents");
    let response = upload(server, &browser.cookie, &path, Some(&browser.csrf), kind).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "upload");
    let path = format!("/me/permits/{integration}/submit-integration");
    let response = post_form(server, &browser.cookie, &path, &[("csrf", &browser.csrf)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "answer");
}

/// Behind https (the public URL says so), the cookies are `Secure`.
#[tokio::test]
async fn cookies_are_secure_when_served_over_https() {
    let mut prepared = Prepared::new().await;
    prepared.config.public_url = Some("https://sportello.example".to_owned());
    let server = prepared.start().await;
    let page = client().get(server.url("/login")).send().await.unwrap();
    let (form_cookie, whole) = set_cookie(&page, "sportello_csrf").unwrap();
    assert!(
        whole.contains("; Secure") && whole.contains("HttpOnly"),
        "{whole}"
    );
    let csrf = csrf_of(&page.text().await.unwrap());
    let response = client()
        .post(server.url("/login/dev"))
        .header(header::COOKIE, &form_cookie)
        .form(&[("csrf", csrf.as_str()), ("fiscal_code", CITIZEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, whole) = set_cookie(&response, "sportello_session").unwrap();
    assert!(
        whole.contains("; Secure") && whole.contains("HttpOnly") && whole.contains("SameSite=Lax"),
        "{whole}"
    );
    server.stop().await;
}
