//! Login and logout in the web app. The web app is one more app of the server's login flow
//! (docs/identity.md): it starts a login at an identity provider (SPID, CIE, OpenID Connect)
//! with its own PKCE pair and state, kept in a short-lived cookie, and comes back to
//! `/login/done` (an app redirect URI the identity service always accepts), where it redeems
//! the one-time code like an app and keeps the session in its cookie ([`super::session`]).
//! With `--dev-auth` the login page also lists the demo people to pick.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use sportello_core::api;

use super::i18n::citizen as words;
use super::session::{
    self, CSRF_COOKIE, CSRF_FIELD, Citizen, LOGIN_COOKIE, SESSION_COOKIE, clear_cookie, cookie, set_cookie,
};
use super::{PageRequest, i18n};
use crate::AppState;
use crate::demo::DEMO_PEOPLE;
use crate::http::problem::{ApiError, Message};
use crate::identity::AppLogin;
use crate::identity::tokens::{pkce_challenge, random_secret};

/// The query of the login page and of a login's start.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    /// The page to go back to.
    next: Option<String>,
    /// A generic provider's id, or a SPID/CIE provider's entity id.
    provider: Option<String>,
    /// `spid` or `cie` for a provider of a federation.
    federation: Option<String>,
}

/// `GET /login`: the identity providers, and the demo people with `--dev-auth`.
pub async fn page(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let page = page.citizen();
    let next = session::safe_next(query.next.as_deref());
    let providers = state.identity.providers().await;
    let secure = session::secure(&state);
    let (form_secret, new_secret) = match cookie(page.headers(), CSRF_COOKIE) {
        Some(secret) => (secret, false),
        None => (random_secret(), true),
    };
    let start = |provider: &str, federation: Option<&str>| {
        let mut url = form_urlencoded::Serializer::new(String::new());
        url.append_pair("provider", provider);
        if let Some(federation) = federation {
            url.append_pair("federation", federation);
        }
        url.append_pair("next", &next);
        format!("/login/start?{}", url.finish())
    };
    let body = html! {
        h1 { (page.w(&words::LOGIN_TITLE)) }
        p.lead { (page.w(&words::LOGIN_INTRO)) }
        @if !providers.federated.is_empty() || !providers.items.is_empty() {
            ul.login-providers {
                @for provider in &providers.federated {
                    li { a.btn.btn-primary href=(start(&provider.entity_id, Some(&provider.federation))) {
                        (provider.federation.to_uppercase()) ": " (provider.name)
                    } }
                }
                @for provider in &providers.items {
                    li { a.btn.btn-primary href=(start(&provider.id, None)) { (provider.display_name) } }
                }
            }
        }
        @if providers.dev_login {
            h2.h4.mt-4 { (page.w(&words::DEMO_PEOPLE)) }
            form.filters method="post" action="/login/dev" {
                input type="hidden" name=(CSRF_FIELD) value=(session::csrf_token(&form_secret));
                input type="hidden" name="next" value=(next);
                fieldset {
                    legend.h6 { (page.w(&words::PICK_PERSON)) }
                    @for (index, (fiscal_code, given, family, _)) in DEMO_PEOPLE.iter().enumerate() {
                        div.form-check {
                            input.form-check-input type="radio" name="fiscal_code" value=(fiscal_code)
                                id={ "person-" (index) } checked[index == 0];
                            label.form-check-label for={ "person-" (index) } { (given) " " (family) " (" (fiscal_code) ")" }
                        }
                    }
                }
                button.btn.btn-primary type="submit" { (page.t(&i18n::LOGIN)) }
            }
        }
        @if providers.federated.is_empty() && providers.items.is_empty() && !providers.dev_login {
            p.alert.alert-info { (page.w(&words::NO_PROVIDERS)) }
        }
    };
    let mut response = page.render(page.w(&words::LOGIN_TITLE), Ok(body));
    if new_secret {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &form_secret, 86_400, secure),
        );
    }
    response
}

/// `GET /login/start`: to the identity provider, with this login's state and PKCE verifier
/// in a cookie for its way back.
pub async fn start(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let page = page.citizen();
    let Some(provider) = query.provider.as_deref().filter(|p| !p.is_empty()) else {
        return page.error(&ApiError::field(
            "provider",
            Message::new("Scegli un modo di accesso.", "Choose a way to log in."),
        ));
    };
    let next = session::safe_next(query.next.as_deref());
    let login_state = random_secret();
    let verifier = random_secret();
    let app = AppLogin {
        redirect_uri: format!("{}{}", state.config.public_url(), crate::identity::WEB_LOGIN_DONE),
        code_challenge: pkce_challenge(&verifier),
        state: Some(login_state.clone()),
    };
    let begun = match query.federation.as_deref() {
        Some(federation) => {
            state
                .identity
                .begin_federated_login(federation, provider, None, app)
                .await
        }
        None => state.identity.begin_login(provider, app).await,
    };
    match begun {
        Ok(url) => {
            let mut response = Redirect::to(url.as_str()).into_response();
            let value = format!("{login_state}|{verifier}|{next}");
            let ttl = state.config.auth.login_ttl_secs;
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, &value, ttl, session::secure(&state)),
            );
            response
        }
        Err(error) => page.error(&error.into()),
    }
}

/// The query the login flow comes back with.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /login/done`: the one-time code redeemed with this login's verifier; the session
/// cookie set; back to the page the person was going to.
pub async fn done(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<DoneQuery>,
) -> Response {
    let page = page.citizen();
    let secure = session::secure(&state);
    let kept = cookie(page.headers(), LOGIN_COOKIE);
    let mut parts = kept.as_deref().unwrap_or_default().splitn(3, '|');
    let (Some(login_state), Some(verifier), Some(next)) = (parts.next(), parts.next(), parts.next()) else {
        return login_failed(&page, secure);
    };
    if query.error.is_some() || query.state.as_deref() != Some(login_state) {
        return login_failed(&page, secure);
    }
    let Some(code) = query.code else {
        return login_failed(&page, secure);
    };
    let request = api::TokenRequest::AuthorizationCode {
        code,
        code_verifier: verifier.to_owned(),
    };
    match state.identity.exchange(request).await {
        Ok(pair) => signed_in(&pair, &session::safe_next(Some(next)), secure),
        Err(_) => login_failed(&page, secure),
    }
}

/// The answer that starts a session: its cookie, and on to `next`.
fn signed_in(pair: &api::TokenPair, next: &str, secure: bool) -> Response {
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &pair.refresh_token,
            pair.refresh_expires_in,
            secure,
        ),
    );
    headers.append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE, secure));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn login_failed(page: &PageRequest, secure: bool) -> Response {
    let error = ApiError::problem(
        axum::http::StatusCode::BAD_REQUEST,
        "login-failed",
        Message::new("Accesso non riuscito", "Login failed"),
        Message::new(
            "L'accesso non è stato completato. Riprova dalla pagina di accesso.",
            "The login was not completed. Try again from the login page.",
        ),
    );
    let mut response = page.error(&error);
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(LOGIN_COOKIE, secure));
    response
}

/// The demo login form.
#[derive(Debug, Deserialize)]
pub struct DevLoginForm {
    csrf: Option<String>,
    fiscal_code: String,
    next: Option<String>,
}

/// `POST /login/dev`: with `--dev-auth`, a session for a demo person (with the roles the demo
/// gives them), as `POST /v1/auth/dev-login` gives an app.
pub async fn dev(
    page: PageRequest,
    State(state): State<AppState>,
    Form(form): Form<DevLoginForm>,
) -> Response {
    let page = page.citizen();
    let secret = cookie(page.headers(), CSRF_COOKIE).unwrap_or_default();
    if secret.is_empty() || !session::csrf_matches(&secret, form.csrf.as_deref()) {
        return page.error(&session::csrf_refused());
    }
    let roles = DEMO_PEOPLE
        .iter()
        .find(|(fiscal_code, ..)| *fiscal_code == form.fiscal_code)
        .map(|(.., roles)| roles.iter().map(|r| (*r).to_owned()).collect())
        .unwrap_or_default();
    let request = api::DevLoginRequest {
        fiscal_code: form.fiscal_code,
        roles,
    };
    match state.identity.dev_login(request).await {
        Ok(pair) => signed_in(
            &pair,
            &session::safe_next(form.next.as_deref()),
            session::secure(&state),
        ),
        Err(error) => page.error(&error.into()),
    }
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// `POST /logout`: the session ended (at the identity provider too, after SPID/CIE), its
/// cookie removed.
pub async fn logout(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<CsrfForm>,
) -> Response {
    let page = page.citizen();
    if let Err(error) = citizen.check_csrf(form.csrf.as_deref()) {
        return page.error(&error);
    }
    if let Err(error) = state.identity.logout(citizen.secret()).await {
        return page.error(&error.into());
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(SESSION_COOKIE, session::secure(&state)),
    );
    response
}
