//! The libraries pages: the libraries near the browser's position or of a municipality, which
//! are open now and their hours; one library's page.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sportello_core::api;

use super::events::municipality_name;
use super::layout::{self, icon_svg};
use super::{PageRequest, i18n};
use crate::AppState;
use crate::catalog::LIBRARY_LIST_LIMIT;
use crate::catalog::http::parse_near;
use crate::http::problem::ApiError;

/// The query of `/libraries`.
#[derive(Debug, Default, Deserialize)]
pub struct LibrariesPageQuery {
    municipality: Option<String>,
    near: Option<String>,
    /// Any value: only the libraries open now.
    open: Option<String>,
}

/// `GET /libraries`.
pub async fn list(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<LibrariesPageQuery>,
) -> Response {
    let result = async {
        let municipality = super::municipality_param(&state, query.municipality.as_deref())?;
        let near = parse_near(query.near.as_deref().filter(|n| !n.is_empty()))?;
        let limit = usize::try_from(LIBRARY_LIST_LIMIT).unwrap_or(500);
        let mut libraries = state
            .catalog
            .list_libraries(municipality.as_deref(), near, limit)
            .await?;
        let only_open = query.open.as_deref().is_some_and(|o| !o.is_empty());
        if only_open {
            libraries.retain(|l| l.open_now);
        }
        Ok::<_, ApiError>(list_body(
            &page,
            &state,
            &query,
            municipality.as_deref(),
            only_open,
            &libraries,
        ))
    }
    .await;
    page.render(page.t(&i18n::LIBRARIES), result)
}

fn list_body(
    page: &PageRequest,
    state: &AppState,
    query: &LibrariesPageQuery,
    municipality: Option<&str>,
    only_open: bool,
    libraries: &[api::Library],
) -> Markup {
    let near = query.near.as_deref().filter(|n| !n.is_empty());
    html! {
        h1 { (page.t(&i18n::LIBRARIES)) }
        form.filters.mb-4 method="get" action="/libraries" {
            @if let Some(near) = near {
                input type="hidden" name="near" value=(near);
            } @else {
                (layout::municipality_picker(page, state, municipality))
            }
            div.form-check {
                input.form-check-input #open type="checkbox" name="open" value="1" checked[only_open];
                label.form-check-label for="open" { (page.t(&i18n::ONLY_OPEN)) }
            }
            button.btn.btn-primary type="submit" { (page.t(&i18n::SHOW)) }
            (layout::near_button(page))
        }
        @if near.is_some() {
            p.meta { (icon_svg("it-map-marker")) " " (page.t(&i18n::LOCATION_USED)) }
        }
        @if libraries.is_empty() {
            p.alert.alert-info { (page.t(&i18n::NO_LIBRARIES)) }
        } @else {
            ul.result-list {
                @for library in libraries {
                    li {
                        h2 { a href={ "/libraries/" (library.id) } { (library.name) } }
                        p.meta {
                            (icon_svg("it-map-marker")) " " (library.address) ", " (municipality_name(state, &library.municipality))
                            @if let Some(km) = library.distance_km { " · " (layout::distance(km)) " " (page.t(&i18n::AWAY)) }
                        }
                        p.meta { (open_state(page, library)) }
                    }
                }
            }
        }
    }
}

/// "Open now, closes 19:00" or "Closed now, opens Mon 09:00".
fn open_state(page: &PageRequest, library: &api::Library) -> Markup {
    html! {
        @if library.open_now {
            strong.text-success { (page.t(&i18n::OPEN_NOW)) }
            @if let Some(closes) = &library.closes_at { " · " (page.t(&i18n::CLOSES_AT)) " " (layout::time_or_date(page.lang, closes)) }
        } @else {
            strong { (page.t(&i18n::CLOSED_NOW)) }
            @if let Some(opens) = &library.next_opening { " · " (page.t(&i18n::OPENS_AT)) " " (layout::time_or_date(page.lang, opens)) }
        }
    }
}

/// `GET /libraries/{id}`.
pub async fn page(page: PageRequest, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.catalog.library(&id).await {
        Ok(library) => page.render(&library.name.clone(), Ok(library_body(&page, &state, &library))),
        Err(error) => page.error(&error.into()),
    }
}

fn library_body(page: &PageRequest, state: &AppState, library: &api::Library) -> Markup {
    html! {
        h1 { (library.name) }
        p.lead { (library.address) ", " (library.postal_code) " " (municipality_name(state, &library.municipality)) }
        p { (open_state(page, library)) }
        @if library.demo { p.badge.bg-secondary { (page.t(&i18n::DEMO)) } }
        div.row {
            div.col-12.col-lg-6 {
                h2.h4 { (page.t(&i18n::HOURS)) }
                // OpenStreetMap's syntax (`Mo-Fr 08:30-19:00`), as the library gives it.
                p { code lang="en" { (library.opening_hours) } }
                @if !library.closures.is_empty() {
                    h3.h5 { (page.t(&i18n::CLOSURES)) }
                    ul { @for closure in &library.closures { li { code { (closure) } } } }
                }
                @if !library.services.is_empty() {
                    h2.h4 { (page.t(&i18n::SERVICES)) }
                    ul { @for service in &library.services { li { (service) } } }
                }
            }
            div.col-12.col-lg-6 {
                h2.h4 { (page.t(&i18n::CONTACTS)) }
                ul.list-unstyled {
                    @if let Some(phone) = &library.phone { li { (page.t(&i18n::PHONE)) ": " a href={ "tel:" (phone) } { (phone) } } }
                    @if let Some(email) = &library.email { li { "E-mail: " a href={ "mailto:" (email) } { (email) } } }
                    @if let Some(site) = &library.website { li { a href=(site) rel="noopener" { (page.t(&i18n::WEBSITE)) } } }
                }
                form.filters method="get" action="/catalogue" {
                    input type="hidden" name="library" value=(library.id);
                    div.form-group {
                        label for="q" { (page.t(&i18n::CATALOGUE_WORDS)) }
                        input.form-control #q type="search" name="q";
                    }
                    button.btn.btn-primary type="submit" { (page.t(&i18n::SEARCH)) }
                }
            }
        }
    }
}
