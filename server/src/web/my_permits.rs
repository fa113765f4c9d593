//! The citizen's permit applications: the list with the simple status, the deadline and the
//! days left; one application with its timeline, documents and fees; and, when the office has
//! asked for documents, the upload (the permits service's, with its limits) and the answer.

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sportello_core::api;
use sportello_core::tenant::IstatCode;

use super::i18n::citizen::{self as words, Words};
use super::layout::{self, icon_svg};
use super::login::CsrfForm;
use super::session::{CSRF_FIELD, Citizen};
use super::{CursorQuery, PageRequest, events::municipality_name};
use crate::AppState;
use crate::http::problem::{ApiError, Message};
use crate::permits::{PermitError, wire};

/// `GET /me/permits`.
pub async fn list(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Query(query): Query<CursorQuery>,
) -> Response {
    let page = page.citizen();
    let result = async {
        let rows = query.rows()?;
        let mine = state.permits.mine(&citizen.principal, &rows).await?;
        let found = wire::page(&mine, page.lang.as_str());
        Ok::<_, ApiError>(html! {
            h1 { (page.w(&words::MY_PERMITS)) }
            @if found.items.is_empty() {
                p.alert.alert-info { (page.w(&words::NO_PERMITS)) }
            } @else {
                ul.result-list {
                    @for permit in &found.items {
                        li {
                            h2 { a href={ "/me/permits/" (permit.id) } { (permit.procedure_name) } }
                            p.meta {
                                span.badge.bg-primary { (permit.simplified_label) }
                                @if let Some(address) = &permit.address { " · " (address) }
                                " · " (municipality_name(&state, &permit.municipality))
                            }
                            (deadline(&page, permit.deadline.as_deref(), permit.days_left))
                        }
                    }
                }
                @if let Some(cursor) = &found.next_cursor {
                    p { a.btn.btn-outline-primary href=(super::events::next_page(&page, cursor)) { (page.w(&words::MORE)) } }
                }
            }
        })
    }
    .await;
    page.render(page.w(&words::MY_PERMITS), result)
}

/// The deadline and the days left, or nothing when no clock runs.
fn deadline(page: &PageRequest, deadline: Option<&str>, days_left: Option<i64>) -> Markup {
    html! {
        @if let Some(deadline) = deadline {
            p.meta {
                (icon_svg("it-clock")) " " (page.w(&words::DEADLINE)) ": "
                time datetime=(deadline) { (layout::day(page.lang, deadline)) }
                @if let Some(days) = days_left {
                    " · " span.days-left { (days_left_text(page, days)) }
                }
            }
        }
    }
}

/// "12 days left", "last day", "3 days overdue".
pub fn days_left_text(page: &PageRequest, days: i64) -> String {
    match days {
        0 => page.w(&words::LAST_DAY).to_owned(),
        1 => page.w(&words::ONE_DAY_LEFT).to_owned(),
        d if d > 1 => format!("{d} {}", page.w(&words::DAYS_LEFT)),
        d => format!("{} {}", -d, page.w(&words::DAYS_OVERDUE)),
    }
}

/// One of the citizen's applications (as applicant or filing professional), or `NotFound`:
/// the permits officers' view of someone else's is not for these pages.
async fn mine(state: &AppState, citizen: &Citizen, id: &str, lang: &str) -> Result<api::Permit, ApiError> {
    let view = state.permits.get(&citizen.principal, id).await?;
    let permit = wire::permit(&view, lang);
    let me = citizen.principal.fiscal_code.as_str();
    if permit.applicant_fiscal_code != me && permit.professional_fiscal_code.as_deref() != Some(me) {
        return Err(PermitError::NotFound.into());
    }
    Ok(permit)
}

/// `GET /me/permits/{id}`.
pub async fn page(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
) -> Response {
    let page = page.citizen();
    let result = async {
        let permit = mine(&state, &citizen, &id, page.lang.as_str()).await?;
        let kinds = document_kinds(&state, &permit, page.lang.as_str()).await?;
        Ok::<_, ApiError>((
            permit.procedure_name.clone(),
            permit_body(&page, &state, &citizen, &permit, &kinds),
        ))
    }
    .await;
    match result {
        Ok((title, body)) => page.render(&title, Ok(body)),
        Err(error) => page.error(&error),
    }
}

/// The documents the application's procedure takes: (code, name).
async fn document_kinds(
    state: &AppState,
    permit: &api::Permit,
    lang: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let code = IstatCode::parse(&permit.municipality).map_err(|_| ApiError::from(PermitError::NotFound))?;
    let offered = state.permits.procedures(&code).await?;
    Ok(wire::procedures(&offered, lang)
        .items
        .into_iter()
        .find(|p| p.code == permit.procedure)
        .map(|p| p.documents.into_iter().map(|d| (d.code, d.name)).collect())
        .unwrap_or_default())
}

fn permit_body(
    page: &PageRequest,
    state: &AppState,
    citizen: &Citizen,
    permit: &api::Permit,
    kinds: &[(String, String)],
) -> Markup {
    html! {
        p { a href="/me/permits" { (page.w(&words::MY_PERMITS)) } }
        h1 { (permit.procedure_name) }
        p.lead { span.badge.bg-primary #status { (permit.simplified_label) } }
        dl.notice-data {
            @if let Some(address) = &permit.address { dt { (page.w(&words::ADDRESS)) } dd { (address) } }
            dt { (page.w(&words::MUNICIPALITY)) } dd { (municipality_name(state, &permit.municipality)) }
            @if let Some(protocol) = &permit.protocol_number { dt { (page.w(&words::PROTOCOL)) } dd { (protocol) } }
        }
        (deadline(page, permit.deadline.as_deref(), permit.days_left))
        @if permit.clock_stopped { p.alert.alert-warning { (page.w(&words::CLOCK_STOPPED)) } }
        @if permit.status == "integration_requested" && !kinds.is_empty() {
            (integration_form(page, citizen, permit, kinds))
        }
        h2.h4.mt-4 { (page.w(&words::TIMELINE)) }
        ol.timeline {
            @for step in &permit.timeline {
                li {
                    time datetime=(step.at) { (layout::date_time(page.lang, &step.at)) } ": "
                    strong { (action_label(page, &step.action)) }
                    @if let Some(name) = &step.actor_name { " (" (name) ")" }
                    @if let Some(note) = &step.note { br; span.meta { (note) } }
                }
            }
        }
        h2.h4.mt-4 { (page.w(&words::DOCUMENTS)) }
        @if permit.documents.is_empty() {
            p { (page.w(&words::NO_DOCUMENTS)) }
        } @else {
            ul #documents {
                @for document in &permit.documents {
                    @let kind = kinds.iter().find(|(code, _)| *code == document.kind).map_or(document.kind.as_str(), |(_, name)| name.as_str());
                    li { (document.file_name) " · " (kind) " · " (layout::date_time(page.lang, &document.uploaded_at)) }
                }
            }
        }
        @if !permit.fees.is_empty() {
            h2.h4.mt-4 { (page.w(&words::FEES)) }
            ul {
                @for fee in &permit.fees {
                    li {
                        (fee.reason) ": " (layout::euros(fee.amount_cents))
                        @if fee.paid_at.is_some() { " · " (page.w(&words::PAID)) }
                        @else if fee.payment_position_id.is_some() { " · " a href="/me/payments" { (page.w(&words::PAY)) } }
                    }
                }
            }
        }
    }
}

/// The answer to a request for documents: upload them one by one, then send the answer.
fn integration_form(
    page: &PageRequest,
    citizen: &Citizen,
    permit: &api::Permit,
    kinds: &[(String, String)],
) -> Markup {
    let csrf = citizen.csrf();
    html! {
        section.card.card-bg.mt-3 { div.card-body {
            h2.h4 { (page.w(&words::DOCUMENTS_REQUESTED)) }
            p { (page.w(&words::DOCUMENTS_REQUESTED_TEXT)) }
            form.filters method="post" action={ "/me/permits/" (permit.id) "/documents" } enctype="multipart/form-data" {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                div.form-group {
                    label for="kind" { (page.w(&words::DOCUMENT_KIND)) }
                    select.form-select #kind name="kind" {
                        @for (code, name) in kinds { option value=(code) { (name) } }
                    }
                }
                div.form-group {
                    label for="file" { (page.w(&words::FILE)) }
                    input.form-control #file type="file" name="file" required
                        accept=".pdf,.p7m,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";
                }
                button.btn.btn-primary type="submit" { (icon_svg("it-upload")) " " (page.w(&words::UPLOAD)) }
            }
            form.mt-3 method="post" action={ "/me/permits/" (permit.id) "/submit-integration" } {
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                button.btn.btn-success type="submit" { (page.w(&words::SEND_DOCUMENTS)) }
            }
        } }
    }
}

fn action_label(page: &PageRequest, action: &str) -> String {
    let label: Option<&Words> = words::ACTIONS.iter().find(|(a, _)| *a == action).map(|(_, w)| w);
    label.map_or_else(|| action.to_owned(), |w| page.w(w).to_owned())
}

/// `POST /me/permits/{id}/documents` (multipart: `csrf`, `kind`, then `file`): the file
/// streamed to the permits service, which checks the type and the limits.
pub async fn upload(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let page = page.citizen();
    let result = async {
        let mut csrf = None;
        let mut kind = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| bad_form(&e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            match name.as_str() {
                CSRF_FIELD => csrf = Some(field.text().await.map_err(|e| bad_form(&e.body_text()))?),
                "kind" => kind = Some(field.text().await.map_err(|e| bad_form(&e.body_text()))?),
                "file" => {
                    citizen.check_csrf(csrf.as_deref())?;
                    mine(&state, &citizen, &id, page.lang.as_str()).await?;
                    let name = field.file_name().unwrap_or_default().to_owned();
                    let kind = kind.clone().unwrap_or_default();
                    let stream = Box::pin(field);
                    state
                        .permits
                        .upload(&citizen.principal, &id, &kind, &name, stream)
                        .await?;
                    return Ok(());
                }
                _ => {}
            }
        }
        citizen.check_csrf(csrf.as_deref())?;
        Err(ApiError::field(
            "file",
            Message::new("Scegli un file.", "Choose a file."),
        ))
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/me/permits/{id}#documents")).into_response(),
        Err(error) => page.error(&error),
    }
}

fn bad_form(why: &str) -> ApiError {
    ApiError::field(
        "file",
        Message::new(
            format!("Modulo non leggibile: {why}"),
            format!("Unreadable form: {why}"),
        ),
    )
}

/// `POST /me/permits/{id}/submit-integration`: the documents sent to the office, its clock
/// running again.
pub async fn submit_integration(
    page: PageRequest,
    State(state): State<AppState>,
    citizen: Citizen,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    let page = page.citizen();
    let result = async {
        citizen.check_csrf(form.csrf.as_deref())?;
        mine(&state, &citizen, &id, page.lang.as_str()).await?;
        let request = api::PermitActionRequest::default();
        state
            .permits
            .act(&citizen.principal, &id, "submit-integration", &request)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/me/permits/{id}")).into_response(),
        Err(error) => page.error(&error),
    }
}
