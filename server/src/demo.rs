//! Demo data (`--demo`): people and roles for trying Sportello locally. Everything here is
//! fictitious; the fiscal codes are syntactically valid but made up.

use crate::db::Db;
use crate::identity::store;

/// A demo citizen with no other role.
pub const DEMO_CITIZEN: &str = "RSSMRA85T10A562S";

/// (fiscal code, given name, family name, roles beyond citizen).
pub const DEMO_PEOPLE: &[(&str, &str, &str, &[&str])] = &[
    (DEMO_CITIZEN, "Mario", "Rossi", &[]),
    (
        "VRDGPP80A01D969Z",
        "Giuseppe",
        "Verdi",
        &["operator:010025:permits", "operator:010025:payments"],
    ),
    (
        "BNCLRA75M41D969C",
        "Laura",
        "Bianchi",
        &["operator:010025:library"],
    ),
    (
        "FRRLCU70C15A388O",
        "Luca",
        "Ferrari",
        &["operator:010001:permits"],
    ),
    ("GLLMRC68H22D969U", "Marco", "Galli", &["admin"]),
];

/// Loads the demo people and roles; loading twice changes nothing.
pub async fn load(db: &Db) -> anyhow::Result<()> {
    for (fiscal_code, given, family, roles) in DEMO_PEOPLE {
        store::upsert_user(db, fiscal_code, Some(given), Some(family)).await?;
        for role in *roles {
            let municipality = role.split(':').nth(1);
            store::grant_role(db, fiscal_code, role, municipality, "demo").await?;
        }
    }
    tracing::info!(people = DEMO_PEOPLE.len(), "demo data loaded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sportello_core::identity::{FiscalCode, Role};

    #[test]
    fn demo_people_are_valid() {
        for (fiscal_code, _, _, roles) in DEMO_PEOPLE {
            FiscalCode::parse(fiscal_code).unwrap();
            for role in *roles {
                role.parse::<Role>().unwrap();
            }
        }
    }
}
