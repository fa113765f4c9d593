//! Municipalities (the tenants) and their codes.

use sportello_core::api::{self, Coordinates};
use sportello_core::tenant::IstatCode;

use crate::error::SportelloError;
use crate::geo::rank_by_distance;

/// A municipality served by Sportello. Not `api::Municipality`: the apps get its point as one
/// `Coordinates`, which the ranking functions take.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Municipality {
    /// ISTAT code, the tenant id (`010025`).
    pub istat_code: String,
    /// Official name.
    pub name: String,
    /// Belfiore cadastral code (`D969`).
    pub belfiore_code: String,
    /// Fiscal code, also the pagoPA creditor id.
    pub fiscal_code: String,
    /// IndicePA code (`c_d969`).
    pub ipa_code: String,
    /// Province abbreviation.
    pub province: String,
    /// A representative point of the municipality.
    pub location: Coordinates,
    /// Legal population.
    pub population: u32,
    /// Postal codes (CAP).
    pub postal_codes: Vec<String>,
}

impl From<api::Municipality> for Municipality {
    fn from(m: api::Municipality) -> Self {
        Self {
            istat_code: m.istat_code,
            name: m.name,
            belfiore_code: m.belfiore_code,
            fiscal_code: m.fiscal_code,
            ipa_code: m.ipa_code,
            province: m.province,
            location: Coordinates {
                lat: m.lat,
                lon: m.lon,
            },
            population: m.population,
            postal_codes: m.postal_codes,
        }
    }
}

/// A municipality and its distance from a point.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RankedMunicipality {
    /// The municipality.
    pub municipality: Municipality,
    /// Great-circle distance from the point, kilometres.
    pub distance_km: f64,
}

/// Checks an ISTAT municipality code (six digits) and returns it.
#[uniffi::export]
pub fn parse_istat_code(text: &str) -> Result<String, SportelloError> {
    IstatCode::parse(text.trim())
        .map(|code| code.as_str().to_owned())
        .map_err(|error| SportelloError::invalid("istat_code", &error))
}

/// A search's query string with its `municipality` checked on the device (a typo such as
/// `Genova` is `InvalidInput` before any request) and normalised.
pub(crate) fn checked_municipality(
    mut params: Vec<(&'static str, String)>,
) -> Result<Vec<(&'static str, String)>, SportelloError> {
    for (name, value) in &mut params {
        if *name == "municipality" {
            *value = parse_istat_code(value)?;
        }
    }
    Ok(params)
}

/// Whether `text` is an ISTAT municipality code (six digits; surrounding spaces tolerated).
#[uniffi::export]
pub fn is_valid_istat_code(text: &str) -> bool {
    parse_istat_code(text).is_ok()
}

/// Ranks municipalities by distance from `origin` (the device's location), nearest first, on the
/// device; `limit` keeps only the nearest ones.
#[uniffi::export(default(limit = None))]
pub fn rank_municipalities_by_distance(
    municipalities: Vec<Municipality>,
    origin: Coordinates,
    limit: Option<u32>,
) -> Result<Vec<RankedMunicipality>, SportelloError> {
    Ok(rank_by_distance(municipalities, origin, |m| m.location, limit)?
        .into_iter()
        .map(|(municipality, distance_km)| RankedMunicipality {
            municipality,
            distance_km,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istat_codes_are_checked_on_the_device() {
        assert_eq!(parse_istat_code(" 010025 ").unwrap(), "010025");
        assert!(is_valid_istat_code("010001"));
        assert!(!is_valid_istat_code("01002x"));
        assert!(matches!(
            parse_istat_code("10025"),
            Err(SportelloError::InvalidInput { field, .. }) if field == "istat_code"
        ));
    }
}
