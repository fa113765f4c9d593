//! Demo data (`--demo`): people and roles for trying Sportello locally, libraries, and a few
//! permit applications of the demo citizen in various states.
//! The people are fictitious; the fiscal codes are syntactically valid but made up.
//! The libraries are real public libraries of the Genoa area with their real addresses and
//! codes (ISIL, SBN) where we found them in the national registry (anagrafe ICCU); coordinates
//! were placed on the building by hand, to within some tens of metres; opening hours are
//! indicative. They are marked `demo` in the API until a library confirms its own data.
//! The catalogue records are real (Biblioteca Nazionale Centrale di Firenze, see
//! `tests/fixtures/marc/README.md`); the copies the demo places in two Genoa libraries are not.

use sportello_core::api::{ImportSummary, LibraryInput};
use sportello_core::identity::{FiscalCode, Role};

use crate::catalog::{self, Collection, store::LibraryRow};
use crate::db::Db;
use crate::identity::directory::Directory;

/// A demo library: (id, ISTAT code, name, address, CAP, lat, lon, phone, website, services,
/// codes, weekly hours).
pub type DemoLibrary = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    f64,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
);

/// Real public libraries of the Genoa area.
pub const DEMO_LIBRARIES: &[DemoLibrary] = &[
    (
        "ge-berio",
        "010025",
        "Biblioteca Civica Berio",
        "Via del Seminario 16, Genova",
        "16121",
        44.404_986,
        8.937_150,
        Some("+39 010 557 6010"),
        Some("https://www.bibliotechedigenova.it"),
        "loan interlibrary-loan wifi study-room reference local-history",
        "IT-GE0036",
        "Mo-Fr 08:30-19:00; Sa 08:30-13:30; PH off",
    ),
    (
        "ge-universitaria",
        "010025",
        "Biblioteca Universitaria di Genova",
        "Via Balbi 40, Genova",
        "16126",
        44.416_700,
        8.922_600,
        None,
        Some("https://www.bibliotecauniversitaria.ge.it"),
        "loan interlibrary-loan wifi study-room reference",
        "",
        "Mo-Fr 08:30-18:30; PH off",
    ),
    (
        "ge-de-amicis",
        "010025",
        "Biblioteca Internazionale per Ragazzi Edmondo De Amicis",
        "Magazzini del Cotone, Porto Antico, Genova",
        "16128",
        44.409_100,
        8.925_000,
        Some("+39 010 252237"),
        Some("https://www.bibliotechedigenova.it"),
        "loan kids wifi",
        "",
        "Tu-Sa 09:00-19:00; Su 09:30-18:30; PH off",
    ),
    (
        "ge-lercari",
        "010025",
        "Biblioteca Civica Gian Luigi Lercari",
        "Via San Fruttuoso 74 (Villa Imperiale), Genova",
        "16143",
        44.412_000,
        8.956_000,
        Some("+39 010 505890"),
        Some("https://www.bibliotechedigenova.it"),
        "loan wifi study-room kids",
        "IT-GE0033 GMPLE",
        "Mo-Fr 08:30-18:00; PH off",
    ),
    (
        "ge-gallino",
        "010025",
        "Biblioteca Civica Francesco Gallino",
        "Via Prete Nicolò Daste 8A, Sampierdarena, Genova",
        "16149",
        44.409_700,
        8.899_000,
        Some("+39 010 557 9480"),
        Some("https://www.bibliotechedigenova.it"),
        "loan wifi study-room kids local-history",
        "IT-GE0185 GMPGA",
        "Mo 14:00-18:45; Tu 09:00-18:45; We 14:00-18:45; Th 09:00-18:45; Fr 14:00-18:45; Sa 09:00-13:45; PH off",
    ),
    (
        "chiavari-civica",
        "010015",
        "Biblioteca Civica di Chiavari (Società Economica)",
        "Via Ravaschieri 15, Chiavari",
        "16043",
        44.316_900,
        9.323_000,
        Some("+39 0185 363275"),
        None,
        "loan study-room reference local-history",
        "",
        "Mo-Fr 08:30-18:00; Sa 09:00-13:00; PH off",
    ),
    (
        "rapallo-internazionale",
        "010046",
        "Biblioteca Internazionale Città di Rapallo",
        "Villa Tigullio, Parco Casale, Rapallo",
        "16035",
        44.347_800,
        9.234_600,
        None,
        None,
        "loan foreign-languages local-history",
        "",
        "Mo-Fr 09:00-12:30,14:30-18:00; Sa 09:00-12:30; PH off",
    ),
];

/// Real records imported into demo libraries, so that a demo server has a catalogue to search:
/// (library id, file name, the export). The same five BNCF editions, as ISO 2709 and as UNIMARC
/// slim XML, merge into five records with copies in two libraries (from their 960 holdings).
/// Embedded because a demo must work from the binary alone; ~47 KB.
pub const DEMO_RECORDS: &[(&str, &str, &[u8])] = &[
    (
        "ge-universitaria",
        "bncf-data.mrc",
        include_bytes!("../../tests/fixtures/marc/bncf-unimarcxml/data.mrc"),
    ),
    (
        "ge-lercari",
        "bncf-unimarctest.xml",
        include_bytes!("../../tests/fixtures/marc/bncf-unimarcxml/unimarctest.xml"),
    ),
];

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

/// The demo libraries as operators would send them.
pub fn demo_libraries() -> anyhow::Result<Vec<LibraryRow>> {
    DEMO_LIBRARIES
        .iter()
        .map(
            |&(id, istat, name, address, cap, lat, lon, phone, website, services, codes, hours)| {
                let input = LibraryInput {
                    name: name.to_owned(),
                    address: address.to_owned(),
                    postal_code: cap.to_owned(),
                    lat,
                    lon,
                    phone: phone.map(str::to_owned),
                    email: None,
                    website: website.map(str::to_owned),
                    services: vec![services.to_owned()],
                    codes: vec![codes.to_owned()],
                    opening_hours: hours.to_owned(),
                    // Genoa's patron saint, 24 June, is a local holiday.
                    closures: if istat == "010025" {
                        vec!["2026-06-24 off".to_owned(), "2027-06-24 off".to_owned()]
                    } else {
                        Vec::new()
                    },
                };
                catalog::validate_library(id, istat, input, true)
                    .map_err(|e| anyhow::anyhow!("demo library {id}: {e}"))
            },
        )
        .collect()
}

/// Writes the demo libraries (insert or update).
pub async fn load_libraries(db: &Db) -> anyhow::Result<usize> {
    let libraries = demo_libraries()?;
    let collection = Collection::new(db.clone());
    for library in &libraries {
        collection.put_library(library).await?;
    }
    Ok(libraries.len())
}

/// Imports [`DEMO_RECORDS`] into their libraries (which must exist); idempotent, as any
/// re-import. Returns the records read.
pub async fn load_records(db: &Db) -> anyhow::Result<u64> {
    let mut summary = ImportSummary::default();
    let collection = Collection::new(db.clone());
    for &(library_id, name, export) in DEMO_RECORDS {
        let library = collection
            .library(library_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo library {library_id} is missing"))?;
        let options = catalog::import_options(library, None, None, &[])?;
        // The importer streams from files (exports can be many GB), so the embedded bytes go
        // through one.
        let path = std::env::temp_dir().join(format!("sportello-demo-{}-{name}", uuid::Uuid::now_v7()));
        tokio::fs::write(&path, export).await?;
        let files = [(path.clone(), name.to_owned())];
        let outcome = collection.import(&options, &files, &mut summary).await;
        let _ = tokio::fs::remove_file(&path).await;
        outcome?;
    }
    anyhow::ensure!(summary.skipped == 0, "demo records skipped: {:?}", summary.issues);
    Ok(summary.read)
}

/// Demo debt positions: (ISTAT code, IUPD, description, [(cents, days from today)],
/// instalments, expires). Created in this order on a fresh database they get the notice numbers
/// the README lists (segregation code 01, IUV bases from 1).
pub type DemoPosition = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(i64, i64)],
    bool,
    bool,
);

/// The demo positions, in creation order.
pub const DEMO_POSITIONS: &[DemoPosition] = &[
    (
        "010025",
        "00856930102-DEMO-0001",
        "Diritti di segreteria permesso di costruire",
        &[(3_000, 30)],
        false,
        false,
    ),
    (
        "010025",
        "00856930102-DEMO-0002",
        "Canone occupazione suolo pubblico",
        &[(12_550, 60)],
        false,
        false,
    ),
    (
        "010025",
        "00856930102-DEMO-0003",
        "Refezione scolastica a.s. 2026/27",
        &[(4_500, 45), (4_500, 120)],
        true,
        false,
    ),
    (
        "010001",
        "00449500107-DEMO-0001",
        "Biblioteca: ritardo nella restituzione",
        &[(500, 20)],
        false,
        false,
    ),
    (
        "010025",
        "00856930102-DEMO-0004",
        "Contrassegno sosta residenti (scaduto)",
        &[(2_000, -10)],
        false,
        true,
    ),
];

/// Publishes the demo debt positions of the demo citizen; loading twice changes nothing.
pub async fn load_payments(payments: &crate::payments::Payments) -> anyhow::Result<usize> {
    let today = sportello_core::calendar::rome_date(jiff::Timestamp::now());
    let mut created = 0;
    for &(istat, iupd, description, options, instalments, expires) in DEMO_POSITIONS {
        let input = sportello_core::api::PaymentPositionInput {
            iupd: Some(iupd.to_owned()),
            debtor: sportello_core::api::PaymentDebtor {
                kind: "F".to_owned(),
                fiscal_code: DEMO_CITIZEN.to_owned(),
                full_name: "Mario Rossi".to_owned(),
            },
            description: description.to_owned(),
            options: options
                .iter()
                .map(|&(cents, days)| sportello_core::api::PaymentOptionInput {
                    amount_cents: cents,
                    due_date: sportello_core::calendar::add_days(today, days)
                        .unwrap_or(today)
                        .to_string(),
                    description: None,
                })
                .collect(),
            instalments,
            taxonomy: None,
            valid_from: None,
            expires,
        };
        if payments
            .seed_position(istat, &input)
            .await
            .map_err(|e| anyhow::anyhow!("demo position {iupd}: {e}"))?
            .is_some()
        {
            created += 1;
        }
    }
    tracing::info!(created, "demo debt positions loaded");
    Ok(created)
}

/// Loads the demo alert (see `alerts::demo`) unless one is active.
pub async fn load_alerts(alerts: &crate::alerts::Alerts) -> anyhow::Result<bool> {
    let loaded = crate::alerts::demo::load(alerts)
        .await
        .map_err(|e| anyhow::anyhow!("demo alert: {e}"))?;
    tracing::info!(loaded, "demo alert");
    Ok(loaded)
}

/// Loads the demo venues and events (see `events::demo`); loading twice changes nothing but the
/// dates of the dated events, which follow the calendar.
pub async fn load_events(events: &crate::events::Events) -> anyhow::Result<usize> {
    let count = crate::events::demo::load(events)
        .await
        .map_err(|e| anyhow::anyhow!("demo events: {e}"))?;
    tracing::info!(events = count, "demo events loaded");
    Ok(count)
}

/// Loads the demo people, roles, libraries, catalogue records and applications (with the
/// pagoPA notice of the one waiting for a payment, given `notices`); loading twice changes
/// nothing.
pub async fn load(db: &Db, notices: Option<&dyn crate::permits::fees::FeeNotices>) -> anyhow::Result<()> {
    load_libraries(db).await?;
    let records = load_records(db).await?;
    let directory = Directory::new(db.clone());
    for (fiscal_code, given, family, roles) in DEMO_PEOPLE {
        let fiscal_code = FiscalCode::parse(fiscal_code)?;
        directory
            .add_person(&fiscal_code, Some(given), Some(family))
            .await?;
        for role in *roles {
            directory
                .grant(&fiscal_code, &role.parse::<Role>()?, "demo")
                .await?;
        }
    }
    let citizen = directory
        .add_person(&FiscalCode::parse(DEMO_CITIZEN)?, Some("Mario"), Some("Rossi"))
        .await?;
    let permits = crate::permits::load_demo(db, &citizen.id, DEMO_CITIZEN, notices)
        .await
        .map_err(|e| anyhow::anyhow!("demo permits: {e}"))?;
    tracing::info!(people = DEMO_PEOPLE.len(), records, permits, "demo data loaded");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sportello_core::identity::{FiscalCode, Role};

    #[test]
    fn demo_libraries_are_valid_and_in_their_municipality() {
        let libraries = demo_libraries().unwrap();
        let municipalities = crate::tenant::reference_municipalities().unwrap();
        for library in &libraries {
            let m = municipalities
                .iter()
                .find(|m| m.istat_code.as_str() == library.municipality)
                .unwrap();
            let at = sportello_core::geo::Coordinates::new(library.lat, library.lon).unwrap();
            // Within a few km of the municipality's reference point: catches swapped digits.
            assert!(
                at.distance_km(m.location) < 8.0,
                "{} is far from {}",
                library.id,
                m.name
            );
        }
    }

    #[test]
    fn demo_records_are_real_readable_records_for_demo_libraries() {
        let libraries = demo_libraries().unwrap();
        for &(library, name, export) in DEMO_RECORDS {
            assert!(libraries.iter().any(|l| l.id == library), "{library}");
            let reader =
                sportello_core::catalog::MarcReader::open(export, sportello_core::catalog::InputFormat::Auto)
                    .unwrap();
            let records: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
            assert_eq!(records.len(), 5, "{name}");
        }
    }

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
