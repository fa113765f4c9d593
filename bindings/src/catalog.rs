//! The metropolitan library catalogue: libraries, search, a record's availability, and ranking
//! libraries nearest first on the device, so the person's location need not leave the phone.
//!
//! Two ways to get "nearest first": pass `near` to the server (`search_catalog`,
//! `record_availability`, `libraries`), which then sees the location; or fetch without it and
//! rank here (`rank_available_libraries`, `rank_hits_by_distance`, `search_nearest_on_device`).
//! Both use core's haversine distance and its nearest-first order, so they agree.

use std::time::SystemTime;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use sportello_core::api::{
    self, AvailabilitySummary, CatalogQuery, CatalogSort, Contributor, Coordinates, Facets, MaterialFormat,
    NearestCopy, RecordIdentifier,
};
use sportello_core::catalog::availability::{self, OnShelf};
use sportello_core::catalog::holdings;

use crate::client::{SportelloClient, optional_time, path_segment};
use crate::error::SportelloError;
use crate::geo::{checked, rank_by_distance};
use crate::tenant::{checked_municipality, parse_istat_code};

/// Availability requests in flight at once for `search_nearest_on_device`: enough to hide
/// latency on a phone, few enough not to look like a flood to the server's rate limits.
const AVAILABILITY_CONCURRENCY: usize = 6;

/// Where a copy is now. Not core's `holdings::CopyStatus`: the apps never see withdrawn or
/// missing copies, and a status from a newer server must degrade to `Unknown`, not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CopyStatus {
    /// On the shelf, can be borrowed.
    OnShelf,
    /// Lent out (see the due date).
    OnLoan,
    /// Travelling between libraries.
    InTransit,
    /// On the shelf, for consultation in the library only.
    ReferenceOnly,
    /// Held, but the library does not report its status (or this library version does not know
    /// the server's word for it).
    Unknown,
}

impl CopyStatus {
    /// A status string from the server.
    fn from_wire(text: &str) -> Self {
        match holdings::CopyStatus::parse(text) {
            Some(holdings::CopyStatus::OnShelf) => CopyStatus::OnShelf,
            Some(holdings::CopyStatus::OnLoan) => CopyStatus::OnLoan,
            Some(holdings::CopyStatus::InTransit) => CopyStatus::InTransit,
            Some(holdings::CopyStatus::ReferenceOnly) => CopyStatus::ReferenceOnly,
            // The server lists neither withdrawn nor missing copies; anything else is unknown.
            _ => CopyStatus::Unknown,
        }
    }
}

/// The query string of `GET /v1/catalog/search` (core's, which the server reads back), with the
/// municipality checked on the device.
fn search_params(query: &CatalogQuery) -> Result<Vec<(&'static str, String)>, SportelloError> {
    checked_municipality(query.to_params())
}

/// A library (branch) of the network. Not `api::Library`: the apps get its place as one
/// `Coordinates` and its times as times; and not named `Library`, which the generated Kotlin's
/// import of JNA's `com.sun.jna.Library` would clash with.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LibraryBranch {
    /// Stable id (`ge-berio`).
    pub id: String,
    /// ISTAT code of its municipality.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code (CAP).
    pub postal_code: String,
    /// Where it is.
    pub location: Coordinates,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Services offered (`loan`, `wifi`, `kids`, `study-room`, …).
    pub services: Vec<String>,
    /// Weekly hours, OpenStreetMap syntax (`Mo-Fr 08:30-19:00; PH off`).
    pub opening_hours: String,
    /// Dated exceptions (`2026-08-10..2026-08-23 off`).
    pub closures: Vec<String>,
    /// Open when the server answered (Europe/Rome).
    pub open_now: bool,
    /// When it closes, if open.
    pub closes_at: Option<SystemTime>,
    /// When it next opens, if closed.
    pub next_opening: Option<SystemTime>,
    /// Km from `near`, when the request gave one.
    pub distance_km: Option<f64>,
    /// Demo data: a real library, its details not yet confirmed by the library.
    pub demo: bool,
}

impl TryFrom<api::Library> for LibraryBranch {
    type Error = SportelloError;

    fn try_from(l: api::Library) -> Result<Self, Self::Error> {
        Ok(Self {
            closes_at: optional_time("closes_at", l.closes_at.as_deref())?,
            next_opening: optional_time("next_opening", l.next_opening.as_deref())?,
            id: l.id,
            municipality: l.municipality,
            name: l.name,
            address: l.address,
            postal_code: l.postal_code,
            location: Coordinates {
                lat: l.lat,
                lon: l.lon,
            },
            phone: l.phone,
            email: l.email,
            website: l.website,
            services: l.services,
            opening_hours: l.opening_hours,
            closures: l.closures,
            open_now: l.open_now,
            distance_km: l.distance_km,
            demo: l.demo,
        })
    }
}

/// One edition, merged across the libraries that hold it. Not `api::CatalogRecord`: its
/// `format` is a `MaterialFormat` for the apps (a format from a newer server is `Other`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CatalogRecord {
    /// Opaque id, for `record_availability`.
    pub id: String,
    /// Title (without the non-filing article marks of the source).
    pub title: String,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Authors and contributors.
    pub authors: Vec<Contributor>,
    /// ISBN-13s.
    pub isbns: Vec<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Year of publication.
    pub year: Option<i32>,
    /// Language, ISO 639-2.
    pub language: Option<String>,
    /// Subjects.
    pub subjects: Vec<String>,
    /// Kind of material.
    pub format: MaterialFormat,
    /// Series.
    pub series: Vec<String>,
    /// SBN BID and other identifiers.
    pub identifiers: Vec<RecordIdentifier>,
}

impl From<api::CatalogRecord> for CatalogRecord {
    fn from(r: api::CatalogRecord) -> Self {
        Self {
            format: MaterialFormat::from_wire(&r.format),
            id: r.id,
            title: r.title,
            subtitle: r.subtitle,
            authors: r.authors,
            isbns: r.isbns,
            publisher: r.publisher,
            year: r.year,
            language: r.language,
            subjects: r.subjects,
            series: r.series,
            identifiers: r.identifiers,
        }
    }
}

/// One search result. Not `api::SearchHit`: it holds the apps' `CatalogRecord`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchHit {
    /// The edition.
    pub record: CatalogRecord,
    /// Its live availability; `nearest` is set by the server when the search had `near`, or
    /// on the device by `rank_hits_by_distance`.
    pub availability: AvailabilitySummary,
}

impl From<api::SearchHit> for SearchHit {
    fn from(hit: api::SearchHit) -> Self {
        Self {
            record: hit.record.into(),
            availability: hit.availability,
        }
    }
}

/// A page of search results. Not `api::SearchResults`: it holds the apps' `SearchHit`s.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SearchPage {
    /// Matching editions (with `available` or `radius_km`, those found among the best
    /// candidates the server checks live).
    pub total: u64,
    /// This page.
    pub items: Vec<SearchHit>,
    /// Facet counts over the matching editions.
    pub facets: Facets,
    /// Pass as `cursor` for the next page; none on the last one.
    pub next_cursor: Option<String>,
}

impl From<api::SearchResults> for SearchPage {
    fn from(page: api::SearchResults) -> Self {
        Self {
            total: page.total,
            items: page.items.into_iter().map(SearchHit::from).collect(),
            facets: page.facets,
            next_cursor: page.next_cursor,
        }
    }
}

/// One copy in a library. Not `api::CopyInfo`: its status is a `CopyStatus`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CopyInfo {
    /// Barcode or inventory number.
    pub item_id: String,
    /// Shelf mark.
    pub shelf_mark: Option<String>,
    /// Where it is now.
    pub status: CopyStatus,
    /// When a lent copy is due back, `YYYY-MM-DD`.
    pub due_date: Option<String>,
}

/// A record's copies in one library, with the library's place and hours. Not
/// `api::LibraryHoldings`: the place is one `Coordinates`, the next opening a time, the copies
/// the apps' `CopyInfo`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LibraryHoldings {
    /// Library id.
    pub library_id: String,
    /// Library name.
    pub library_name: String,
    /// ISTAT code of its municipality.
    pub municipality: String,
    /// Address.
    pub address: String,
    /// Where it is.
    pub location: Coordinates,
    /// Km from the person's position: from the server with `near`, or computed on the device by
    /// `rank_available_libraries`.
    pub distance_km: Option<f64>,
    /// Open when the server answered.
    pub open_now: bool,
    /// When it next opens, if closed.
    pub next_opening: Option<SystemTime>,
    /// Copies on the shelf, to borrow.
    pub on_shelf: u32,
    /// Copies on loan.
    pub on_loan: u32,
    /// Copies in transit.
    pub in_transit: u32,
    /// Copies to read in the library only.
    pub reference_only: u32,
    /// Copies whose status the library does not report.
    pub unknown: u32,
    /// The earliest due date of a lent copy, `YYYY-MM-DD`.
    pub earliest_due: Option<String>,
    /// The copies (at most 200).
    pub copies: Vec<CopyInfo>,
}

impl OnShelf for LibraryHoldings {
    fn has_copy_on_shelf(&self) -> bool {
        self.on_shelf + self.reference_only > 0
    }
}

impl TryFrom<api::LibraryHoldings> for LibraryHoldings {
    type Error = SportelloError;

    fn try_from(h: api::LibraryHoldings) -> Result<Self, Self::Error> {
        Ok(Self {
            next_opening: optional_time("next_opening", h.next_opening.as_deref())?,
            library_id: h.library_id,
            library_name: h.library_name,
            municipality: h.municipality,
            address: h.address,
            location: Coordinates {
                lat: h.lat,
                lon: h.lon,
            },
            distance_km: h.distance_km,
            open_now: h.open_now,
            on_shelf: h.on_shelf,
            on_loan: h.on_loan,
            in_transit: h.in_transit,
            reference_only: h.reference_only,
            unknown: h.unknown,
            earliest_due: h.earliest_due,
            copies: h
                .copies
                .into_iter()
                .map(|c| CopyInfo {
                    status: CopyStatus::from_wire(&c.status),
                    item_id: c.item_id,
                    shelf_mark: c.shelf_mark,
                    due_date: c.due_date,
                })
                .collect(),
        })
    }
}

/// Where an edition's copies are, per library. Not `api::RecordAvailability`: it holds the
/// apps' `CatalogRecord` and `LibraryHoldings`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RecordAvailability {
    /// The edition.
    pub record: CatalogRecord,
    /// Per library: nearest first when asked with `near`; without it, libraries with a copy on
    /// the shelf first, then by name.
    pub libraries: Vec<LibraryHoldings>,
}

impl TryFrom<api::RecordAvailability> for RecordAvailability {
    type Error = SportelloError;

    fn try_from(a: api::RecordAvailability) -> Result<Self, Self::Error> {
        Ok(Self {
            record: a.record.into(),
            libraries: a
                .libraries
                .into_iter()
                .map(LibraryHoldings::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A point the device can measure from, or none for a library whose coordinates are unusable
/// (out of range, not finite: bad data must not become a "nearest" library).
fn location(point: Coordinates) -> Option<sportello_core::geo::Coordinates> {
    point.try_into().ok()
}

/// Ranks, on the device, the libraries with a copy on the shelf (to borrow or to read there)
/// nearest first from `origin`, with `distance_km` filled in; `limit` keeps the nearest ones.
///
/// Give it a `record_availability` fetched **without** `near`: the server then never learns
/// where the person is. Libraries at the same distance keep their order in `availability` (the
/// server's: by name). Libraries whose coordinates are unusable come last, without a distance.
/// A bad `origin` fails with `InvalidInput` (there is no server to ask).
#[uniffi::export(default(limit = None))]
pub fn rank_available_libraries(
    availability: RecordAvailability,
    origin: Coordinates,
    limit: Option<u32>,
) -> Result<Vec<LibraryHoldings>, SportelloError> {
    let origin = checked(origin)?;
    let mut libraries: Vec<LibraryHoldings> = availability
        .libraries
        .into_iter()
        .filter(OnShelf::has_copy_on_shelf)
        .collect();
    // Core's ordering, the one the server applies for `near`, so both answers agree.
    let distances = availability::nearest_first(&mut libraries, origin, |l| location(l.location));
    for (library, distance) in libraries.iter_mut().zip(distances) {
        library.distance_km = distance;
    }
    if let Some(limit) = limit {
        libraries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(libraries)
}

/// Ranks libraries (from `libraries()` without `near`) nearest first from `origin` on the
/// device, with `distance_km` filled in; libraries at unusable coordinates are left out, ties
/// keep their order, `limit` keeps the nearest ones. A bad `origin` is `InvalidInput`.
#[uniffi::export(default(limit = None))]
pub fn rank_libraries_by_distance(
    libraries: Vec<LibraryBranch>,
    origin: Coordinates,
    limit: Option<u32>,
) -> Result<Vec<LibraryBranch>, SportelloError> {
    Ok(rank_by_distance(libraries, origin, |l| l.location, limit)?
        .into_iter()
        .map(|(library, distance)| LibraryBranch {
            distance_km: Some(distance),
            ..library
        })
        .collect())
}

/// Ranks search hits on the device by their nearest copy on the shelf from `origin`: each hit's
/// `availability.nearest` is computed from the `availabilities` (the `record_availability` of
/// the hits, fetched without `near`, matched by record id), and hits are ordered nearest first.
///
/// Hits with no copy on the shelf at a usable location, or whose availability is not among
/// `availabilities`, come last with no `nearest`, in their original order; so do ties. A bad
/// `origin` fails with `InvalidInput`.
// UniFFI hands foreign lists over by value.
#[allow(clippy::needless_pass_by_value)]
#[uniffi::export]
pub fn rank_hits_by_distance(
    hits: Vec<SearchHit>,
    availabilities: Vec<RecordAvailability>,
    origin: Coordinates,
) -> Result<Vec<SearchHit>, SportelloError> {
    let from = checked(origin)?;
    let mut ranked: Vec<SearchHit> = hits
        .into_iter()
        .map(|mut hit| {
            let nearest = availabilities
                .iter()
                .find(|a| a.record.id == hit.record.id)
                .and_then(|a| {
                    // Core's choice, the server's for a search with `near`.
                    availability::nearest_on_shelf(from, &a.libraries, |l| location(l.location))
                })
                .map(|(library, distance_km)| NearestCopy {
                    library_id: library.library_id.clone(),
                    library_name: library.library_name.clone(),
                    distance_km,
                    open_now: library.open_now,
                });
            // Whatever the server said about `nearest` was for another position, or none.
            hit.availability.nearest = nearest;
            hit
        })
        .collect();
    // Stable: ties and hits without a nearest copy keep the server's order.
    ranked.sort_by(|a, b| {
        let distance = |hit: &SearchHit| hit.availability.nearest.as_ref().map(|n| n.distance_km);
        availability::nearer(distance(a), distance(b))
    });
    Ok(ranked)
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// The network's libraries, with whether they are open now: only `municipality`'s (ISTAT
    /// code, checked on the device) if given; nearest first with distances if `near` is given
    /// (the server sees it: to keep the position on the phone, list without it and rank with
    /// `rank_libraries_by_distance`). `limit` 1 to 500.
    #[uniffi::method(default(municipality = None, near = None, limit = None))]
    pub async fn libraries(
        &self,
        municipality: Option<String>,
        near: Option<Coordinates>,
        limit: Option<u32>,
    ) -> Result<Vec<LibraryBranch>, SportelloError> {
        let mut query = Vec::new();
        if let Some(municipality) = &municipality {
            query.push(("municipality", parse_istat_code(municipality)?));
        }
        if let Some(near) = near {
            query.push(("near", near.to_param()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let list: api::LibraryList = self
            .send(self.request(Method::GET, "v1/libraries")?.query(&query))
            .await?;
        list.items.into_iter().map(LibraryBranch::try_from).collect()
    }

    /// One library by id.
    pub async fn library(&self, id: String) -> Result<LibraryBranch, SportelloError> {
        let path = format!("v1/libraries/{}", path_segment("id", &id)?);
        let library: api::Library = self.send(self.request(Method::GET, &path)?).await?;
        library.try_into()
    }

    /// Searches the metropolitan catalogue; each hit carries its live availability. See
    /// `CatalogQuery` for the filters; an unknown library or a cursor from another search are
    /// `Validation` errors, as are a bad position or radius.
    pub async fn search_catalog(&self, query: CatalogQuery) -> Result<SearchPage, SportelloError> {
        let params = search_params(&query)?;
        let page: api::SearchResults = self
            .send(self.request(Method::GET, "v1/catalog/search")?.query(&params))
            .await?;
        Ok(page.into())
    }

    /// One edition by id.
    pub async fn catalog_record(&self, id: String) -> Result<CatalogRecord, SportelloError> {
        let path = format!("v1/catalog/records/{}", path_segment("id", &id)?);
        let record: api::CatalogRecord = self.send(self.request(Method::GET, &path)?).await?;
        Ok(record.into())
    }

    /// Where an edition's copies are, per library: on shelf, on loan (with due dates), in
    /// transit, reference only, with the library's hours. With `near` the server sorts nearest
    /// first and gives distances; without it, `rank_available_libraries` does that on the device.
    #[uniffi::method(default(near = None))]
    pub async fn record_availability(
        &self,
        record_id: String,
        near: Option<Coordinates>,
    ) -> Result<RecordAvailability, SportelloError> {
        let path = format!(
            "v1/catalog/records/{}/availability",
            path_segment("record_id", &record_id)?
        );
        let query: Vec<_> = near.map(|near| ("near", near.to_param())).into_iter().collect();
        let availability: api::RecordAvailability =
            self.send(self.request(Method::GET, &path)?.query(&query)).await?;
        availability.try_into()
    }

    /// Searches, then ranks the page's hits by their nearest copy on the shelf from `origin`
    /// **on the device**: the server receives the search and one availability request per hit,
    /// never the position. The query must not carry `near`, `radius_km` or distance sorting
    /// (`InvalidInput`: they would send the position). A bad `origin` is `InvalidInput` too,
    /// found before any request.
    pub async fn search_nearest_on_device(
        &self,
        query: CatalogQuery,
        origin: Coordinates,
    ) -> Result<SearchPage, SportelloError> {
        checked(origin)?;
        if query.near.is_some() || query.radius_km.is_some() || query.sort == Some(CatalogSort::Distance) {
            return Err(SportelloError::invalid(
                "near",
                "ranking on the device must not send the position: leave near, radius_km and distance sorting out",
            ));
        }
        let mut page = self.search_catalog(query).await?;
        let ids: Vec<String> = page
            .items
            .iter()
            .filter(|hit| hit.availability.copies_on_shelf > 0)
            .map(|hit| hit.record.id.clone())
            .collect();
        let availabilities: Vec<Option<RecordAvailability>> = stream::iter(ids)
            .map(|id| async move {
                match self.record_availability(id, None).await {
                    // Deleted since the search: that hit just has no nearest copy.
                    Err(SportelloError::NotFound { .. }) => Ok(None),
                    other => other.map(Some),
                }
            })
            .buffered(AVAILABILITY_CONCURRENCY)
            .try_collect()
            .await?;
        let availabilities = availabilities.into_iter().flatten().collect();
        page.items = rank_hits_by_distance(page.items, availabilities, origin)?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Piazza De Ferrari, Genova.
    const DE_FERRARI: Coordinates = Coordinates {
        lat: 44.4072,
        lon: 8.9340,
    };
    const BERIO: Coordinates = Coordinates {
        lat: 44.404_986,
        lon: 8.937_150,
    };
    const LERCARI: Coordinates = Coordinates {
        lat: 44.412,
        lon: 8.956,
    };
    const CHIAVARI: Coordinates = Coordinates {
        lat: 44.3169,
        lon: 9.323,
    };

    fn record(id: &str) -> CatalogRecord {
        CatalogRecord {
            id: id.into(),
            title: format!("Title {id}"),
            subtitle: None,
            authors: vec![],
            isbns: vec![],
            publisher: None,
            year: Some(2014),
            language: Some("ita".into()),
            subjects: vec![],
            format: MaterialFormat::Book,
            series: vec![],
            identifiers: vec![],
        }
    }

    /// A library holding `on_shelf` loanable and `reference` reference-only copies.
    fn held(id: &str, at: Coordinates, on_shelf: u32, reference: u32) -> LibraryHoldings {
        LibraryHoldings {
            library_id: id.into(),
            library_name: format!("Biblioteca {id}"),
            municipality: "010025".into(),
            address: "Via X 1".into(),
            location: at,
            distance_km: None,
            open_now: true,
            next_opening: None,
            on_shelf,
            on_loan: 1,
            in_transit: 0,
            reference_only: reference,
            unknown: 0,
            earliest_due: Some("2026-12-01".into()),
            copies: vec![],
        }
    }

    fn availability(id: &str, libraries: Vec<LibraryHoldings>) -> RecordAvailability {
        RecordAvailability {
            record: record(id),
            libraries,
        }
    }

    fn ids(libraries: &[LibraryHoldings]) -> Vec<&str> {
        libraries.iter().map(|l| l.library_id.as_str()).collect()
    }

    #[test]
    fn libraries_with_a_copy_on_the_shelf_come_nearest_first_with_distances() {
        // In the server's order without `near`: available first, then by name.
        let a = availability(
            "r",
            vec![
                held("chiavari", CHIAVARI, 1, 0),
                held("lercari", LERCARI, 0, 1),
                held("berio", BERIO, 2, 0),
                held("lent-out", DE_FERRARI, 0, 0),
            ],
        );
        let ranked = rank_available_libraries(a.clone(), DE_FERRARI, None).unwrap();
        assert_eq!(
            ids(&ranked),
            ["berio", "lercari", "chiavari"],
            "none on the shelf: left out"
        );
        let km: Vec<f64> = ranked.iter().map(|l| l.distance_km.unwrap()).collect();
        assert!((0.2..0.5).contains(&km[0]), "{km:?}");
        assert!((1.0..2.5).contains(&km[1]), "{km:?}");
        assert!((30.0..33.0).contains(&km[2]), "{km:?}");
        let nearest = rank_available_libraries(a, DE_FERRARI, Some(1)).unwrap();
        assert_eq!(ids(&nearest), ["berio"]);
    }

    #[test]
    fn ties_keep_the_given_order_and_the_same_point_is_zero_km() {
        let a = availability(
            "r",
            vec![
                held("far", CHIAVARI, 1, 0),
                held("same-building-a", BERIO, 1, 0),
                held("same-building-b", BERIO, 1, 0),
            ],
        );
        let ranked = rank_available_libraries(a.clone(), BERIO, None).unwrap();
        assert_eq!(ids(&ranked), ["same-building-a", "same-building-b", "far"]);
        assert_eq!(ranked[0].distance_km, Some(0.0));
        assert_eq!(ranked[1].distance_km, Some(0.0));
        // Reversed input, reversed tie: the order among equals is the caller's, not arbitrary.
        let mut reversed = a;
        reversed.libraries.reverse();
        let ranked = rank_available_libraries(reversed, BERIO, None).unwrap();
        assert_eq!(ids(&ranked), ["same-building-b", "same-building-a", "far"]);
    }

    #[test]
    fn unusable_library_coordinates_come_last_without_a_distance() {
        let nowhere = Coordinates {
            lat: f64::NAN,
            lon: 8.9,
        };
        let off_the_map = Coordinates { lat: 95.0, lon: 8.9 };
        let a = availability(
            "r",
            vec![
                held("nowhere", nowhere, 1, 0),
                held("chiavari", CHIAVARI, 1, 0),
                held("off-the-map", off_the_map, 1, 0),
                held("berio", BERIO, 1, 0),
            ],
        );
        let ranked = rank_available_libraries(a, DE_FERRARI, None).unwrap();
        assert_eq!(ids(&ranked), ["berio", "chiavari", "nowhere", "off-the-map"]);
        assert!(ranked[2].distance_km.is_none() && ranked[3].distance_km.is_none());
    }

    #[test]
    fn poles_and_bad_origins() {
        let a = availability(
            "r",
            vec![held("chiavari", CHIAVARI, 1, 0), held("berio", BERIO, 1, 0)],
        );
        // From the North Pole every longitude is "south": the nearer one is the one further
        // north (Berio), and distances are finite, about 5,100 km.
        let pole = Coordinates { lat: 90.0, lon: 0.0 };
        let ranked = rank_available_libraries(a.clone(), pole, None).unwrap();
        assert_eq!(ids(&ranked), ["berio", "chiavari"]);
        for library in &ranked {
            let km = library.distance_km.unwrap();
            assert!((5000.0..5200.0).contains(&km), "{km}");
        }
        let south = Coordinates {
            lat: -90.0,
            lon: 180.0,
        };
        let ranked = rank_available_libraries(a.clone(), south, None).unwrap();
        assert_eq!(ids(&ranked), ["chiavari", "berio"]);
        assert!(ranked.iter().all(|l| l.distance_km.unwrap().is_finite()));

        for bad in [
            Coordinates { lat: 91.0, lon: 0.0 },
            Coordinates {
                lat: 0.0,
                lon: -180.5,
            },
            Coordinates {
                lat: f64::INFINITY,
                lon: 0.0,
            },
        ] {
            let error = rank_available_libraries(a.clone(), bad, None).unwrap_err();
            assert!(
                matches!(&error, SportelloError::InvalidInput { field, .. } if field == "coordinates"),
                "{error:?}"
            );
        }
    }

    fn hit(id: &str, stale_nearest: Option<&str>) -> SearchHit {
        SearchHit {
            record: record(id),
            availability: AvailabilitySummary {
                copies_on_shelf: 1,
                copies_total: 2,
                libraries: 1,
                nearest: stale_nearest.map(|library| NearestCopy {
                    library_id: library.into(),
                    library_name: library.into(),
                    distance_km: 0.0,
                    open_now: false,
                }),
            },
        }
    }

    #[test]
    fn hits_are_ranked_by_their_nearest_copy_on_the_shelf() {
        let hits = vec![
            hit("in-chiavari", None),
            hit("nothing-on-shelf", Some("stale")),
            hit("not-fetched", None),
            hit("at-berio", None),
            hit("at-berio-too", None),
        ];
        let availabilities = vec![
            availability("at-berio-too", vec![held("berio", BERIO, 1, 0)]),
            availability("in-chiavari", vec![held("chiavari", CHIAVARI, 1, 0)]),
            availability("nothing-on-shelf", vec![held("berio", BERIO, 0, 0)]),
            availability(
                "at-berio",
                vec![held("chiavari", CHIAVARI, 3, 0), held("berio", BERIO, 0, 1)],
            ),
        ];
        let ranked = rank_hits_by_distance(hits, availabilities, DE_FERRARI).unwrap();
        let order: Vec<&str> = ranked.iter().map(|h| h.record.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "at-berio",
                "at-berio-too",
                "in-chiavari",
                "nothing-on-shelf",
                "not-fetched"
            ],
            "ties and unranked hits keep the server's order"
        );
        let nearest = ranked[0].availability.nearest.as_ref().unwrap();
        assert_eq!(
            nearest.library_id, "berio",
            "a reference copy on the shelf counts"
        );
        assert!((0.2..0.5).contains(&nearest.distance_km), "{nearest:?}");
        assert!(
            ranked[3].availability.nearest.is_none(),
            "the server's nearest, for another position, is dropped"
        );
        assert!(rank_hits_by_distance(vec![], vec![], Coordinates { lat: 0.0, lon: 181.0 }).is_err());
    }

    #[test]
    fn the_municipality_of_a_query_is_checked_on_the_device() {
        let query = CatalogQuery {
            q: Some("città".into()),
            municipality: Some(" 010025 ".into()),
            near: Some(DE_FERRARI),
            ..CatalogQuery::default()
        };
        assert_eq!(
            search_params(&query).unwrap(),
            [
                ("q", "città".to_owned()),
                ("municipality", "010025".to_owned()),
                ("near", "44.4072,8.934".to_owned())
            ]
        );
        let bad = CatalogQuery {
            municipality: Some("Genova".into()),
            ..CatalogQuery::default()
        };
        assert!(matches!(
            search_params(&bad),
            Err(SportelloError::InvalidInput { field, .. }) if field == "istat_code"
        ));
    }

    #[test]
    fn wire_values_unknown_to_this_version_degrade_instead_of_failing() {
        assert_eq!(CopyStatus::from_wire("on_loan"), CopyStatus::OnLoan);
        assert_eq!(CopyStatus::from_wire("reference_only"), CopyStatus::ReferenceOnly);
        assert_eq!(CopyStatus::from_wire("teleported"), CopyStatus::Unknown);
        let holdings = LibraryHoldings::try_from(api::LibraryHoldings {
            library_id: "ge-berio".into(),
            library_name: "Berio".into(),
            municipality: "010025".into(),
            address: "Via del Seminario 16".into(),
            lat: BERIO.lat,
            lon: BERIO.lon,
            distance_km: None,
            open_now: false,
            next_opening: Some("2026-03-02T07:30:00Z".into()),
            on_shelf: 0,
            on_loan: 1,
            in_transit: 0,
            reference_only: 0,
            unknown: 0,
            earliest_due: Some("2026-03-10".into()),
            copies: vec![api::CopyInfo {
                item_id: "6430746".into(),
                shelf_mark: None,
                status: "on_loan".into(),
                due_date: Some("2026-03-10".into()),
            }],
        })
        .unwrap();
        let opens = holdings
            .next_opening
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(opens, 1_772_436_600);
        assert_eq!(holdings.copies[0].status, CopyStatus::OnLoan);
        assert!(!holdings.has_copy_on_shelf());
    }
}
