//! Tenants: the 67 municipalities, loaded from the reference data file kept in the project.

mod error;
pub mod http;
pub mod store;

pub use self::error::malformed_istat_code;

use std::collections::HashMap;

use serde::Deserialize;
use sportello_core::geo::Coordinates;
use sportello_core::tenant::{EntityFiscalCode, IstatCode, Municipality, TenantError};

use crate::db::Db;

/// The reference file (see `server/data/comuni/SOURCES.md` for provenance).
const REFERENCE_JSON: &str = include_str!("../../data/comuni/genova_metro_comuni.json");

/// One row of the reference file.
#[derive(Deserialize)]
struct ReferenceRow {
    istat_code: String,
    name: String,
    cadastral_code: String,
    fiscal_code: String,
    ipa_code_candidate: String,
    province_sigla: String,
    population_2011: u32,
    cap: Vec<String>,
    lat: f64,
    lon: f64,
}

/// Parses and validates the municipalities of the reference file.
pub fn reference_municipalities() -> anyhow::Result<Vec<Municipality>> {
    let rows: Vec<ReferenceRow> = serde_json::from_str(REFERENCE_JSON)?;
    rows.into_iter()
        .map(|row| {
            let context = |e: &dyn std::fmt::Display| anyhow::anyhow!("{}: {e}", row.istat_code);
            Ok(Municipality {
                istat_code: IstatCode::parse(&row.istat_code).map_err(|e| context(&e))?,
                fiscal_code: EntityFiscalCode::parse(&row.fiscal_code).map_err(|e| context(&e))?,
                location: Coordinates::new(row.lat, row.lon).map_err(|e| context(&e))?,
                name: row.name,
                belfiore_code: row.cadastral_code,
                ipa_code: row.ipa_code_candidate,
                province: row.province_sigla,
                population: row.population_2011,
                postal_codes: row.cap,
            })
        })
        .collect()
}

/// The municipalities served: the tenant context's service.
///
/// The 67 municipalities are reference data, validated and written into the database at every
/// start ([`Municipalities::load`]), never changed while the server runs: every instance holds
/// them in memory, so "does this municipality exist" costs no query.
#[derive(Debug)]
pub struct Municipalities {
    /// By name.
    all: Vec<Municipality>,
    by_code: HashMap<String, usize>,
}

impl Municipalities {
    /// Validates the reference data, writes it into the database (insert or update) and keeps
    /// it.
    pub async fn load(db: &Db) -> anyhow::Result<Self> {
        let municipalities = Self::from_reference()?;
        store::upsert_all(db, &municipalities.all).await?;
        Ok(municipalities)
    }

    /// The reference data alone, without a database.
    pub fn from_reference() -> anyhow::Result<Self> {
        let mut all = reference_municipalities()?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let by_code = all
            .iter()
            .enumerate()
            .map(|(i, m)| (m.istat_code.to_string(), i))
            .collect();
        Ok(Self { all, by_code })
    }

    /// Every municipality, by name.
    pub fn all(&self) -> &[Municipality] {
        &self.all
    }

    /// The municipality with this code, if it is served here.
    pub fn find(&self, code: &IstatCode) -> Option<&Municipality> {
        self.by_code.get(code.as_str()).map(|&i| &self.all[i])
    }

    /// The municipality named by `code` as a client typed it, in a path, a query or a body:
    /// the one check every context makes. Malformed codes are `MalformedIstatCode` (422
    /// `validation`), codes of no municipality served here `UnknownMunicipality` (404); see
    /// `error.rs`.
    pub fn require(&self, code: &str) -> Result<&Municipality, TenantError> {
        self.require_code(&IstatCode::parse(code)?)
    }

    /// As [`Municipalities::require`], for a code already parsed.
    pub fn require_code(&self, code: &IstatCode) -> Result<&Municipality, TenantError> {
        self.find(code)
            .ok_or_else(|| TenantError::UnknownMunicipality(code.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_file_has_the_67_municipalities() {
        let all = reference_municipalities().unwrap();
        assert_eq!(all.len(), 67);
        let genova = all.iter().find(|m| m.istat_code.as_str() == "010025").unwrap();
        assert_eq!(
            (
                genova.name.as_str(),
                genova.belfiore_code.as_str(),
                genova.fiscal_code.as_str()
            ),
            ("Genova", "D969", "00856930102")
        );
        assert!(genova.is_large());
        assert_eq!(all.iter().filter(|m| m.is_large()).count(), 1);
    }

    #[test]
    fn one_answer_for_malformed_and_unknown_codes() {
        let municipalities = Municipalities::from_reference().unwrap();
        assert_eq!(municipalities.all().len(), 67);
        assert_eq!(municipalities.require("010025").unwrap().name, "Genova");
        assert!(matches!(
            municipalities.require("10025"),
            Err(TenantError::MalformedIstatCode(_))
        ));
        assert!(matches!(
            municipalities.require("001001"),
            Err(TenantError::UnknownMunicipality(_))
        ));
        let names: Vec<&str> = municipalities.all().iter().map(|m| m.name.as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name");
    }
}
