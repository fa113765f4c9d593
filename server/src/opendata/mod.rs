//! Open data: a DCAT-AP catalogue (`/opendata/catalog`, JSON-LD or Turtle) of the datasets
//! Sportello publishes without personal data — municipalities, libraries with their opening
//! hours, cultural events, monthly counts of permit applications — each as CSV and JSON (events
//! also iCalendar) under `/opendata/`, licensed CC-BY 4.0.
//!
//! [`OpenData`] owns no table: it reads the other contexts through their services; `dcat.rs`
//! is the catalogue's graph and its two serialisations, `tables.rs` the CSV and JSON files.

mod datasets;
pub mod dcat;
mod error;
pub mod http;
pub mod tables;

use std::sync::Arc;

use sportello_core::events::Lang;

use self::dcat::{Node, Term};
pub use self::error::OpenDataError;
use self::tables::Table;
use crate::catalog::Catalog;
use crate::clock::now_ms;
use crate::config::OpenDataConfig;
use crate::events::{Events, FeedQuery};
use crate::permits::Permits;
use crate::tenant::Municipalities;

/// The licence of every dataset (the EU licence vocabulary's CC-BY 4.0).
const LICENCE: &str = "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0";
const THEMES: &str = "http://publications.europa.eu/resource/authority/data-theme/";
const FREQUENCIES: &str = "http://publications.europa.eu/resource/authority/frequency/";
const FILE_TYPES: &str = "http://publications.europa.eu/resource/authority/file-type/";
const MEDIA_TYPES: &str = "https://www.iana.org/assignments/media-types/";
const ITALIAN: &str = "http://publications.europa.eu/resource/authority/language/ITA";
/// The Metropolitan City of Genoa in the EU's NUTS 3 vocabulary (ITC33).
const SPATIAL: &str = "http://data.europa.eu/nuts/code/ITC33";

/// A published dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dataset {
    Municipalities,
    Libraries,
    Events,
    PermitApplications,
}

impl Dataset {
    /// Every dataset, in the catalogue's order.
    pub const ALL: [Dataset; 4] = [
        Dataset::Municipalities,
        Dataset::Libraries,
        Dataset::Events,
        Dataset::PermitApplications,
    ];

    /// The file name stem under `/opendata/`.
    pub fn slug(self) -> &'static str {
        match self {
            Dataset::Municipalities => "municipalities",
            Dataset::Libraries => "libraries",
            Dataset::Events => "events",
            Dataset::PermitApplications => "permit-applications",
        }
    }

    /// Title and description, in Italian and English.
    fn texts(self) -> [(&'static str, &'static str, &'static str); 2] {
        match self {
            Dataset::Municipalities => [
                (
                    "it",
                    "Comuni della Città Metropolitana di Genova",
                    "I 67 comuni serviti: codici ISTAT, catastale, fiscale e IPA, provincia, popolazione, CAP e un punto di riferimento.",
                ),
                (
                    "en",
                    "Municipalities of the Metropolitan City of Genoa",
                    "The 67 municipalities served: ISTAT, cadastral, fiscal and IPA codes, province, population, postal codes and a reference point.",
                ),
            ],
            Dataset::Libraries => [
                (
                    "it",
                    "Biblioteche e orari di apertura",
                    "Le biblioteche dei comuni con indirizzo, coordinate, contatti, servizi, orario settimanale (sintassi OpenStreetMap opening_hours) e chiusure.",
                ),
                (
                    "en",
                    "Libraries and opening hours",
                    "The municipalities' libraries with address, coordinates, contacts, services, weekly hours (OpenStreetMap opening_hours syntax) and closures.",
                ),
            ],
            Dataset::Events => [
                (
                    "it",
                    "Eventi culturali",
                    "Gli eventi culturali pubblicati dai comuni, da un mese fa a un anno avanti: titolo, categoria, date o ricorrenza (Europe/Rome), luogo, prezzo, stato.",
                ),
                (
                    "en",
                    "Cultural events",
                    "The cultural events the municipalities publish, from a month ago to a year ahead: title, category, dates or recurrence (Europe/Rome), place, price, status.",
                ),
            ],
            Dataset::PermitApplications => [
                (
                    "it",
                    "Pratiche edilizie presentate per mese",
                    "Il numero di pratiche presentate a ogni comune per procedimento e mese (ora di Roma), senza dati personali.",
                ),
                (
                    "en",
                    "Permit applications filed per month",
                    "How many applications each municipality received per procedure and month (Rome time), with no personal data.",
                ),
            ],
        }
    }

    fn theme(self) -> &'static str {
        match self {
            Dataset::Municipalities | Dataset::PermitApplications => "GOVE",
            Dataset::Libraries | Dataset::Events => "EDUC",
        }
    }

    fn frequency(self) -> &'static str {
        match self {
            Dataset::Municipalities => "ANNUAL",
            Dataset::Libraries | Dataset::Events => "CONT",
            Dataset::PermitApplications => "MONTHLY",
        }
    }

    fn keywords(self) -> &'static [&'static str] {
        match self {
            Dataset::Municipalities => &["comuni", "ISTAT", "IPA"],
            Dataset::Libraries => &["biblioteche", "orari"],
            Dataset::Events => &["eventi", "cultura", "turismo"],
            Dataset::PermitApplications => &["edilizia", "pratiche", "SUE"],
        }
    }

    /// The formats it is served in: (extension, EU file type, IANA media type).
    fn formats(self) -> &'static [(&'static str, Option<&'static str>, &'static str)] {
        const TABLES: &[(&str, Option<&str>, &str)] = &[
            ("csv", Some("CSV"), "text/csv"),
            ("json", Some("JSON"), "application/json"),
        ];
        const CALENDAR: &[(&str, Option<&str>, &str)] = &[
            ("csv", Some("CSV"), "text/csv"),
            ("json", Some("JSON"), "application/json"),
            ("ics", None, "text/calendar"),
        ];
        match self {
            Dataset::Events => CALENDAR,
            _ => TABLES,
        }
    }
}

/// A file of a dataset: its media type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub content_type: &'static str,
    pub body: String,
}

/// The open data service.
pub struct OpenData {
    municipalities: Arc<Municipalities>,
    catalog: Arc<Catalog>,
    events: Arc<Events>,
    permits: Arc<Permits>,
    config: OpenDataConfig,
    public_url: String,
}

impl std::fmt::Debug for OpenData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenData").finish_non_exhaustive()
    }
}

impl OpenData {
    /// The service, reading the contexts that own the data.
    pub fn new(
        municipalities: Arc<Municipalities>,
        catalog: Arc<Catalog>,
        events: Arc<Events>,
        permits: Arc<Permits>,
        config: OpenDataConfig,
        public_url: String,
    ) -> Self {
        Self {
            municipalities,
            catalog,
            events,
            permits,
            config,
            public_url,
        }
    }

    /// The DCAT-AP (and DCAT-AP_IT) catalogue as a graph.
    pub fn catalogue(&self) -> Vec<Node> {
        let base = format!("{}/opendata", self.public_url);
        let catalog_id = format!("{base}/catalog");
        let publisher_id = format!("{base}/catalog#publisher");
        let today = sportello_core::calendar::rome_date(
            crate::clock::timestamp_from_ms(now_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        )
        .to_string();
        let mut nodes = Vec::new();
        let mut catalog = Node::new(&catalog_id, &["dcat:Catalog", "dcatapit:Catalog"])
            .with("dct:title", Term::Text("Dati aperti di Sportello".into(), "it"))
            .with("dct:title", Term::Text("Sportello open data".into(), "en"))
            .with(
                "dct:description",
                Term::Text(
                    "I dati aperti dello sportello digitale dei comuni della Città Metropolitana di Genova: comuni, biblioteche, eventi culturali, pratiche edilizie per mese.".into(),
                    "it",
                ),
            )
            .with(
                "dct:description",
                Term::Text(
                    "Open data of the digital front desk of the municipalities of the Metropolitan City of Genoa: municipalities, libraries, cultural events, permit applications per month.".into(),
                    "en",
                ),
            )
            .with("dct:publisher", Term::Iri(publisher_id.clone()))
            .with("dct:language", Term::Iri(ITALIAN.into()))
            .with("dct:license", Term::Iri(LICENCE.into()))
            .with("dct:modified", Term::Typed(today.clone(), "xsd:date"))
            .with("dct:spatial", Term::Iri(SPATIAL.into()))
            .with("foaf:homepage", Term::Iri(format!("{}/", self.public_url)));
        for dataset in Dataset::ALL {
            catalog = catalog.with("dcat:dataset", Term::Iri(format!("{base}/{}", dataset.slug())));
        }
        nodes.push(catalog);
        nodes.push(
            Node::new(
                &publisher_id,
                &["foaf:Organization", "foaf:Agent", "dcatapit:Agent"],
            )
            .with("foaf:name", Term::Text(self.config.publisher_name.clone(), "it"))
            .with("dct:identifier", Term::Plain(self.config.publisher_ipa.clone())),
        );
        for dataset in Dataset::ALL {
            nodes.extend(self.dataset_nodes(dataset, &base, &publisher_id, &today));
        }
        nodes.extend(self.vocabulary_nodes());
        nodes
    }

    /// A dataset and its distributions.
    fn dataset_nodes(&self, dataset: Dataset, base: &str, publisher_id: &str, today: &str) -> Vec<Node> {
        let id = format!("{base}/{}", dataset.slug());
        let mut node = Node::new(&id, &["dcat:Dataset", "dcatapit:Dataset"]).with(
            "dct:identifier",
            Term::Plain(format!("{}:{}", self.config.publisher_ipa, dataset.slug())),
        );
        for (lang, title, description) in dataset.texts() {
            node = node
                .with("dct:title", Term::Text(title.into(), lang))
                .with("dct:description", Term::Text(description.into(), lang));
        }
        for keyword in dataset.keywords() {
            node = node.with("dcat:keyword", Term::Text((*keyword).into(), "it"));
        }
        node = node
            .with("dct:publisher", Term::Iri(publisher_id.to_owned()))
            .with("dct:rightsHolder", Term::Iri(publisher_id.to_owned()))
            .with("dcat:theme", Term::Iri(format!("{THEMES}{}", dataset.theme())))
            .with(
                "dct:accrualPeriodicity",
                Term::Iri(format!("{FREQUENCIES}{}", dataset.frequency())),
            )
            .with("dct:language", Term::Iri(ITALIAN.into()))
            .with("dct:spatial", Term::Iri(SPATIAL.into()))
            .with("dct:modified", Term::Typed(today.to_owned(), "xsd:date"));
        let mut distributions = Vec::new();
        for (extension, file_type, media_type) in dataset.formats() {
            let url = format!("{base}/{}.{extension}", dataset.slug());
            let url_node = url.clone();
            let distribution_id = format!("{id}#{extension}");
            node = node.with("dcat:distribution", Term::Iri(distribution_id.clone()));
            let mut distribution =
                Node::new(&distribution_id, &["dcat:Distribution", "dcatapit:Distribution"])
                    .with(
                        "dct:title",
                        Term::Text(
                            format!("{} ({})", dataset.texts()[0].1, extension.to_uppercase()),
                            "it",
                        ),
                    )
                    .with("dcat:accessURL", Term::Iri(url.clone()))
                    .with("dcat:downloadURL", Term::Iri(url))
                    .with("dcat:mediaType", Term::Iri(format!("{MEDIA_TYPES}{media_type}")))
                    .with("dct:license", Term::Iri(LICENCE.into()));
            if let Some(file_type) = file_type {
                distribution = distribution.with("dct:format", Term::Iri(format!("{FILE_TYPES}{file_type}")));
            }
            distributions.push(distribution);
            // The shapes ask the URLs to be of class rdfs:Resource, and validate without
            // RDFS inference: say so.
            distributions.push(Node::new(&url_node, &["rdfs:Resource"]));
        }
        let mut nodes = vec![node];
        nodes.extend(distributions);
        nodes
    }

    /// The controlled vocabularies' terms, typed: the shapes check the class of every object.
    fn vocabulary_nodes(&self) -> Vec<Node> {
        let mut nodes = vec![
            Node::new(LICENCE, &["dct:LicenseDocument"]),
            Node::new(ITALIAN, &["dct:LinguisticSystem"]),
            Node::new(SPATIAL, &["dct:Location"]),
            Node::new(format!("{}/", self.public_url), &["foaf:Document"]),
        ];
        for (theme, it, en) in [
            (
                "GOVE",
                "Governo e settore pubblico",
                "Government and public sector",
            ),
            (
                "EDUC",
                "Istruzione, cultura e sport",
                "Education, culture and sport",
            ),
        ] {
            nodes.push(
                Node::new(format!("{THEMES}{theme}"), &["skos:Concept"])
                    .with("skos:prefLabel", Term::Text(it.into(), "it"))
                    .with("skos:prefLabel", Term::Text(en.into(), "en")),
            );
        }
        for frequency in ["ANNUAL", "CONT", "MONTHLY"] {
            nodes.push(Node::new(format!("{FREQUENCIES}{frequency}"), &["dct:Frequency"]));
        }
        for file_type in ["CSV", "JSON"] {
            nodes.push(Node::new(
                format!("{FILE_TYPES}{file_type}"),
                &["dct:MediaTypeOrExtent"],
            ));
        }
        for media_type in ["text/csv", "application/json", "text/calendar"] {
            nodes.push(Node::new(
                format!("{MEDIA_TYPES}{media_type}"),
                &["dct:MediaType"],
            ));
        }
        nodes
    }

    /// A dataset file by name (`events.csv`, `libraries.json`, `events.ics`, …).
    pub async fn file(&self, name: &str) -> Result<File, OpenDataError> {
        let not_found = || OpenDataError::NotFound(name.chars().take(64).collect());
        let (stem, extension) = name.rsplit_once('.').ok_or_else(not_found)?;
        let dataset = Dataset::ALL
            .into_iter()
            .find(|d| d.slug() == stem)
            .ok_or_else(not_found)?;
        let (_, _, media_type) = dataset
            .formats()
            .iter()
            .find(|(ext, _, _)| *ext == extension)
            .ok_or_else(not_found)?;
        let content_type = match *media_type {
            "text/csv" => "text/csv; charset=utf-8; header=present",
            "text/calendar" => "text/calendar; charset=utf-8",
            _ => "application/json",
        };
        if extension == "ics" {
            let body = self
                .events
                .feed(&FeedQuery::default(), Lang::It, &self.public_url)
                .await?;
            return Ok(File { content_type, body });
        }
        let table = self.table(dataset).await?;
        let body = if extension == "csv" {
            table.csv()
        } else {
            table.json().to_string()
        };
        Ok(File { content_type, body })
    }

    /// A dataset as a table.
    async fn table(&self, dataset: Dataset) -> Result<Table, OpenDataError> {
        Ok(match dataset {
            Dataset::Municipalities => datasets::municipalities(self.municipalities.all()),
            Dataset::Libraries => datasets::libraries(self.catalog.libraries().await?.as_ref()),
            Dataset::Events => {
                let (_, events) = self.events.feed_events(&FeedQuery::default(), Lang::It).await?;
                datasets::events(events, &self.public_url)
            }
            Dataset::PermitApplications => {
                datasets::permit_applications(self.permits.monthly_counts().await?, &self.municipalities)
            }
        })
    }
}
