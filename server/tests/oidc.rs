//! SPID/CIE login end to end against a real OpenID Connect provider: the OpenID-certified
//! `oidc-provider` npm package, run on loopback by `tests/oidc-provider/provider.mjs`.
//! Needs Node and `npm ci --prefix tests/oidc-provider` (scripts/test does both).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod common;

use std::path::PathBuf;
use std::process::Stdio;

use common::{CITIZEN, GENOVA_OPERATOR, Prepared, TestServer};
use reqwest::StatusCode;
use serde_json::json;
use sportello_core::api::{Me, Problem, TokenPair};
use sportello_server::config::{ProviderConfig, Secret};
use sportello_server::identity::{store, tokens};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use url::Url;

const APP_REDIRECT: &str = "it.genova.sportello://auth";
const CLIENT_ID: &str = "sportello";
const CLIENT_SECRET: &str = "s3cret-for-tests";

/// A running OpenID provider; killed when dropped (and when its stdin closes).
struct Provider {
    issuer: String,
    _child: Child,
    _stdin: ChildStdin,
}

async fn start_provider(redirect_uri: &str, claim_style: &str) -> Provider {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "the OpenID provider is not installed: run `npm ci --prefix tests/oidc-provider` (scripts/test does)"
    );
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .args([
            "--port",
            "0",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ])
        .args([
            "--redirect-uri",
            redirect_uri,
            "--claim-style",
            claim_style,
            "--exit-on-stdin-eof",
        ])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs the provider");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.unwrap();
    let issuer = line
        .trim()
        .strip_prefix("READY ")
        .expect("provider prints READY <issuer>")
        .to_owned();
    let stdin = child.stdin.take().unwrap();
    Provider {
        issuer,
        _child: child,
        _stdin: stdin,
    }
}

fn provider_config(name: &str, issuer: &str) -> ProviderConfig {
    ProviderConfig {
        display_name: name.to_owned(),
        issuer_url: issuer.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        scopes: vec!["profile".to_owned()],
    }
}

/// A server with a `cie` provider (eID claim) and a `spid` provider (SPID claim).
async fn server_with_providers() -> (TestServer, Provider, Provider) {
    let mut prepared = Prepared::new().await;
    let base = format!("http://{}", prepared.addr);
    let cie = start_provider(&format!("{base}/v1/auth/oidc/cie/callback"), "cie").await;
    let spid = start_provider(&format!("{base}/v1/auth/oidc/spid/callback"), "spid").await;
    let providers = &mut prepared.config.auth.providers;
    providers.insert("cie".into(), provider_config("CIE", &cie.issuer));
    providers.insert("spid".into(), provider_config("SPID", &spid.issuer));
    (prepared.start().await, cie, spid)
}

/// The app side: a browser-like client (cookies, manual redirects) and a PKCE pair.
struct App {
    browser: reqwest::Client,
    verifier: String,
}

impl App {
    fn new() -> Self {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        Self {
            browser,
            verifier: format!("{}{}", tokens::random_secret(), tokens::random_secret()),
        }
    }

    fn login_url(&self, server: &TestServer, provider: &str) -> String {
        let mut url = Url::parse(&server.url(&format!("/v1/auth/oidc/{provider}/login"))).unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", APP_REDIRECT)
            .append_pair("code_challenge", &tokens::pkce_challenge(&self.verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", "app-state-42");
        url.into()
    }

    /// Follows http(s) redirects; stops at a page (returns its URL) or at a non-http redirect
    /// (the app's custom scheme: returns that URL).
    async fn follow(&self, mut response: reqwest::Response) -> (Url, reqwest::Response) {
        loop {
            let current = response.url().clone();
            if !response.status().is_redirection() {
                return (current, response);
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let next = current.join(&location).unwrap();
            if next.scheme() != "http" {
                return (next, response);
            }
            response = self.browser.get(next).send().await.unwrap();
        }
    }

    /// Runs the whole browser part; returns the URL the app finally receives.
    async fn log_in_at_provider(&self, server: &TestServer, provider: &str, form: &[(&str, &str)]) -> Url {
        let start = self
            .browser
            .get(self.login_url(server, provider))
            .send()
            .await
            .unwrap();
        assert_eq!(
            start.status(),
            StatusCode::SEE_OTHER,
            "login start redirects to the provider"
        );
        let (form_page, page) = self.follow(start).await;
        assert_eq!(page.status(), 200, "the provider shows its login form");
        assert!(form_page.path().starts_with("/interaction/"), "{form_page}");
        let action = form_page
            .join(&format!("{}/{}", form_page.path(), form[0].0))
            .unwrap();
        let submitted = self.browser.post(action).form(&form[1..]).send().await.unwrap();
        let (app_url, _) = self.follow(submitted).await;
        app_url
    }

    async fn redeem(&self, server: &TestServer, code: &str, verifier: &str) -> reqwest::Response {
        self.browser
            .post(server.url("/v1/auth/token"))
            .json(&json!({"grant_type": "authorization_code", "code": code, "code_verifier": verifier}))
            .send()
            .await
            .unwrap()
    }
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn cie_login_ends_at_the_app_custom_scheme_and_yields_tokens() {
    let (server, _cie, _spid) = server_with_providers().await;
    // A role granted before the first login applies to it.
    store::grant_role(
        &server.state.db,
        GENOVA_OPERATOR,
        "operator:010025:permits",
        Some("010025"),
        "test",
    )
    .await
    .unwrap();
    let app = App::new();
    let form = [
        ("login", ""),
        ("fiscal_code", GENOVA_OPERATOR),
        ("given_name", "Giuseppe"),
        ("family_name", "Verdi"),
    ];
    let landing = app.log_in_at_provider(&server, "cie", &form).await;
    assert_eq!(
        format!("{}://{}", landing.scheme(), landing.host_str().unwrap()),
        APP_REDIRECT
    );
    assert_eq!(query(&landing, "state").as_deref(), Some("app-state-42"));
    let code = query(&landing, "code").expect("one-time code for the app");

    let response = app.redeem(&server, &code, &app.verifier).await;
    assert_eq!(response.status(), 200);
    let pair: TokenPair = response.json().await.unwrap();
    let me: Me = app
        .browser
        .get(server.url("/v1/me"))
        .bearer_auth(&pair.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.fiscal_code, GENOVA_OPERATOR, "TINIT- prefix stripped");
    assert_eq!(
        (me.given_name.as_deref(), me.family_name.as_deref()),
        (Some("Giuseppe"), Some("Verdi"))
    );
    assert_eq!(me.roles, vec!["citizen", "operator:010025:permits"]);

    // The code is single-use.
    let replay = app.redeem(&server, &code, &app.verifier).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn spid_claim_without_prefix_is_accepted() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    let landing = app
        .log_in_at_provider(&server, "spid", &[("login", ""), ("fiscal_code", CITIZEN)])
        .await;
    let code = query(&landing, "code").expect("code");
    let pair: TokenPair = app
        .redeem(&server, &code, &app.verifier)
        .await
        .json()
        .await
        .unwrap();
    let me: Me = app
        .browser
        .get(server.url("/v1/me"))
        .bearer_auth(&pair.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.fiscal_code, CITIZEN);
    assert_eq!(me.roles, vec!["citizen"]);
    server.stop().await;
}

#[tokio::test]
async fn the_code_is_bound_to_the_apps_pkce_verifier() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    let landing = app
        .log_in_at_provider(&server, "cie", &[("login", ""), ("fiscal_code", CITIZEN)])
        .await;
    let code = query(&landing, "code").unwrap();
    let stolen = app.redeem(&server, &code, &"x".repeat(64)).await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
    let problem: Problem = stolen.json().await.unwrap();
    assert_eq!(problem.code, "invalid-grant");
    // A failed redemption burns the code: the attacker's attempt does not leave it usable.
    assert_eq!(
        app.redeem(&server, &code, &app.verifier).await.status(),
        StatusCode::BAD_REQUEST
    );
    server.stop().await;
}

#[tokio::test]
async fn an_aborted_login_returns_to_the_app_with_an_error() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    let landing = app.log_in_at_provider(&server, "cie", &[("abort", "")]).await;
    assert_eq!(query(&landing, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&landing, "state").as_deref(), Some("app-state-42"));
    assert!(query(&landing, "code").is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_forged_or_replayed_callback_is_refused() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    // Run a real login up to the provider's redirect back to the server, and stop there.
    let start = app
        .browser
        .get(app.login_url(&server, "cie"))
        .send()
        .await
        .unwrap();
    let (form_page, _) = app.follow(start).await;
    let submitted = app
        .browser
        .post(form_page.join(&format!("{}/login", form_page.path())).unwrap())
        .form(&[("fiscal_code", CITIZEN)])
        .send()
        .await
        .unwrap();
    let mut response = submitted;
    let callback = loop {
        let next = response
            .url()
            .join(response.headers()["location"].to_str().unwrap())
            .unwrap();
        if next.path().ends_with("/callback") {
            break next;
        }
        response = app.browser.get(next).send().await.unwrap();
    };
    let mut forged = callback.clone();
    let pairs: Vec<(String, String)> = callback
        .query_pairs()
        .map(|(k, v)| {
            let value = if k == "state" {
                "forged".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), value)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = app.browser.get(forged).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Problem>().await.unwrap().code, "login-failed");
    // The genuine callback works once, and only once.
    let genuine = app.browser.get(callback.clone()).send().await.unwrap();
    assert_eq!(genuine.status(), StatusCode::SEE_OTHER);
    assert!(
        genuine.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(APP_REDIRECT)
    );
    let replayed = app.browser.get(callback).send().await.unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn login_start_validates_provider_redirect_and_pkce() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    let challenge = tokens::pkce_challenge(&app.verifier);
    let cases = [
        (
            format!(
                "/v1/auth/oidc/nope/login?redirect_uri={APP_REDIRECT}&code_challenge={challenge}&code_challenge_method=S256"
            ),
            404,
            "unknown-provider",
        ),
        (
            format!(
                "/v1/auth/oidc/cie/login?redirect_uri=https://evil.example/&code_challenge={challenge}&code_challenge_method=S256"
            ),
            400,
            "redirect-uri-not-allowed",
        ),
        (
            format!(
                "/v1/auth/oidc/cie/login?redirect_uri={APP_REDIRECT}&code_challenge=short&code_challenge_method=S256"
            ),
            422,
            "validation",
        ),
        (
            format!(
                "/v1/auth/oidc/cie/login?redirect_uri={APP_REDIRECT}&code_challenge={challenge}&code_challenge_method=plain"
            ),
            422,
            "validation",
        ),
        (
            format!("/v1/auth/oidc/cie/login?redirect_uri={APP_REDIRECT}"),
            422,
            "validation",
        ),
    ];
    for (path, status, code) in cases {
        let response = app.browser.get(server.url(&path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(response.json::<Problem>().await.unwrap().code, code, "{path}");
    }
    let providers: serde_json::Value = app
        .browser
        .get(server.url("/v1/auth/providers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        providers["items"],
        json!([{"id": "cie", "display_name": "CIE"}, {"id": "spid", "display_name": "SPID"}])
    );
    server.stop().await;
}

#[tokio::test]
async fn a_provider_that_is_down_gives_502_not_500() {
    let mut prepared = Prepared::new().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_issuer = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    prepared
        .config
        .auth
        .providers
        .insert("cie".into(), provider_config("CIE", &dead_issuer));
    let server = prepared.start().await;
    let app = App::new();
    let response = app
        .browser
        .get(app.login_url(&server, "cie"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        response.json::<Problem>().await.unwrap().code,
        "provider-unavailable"
    );
    server.stop().await;
}

/// The web app logs in through the same flow as an app: its own PKCE pair and state in a
/// cookie, the provider's login, back to `/login/done`, and the session cookie opens the
/// personal area of the person who logged in; a callback with another state starts nothing.
#[tokio::test]
async fn the_web_app_logs_in_through_the_provider_and_keeps_a_session() {
    let (server, _cie, _spid) = server_with_providers().await;
    let app = App::new();
    let start = app
        .browser
        .get(server.url("/login/start?provider=cie&next=%2Fme"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let login_cookie = start.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        login_cookie.starts_with("sportello_login=") && login_cookie.contains("HttpOnly"),
        "{login_cookie}"
    );
    let (form_page, page) = app.follow(start).await;
    assert_eq!(page.status(), 200, "the provider shows its login form");
    let action = form_page.join(&format!("{}/login", form_page.path())).unwrap();
    let form = [
        ("fiscal_code", CITIZEN),
        ("given_name", "Mario"),
        ("family_name", "Rossi"),
    ];
    let submitted = app.browser.post(action).form(&form).send().await.unwrap();
    let (landing, page) = app.follow(submitted).await;
    assert_eq!(landing.path(), "/me", "back to the page asked, signed in");
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(CITIZEN) && html.contains("Mario Rossi"), "{html}");

    // A way back that is not this browser's login (another state, no login cookie) is refused.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/login/done?code=abc&state=xyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(
        forged
            .headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().starts_with("sportello_session="))
    );
    server.stop().await;
}
