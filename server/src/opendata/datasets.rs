//! Each dataset as a table: the columns the CSV and JSON files share, from the data the owning
//! contexts give.

use sportello_core::api;
use sportello_core::tenant::Municipality;

use super::tables::{Cell, Table};
use crate::catalog::Libraries;
use crate::permits::MonthlyCount;
use crate::tenant::Municipalities;

/// The municipalities served.
pub fn municipalities(municipalities: &[Municipality]) -> Table {
    Table {
        columns: &[
            "istat_code",
            "name",
            "province",
            "belfiore_code",
            "fiscal_code",
            "ipa_code",
            "population",
            "postal_codes",
            "lat",
            "lon",
        ],
        rows: municipalities
            .iter()
            .map(|m| {
                vec![
                    m.istat_code.to_string().into(),
                    m.name.as_str().into(),
                    m.province.as_str().into(),
                    m.belfiore_code.as_str().into(),
                    m.fiscal_code.to_string().into(),
                    m.ipa_code.as_str().into(),
                    Cell::Int(i64::from(m.population)),
                    m.postal_codes.join(" ").into(),
                    Cell::Float(m.location.lat()),
                    Cell::Float(m.location.lon()),
                ]
            })
            .collect(),
    }
}

/// The libraries, with their opening hours, by municipality and id.
pub fn libraries(libraries: &Libraries) -> Table {
    let mut rows: Vec<_> = libraries.values().collect();
    rows.sort_by(|a, b| (&a.municipality, &a.id).cmp(&(&b.municipality, &b.id)));
    Table {
        columns: &[
            "id",
            "municipality",
            "name",
            "address",
            "postal_code",
            "lat",
            "lon",
            "phone",
            "email",
            "website",
            "services",
            "opening_hours",
            "closures",
            "demo",
        ],
        rows: rows
            .into_iter()
            .map(|l| {
                vec![
                    l.id.as_str().into(),
                    l.municipality.as_str().into(),
                    l.name.as_str().into(),
                    l.address.as_str().into(),
                    l.postal_code.as_str().into(),
                    Cell::Float(l.lat),
                    Cell::Float(l.lon),
                    l.phone.clone().into(),
                    l.email.clone().into(),
                    l.website.clone().into(),
                    l.services.join(" ").into(),
                    l.opening_hours.as_str().into(),
                    l.closures.join("; ").into(),
                    Cell::Bool(l.demo),
                ]
            })
            .collect(),
    }
}

/// The events of the feed, with their schedule as written.
pub fn events(events: Vec<api::Event>, public_url: &str) -> Table {
    Table {
        columns: &[
            "id",
            "municipality",
            "title",
            "title_en",
            "category",
            "status",
            "dates",
            "rrule",
            "duration_minutes",
            "venue",
            "address",
            "lat",
            "lon",
            "free",
            "price_eur",
            "ticket_url",
            "url",
            "demo",
        ],
        rows: events
            .into_iter()
            .map(|e| {
                let title_en = e.texts.get("en").map(|t| t.title.clone());
                vec![
                    e.id.as_str().into(),
                    e.municipality.as_str().into(),
                    e.title.as_str().into(),
                    title_en.into(),
                    e.category.as_str().into(),
                    e.status.as_str().into(),
                    e.dates.join(" ").into(),
                    e.rrule.clone().into(),
                    Cell::Int(i64::from(e.duration_minutes)),
                    e.venue.name.as_str().into(),
                    e.venue.address.as_str().into(),
                    Cell::Float(e.venue.lat),
                    Cell::Float(e.venue.lon),
                    Cell::Bool(e.free),
                    e.price_cents
                        .map_or(Cell::Empty, |c| Cell::Text(format!("{}.{:02}", c / 100, c % 100))),
                    e.ticket_url.clone().into(),
                    Cell::Text(format!("{}/v1/events/{}", public_url, e.id)),
                    Cell::Bool(e.demo),
                ]
            })
            .collect(),
    }
}

/// The monthly counts of permit applications, with the municipality's name.
pub fn permit_applications(counts: Vec<MonthlyCount>, municipalities: &Municipalities) -> Table {
    Table {
        columns: &[
            "municipality",
            "municipality_name",
            "procedure",
            "month",
            "applications",
        ],
        rows: counts
            .into_iter()
            .map(|c| {
                let name = municipalities
                    .require(&c.municipality)
                    .map_or_else(|_| String::new(), |m| m.name.clone());
                vec![
                    c.municipality.into(),
                    name.into(),
                    c.procedure.into(),
                    c.month.into(),
                    Cell::Int(i64::try_from(c.applications).unwrap_or(i64::MAX)),
                ]
            })
            .collect(),
    }
}
