//! SQL for libraries.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clock::now_ms;
use crate::db::Db;

/// A library row.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryRow {
    pub id: String,
    pub municipality: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub services: Vec<String>,
    pub codes: Vec<String>,
    pub opening_hours: String,
    pub closures: Vec<String>,
    pub demo: bool,
}

const LIBRARY_COLUMNS: &str = "id, municipality, name, address, postal_code, lat, lon, phone, email, website, \
                               services, codes, opening_hours, closures, demo";

/// Inserts or replaces a library.
pub async fn upsert_library(db: &Db, library: &LibraryRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO libraries ({LIBRARY_COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (id) DO UPDATE SET municipality = excluded.municipality, name = excluded.name,
           address = excluded.address, postal_code = excluded.postal_code, lat = excluded.lat,
           lon = excluded.lon, phone = excluded.phone, email = excluded.email,
           website = excluded.website, services = excluded.services, codes = excluded.codes,
           opening_hours = excluded.opening_hours, closures = excluded.closures,
           demo = excluded.demo, updated_at = excluded.updated_at"
    ))
    .bind(&library.id)
    .bind(&library.municipality)
    .bind(&library.name)
    .bind(&library.address)
    .bind(&library.postal_code)
    .bind(library.lat)
    .bind(library.lon)
    .bind(library.phone.as_deref())
    .bind(library.email.as_deref())
    .bind(library.website.as_deref())
    .bind(library.services.join(" "))
    .bind(library.codes.join(" "))
    .bind(&library.opening_hours)
    .bind(library.closures.join("\n"))
    .bind(i64::from(library.demo))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Libraries, optionally of one municipality, by municipality and name; at most `limit`.
pub async fn list_libraries(
    db: &Db,
    municipality: Option<&str>,
    limit: i64,
) -> Result<Vec<LibraryRow>, sqlx::Error> {
    // Two statements rather than `$1 IS NULL OR …`: PostgreSQL cannot type an untyped NULL.
    let rows =
        match municipality {
            Some(municipality) => sqlx::query(&format!(
                "SELECT {LIBRARY_COLUMNS} FROM libraries WHERE municipality = $1 ORDER BY name, id LIMIT $2"
            ))
            .bind(municipality)
            .bind(limit)
            .fetch_all(db.pool())
            .await?,
            None => {
                sqlx::query(&format!(
                    "SELECT {LIBRARY_COLUMNS} FROM libraries ORDER BY municipality, name, id LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(db.pool())
                .await?
            }
        };
    rows.iter().map(library_from_row).collect()
}

/// One library.
pub async fn get_library(db: &Db, id: &str) -> Result<Option<LibraryRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {LIBRARY_COLUMNS} FROM libraries WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(library_from_row).transpose()
}

fn library_from_row(row: &AnyRow) -> Result<LibraryRow, sqlx::Error> {
    let split = |text: String, by: char| -> Vec<String> {
        text.split(by)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let demo: i64 = row.try_get("demo")?;
    Ok(LibraryRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        name: row.try_get("name")?,
        address: row.try_get("address")?,
        postal_code: row.try_get("postal_code")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        website: row.try_get("website")?,
        services: split(row.try_get("services")?, ' '),
        codes: split(row.try_get("codes")?, ' '),
        opening_hours: row.try_get("opening_hours")?,
        closures: split(row.try_get("closures")?, '\n'),
        demo: demo != 0,
    })
}

/// Takes the library's row for the rest of the transaction: the write lock on SQLite, taken
/// before any read so the transaction never has to upgrade a read snapshot (SQLite refuses that
/// with "database is locked" when another connection wrote meanwhile, instead of waiting), and
/// a row lock on PostgreSQL, so two imports into one library take turns batch by batch.
pub async fn lock_library(tx: &mut Transaction<'_, Any>, library_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE libraries SET updated_at = updated_at WHERE id = $1")
        .bind(library_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
