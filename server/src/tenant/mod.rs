//! Tenants: the 67 municipalities, loaded from the reference data file kept in the project.

pub mod http;
pub mod store;

use serde::Deserialize;
use sportello_core::geo::Coordinates;
use sportello_core::tenant::{EntityFiscalCode, IstatCode, Municipality};

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

/// Writes the reference municipalities into the database (insert or update), at start-up.
pub async fn load_reference_data(db: &Db) -> anyhow::Result<usize> {
    let municipalities = reference_municipalities()?;
    store::upsert_all(db, &municipalities).await?;
    Ok(municipalities.len())
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
}
