//! The catalogue search page: the metropolitan catalogue with each edition's copies on the
//! shelf and, near the browser's position, the nearest library that has one.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use sportello_core::api;

use super::events::next_page;
use super::layout::{self, icon_svg};
use super::{PageRequest, i18n};
use crate::AppState;
use crate::catalog::http::parse_near;
use crate::catalog::search::SearchRequest;
use crate::http::problem::ApiError;

/// The query of `/catalogue`.
#[derive(Debug, Default, Deserialize)]
pub struct CataloguePageQuery {
    q: Option<String>,
    near: Option<String>,
    municipality: Option<String>,
    library: Option<String>,
    /// Any value: only editions with a copy on the shelf.
    available: Option<String>,
    cursor: Option<String>,
}

fn given(value: Option<&String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `GET /catalogue`: the form, and the results once there is something to search.
pub async fn search(
    page: PageRequest,
    State(state): State<AppState>,
    Query(query): Query<CataloguePageQuery>,
) -> Response {
    let result = async {
        let near = parse_near(query.near.as_deref().filter(|n| !n.is_empty()))?;
        let available = query.available.as_deref().is_some_and(|a| !a.is_empty());
        let words = given(query.q.as_ref());
        let searched = words.is_some() || given(query.library.as_ref()).is_some();
        let found = if searched {
            let params = api::CatalogQuery {
                q: words,
                near: near.map(api::Coordinates::from),
                municipality: given(query.municipality.as_ref()),
                library: given(query.library.as_ref()),
                available: available.then_some(true),
                cursor: given(query.cursor.as_ref()),
                ..api::CatalogQuery::default()
            };
            let request = SearchRequest::parse(params)?;
            Some(state.catalog.search(&request).await?)
        } else {
            None
        };
        Ok::<_, ApiError>(body(&page, &state, &query, available, found.as_ref()))
    }
    .await;
    page.render(page.t(&i18n::CATALOGUE), result)
}

fn body(
    page: &PageRequest,
    state: &AppState,
    query: &CataloguePageQuery,
    available: bool,
    found: Option<&api::SearchResults>,
) -> Markup {
    let near = query.near.as_deref().filter(|n| !n.is_empty());
    html! {
        h1 { (page.t(&i18n::CATALOGUE)) }
        form.filters.mb-4 method="get" action="/catalogue" role="search" {
            div.form-group {
                label for="q" { (page.t(&i18n::CATALOGUE_WORDS)) }
                input.form-control #q type="search" name="q" value=[query.q.as_deref()] maxlength="200";
            }
            @if let Some(library) = given(query.library.as_ref()) {
                input type="hidden" name="library" value=(library);
            }
            @if let Some(near) = near {
                input type="hidden" name="near" value=(near);
            } @else {
                (layout::municipality_picker(page, state, query.municipality.as_deref()))
            }
            div.form-check {
                input.form-check-input #available type="checkbox" name="available" value="1" checked[available];
                label.form-check-label for="available" { (page.t(&i18n::ONLY_ON_SHELF)) }
            }
            button.btn.btn-primary type="submit" { (page.t(&i18n::SEARCH)) }
            (layout::near_button(page))
        }
        @if near.is_some() {
            p.meta { (icon_svg("it-map-marker")) " " (page.t(&i18n::LOCATION_USED)) }
        }
        @if let Some(found) = found {
            p { (page.t(&i18n::RESULTS)) ": " (found.total) }
            @if found.items.is_empty() {
                p.alert.alert-info { (page.t(&i18n::NO_RESULTS)) }
            }
            ul.result-list {
                @for hit in &found.items { li { (record(page, hit)) } }
            }
            @if let Some(cursor) = &found.next_cursor {
                p { a.btn.btn-outline-primary href=(next_page(page, cursor)) { (page.t(&i18n::MORE)) } }
            }
        }
    }
}

fn record(page: &PageRequest, hit: &api::SearchHit) -> Markup {
    let record = &hit.record;
    let availability = &hit.availability;
    let authors: Vec<&str> = record.authors.iter().take(3).map(|a| a.name.as_str()).collect();
    html! {
        h2 { (record.title) @if let Some(subtitle) = &record.subtitle { ": " (subtitle) } }
        p.meta {
            @if !authors.is_empty() { (authors.join("; ")) " · " }
            @if let Some(publisher) = &record.publisher { (publisher) " " }
            @if let Some(year) = record.year { (year) }
        }
        p.meta {
            (icon_svg("it-bookmark")) " "
            (availability.copies_on_shelf) "/" (availability.copies_total) " " (page.t(&i18n::ON_SHELF))
            " · " (availability.libraries) " " (page.t(&i18n::IN_LIBRARIES))
        }
        @if let Some(nearest) = &availability.nearest {
            p {
                strong { (page.t(&i18n::NEAREST_COPY)) ": " }
                a href={ "/libraries/" (nearest.library_id) } { (nearest.library_name) }
                " · " (layout::distance(nearest.distance_km))
                " · " @if nearest.open_now { (page.t(&i18n::OPEN_NOW)) } @else { (page.t(&i18n::CLOSED_NOW)) }
            }
        }
    }
}
