//! Civil-protection alerts: the levels and hazards of the Italian alert system, the Region of
//! Liguria's alert zones, the kind of message (alert, update, cancel), the area an alert covers
//! ([`area`]) and CAP 1.2, the format civil-protection systems exchange ([`cap`]).

pub mod area;
pub mod cap;

use std::fmt;
use std::str::FromStr;

pub use self::area::{AreaError, Polygon, point_in_area};
use crate::events::InvalidField;

/// Implements `as_str`, `ALL`, `FromStr` (refusing with the list) and `Display` for a
/// field-less enum whose API identifiers are given.
macro_rules! identifiers {
    ($type:ident, $field:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $type {
            /// Every value, in a stable order.
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The identifier used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }
        }

        impl FromStr for $type {
            type Err = InvalidField;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $type::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| {
                        let list = $type::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ");
                        InvalidField::new($field, format!("Uno tra: {list}."), format!("One of: {list}."))
                    })
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// How serious an alert is: the colours of the Italian weather-hydrological alert system, or a
/// plain notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Information without an alert colour.
    Notice,
    /// Allerta gialla.
    Yellow,
    /// Allerta arancione.
    Orange,
    /// Allerta rossa.
    Red,
}

identifiers!(Level, "level", Notice => "notice", Yellow => "gialla", Orange => "arancione", Red => "rossa");

impl Level {
    /// CAP `severity`.
    pub fn cap_severity(self) -> &'static str {
        match self {
            Level::Notice => "Minor",
            Level::Yellow => "Moderate",
            Level::Orange => "Severe",
            Level::Red => "Extreme",
        }
    }

    /// The level of a CAP `severity` (`Unknown` is a notice).
    pub fn from_cap_severity(severity: &str) -> Level {
        match severity {
            "Moderate" => Level::Yellow,
            "Severe" => Level::Orange,
            "Extreme" => Level::Red,
            _ => Level::Notice,
        }
    }

    /// MeteoAlarm's `awareness_level` parameter (`3; orange; Severe`), which European CAP
    /// feeds carry and which says the colour better than the severity.
    pub fn awareness_level(self) -> &'static str {
        match self {
            Level::Notice => "1; green; Minor",
            Level::Yellow => "2; yellow; Moderate",
            Level::Orange => "3; orange; Severe",
            Level::Red => "4; red; Extreme",
        }
    }

    /// The level of an `awareness_level` value, by its colour.
    pub fn from_awareness_level(value: &str) -> Option<Level> {
        let colour = value.split(';').nth(1)?.trim().to_ascii_lowercase();
        match colour.as_str() {
            "green" => Some(Level::Notice),
            "yellow" => Some(Level::Yellow),
            "orange" => Some(Level::Orange),
            "red" => Some(Level::Red),
            _ => None,
        }
    }

    /// A short name, in Italian and in English.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Level::Notice => ("Avviso", "Notice"),
            Level::Yellow => ("Allerta gialla", "Yellow alert"),
            Level::Orange => ("Allerta arancione", "Orange alert"),
            Level::Red => ("Allerta rossa", "Red alert"),
        }
    }
}

/// What the alert is about: the hazards of the Italian civil-protection alert system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hazard {
    /// Landslides and floods of small basins (rischio idrogeologico).
    Hydrogeological,
    /// Floods of the larger rivers (rischio idraulico).
    Hydraulic,
    /// Thunderstorms.
    Thunderstorms,
    /// Snow.
    Snow,
    /// Wind.
    Wind,
    /// Storm surges.
    StormSurge,
    /// Wildfires.
    Wildfire,
    /// Anything else.
    Other,
}

identifiers!(Hazard, "hazard",
    Hydrogeological => "idrogeologico", Hydraulic => "idraulico", Thunderstorms => "temporali",
    Snow => "neve", Wind => "vento", StormSurge => "mareggiate", Wildfire => "incendi", Other => "other");

impl Hazard {
    /// The CAP `event`, in Italian and in English.
    pub fn event(self) -> (&'static str, &'static str) {
        match self {
            Hazard::Hydrogeological => ("Rischio idrogeologico", "Hydrogeological hazard"),
            Hazard::Hydraulic => ("Rischio idraulico", "River flood hazard"),
            Hazard::Thunderstorms => ("Temporali", "Thunderstorms"),
            Hazard::Snow => ("Neve", "Snow"),
            Hazard::Wind => ("Vento", "Wind"),
            Hazard::StormSurge => ("Mareggiate", "Storm surge"),
            Hazard::Wildfire => ("Incendi boschivi", "Wildfires"),
            Hazard::Other => ("Avviso di protezione civile", "Civil-protection notice"),
        }
    }

    /// The CAP `category`.
    pub fn cap_category(self) -> &'static str {
        match self {
            Hazard::Wildfire => "Fire",
            Hazard::Other => "Safety",
            _ => "Met",
        }
    }

    /// The hazard a CAP document names: its `event` read for the words of each hazard (in
    /// Italian or English), else `other`.
    pub fn from_cap_event(event: &str) -> Hazard {
        let event = event.to_lowercase();
        let words: &[(Hazard, &[&str])] = &[
            (Hazard::Hydraulic, &["idraulic", "river", "flood"]),
            (
                Hazard::Hydrogeological,
                &["idrogeolog", "hydrogeolog", "rain", "piogg", "landslide", "frane"],
            ),
            (Hazard::Thunderstorms, &["tempora", "thunder"]),
            (Hazard::Snow, &["neve", "nevic", "snow"]),
            (Hazard::Wind, &["vento", "wind"]),
            (Hazard::StormSurge, &["mareggiat", "coastal", "surge", "marine"]),
            (Hazard::Wildfire, &["incendi", "fire"]),
        ];
        words
            .iter()
            .find(|(_, stems)| stems.iter().any(|stem| event.contains(stem)))
            .map_or(Hazard::Other, |(hazard, _)| *hazard)
    }
}

/// The Region of Liguria's weather-hydrological alert zones (every municipality is in exactly
/// one; the data is `server/data/alerts/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Zone {
    /// Bacini liguri marittimi di Ponente.
    A,
    /// Bacini liguri marittimi di Centro.
    B,
    /// Bacini liguri marittimi di Levante.
    C,
    /// Bacini liguri padani di Ponente.
    D,
    /// Bacini liguri padani di Levante.
    E,
}

identifiers!(Zone, "zones", A => "A", B => "B", C => "C", D => "D", E => "E");

impl Zone {
    /// The zone's name.
    pub fn name(self) -> &'static str {
        match self {
            Zone::A => "Bacini liguri marittimi di Ponente",
            Zone::B => "Bacini liguri marittimi di Centro",
            Zone::C => "Bacini liguri marittimi di Levante",
            Zone::D => "Bacini liguri padani di Ponente",
            Zone::E => "Bacini liguri padani di Levante",
        }
    }
}

/// What a message does: a new alert, an update replacing an earlier one, or its cancellation
/// (CAP `msgType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MsgType {
    /// A new alert.
    Alert,
    /// Replaces the alert it references.
    Update,
    /// Withdraws the alert it references.
    Cancel,
}

identifiers!(MsgType, "msg_type", Alert => "alert", Update => "update", Cancel => "cancel");

impl MsgType {
    /// CAP `msgType`.
    pub fn cap(self) -> &'static str {
        match self {
            MsgType::Alert => "Alert",
            MsgType::Update => "Update",
            MsgType::Cancel => "Cancel",
        }
    }
}

/// Polygons from the wire (`[lat, lon]` vertices), checked; `field` names them in a refusal.
pub fn polygons_from_wire(field: &str, wire: &[Vec<[f64; 2]>]) -> Result<Vec<Polygon>, InvalidField> {
    if wire.len() > area::MAX_POLYGONS {
        return Err(InvalidField::new(
            field,
            format!("Al massimo {} aree.", area::MAX_POLYGONS),
            format!("At most {} areas.", area::MAX_POLYGONS),
        ));
    }
    wire.iter()
        .enumerate()
        .map(|(index, vertices)| {
            let pairs: Vec<(f64, f64)> = vertices.iter().map(|[lat, lon]| (*lat, *lon)).collect();
            Polygon::new(&pairs).map_err(|e| {
                InvalidField::new(
                    format!("{field}[{index}]"),
                    format!("Area non valida: {e}."),
                    format!("Invalid area: {e}."),
                )
            })
        })
        .collect()
}

/// Polygons as the wire shows them, vertices rounded to `decimals` places.
pub fn polygons_to_wire(polygons: &[Polygon], decimals: i32) -> Vec<Vec<[f64; 2]>> {
    let factor = 10f64.powi(decimals);
    let round = |value: f64| (value * factor).round() / factor;
    polygons
        .iter()
        .map(|p| {
            p.vertices()
                .into_iter()
                .map(|(lat, lon)| [round(lat), round(lon)])
                .collect()
        })
        .collect()
}

/// Whether the point (`lat`, `lon`) is in the area a push carried (`api::AlertPush::area`):
/// what an app asks on the device for "alerts where I am"; polygons that do not check out are
/// passed over, and a point that is not a coordinate is in no area.
pub fn area_contains(area: &[Vec<[f64; 2]>], lat: f64, lon: f64) -> bool {
    let Ok(point) = crate::geo::Coordinates::new(lat, lon) else {
        return false;
    };
    area.iter().any(|vertices| {
        let pairs: Vec<(f64, f64)> = vertices.iter().map(|[lat, lon]| (*lat, *lon)).collect();
        Polygon::new(&pairs).is_ok_and(|polygon| polygon.contains(point))
    })
}

/// Most characters of a headline.
pub const MAX_HEADLINE: usize = 160;
/// Most characters of a description or of the instructions.
pub const MAX_TEXT: usize = 4_000;

/// Checks an alert's text in one language: a headline of 1 to 160 characters, a description
/// and instructions of at most 4,000; `field` prefixes the names (`texts.en`).
pub fn check_text(
    field: &str,
    headline: &str,
    description: &str,
    instruction: &str,
) -> Result<(), InvalidField> {
    let count = headline.trim().chars().count();
    if count == 0 || count > MAX_HEADLINE {
        return Err(InvalidField::new(
            format!("{field}.headline"),
            format!("Da 1 a {MAX_HEADLINE} caratteri."),
            format!("1 to {MAX_HEADLINE} characters."),
        ));
    }
    for (name, text) in [("description", description), ("instruction", instruction)] {
        if text.chars().count() > MAX_TEXT {
            return Err(InvalidField::new(
                format!("{field}.{name}"),
                format!("Al massimo {MAX_TEXT} caratteri."),
                format!("At most {MAX_TEXT} characters."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip_and_refuse_with_the_list() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>().unwrap(), *level);
            assert_eq!(Level::from_cap_severity(level.cap_severity()), *level);
            assert_eq!(Level::from_awareness_level(level.awareness_level()), Some(*level));
        }
        for hazard in Hazard::ALL {
            assert_eq!(hazard.as_str().parse::<Hazard>().unwrap(), *hazard);
            assert_eq!(Hazard::from_cap_event(hazard.event().0), *hazard, "{hazard}");
            assert_eq!(Hazard::from_cap_event(hazard.event().1), *hazard, "{hazard}");
        }
        let refused = "viola".parse::<Level>().unwrap_err();
        assert_eq!(refused.field, "level");
        assert!(refused.en.contains("gialla, arancione"), "{}", refused.en);
        assert_eq!("B".parse::<Zone>().unwrap(), Zone::B);
        assert!("F".parse::<Zone>().is_err());
        assert_eq!("cancel".parse::<MsgType>().unwrap().cap(), "Cancel");
    }

    #[test]
    fn wire_areas_decide_on_both_sides_of_a_border() {
        // Genova's western edge at Voltri, roughly: the municipality of Arenzano lies west of 8.70.
        let area = vec![vec![[44.40, 8.70], [44.48, 8.70], [44.48, 8.80], [44.40, 8.80]]];
        assert!(area_contains(&area, 44.43, 8.75));
        assert!(!area_contains(&area, 44.43, 8.68));
        assert!(!area_contains(&area, 144.0, 8.75));
        let checked = polygons_from_wire("polygons", &area).unwrap();
        assert_eq!(polygons_to_wire(&checked, 5)[0].len(), 5, "closed");
        let bad = vec![vec![[44.4, 8.7], [44.5, 8.7]]];
        assert_eq!(
            polygons_from_wire("polygons", &bad).unwrap_err().field,
            "polygons[0]"
        );
    }

    #[test]
    fn texts_are_bounded() {
        assert!(check_text("texts.it", "Allerta", "", "").is_ok());
        assert_eq!(
            check_text("texts.en", " ", "", "").unwrap_err().field,
            "texts.en.headline"
        );
        let long = "x".repeat(MAX_TEXT + 1);
        assert_eq!(
            check_text("texts.it", "Allerta", "", &long).unwrap_err().field,
            "texts.it.instruction"
        );
    }
}
