//! The catalogue as the API shows it: records, libraries and a library's holdings of a record,
//! mapped to `core::api`.

use sportello_core::api;
use sportello_core::catalog::availability::LibraryCounts;
use sportello_core::catalog::hours::OpenStatus;
use sportello_core::catalog::record::BibRecord;

use super::store::{CopyView, LibraryRow};
use super::{hours_of, round_km};

/// A normalised record as the API shows it (also the card the search index stores).
pub fn to_wire(id: &str, record: &BibRecord) -> api::CatalogRecord {
    api::CatalogRecord {
        id: id.to_owned(),
        title: record.title.clone(),
        subtitle: record.subtitle.clone(),
        authors: record
            .authors
            .iter()
            .map(|a| api::Contributor {
                name: a.name.clone(),
                role: a.role.as_str().to_owned(),
            })
            .collect(),
        isbns: record.isbns.iter().map(ToString::to_string).collect(),
        publisher: record.publisher.clone(),
        year: record.year,
        language: record.language.clone(),
        subjects: record.subjects.clone(),
        format: record.format.as_str().to_owned(),
        series: record.series.clone(),
        identifiers: record
            .identifiers
            .iter()
            .map(|i| api::RecordIdentifier {
                scheme: i.scheme.clone(),
                value: i.value.clone(),
            })
            .collect(),
    }
}

/// A library as the API shows it: whether it is open at `now`, and its distance when known.
pub fn library_to_wire(row: &LibraryRow, now: jiff::Timestamp, distance: Option<f64>) -> api::Library {
    let status = hours_of(row).status_at(now);
    api::Library {
        id: row.id.clone(),
        municipality: row.municipality.clone(),
        name: row.name.clone(),
        address: row.address.clone(),
        postal_code: row.postal_code.clone(),
        lat: row.lat,
        lon: row.lon,
        phone: row.phone.clone(),
        email: row.email.clone(),
        website: row.website.clone(),
        services: row.services.clone(),
        codes: row.codes.clone(),
        opening_hours: row.opening_hours.clone(),
        closures: row.closures.clone(),
        open_now: status.open_now,
        closes_at: status.closes_at.map(|t| t.to_string()),
        next_opening: status.next_opening.map(|t| t.to_string()),
        distance_km: distance.map(round_km),
        demo: row.demo,
    }
}

/// A copy in an availability answer.
pub fn copy_to_wire(copy: &CopyView) -> api::CopyInfo {
    api::CopyInfo {
        item_id: copy.item_id.clone(),
        shelf_mark: copy.shelf_mark.clone(),
        status: copy.status.clone(),
        due_date: copy.due_date.clone(),
    }
}

/// What one library holds of a record: its counts, its copies, and whether it is open.
pub fn holdings_to_wire(
    library: &LibraryRow,
    counts: &LibraryCounts,
    hours: &OpenStatus,
    distance: Option<f64>,
    copies: Vec<api::CopyInfo>,
) -> api::LibraryHoldings {
    api::LibraryHoldings {
        library_id: library.id.clone(),
        library_name: library.name.clone(),
        municipality: library.municipality.clone(),
        address: library.address.clone(),
        lat: library.lat,
        lon: library.lon,
        distance_km: distance.map(round_km),
        open_now: hours.open_now,
        next_opening: hours.next_opening.map(|t| t.to_string()),
        on_shelf: counts.on_shelf,
        on_loan: counts.on_loan,
        in_transit: counts.in_transit,
        reference_only: counts.reference_only,
        unknown: counts.unknown,
        earliest_due: counts.earliest_due.clone(),
        copies,
    }
}
