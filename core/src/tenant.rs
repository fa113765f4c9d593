//! Tenants: the municipalities (comuni) of the Città Metropolitana di Genova and their codes.

use std::fmt;

use crate::geo::Coordinates;

/// Inhabitants above which some legal clocks double (DPR 380/2001 art. 20 c. 7).
pub const LARGE_MUNICIPALITY_POPULATION: u32 = 100_000;

/// Why a code does not identify a municipality.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// Not six ASCII digits.
    #[error("`{0}` is not an ISTAT municipality code (six digits, e.g. 010025)")]
    MalformedIstatCode(String),
    /// Not eleven digits with a valid check digit.
    #[error("`{0}` is not a valid 11-digit fiscal code of an entity")]
    MalformedEntityFiscalCode(String),
    /// Well-formed, but no such municipality is served here.
    #[error("no municipality with ISTAT code {0}")]
    UnknownMunicipality(IstatCode),
}

/// The ISTAT municipality code ("codice comune alfanumerico"): six digits, the historic province
/// (`010` for Genova) followed by a progressive number. It is the tenant id everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IstatCode(String);

impl IstatCode {
    /// Parses six ASCII digits.
    pub fn parse(text: &str) -> Result<Self, TenantError> {
        if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(TenantError::MalformedIstatCode(truncate(text)))
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IstatCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The 11-digit fiscal code of an entity (codice fiscale numerico / partita IVA); for a
/// municipality it is also its pagoPA creditor id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityFiscalCode(String);

impl EntityFiscalCode {
    /// Parses eleven digits and verifies the check digit (the Luhn variant of the
    /// Agenzia delle Entrate).
    pub fn parse(text: &str) -> Result<Self, TenantError> {
        let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
        if text.len() != 11 || digits.len() != 11 {
            return Err(TenantError::MalformedEntityFiscalCode(truncate(text)));
        }
        let sum: u32 = digits[..10]
            .iter()
            .enumerate()
            .map(|(i, &d)| match (i % 2, d * 2) {
                (0, _) => d,
                (_, doubled) if doubled > 9 => doubled - 9,
                (_, doubled) => doubled,
            })
            .sum();
        if (10 - sum % 10) % 10 == digits[10] {
            Ok(Self(text.to_owned()))
        } else {
            Err(TenantError::MalformedEntityFiscalCode(truncate(text)))
        }
    }

    /// The eleven digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityFiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A municipality served by Sportello.
#[derive(Debug, Clone, PartialEq)]
pub struct Municipality {
    /// Tenant id.
    pub istat_code: IstatCode,
    /// Official name (Italian).
    pub name: String,
    /// Belfiore cadastral code, e.g. `D969`.
    pub belfiore_code: String,
    /// Fiscal code; the pagoPA creditor institution id.
    pub fiscal_code: EntityFiscalCode,
    /// IndicePA code, e.g. `c_d969`.
    pub ipa_code: String,
    /// Province abbreviation (`GE`).
    pub province: String,
    /// A representative point of the municipality (not an official centroid).
    pub location: Coordinates,
    /// Legal population at the last census used by the data file.
    pub population: u32,
    /// Postal codes (CAP) of the municipality.
    pub postal_codes: Vec<String>,
}

impl Municipality {
    /// Whether the population exceeds [`LARGE_MUNICIPALITY_POPULATION`].
    pub fn is_large(&self) -> bool {
        self.population > LARGE_MUNICIPALITY_POPULATION
    }
}

/// Keeps error messages short when the input is huge.
fn truncate(text: &str) -> String {
    text.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istat_codes_are_six_digits() {
        assert_eq!(IstatCode::parse("010025").unwrap().as_str(), "010025");
        for bad in ["10025", "0100255", "01002a", "", "０１００２５"] {
            assert!(IstatCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn entity_fiscal_codes_check_digit() {
        // Genova, Arenzano, and the example creditor of the pagoPA specifications.
        for good in ["00856930102", "00449500107", "03334231200"] {
            EntityFiscalCode::parse(good).unwrap();
        }
        for bad in ["00856930103", "0085693010", "0085693010a", "008569301020"] {
            assert!(EntityFiscalCode::parse(bad).is_err(), "{bad}");
        }
    }
}
