//! Cultural events: what an event is (texts in up to five languages, category, schedule, price,
//! accessibility, status), the limits every event keeps, and the checks an event goes through
//! whoever writes it (an officer, an iCalendar import, the demo loader).
//!
//! Where an event happens (a library, another venue, or an address) is resolved by the server,
//! which knows the venues; the place's own checks ([`check_place`]) are here.

pub mod ical;
pub mod period;
pub mod reminder;
pub mod schedule;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use self::period::{Period, Window};
pub use self::schedule::{Occurrence, Schedule, ScheduleError};
use crate::api;
use crate::geo::Coordinates;

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 8_000;
/// Longest URL (ticket link, image).
pub const MAX_URL: usize = 2_048;
/// Longest venue or place name, and address.
pub const MAX_PLACE_TEXT: usize = 300;
/// Most accessibility features of one event or venue.
pub const MAX_FEATURES: usize = 16;
/// Highest price, in cents (a thousand euros: anything above is a typo).
pub const MAX_PRICE_CENTS: i64 = 100_000;

/// The languages an event's texts may be written in; Italian is required and the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// Italian.
    It,
    /// English.
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Spanish.
    Es,
}

impl Lang {
    /// Every language, Italian first.
    pub const ALL: [Lang; 5] = [Lang::It, Lang::En, Lang::Fr, Lang::De, Lang::Es];

    /// The BCP 47 primary tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Es => "es",
        }
    }

    /// The language of a tag (`en`, `en-GB`, `DE`), if it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.as_str() == primary)
    }

    /// The supported language an `Accept-Language` value prefers most (by q-value); `None` when
    /// it names none of ours.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, Lang)> = None;
        for entry in accept_language.split(',').take(32) {
            let mut parts = entry.split(';');
            let Some(lang) = Lang::from_tag(parts.next().unwrap_or("")) else {
                continue;
            };
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Defines a closed list of values written as stable identifiers.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in a stable order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The identifier used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = ();

            fn from_str(text: &str) -> Result<Self, ()> {
                $name::ALL.iter().copied().find(|v| v.as_str() == text).ok_or(())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What kind of event it is. The list follows the typologies of public events of the
    /// national OntoPiA vocabulary where it has one (concert, show, exhibition, conference,
    /// festival, guided tour, workshop…); `book-presentation` and `reading` are the libraries'
    /// own and map to OntoPiA's "presentation" and "meeting".
    Category {
        /// Concerto.
        Concert = "concert",
        /// Spettacolo teatrale.
        Theatre = "theatre",
        /// Danza.
        Dance = "dance",
        /// Proiezione (cinema).
        Film = "film",
        /// Mostra, esposizione.
        Exhibition = "exhibition",
        /// Conferenza, incontro, dibattito.
        Conference = "conference",
        /// Presentazione di un libro.
        BookPresentation = "book-presentation",
        /// Lettura ad alta voce.
        Reading = "reading",
        /// Laboratorio, corso.
        Workshop = "workshop",
        /// Visita guidata.
        GuidedTour = "guided-tour",
        /// Festa, festival, sagra.
        Festival = "festival",
        /// Fiera, mercato.
        Fair = "fair",
        /// Evento sportivo.
        Sport = "sport",
        /// Per bambini e famiglie.
        Kids = "kids",
        /// Altro.
        Other = "other",
    }
}

impl Category {
    /// The Italian label, as OntoPiA and the municipalities' sites write it.
    pub fn label_it(self) -> &'static str {
        match self {
            Category::Concert => "Concerto",
            Category::Theatre => "Spettacolo teatrale",
            Category::Dance => "Danza",
            Category::Film => "Proiezione",
            Category::Exhibition => "Mostra",
            Category::Conference => "Conferenza",
            Category::BookPresentation => "Presentazione di libro",
            Category::Reading => "Lettura",
            Category::Workshop => "Laboratorio",
            Category::GuidedTour => "Visita guidata",
            Category::Festival => "Festa",
            Category::Fair => "Fiera",
            Category::Sport => "Evento sportivo",
            Category::Kids => "Per bambini e famiglie",
            Category::Other => "Altro",
        }
    }

    /// The schema.org type of an event of this category.
    pub fn schema_org_type(self) -> &'static str {
        match self {
            Category::Concert => "MusicEvent",
            Category::Theatre => "TheaterEvent",
            Category::Dance => "DanceEvent",
            Category::Film => "ScreeningEvent",
            Category::Exhibition => "ExhibitionEvent",
            Category::Conference | Category::BookPresentation | Category::Workshop => "EducationEvent",
            Category::Reading => "LiteraryEvent",
            Category::Festival | Category::GuidedTour | Category::Other => "Event",
            Category::Fair => "SaleEvent",
            Category::Sport => "SportsEvent",
            Category::Kids => "ChildrensEvent",
        }
    }
}

vocabulary! {
    /// Whether an event goes ahead, as schema.org's `EventStatusType` says it.
    EventStatus {
        /// As planned.
        Scheduled = "scheduled",
        /// Will not happen.
        Cancelled = "cancelled",
        /// Put off to a date not yet known.
        Postponed = "postponed",
        /// Moved to a new date (the previous one is kept).
        Rescheduled = "rescheduled",
    }
}

impl EventStatus {
    /// The schema.org `eventStatus` value.
    pub fn schema_org(self) -> &'static str {
        match self {
            EventStatus::Scheduled => "https://schema.org/EventScheduled",
            EventStatus::Cancelled => "https://schema.org/EventCancelled",
            EventStatus::Postponed => "https://schema.org/EventPostponed",
            EventStatus::Rescheduled => "https://schema.org/EventRescheduled",
        }
    }

    /// Whether followers are told when an event enters this status.
    pub fn tells_followers(self) -> bool {
        self != EventStatus::Scheduled
    }
}

vocabulary! {
    /// Accessibility features of an event or its venue.
    Accessibility {
        /// Step-free access for wheelchairs.
        Wheelchair = "wheelchair",
        /// An accessible toilet.
        AccessibleToilet = "accessible-toilet",
        /// An induction loop for hearing aids.
        HearingLoop = "hearing-loop",
        /// Italian Sign Language (LIS) interpreting.
        SignLanguage = "sign-language",
        /// Audio description.
        AudioDescription = "audio-description",
        /// Tactile paths or tactile materials.
        Tactile = "tactile",
        /// Easy-to-read texts.
        EasyRead = "easy-read",
        /// A quiet space or relaxed performance.
        Relaxed = "relaxed",
    }
}

/// An event's title and description in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Title.
    pub title: String,
    /// Description (plain text; may be empty).
    pub description: String,
}

/// A field the API refuses, with why in Italian and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {en}")]
pub struct InvalidField {
    /// The field, as the API names it (`texts.en.title`).
    pub field: String,
    /// Why, in Italian.
    pub it: String,
    /// Why, in English.
    pub en: String,
}

impl InvalidField {
    /// A refusal of `field`.
    pub fn new(field: impl Into<String>, it: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            it: it.into(),
            en: en.into(),
        }
    }
}

/// An event's own data, checked: everything but where it happens and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// Texts by language; always has Italian.
    pub texts: BTreeMap<Lang, Text>,
    /// Category.
    pub category: Category,
    /// When.
    pub schedule: Schedule,
    /// Price of a full ticket in cents; `None` when free.
    pub price_cents: Option<i64>,
    /// Where to buy tickets or book.
    pub ticket_url: Option<String>,
    /// Accessibility features, sorted.
    pub accessibility: Vec<Accessibility>,
    /// Image (never fetched by the server).
    pub image_url: Option<String>,
    /// Status.
    pub status: EventStatus,
}

impl EventSpec {
    /// Checks what an officer or an import sends.
    pub fn check(input: &api::EventInput) -> Result<Self, InvalidField> {
        let mut texts = BTreeMap::new();
        if input.texts.len() > Lang::ALL.len() {
            return Err(InvalidField::new(
                "texts",
                "Al massimo cinque lingue.",
                "At most five languages.",
            ));
        }
        for (tag, text) in &input.texts {
            let lang = Lang::from_tag(tag).filter(|l| l.as_str() == tag).ok_or_else(|| {
                InvalidField::new(
                    "texts",
                    format!("Lingua `{}` non prevista: it, en, fr, de, es.", short(tag)),
                    format!("Language `{}` is not one of it, en, fr, de, es.", short(tag)),
                )
            })?;
            let title = text.title.trim();
            check_text(&format!("texts.{tag}.title"), title, 1, MAX_TITLE)?;
            check_text(
                &format!("texts.{tag}.description"),
                &text.description,
                0,
                MAX_DESCRIPTION,
            )?;
            texts.insert(
                lang,
                Text {
                    title: title.to_owned(),
                    description: text.description.trim().to_owned(),
                },
            );
        }
        if !texts.contains_key(&Lang::It) {
            return Err(InvalidField::new(
                "texts.it",
                "Titolo e descrizione in italiano sono obbligatori.",
                "The Italian title and description are required.",
            ));
        }
        let category = input.category.parse().map_err(|()| {
            InvalidField::new(
                "category",
                format!("Categoria non prevista: {}.", list(Category::ALL)),
                format!("Unknown category; one of {}.", list(Category::ALL)),
            )
        })?;
        let schedule = Schedule::new(
            &input.dates,
            input.duration_minutes,
            input.rrule.as_deref(),
            &input.exdates,
        )
        .map_err(|e| schedule_field(&e))?;
        let price_cents = match input.price_cents {
            None | Some(0) => None,
            Some(cents) if (1..=MAX_PRICE_CENTS).contains(&cents) => Some(cents),
            Some(_) => {
                return Err(InvalidField::new(
                    "price_cents",
                    "Prezzo da 0 a 1000 euro, in centesimi.",
                    "Price from 0 to 1000 euros, in cents.",
                ));
            }
        };
        let ticket_url = input
            .ticket_url
            .as_deref()
            .map(|u| check_url("ticket_url", u))
            .transpose()?;
        let image_url = input
            .image_url
            .as_deref()
            .map(|u| check_url("image_url", u))
            .transpose()?;
        let accessibility = check_features("accessibility", &input.accessibility)?;
        let status = match &input.status {
            None => EventStatus::Scheduled,
            Some(text) => text.parse().map_err(|()| {
                InvalidField::new(
                    "status",
                    "Stato: scheduled, cancelled, postponed o rescheduled.",
                    "Status: scheduled, cancelled, postponed or rescheduled.",
                )
            })?,
        };
        Ok(Self {
            texts,
            category,
            schedule,
            price_cents,
            ticket_url,
            accessibility,
            image_url,
            status,
        })
    }

    /// The text in `lang`, else in Italian.
    pub fn text(&self, lang: Lang) -> (Lang, &Text) {
        match self.texts.get(&lang) {
            Some(text) => (lang, text),
            None => (Lang::It, &self.texts[&Lang::It]),
        }
    }

    /// Whether entry is free.
    pub fn is_free(&self) -> bool {
        self.price_cents.is_none()
    }
}

/// Checks a venue's or an address's name, address and position.
pub fn check_place(name: &str, address: &str, lat: f64, lon: f64) -> Result<Coordinates, InvalidField> {
    check_text("name", name.trim(), 1, MAX_PLACE_TEXT)?;
    check_text("address", address.trim(), 1, MAX_PLACE_TEXT)?;
    Coordinates::new(lat, lon).map_err(|e| {
        InvalidField::new(
            "lat",
            format!("Coordinate non valide: {e}."),
            format!("Invalid coordinates: {e}."),
        )
    })
}

/// Checks accessibility features as the API sends them; sorted, without repeats.
pub fn check_features(field: &str, features: &[String]) -> Result<Vec<Accessibility>, InvalidField> {
    if features.len() > MAX_FEATURES {
        return Err(InvalidField::new(field, "Troppe voci.", "Too many entries."));
    }
    let mut checked = features
        .iter()
        .map(|f| {
            f.parse::<Accessibility>().map_err(|()| {
                InvalidField::new(
                    field,
                    format!("Voce non prevista: {}.", list(Accessibility::ALL)),
                    format!("Unknown feature; one of {}.", list(Accessibility::ALL)),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    checked.sort();
    checked.dedup();
    Ok(checked)
}

/// An http(s) URL of at most [`MAX_URL`] characters, without spaces or control characters.
pub fn check_url(field: &str, url: &str) -> Result<String, InvalidField> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let host_ok = url
        .split("://")
        .nth(1)
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok
        || !host_ok
        || url.len() > MAX_URL
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidField::new(
            field,
            "Serve un indirizzo http o https completo.",
            "A complete http or https address is expected.",
        ));
    }
    Ok(url.to_owned())
}

fn check_text(field: &str, text: &str, min: usize, max: usize) -> Result<(), InvalidField> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(InvalidField::new(
            field,
            format!("Da {min} a {max} caratteri."),
            format!("From {min} to {max} characters."),
        ));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(InvalidField::new(
            field,
            "Caratteri di controllo non ammessi.",
            "Control characters are not allowed.",
        ));
    }
    Ok(())
}

fn schedule_field(error: &ScheduleError) -> InvalidField {
    let (field, it, en) = match error {
        ScheduleError::NoDate => ("dates", "Serve almeno una data.".to_owned(), error.to_string()),
        ScheduleError::TooManyDates => (
            "dates",
            format!(
                "Al massimo {} date e {} eccezioni.",
                schedule::MAX_DATES,
                schedule::MAX_EXCEPTIONS
            ),
            error.to_string(),
        ),
        ScheduleError::Date(text) => (
            "dates",
            format!("`{text}` non è una data e ora locale (AAAA-MM-GGTHH:MM, ora di Roma)."),
            error.to_string(),
        ),
        ScheduleError::Duration => (
            "duration_minutes",
            "Durata da 1 minuto a un anno.".to_owned(),
            error.to_string(),
        ),
        ScheduleError::Rule(reason) => (
            "rrule",
            format!("Regola di ricorrenza non valida: {reason}"),
            error.to_string(),
        ),
        ScheduleError::Frequency => (
            "rrule",
            "Le ricorrenze si ripetono al più ogni giorno.".to_owned(),
            error.to_string(),
        ),
    };
    InvalidField::new(field, it, en)
}

fn list<T: fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn short(text: &str) -> String {
    text.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> api::EventInput {
        serde_json::from_value(serde_json::json!({
            "texts": {"it": {"title": "Concerto d'autunno", "description": "Musica da camera."},
                      "en": {"title": "Autumn concert", "description": ""}},
            "category": "concert",
            "place": {"name": "Piazza", "address": "Piazza De Ferrari, Genova", "lat": 44.4072, "lon": 8.934},
            "dates": ["2026-12-12T21:00"],
            "duration_minutes": 90,
            "price_cents": 1500,
            "ticket_url": "https://example.org/tickets",
            "accessibility": ["wheelchair", "hearing-loop", "wheelchair"]
        }))
        .unwrap()
    }

    #[test]
    fn a_good_event_passes_with_its_texts_and_falls_back_to_italian() {
        let spec = EventSpec::check(&input()).unwrap();
        assert_eq!(spec.category, Category::Concert);
        assert_eq!(
            spec.accessibility,
            vec![Accessibility::Wheelchair, Accessibility::HearingLoop]
        );
        assert_eq!(spec.price_cents, Some(1500));
        assert_eq!(spec.text(Lang::En).1.title, "Autumn concert");
        assert_eq!(spec.text(Lang::De), (Lang::It, &spec.texts[&Lang::It]));
        assert_eq!(spec.status, EventStatus::Scheduled);
    }

    #[test]
    fn each_bad_field_is_named() {
        let field = |change: &dyn Fn(&mut api::EventInput)| {
            let mut bad = input();
            change(&mut bad);
            EventSpec::check(&bad).unwrap_err().field
        };
        assert_eq!(
            field(&|i| {
                i.texts.remove("it");
            }),
            "texts.it"
        );
        assert_eq!(
            field(&|i| {
                i.texts.insert("xx".into(), i.texts["en"].clone());
            }),
            "texts"
        );
        assert_eq!(
            field(&|i| i.texts.get_mut("en").unwrap().title = "x".repeat(MAX_TITLE + 1)),
            "texts.en.title"
        );
        assert_eq!(
            field(&|i| i.texts.get_mut("it").unwrap().title = "  ".into()),
            "texts.it.title"
        );
        assert_eq!(field(&|i| i.category = "rave".into()), "category");
        assert_eq!(field(&|i| i.dates = vec!["domani".into()]), "dates");
        assert_eq!(field(&|i| i.rrule = Some("FREQ=MINUTELY".into())), "rrule");
        assert_eq!(field(&|i| i.price_cents = Some(-1)), "price_cents");
        assert_eq!(
            field(&|i| i.ticket_url = Some("javascript:alert(1)".into())),
            "ticket_url"
        );
        assert_eq!(
            field(&|i| i.image_url = Some("https:///x.png".into())),
            "image_url"
        );
        assert_eq!(
            field(&|i| i.accessibility = vec!["stairs".into()]),
            "accessibility"
        );
        assert_eq!(field(&|i| i.status = Some("maybe".into())), "status");
    }

    #[test]
    fn languages_are_negotiated_with_quality() {
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
        assert_eq!(Lang::negotiate("ja, es;q=0.5, fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("ja"), None);
        assert_eq!(Lang::negotiate("es;q=0"), None);
        assert_eq!(Lang::from_tag("EN-gb"), Some(Lang::En));
    }
}
