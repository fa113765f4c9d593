//! Libraries: the table as the catalogue reads it (cached by [`super::Catalog`]), and the
//! validation of a library sent by an operator or loaded as demo data.

use std::collections::HashMap;
use std::sync::Arc;

use sportello_core::api;
use sportello_core::catalog::hours::OpeningHours;
use sportello_core::geo::Coordinates;

use super::CatalogError;
use super::store::LibraryRow;

/// The library table as the catalogue reads it: rows by id, with each library's opening hours
/// parsed once per load rather than once per search hit.
#[derive(Debug, Default)]
pub struct Libraries {
    rows: HashMap<String, LibraryRow>,
    hours: HashMap<String, OpeningHours>,
}

impl Libraries {
    pub(super) fn new(rows: Vec<LibraryRow>) -> Self {
        let hours = rows.iter().map(|l| (l.id.clone(), hours_of(l))).collect();
        let rows = rows.into_iter().map(|l| (l.id.clone(), l)).collect();
        Self { rows, hours }
    }

    /// The library with this id.
    pub fn get(&self, id: &str) -> Option<&LibraryRow> {
        self.rows.get(id)
    }

    /// Every library.
    pub fn values(&self) -> impl Iterator<Item = &LibraryRow> {
        self.rows.values()
    }

    /// The opening hours of a library of this table (always-closed hours for an unknown id).
    pub fn hours(&self, id: &str) -> std::borrow::Cow<'_, OpeningHours> {
        self.hours.get(id).map_or_else(
            || std::borrow::Cow::Owned(OpeningHours::default()),
            std::borrow::Cow::Borrowed,
        )
    }
}

/// The cached library table.
pub type LibraryMap = Arc<Libraries>;

/// Validates a library sent by an operator or loaded as demo data.
pub fn validate_library(
    id: &str,
    municipality: &str,
    input: api::LibraryInput,
    demo: bool,
) -> Result<LibraryRow, CatalogError> {
    let id_ok = (2..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if !id_ok {
        return Err(CatalogError::invalid(
            "id",
            "Identificativo: 2-64 caratteri tra a-z, 0-9 e '-'.",
            "Id: 2-64 characters among a-z, 0-9 and '-'.",
        ));
    }
    Coordinates::new(input.lat, input.lon).map_err(|e| {
        CatalogError::invalid(
            "lat/lon",
            format!("Coordinate non valide: {e}"),
            format!("Invalid coordinates: {e}"),
        )
    })?;
    OpeningHours::parse(&input.opening_hours, &input.closures).map_err(|e| {
        CatalogError::invalid(
            "opening_hours",
            format!("Orari non validi: {e}"),
            format!("Invalid hours: {e}"),
        )
    })?;
    let too_long = [
        &input.name,
        &input.address,
        &input.postal_code,
        &input.opening_hours,
    ]
    .iter()
    .any(|s| s.len() > 1000)
        || input.services.len() > 100
        || input.codes.len() > 100
        || input.closures.len() > 400;
    if input.name.trim().is_empty() || too_long {
        return Err(CatalogError::invalid(
            "name",
            "Nome obbligatorio; testi e liste entro i limiti.",
            "A name is required; texts and lists within limits.",
        ));
    }
    let words = |list: Vec<String>| -> Vec<String> {
        list.iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    };
    Ok(LibraryRow {
        id: id.to_owned(),
        municipality: municipality.to_owned(),
        name: input.name.trim().to_owned(),
        address: input.address.trim().to_owned(),
        postal_code: input.postal_code.trim().to_owned(),
        lat: input.lat,
        lon: input.lon,
        phone: input.phone,
        email: input.email,
        website: input.website,
        services: words(input.services),
        codes: words(input.codes),
        opening_hours: input.opening_hours,
        closures: input
            .closures
            .into_iter()
            .filter(|c| !c.trim().is_empty())
            .collect(),
        demo,
    })
}

/// The opening hours of a stored library; hours that no longer parse count as "always closed"
/// rather than failing the request (they were validated on the way in).
pub fn hours_of(library: &LibraryRow) -> OpeningHours {
    OpeningHours::parse(&library.opening_hours, &library.closures).unwrap_or_default()
}
