//! A search as the API takes it (core's `CatalogQuery`), validated, with its page cursor.

use sha2::{Digest, Sha256};
use sportello_core::api::{self, CatalogSort};
use sportello_core::catalog::record::Format;
use sportello_core::geo::Coordinates;

use crate::catalog::CatalogError;
use crate::pagination::Cursor;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Largest page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset a cursor may reach (deep paging costs the index linearly).
const MAX_OFFSET: usize = 10_000;
/// Largest search radius.
const MAX_RADIUS_KM: f64 = 200.0;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Year,
    Distance,
}

/// A validated search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub q: String,
    pub municipality: Option<String>,
    pub library: Option<String>,
    pub format: Option<Format>,
    pub language: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub available: bool,
    pub near: Option<Coordinates>,
    pub radius_km: Option<f64>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    fingerprint: String,
}

impl SearchRequest {
    /// Validates the query string (core's `CatalogQuery`, which the mobile client also sends).
    #[allow(clippy::too_many_lines, reason = "one check per parameter, in order")]
    pub fn parse(params: api::CatalogQuery) -> Result<Self, CatalogError> {
        let q = params.q.unwrap_or_default().trim().to_owned();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(CatalogError::invalid(
                "q",
                format!("La ricerca può avere al massimo {MAX_QUERY_CHARS} caratteri."),
                format!("The query may have at most {MAX_QUERY_CHARS} characters."),
            ));
        }
        let near = params.near.map(Coordinates::try_from).transpose().map_err(|e| {
            CatalogError::invalid(
                "near",
                format!("Posizione non valida: {e}"),
                format!("Invalid position: {e}"),
            )
        })?;
        let radius_km = match params.radius_km {
            Some(r) if !(r.is_finite() && r > 0.0 && r <= MAX_RADIUS_KM) => {
                return Err(CatalogError::invalid(
                    "radius_km",
                    format!("Il raggio deve essere tra 0 e {MAX_RADIUS_KM} km."),
                    format!("The radius must be between 0 and {MAX_RADIUS_KM} km."),
                ));
            }
            Some(_) if near.is_none() => {
                return Err(CatalogError::invalid(
                    "radius_km",
                    "Il raggio richiede `near`.",
                    "A radius needs `near`.",
                ));
            }
            other => other,
        };
        // A format or sort that is not one of the names is refused by the query's extractor.
        let format = params.format.map(Format::from);
        if let Some(language) = &params.language
            && !(language.len() == 3 && language.bytes().all(|b| b.is_ascii_lowercase()))
        {
            return Err(CatalogError::invalid(
                "language",
                "Lingua: codice ISO 639-2 di tre lettere (ita).",
                "Language: three-letter ISO 639-2 code (ita).",
            ));
        }
        if let Some(municipality) = &params.municipality {
            sportello_core::tenant::IstatCode::parse(municipality).map_err(|_| {
                CatalogError::invalid(
                    "municipality",
                    "Codice ISTAT di sei cifre.",
                    "Six-digit ISTAT code.",
                )
            })?;
        }
        if params.library.as_ref().is_some_and(|l| l.len() > 64) {
            return Err(CatalogError::invalid(
                "library",
                "Biblioteca sconosciuta.",
                "Unknown library.",
            ));
        }
        for (name, year) in [("year_from", params.year_from), ("year_to", params.year_to)] {
            if year.is_some_and(|y| !(0..=3000).contains(&y)) {
                return Err(CatalogError::invalid(
                    name,
                    "Anno tra 0 e 3000.",
                    "Year between 0 and 3000.",
                ));
            }
        }
        if let (Some(from), Some(to)) = (params.year_from, params.year_to)
            && from > to
        {
            return Err(CatalogError::invalid(
                "year_from",
                "year_from è dopo year_to.",
                "year_from is after year_to.",
            ));
        }
        let sort = match params.sort {
            None if q.is_empty() => Sort::Year,
            None | Some(CatalogSort::Relevance) => Sort::Relevance,
            Some(CatalogSort::Year) => Sort::Year,
            Some(CatalogSort::Distance) if near.is_some() => Sort::Distance,
            Some(CatalogSort::Distance) => {
                return Err(CatalogError::invalid(
                    "sort",
                    "L'ordine per distanza richiede `near`.",
                    "Sorting by distance needs `near`.",
                ));
            }
        };
        let limit = params
            .limit
            .map_or(20, |limit| usize::try_from(limit).unwrap_or(usize::MAX));
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(CatalogError::invalid(
                "limit",
                format!("Da 1 a {MAX_LIMIT} risultati per pagina."),
                format!("From 1 to {MAX_LIMIT} results per page."),
            ));
        }
        let fingerprint = {
            let key = format!(
                "{q}|{:?}|{:?}|{format:?}|{:?}|{:?}|{:?}|{:?}|{near:?}|{radius_km:?}|{sort:?}",
                params.municipality,
                params.library,
                params.language,
                params.year_from,
                params.year_to,
                params.available
            );
            let digest = Sha256::digest(key.as_bytes());
            hex::encode(&digest[..6])
        };
        let offset = match &params.cursor {
            None => 0,
            Some(cursor) => offset_of(cursor, &fingerprint).ok_or_else(|| {
                CatalogError::invalid(
                    "cursor",
                    "Cursore non valido o di un'altra ricerca.",
                    "Invalid cursor, or from another search.",
                )
            })?,
        };
        Ok(Self {
            q,
            municipality: params.municipality,
            library: params.library,
            format,
            language: params.language,
            year_from: params.year_from,
            year_to: params.year_to,
            available: params.available.unwrap_or(false),
            near,
            radius_km,
            sort,
            offset,
            limit,
            fingerprint,
        })
    }

    pub(super) fn live_filtering(&self) -> bool {
        self.available || self.radius_km.is_some() || self.sort == Sort::Distance
    }

    /// The cursor of the page starting at `offset` of this search (none past the deepest
    /// offset): the search's fingerprint is its key, so it leads nowhere in another search.
    pub(super) fn cursor(&self, offset: usize) -> Option<String> {
        (offset <= MAX_OFFSET).then(|| Cursor::new(&self.fingerprint, offset.to_string()).encode())
    }
}

/// The offset a cursor of this search (its `fingerprint`) leads to.
fn offset_of(cursor: &str, fingerprint: &str) -> Option<usize> {
    let cursor = Cursor::decode(cursor).ok()?;
    let offset: usize = cursor.id.parse().ok()?;
    (cursor.key == fingerprint && offset <= MAX_OFFSET).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(params: api::CatalogQuery) -> Result<SearchRequest, CatalogError> {
        SearchRequest::parse(params)
    }

    #[test]
    fn bad_parameters_are_named() {
        let field = |params: api::CatalogQuery| match parse(params) {
            Err(CatalogError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(api::CatalogQuery {
                q: Some("x".repeat(10_000)),
                ..Default::default()
            }),
            "q"
        );
        assert_eq!(
            field(api::CatalogQuery {
                near: Some(api::Coordinates { lat: 91.0, lon: 0.0 }),
                ..Default::default()
            }),
            "near"
        );
        assert_eq!(
            field(api::CatalogQuery {
                radius_km: Some(5.0),
                ..Default::default()
            }),
            "radius_km"
        );
        assert_eq!(
            field(api::CatalogQuery {
                near: Some(api::Coordinates { lat: 44.4, lon: 8.9 }),
                radius_km: Some(1e9),
                ..Default::default()
            }),
            "radius_km"
        );
        assert_eq!(
            field(api::CatalogQuery {
                sort: Some(CatalogSort::Distance),
                ..Default::default()
            }),
            "sort"
        );
        assert_eq!(
            field(api::CatalogQuery {
                limit: Some(0),
                ..Default::default()
            }),
            "limit"
        );
        assert_eq!(
            field(api::CatalogQuery {
                cursor: Some("!!".into()),
                ..Default::default()
            }),
            "cursor"
        );
        assert_eq!(
            field(api::CatalogQuery {
                year_from: Some(2000),
                year_to: Some(1990),
                ..Default::default()
            }),
            "year_from"
        );
    }

    #[test]
    fn cursors_belong_to_their_search() {
        let first = parse(api::CatalogQuery {
            q: Some("asimov".into()),
            ..Default::default()
        })
        .unwrap();
        let cursor = first.cursor(20).unwrap();
        let second = parse(api::CatalogQuery {
            q: Some("asimov".into()),
            cursor: Some(cursor.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(second.offset, 20);
        assert!(
            parse(api::CatalogQuery {
                q: Some("eco".into()),
                cursor: Some(cursor),
                ..Default::default()
            })
            .is_err()
        );
    }
}
