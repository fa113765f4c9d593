//! The Region of Liguria's alert zones of the 67 municipalities (`server/data/alerts/`, with its
//! sources and what is uncertain in the README beside it).

use std::collections::BTreeMap;

use serde::Deserialize;
use sportello_core::alerts::Zone;

use crate::tenant::Municipalities;

/// The data file, embedded so the binary runs from any directory.
const ZONES_JSON: &str = include_str!("../../data/alerts/liguria_zones.json");

#[derive(Deserialize)]
struct File {
    municipalities: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    istat_code: String,
    zone: String,
}

/// The zone of every municipality served.
#[derive(Debug, Clone)]
pub struct Zones {
    by_municipality: BTreeMap<String, Zone>,
}

impl Zones {
    /// Loads the embedded table; every municipality served must be in it once, and nothing else.
    pub fn load(municipalities: &Municipalities) -> anyhow::Result<Self> {
        let file: File = serde_json::from_str(ZONES_JSON)?;
        let mut by_municipality = BTreeMap::new();
        for entry in file.municipalities {
            let zone: Zone = entry
                .zone
                .parse()
                .map_err(|_| anyhow::anyhow!("alert zones: `{}` is not a zone", entry.zone))?;
            municipalities
                .require(&entry.istat_code)
                .map_err(|e| anyhow::anyhow!("alert zones: {}: {e}", entry.istat_code))?;
            anyhow::ensure!(
                by_municipality.insert(entry.istat_code.clone(), zone).is_none(),
                "alert zones: {} is listed twice",
                entry.istat_code
            );
        }
        for municipality in municipalities.all() {
            anyhow::ensure!(
                by_municipality.contains_key(municipality.istat_code.as_str()),
                "alert zones: {} has no zone",
                municipality.istat_code
            );
        }
        Ok(Self { by_municipality })
    }

    /// The zone of a municipality.
    pub fn of(&self, istat_code: &str) -> Option<Zone> {
        self.by_municipality.get(istat_code).copied()
    }

    /// The municipalities of a zone, by ISTAT code.
    pub fn municipalities_of(&self, zone: Zone) -> Vec<String> {
        self.by_municipality
            .iter()
            .filter(|(_, z)| **z == zone)
            .map(|(code, _)| code.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_municipality_has_one_zone() {
        let municipalities = Municipalities::from_reference().unwrap();
        let zones = Zones::load(&municipalities).unwrap();
        assert_eq!(zones.of("010025"), Some(Zone::B), "Genova");
        assert_eq!(zones.of("010001"), Some(Zone::B), "Arenzano");
        assert_eq!(zones.of("010015"), Some(Zone::C), "Chiavari");
        assert_eq!(zones.of("010032"), Some(Zone::D), "Masone");
        assert_eq!(zones.of("010006"), Some(Zone::E), "Busalla");
        let total: usize = Zone::ALL.iter().map(|z| zones.municipalities_of(*z).len()).sum();
        assert_eq!(total, 67);
        assert!(
            zones.municipalities_of(Zone::A).is_empty(),
            "zone A is west of the metropolitan city"
        );
    }
}
