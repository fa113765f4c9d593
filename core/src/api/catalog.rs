//! Wire types of the catalogue context (`/v1/libraries`, `/v1/catalog`).

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::catalog::record::Format;
use crate::geo::{self, GeoError};

/// A library (branch) as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Library {
    /// Stable id (`ge-berio`).
    pub id: String,
    /// ISTAT code of the municipality it belongs to.
    pub municipality: String,
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code (CAP).
    pub postal_code: String,
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub lon: f64,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Services offered (`loan`, `wifi`, `kids`, `study-room`, …).
    pub services: Vec<String>,
    /// Codes of the library in other systems (ISIL, SBN), used to map imported holdings.
    pub codes: Vec<String>,
    /// Weekly hours, OpenStreetMap syntax: `Mo-Fr 08:30-19:00; Sa 09:00-13:00; PH off`.
    pub opening_hours: String,
    /// Dated exceptions, one per entry: `2026-08-10..2026-08-23 off`, `2026-12-24 09:00-12:00`.
    pub closures: Vec<String>,
    /// Open at the time of the request (Europe/Rome).
    pub open_now: bool,
    /// When it closes, if open (RFC 3339).
    pub closes_at: Option<String>,
    /// Next opening, if closed (RFC 3339).
    pub next_opening: Option<String>,
    /// Distance in km from `near`, when given.
    pub distance_km: Option<f64>,
    /// Whether this is demo data (real library, details to be confirmed by the library).
    pub demo: bool,
}

/// Libraries, nearest first when `near` is given, else by municipality and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LibraryList {
    /// At most `limit` libraries.
    pub items: Vec<Library>,
}

/// What a library operator sends to create or update a library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LibraryInput {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Postal code.
    pub postal_code: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Telephone.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Web site.
    #[serde(default)]
    pub website: Option<String>,
    /// Services.
    #[serde(default)]
    pub services: Vec<String>,
    /// Codes in other systems (ISIL, SBN).
    #[serde(default)]
    pub codes: Vec<String>,
    /// Weekly hours (see [`Library::opening_hours`]).
    #[serde(default)]
    pub opening_hours: String,
    /// Dated exceptions.
    #[serde(default)]
    pub closures: Vec<String>,
}

/// One record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportIssue {
    /// File name (or `upload`).
    pub file: String,
    /// 1-based position of the record in the file.
    pub index: u64,
    /// Byte offset of the record in the file.
    pub offset: u64,
    /// The record's 001, when readable.
    pub control_number: Option<String>,
    /// Why it was skipped.
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportSummary {
    /// Records read (good and bad).
    pub read: u64,
    /// Records new to this library.
    pub imported: u64,
    /// Records already imported that changed.
    pub updated: u64,
    /// Records already imported and unchanged.
    pub unchanged: u64,
    /// Records the source marks deleted, removed here.
    pub deleted: u64,
    /// Bad records, skipped (see `issues`).
    pub skipped: u64,
    /// Copies written.
    pub copies: u64,
    /// Copies no longer in the source, now withdrawn.
    pub withdrawn: u64,
    /// The first problems (at most 1000).
    pub issues: Vec<ImportIssue>,
    /// Whether more problems happened than `issues` lists.
    pub issues_truncated: bool,
}

/// A WGS84 point in decimal degrees as the apps and query strings give it, not checked:
/// `geo::Coordinates::try_from` checks it where the answer can say what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Coordinates {
    /// Latitude, -90..=90.
    pub lat: f64,
    /// Longitude, -180..=180.
    pub lon: f64,
}

impl Coordinates {
    /// `lat,lon`, as query strings carry a position (`near=44.4072,8.934`).
    pub fn to_param(self) -> String {
        format!("{},{}", self.lat, self.lon)
    }
}

impl FromStr for Coordinates {
    type Err = GeoError;

    /// Reads `lat,lon` without checking the range (see [`geo::Coordinates`]).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (lat, lon) = geo::parse_lat_lon(text)?;
        Ok(Self { lat, lon })
    }
}

impl TryFrom<Coordinates> for geo::Coordinates {
    type Error = GeoError;

    fn try_from(point: Coordinates) -> Result<Self, Self::Error> {
        geo::Coordinates::new(point.lat, point.lon)
    }
}

impl From<geo::Coordinates> for Coordinates {
    fn from(point: geo::Coordinates) -> Self {
        Self {
            lat: point.lat(),
            lon: point.lon(),
        }
    }
}

/// The kind of material of an edition, as the API names it (`format` of records, facets and
/// searches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum MaterialFormat {
    /// Printed book (also manuscripts and printed music).
    Book,
    /// Electronic text.
    Ebook,
    /// Sound recording (audiobook, music).
    Audio,
    /// Video (DVD, Blu-ray, film).
    Video,
    /// Journal, magazine, newspaper.
    Periodical,
    /// Anything else (maps, pictures, objects, kits), and formats a client does not know yet
    /// (from a newer server).
    Other,
}

impl MaterialFormat {
    /// The identifier on the wire (`ebook`).
    pub fn as_str(self) -> &'static str {
        Format::from(self).as_str()
    }

    /// A format from the wire; one this version does not know is `Other` rather than an error,
    /// so a newer server does not break older apps.
    pub fn from_wire(text: &str) -> Self {
        Format::parse(text).map_or(MaterialFormat::Other, MaterialFormat::from)
    }
}

impl From<Format> for MaterialFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Book => MaterialFormat::Book,
            Format::EBook => MaterialFormat::Ebook,
            Format::Audio => MaterialFormat::Audio,
            Format::Video => MaterialFormat::Video,
            Format::Periodical => MaterialFormat::Periodical,
            Format::Other => MaterialFormat::Other,
        }
    }
}

impl From<MaterialFormat> for Format {
    fn from(format: MaterialFormat) -> Self {
        match format {
            MaterialFormat::Book => Format::Book,
            MaterialFormat::Ebook => Format::EBook,
            MaterialFormat::Audio => Format::Audio,
            MaterialFormat::Video => Format::Video,
            MaterialFormat::Periodical => Format::Periodical,
            MaterialFormat::Other => Format::Other,
        }
    }
}

/// How catalogue search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CatalogSort {
    /// Best match first (the default with words to search).
    Relevance,
    /// Newest first (the default without words).
    Year,
    /// Nearest copy on the shelf first; needs `near`.
    Distance,
}

impl CatalogSort {
    /// The identifier on the wire (`distance`).
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogSort::Relevance => "relevance",
            CatalogSort::Year => "year",
            CatalogSort::Distance => "distance",
        }
    }
}

/// A catalogue search, the query string of `GET /v1/catalog/search`: what the server extracts
/// (serde) and what the mobile client sends (`to_params`). Every field is
/// optional; the server checks them, and a bad position, radius, year range, language, limit or
/// cursor is a `validation` problem naming the parameter.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CatalogQuery {
    /// Words of title, author, subject, series or publisher, or an ISBN / SBN BID. Accents and
    /// leading articles do not matter (`citta` finds `città`), longer words tolerate a typo.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub q: Option<String>,
    /// Only editions with a copy in this municipality (ISTAT code).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub municipality: Option<String>,
    /// Only editions with a copy in this library (a library id).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub library: Option<String>,
    /// Only this kind of material: `book`, `ebook`, `audio`, `video`, `periodical`, `other`.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub format: Option<MaterialFormat>,
    /// Only this language, ISO 639-2 (`ita`, `eng`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub language: Option<String>,
    /// Published in or after this year.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub year_from: Option<i32>,
    /// Published in or before this year.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub year_to: Option<i32>,
    /// Only editions with a copy on the shelf now.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub available: Option<bool>,
    /// The person's position, `lat,lon`: each hit then names the nearest library with a copy on
    /// the shelf. The server sees it; an app can rank on the device instead.
    #[serde(default, deserialize_with = "lat_lon")]
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>, example = "44.4072,8.934"))]
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub near: Option<Coordinates>,
    /// With `near`: only copies within this many km (more than 0, at most 200).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub radius_km: Option<f64>,
    /// `relevance` (the default with `q`), `year` (newest first; the default without `q`),
    /// `distance` (nearest copy on the shelf first; needs `near`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub sort: Option<CatalogSort>,
    /// The previous page's `next_cursor`; none for the first page.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub limit: Option<u32>,
}

/// `near=lat,lon` in a query string.
pub(super) fn lat_lon<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Coordinates>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse().map_err(serde::de::Error::custom))
        .transpose()
}

impl CatalogQuery {
    /// The query string pairs, in the form the server's extractor reads back.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let text = |name, value: &Option<String>| value.clone().map(|value| (name, value));
        let shown = |name, value: Option<&dyn std::fmt::Display>| value.map(|v| (name, v.to_string()));
        [
            text("q", &self.q),
            text("municipality", &self.municipality),
            text("library", &self.library),
            self.format.map(|f| ("format", f.as_str().to_owned())),
            text("language", &self.language),
            shown("year_from", self.year_from.as_ref().map(|y| y as _)),
            shown("year_to", self.year_to.as_ref().map(|y| y as _)),
            shown("available", self.available.as_ref().map(|a| a as _)),
            self.near.map(|near| ("near", near.to_param())),
            shown("radius_km", self.radius_km.as_ref().map(|r| r as _)),
            self.sort.map(|s| ("sort", s.as_str().to_owned())),
            text("cursor", &self.cursor),
            shown("limit", self.limit.as_ref().map(|l| l as _)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// A person or body responsible for a work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Contributor {
    /// Name, inverted for persons.
    pub name: String,
    /// `author`, `editor`, `translator`, `illustrator`, `contributor`.
    pub role: String,
}

/// An identifier of an edition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RecordIdentifier {
    /// `sbn`, `issn`, `lccn`, `oclc`, `bni`, `ean`.
    pub scheme: String,
    /// Value.
    pub value: String,
}

/// A catalogue record: one edition, merged across the libraries that hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogRecord {
    /// Opaque id.
    pub id: String,
    /// Title.
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
    /// ISO 639-2 language code.
    pub language: Option<String>,
    /// Subjects.
    pub subjects: Vec<String>,
    /// `book`, `ebook`, `audio`, `video`, `periodical`, `other`.
    pub format: String,
    /// Series.
    pub series: Vec<String>,
    /// SBN BID and other identifiers.
    pub identifiers: Vec<RecordIdentifier>,
}

/// The nearest library with a copy on the shelf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NearestCopy {
    /// Library id.
    pub library_id: String,
    /// Library name.
    pub library_name: String,
    /// Distance in km.
    pub distance_km: f64,
    /// Whether the library is open now.
    pub open_now: bool,
}

/// Availability of a record across the network, as shown in a result list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AvailabilitySummary {
    /// Copies on the shelf (loanable or reference) in the whole network.
    pub copies_on_shelf: u32,
    /// Copies in the network (withdrawn ones excluded).
    pub copies_total: u32,
    /// Libraries holding a copy.
    pub libraries: u32,
    /// The nearest library with a copy on the shelf, when `near` was given.
    pub nearest: Option<NearestCopy>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SearchHit {
    /// The record.
    pub record: CatalogRecord,
    /// Live availability, read from the database.
    pub availability: AvailabilitySummary,
}

/// A facet value and how many results have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FacetCount {
    /// Value (a format, language code, ISTAT code or library id).
    pub value: String,
    /// Results with it.
    pub count: u64,
}

/// Facets of a result set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Facets {
    /// By format.
    pub format: Vec<FacetCount>,
    /// By language.
    pub language: Vec<FacetCount>,
    /// By municipality holding a copy.
    pub municipality: Vec<FacetCount>,
    /// By library holding a copy (the 50 largest).
    pub library: Vec<FacetCount>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SearchResults {
    /// Results matching the query and the index filters (before `available`/`radius_km`,
    /// which are checked live on a bounded candidate set).
    pub total: u64,
    /// This page.
    pub items: Vec<SearchHit>,
    /// Facet counts over the matching records.
    pub facets: Facets,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// One copy in a library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CopyInfo {
    /// Barcode or inventory number.
    pub item_id: String,
    /// Shelf mark.
    pub shelf_mark: Option<String>,
    /// `on_shelf`, `on_loan`, `in_transit`, `reference_only`, `unknown`.
    pub status: String,
    /// Due date of a lent copy.
    pub due_date: Option<String>,
}

/// A record's copies in one library, with the library's distance and hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LibraryHoldings {
    /// Library id.
    pub library_id: String,
    /// Library name.
    pub library_name: String,
    /// Municipality ISTAT code.
    pub municipality: String,
    /// Address.
    pub address: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Distance in km from `near`.
    pub distance_km: Option<f64>,
    /// Open now.
    pub open_now: bool,
    /// Next opening, if closed (RFC 3339).
    pub next_opening: Option<String>,
    /// Copies on the shelf, loanable.
    pub on_shelf: u32,
    /// Copies on loan.
    pub on_loan: u32,
    /// Copies in transit.
    pub in_transit: u32,
    /// Copies for consultation only.
    pub reference_only: u32,
    /// Copies whose status the library does not report.
    pub unknown: u32,
    /// Earliest due date of a lent copy.
    pub earliest_due: Option<String>,
    /// The copies (at most 200).
    pub copies: Vec<CopyInfo>,
}

/// Where a record can be found, nearest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordAvailability {
    /// The record.
    pub record: CatalogRecord,
    /// Per library, nearest first when `near` is given, available ones first otherwise.
    pub libraries: Vec<LibraryHoldings>,
}

/// Body of a copy status update from a library system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CopyStatusUpdate {
    /// New status.
    pub status: String,
    /// Due date (`YYYY-MM-DD`) when on loan.
    #[serde(default)]
    pub due_date: Option<String>,
}
