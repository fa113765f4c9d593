//! Demo venues and events (`--demo`). The venues are real cultural places of the Genoa area with
//! their real addresses; coordinates were placed on the building by hand, to within some tens of
//! metres, and opening hours are indicative. The events are invented: every one is marked
//! `demo`. Dated events fall on the coming days, so the demo always has something this weekend;
//! each is loaded by a fixed UID, so loading again replaces rather than adds.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde_json::json;
use sportello_core::api;
use sportello_core::calendar::rome_date;

use super::{Events, EventsError};

/// A demo venue: (id, ISTAT code, name, address, lat, lon, accessibility, weekly hours).
pub type DemoVenue = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    &'static str,
    &'static str,
);

/// Real cultural venues of the Genoa area.
pub const DEMO_VENUES: &[DemoVenue] = &[
    (
        "ge-palazzo-ducale",
        "010025",
        "Palazzo Ducale",
        "Piazza Giacomo Matteotti 9, 16123 Genova",
        44.407_330,
        8.934_000,
        "wheelchair accessible-toilet",
        "Tu-Su 10:00-19:00",
    ),
    (
        "ge-teatro-carlo-felice",
        "010025",
        "Teatro Carlo Felice",
        "Passo Eugenio Montale 4, 16121 Genova",
        44.407_680,
        8.932_520,
        "wheelchair accessible-toilet hearing-loop",
        "",
    ),
    (
        "ge-galata-museo-del-mare",
        "010025",
        "Galata Museo del Mare",
        "Calata De Mari 1, 16126 Genova",
        44.414_280,
        8.923_650,
        "wheelchair accessible-toilet",
        "Tu-Su 10:00-18:00",
    ),
    (
        "ge-musei-strada-nuova",
        "010025",
        "Musei di Strada Nuova (Palazzo Rosso)",
        "Via Garibaldi 18, 16124 Genova",
        44.410_720,
        8.933_750,
        "wheelchair",
        "Tu-Fr 09:00-18:30; Sa,Su 09:30-18:30",
    ),
    (
        "camogli-castello-dragonara",
        "010007",
        "Castello della Dragonara",
        "Via al Castello, 16032 Camogli",
        44.348_600,
        9.156_500,
        "",
        "",
    ),
    (
        "chiavari-palazzo-rocca",
        "010015",
        "Palazzo Rocca",
        "Via Costaguta 2, 16043 Chiavari",
        44.316_900,
        9.322_000,
        "wheelchair",
        "Th-Su 10:00-13:00,15:00-19:00",
    ),
    (
        "rapallo-castello",
        "010046",
        "Castello di Rapallo",
        "Lungomare Vittorio Veneto, 16035 Rapallo",
        44.348_500,
        9.232_000,
        "",
        "",
    ),
    (
        "smargherita-villa-durazzo",
        "010054",
        "Villa Durazzo",
        "Piazzale San Giacomo 3, 16038 Santa Margherita Ligure",
        44.334_300,
        9.210_500,
        "wheelchair accessible-toilet",
        "Mo-Su 09:00-19:00",
    ),
    (
        "arenzano-villa-negrotto-cambiaso",
        "010001",
        "Villa Negrotto Cambiaso",
        "Via Sauli Pallavicino 39, 16011 Arenzano",
        44.403_600,
        8.683_300,
        "wheelchair",
        "",
    ),
];

/// The demo venues as officers would send them.
pub fn demo_venue_inputs() -> Vec<(&'static str, &'static str, api::EventVenueInput)> {
    DEMO_VENUES
        .iter()
        .map(|&(id, istat, name, address, lat, lon, accessibility, hours)| {
            (
                id,
                istat,
                api::EventVenueInput {
                    name: name.to_owned(),
                    address: address.to_owned(),
                    lat,
                    lon,
                    accessibility: accessibility.split_whitespace().map(str::to_owned).collect(),
                    opening_hours: Some(hours.to_owned()).filter(|h| !h.is_empty()),
                },
            )
        })
        .collect()
}

/// The first `weekday` from `today` on.
fn next(today: Date, weekday: Weekday) -> Date {
    let ahead = i64::from(today.weekday().until(weekday));
    today.checked_add(ahead.days()).unwrap_or(today)
}

/// The demo events as of `today` (Europe/Rome): (ISTAT code, UID, event).
#[allow(clippy::too_many_lines, reason = "a list of data, one event after another")]
pub fn demo_events(
    today: Date,
) -> Result<Vec<(&'static str, &'static str, api::EventInput)>, serde_json::Error> {
    let saturday = next(today, Weekday::Saturday);
    let sunday = next(today, Weekday::Sunday).max(saturday.checked_add(1.day()).unwrap_or(saturday));
    let thursday = next(today, Weekday::Thursday);
    let friday = next(today, Weekday::Friday);
    let at = |date: Date, time: &str| format!("{date}T{time}");
    let week_after = |date: Date| date.checked_add(7.days()).unwrap_or(date);
    let events = [
        (
            "010025",
            "demo-ducale-mostra@sportello",
            json!({
                "texts": {
                    "it": {"title": "Genova e il mare nel Seicento", "description": "Mostra di carte nautiche, dipinti e modelli di galee dalle collezioni civiche. (Evento dimostrativo.)"},
                    "en": {"title": "Genoa and the sea in the 17th century", "description": "Sea charts, paintings and galley models from the city's collections. (Demo event.)"},
                    "fr": {"title": "Gênes et la mer au XVIIe siècle", "description": "Cartes marines, peintures et maquettes de galères. (Événement de démonstration.)"}
                },
                "category": "exhibition", "venue": "ge-palazzo-ducale",
                "dates": [at(today, "10:00")], "duration_minutes": 540,
                "rrule": "FREQ=WEEKLY;BYDAY=TU,WE,TH,FR,SA,SU",
                "price_cents": 1200, "ticket_url": "https://palazzoducale.genova.it/",
                "accessibility": ["wheelchair", "accessible-toilet", "audio-description"]
            }),
        ),
        (
            "010025",
            "demo-carlo-felice-sinfonica@sportello",
            json!({
                "texts": {
                    "it": {"title": "Concerto sinfonico del sabato", "description": "Orchestra del Teatro: Beethoven, Sinfonia n. 7. (Evento dimostrativo.)"},
                    "en": {"title": "Saturday symphony concert", "description": "The theatre's orchestra plays Beethoven's Seventh. (Demo event.)"},
                    "de": {"title": "Samstagskonzert", "description": "Das Orchester des Theaters spielt Beethovens Siebte. (Demo-Veranstaltung.)"}
                },
                "category": "concert", "venue": "ge-teatro-carlo-felice",
                "dates": [at(saturday, "20:00")], "duration_minutes": 120, "rrule": "FREQ=WEEKLY;BYDAY=SA",
                "price_cents": 2500, "ticket_url": "https://www.operacarlofelicegenova.it/",
                "accessibility": ["wheelchair", "hearing-loop"]
            }),
        ),
        (
            "010025",
            "demo-galata-sommergibile@sportello",
            json!({
                "texts": {
                    "it": {"title": "Visita guidata al sommergibile Nazario Sauro", "description": "A bordo del sommergibile ormeggiato davanti al museo. (Evento dimostrativo.)"},
                    "en": {"title": "Guided tour of the Nazario Sauro submarine", "description": "On board the submarine moored by the museum. (Demo event.)"},
                    "es": {"title": "Visita guiada al submarino Nazario Sauro", "description": "A bordo del submarino amarrado frente al museo. (Evento de demostración.)"}
                },
                "category": "guided-tour", "venue": "ge-galata-museo-del-mare",
                "dates": [at(sunday, "11:00")], "duration_minutes": 60, "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "price_cents": 1700
            }),
        ),
        (
            "010025",
            "demo-palazzo-rosso-famiglie@sportello",
            json!({
                "texts": {
                    "it": {"title": "Laboratorio per famiglie a Palazzo Rosso", "description": "Disegnare i ritratti di Van Dyck. Per bambini dai 6 anni. (Evento dimostrativo.)"},
                    "en": {"title": "Family workshop at Palazzo Rosso", "description": "Drawing Van Dyck's portraits. For children aged 6 and up. (Demo event.)"}
                },
                "category": "kids", "venue": "ge-musei-strada-nuova",
                "dates": [at(saturday, "15:00"), at(sunday, "15:00")], "duration_minutes": 90,
                "accessibility": ["wheelchair"]
            }),
        ),
        (
            "010025",
            "demo-berio-letture@sportello",
            json!({
                "texts": {
                    "it": {"title": "Letture ad alta voce per bambini", "description": "Ogni mercoledì alla Biblioteca Berio. (Evento dimostrativo.)"},
                    "en": {"title": "Read-aloud for children", "description": "Every Wednesday at the Berio library. (Demo event.)"},
                    "fr": {"title": "Lectures à voix haute pour enfants", "description": "Chaque mercredi. (Événement de démonstration.)"},
                    "de": {"title": "Vorlesestunde für Kinder", "description": "Jeden Mittwoch. (Demo-Veranstaltung.)"},
                    "es": {"title": "Lecturas en voz alta para niños", "description": "Cada miércoles. (Evento de demostración.)"}
                },
                "category": "reading", "venue": "ge-berio",
                "dates": [at(next(today, Weekday::Wednesday), "17:00")], "duration_minutes": 60,
                "rrule": "FREQ=WEEKLY;BYDAY=WE",
                "exdates": [at(week_after(next(today, Weekday::Wednesday)), "17:00")],
                "accessibility": ["easy-read"]
            }),
        ),
        (
            "010025",
            "demo-de-ferrari-festa@sportello",
            json!({
                "texts": {
                    "it": {"title": "Festa in piazza De Ferrari", "description": "Musica e bancarelle intorno alla fontana. (Evento dimostrativo.)"},
                    "en": {"title": "Party in Piazza De Ferrari", "description": "Music and stalls around the fountain. (Demo event.)"}
                },
                "category": "festival",
                "place": {"name": "Piazza De Ferrari", "address": "Piazza Raffaele De Ferrari, 16121 Genova", "lat": 44.407_180, "lon": 8.934_030},
                "dates": [at(saturday, "18:00")], "duration_minutes": 240,
                "accessibility": ["wheelchair"]
            }),
        ),
        (
            "010007",
            "demo-dragonara-mostra@sportello",
            json!({
                "texts": {
                    "it": {"title": "Fotografie del golfo Paradiso", "description": "Mostra fotografica nel castello. (Evento dimostrativo.)"},
                    "en": {"title": "Photographs of the Paradise Gulf", "description": "A photo exhibition in the castle. (Demo event.)"}
                },
                "category": "exhibition", "venue": "camogli-castello-dragonara",
                "dates": [at(saturday, "10:00")], "duration_minutes": 480, "rrule": "FREQ=WEEKLY;BYDAY=SA,SU"
            }),
        ),
        (
            "010015",
            "demo-palazzo-rocca-visita@sportello",
            json!({
                "texts": {
                    "it": {"title": "Visita guidata alla quadreria di Palazzo Rocca", "description": "La seconda domenica del mese. (Evento dimostrativo.)"},
                    "en": {"title": "Guided tour of the Palazzo Rocca gallery", "description": "On the second Sunday of the month. (Demo event.)"}
                },
                "category": "guided-tour", "venue": "chiavari-palazzo-rocca",
                "dates": [at(today, "16:00")], "duration_minutes": 75, "rrule": "FREQ=MONTHLY;BYDAY=2SU",
                "price_cents": 500, "accessibility": ["wheelchair"]
            }),
        ),
        (
            "010046",
            "demo-rapallo-castello-concerto@sportello",
            json!({
                "texts": {
                    "it": {"title": "Concerto al Castello", "description": "Annullato per le previsioni di mareggiata. (Evento dimostrativo.)"},
                    "en": {"title": "Concert at the Castle", "description": "Cancelled: a sea storm is forecast. (Demo event.)"}
                },
                "category": "concert", "venue": "rapallo-castello",
                "dates": [at(friday, "21:00")], "duration_minutes": 90, "status": "cancelled"
            }),
        ),
        (
            "010054",
            "demo-villa-durazzo-musica@sportello",
            json!({
                "texts": {
                    "it": {"title": "Musica da camera a Villa Durazzo", "description": "Ogni venerdì sera nel salone della villa. (Evento dimostrativo.)"},
                    "en": {"title": "Chamber music at Villa Durazzo", "description": "Every Friday evening in the villa's hall. (Demo event.)"}
                },
                "category": "concert", "venue": "smargherita-villa-durazzo",
                "dates": [at(friday, "21:00")], "duration_minutes": 90, "rrule": "FREQ=WEEKLY;BYDAY=FR",
                "price_cents": 1000, "accessibility": ["wheelchair", "accessible-toilet"]
            }),
        ),
        (
            "010001",
            "demo-arenzano-libro@sportello",
            json!({
                "texts": {
                    "it": {"title": "Presentazione del libro \"Sentieri del Beigua\"", "description": "L'autore racconta i percorsi del parco. (Evento dimostrativo.)"},
                    "en": {"title": "Book launch: \"Trails of the Beigua\"", "description": "The author presents the park's trails. (Demo event.)"}
                },
                "category": "book-presentation", "venue": "arenzano-villa-negrotto-cambiaso",
                "dates": [at(thursday, "18:00")], "duration_minutes": 90, "accessibility": ["wheelchair"]
            }),
        ),
    ];
    events
        .into_iter()
        .map(|(istat, uid, value)| Ok((istat, uid, serde_json::from_value(value)?)))
        .collect()
}

/// Loads the demo venues and events; returns how many events.
pub async fn load(events: &Events) -> Result<usize, EventsError> {
    for (id, istat, input) in demo_venue_inputs() {
        events.write_venue(istat, id, &input, true).await?;
    }
    let today = rome_date(jiff::Timestamp::now());
    let list = demo_events(today).map_err(|e| EventsError::Internal(e.to_string()))?;
    for (istat, uid, input) in &list {
        events
            .upsert_by_uid(istat, uid, input.clone(), "demo", true)
            .await?;
    }
    Ok(list.len())
}

#[cfg(test)]
mod tests {
    use sportello_core::events::EventSpec;

    use super::*;

    #[test]
    fn demo_venues_are_valid_and_in_their_municipality() {
        let municipalities = crate::tenant::reference_municipalities().unwrap();
        for (id, istat, venue) in demo_venue_inputs() {
            let m = municipalities
                .iter()
                .find(|m| m.istat_code.as_str() == istat)
                .unwrap();
            let at = sportello_core::events::check_place(&venue.name, &venue.address, venue.lat, venue.lon)
                .unwrap();
            // Within a few km of the municipality's reference point: catches swapped digits.
            assert!(at.distance_km(m.location) < 8.0, "{id} is far from {}", m.name);
        }
    }

    #[test]
    fn demo_events_are_valid_on_any_day() {
        for day in 0..7 {
            let today = jiff::civil::date(2026, 12, 7).checked_add(day.days()).unwrap();
            for (_, uid, input) in demo_events(today).unwrap() {
                EventSpec::check(&input).unwrap_or_else(|e| panic!("{uid}: {e}"));
                assert!(uid.starts_with("demo-"));
            }
        }
    }
}
