//! SQL for municipalities.

use sportello_core::geo::Coordinates;
use sportello_core::tenant::{EntityFiscalCode, IstatCode, Municipality};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;

const COLUMNS: &str = "istat_code, name, belfiore_code, fiscal_code, ipa_code, province, lat, lon, \
                       population, postal_codes";

/// Inserts or updates every municipality in one transaction.
pub async fn upsert_all(db: &Db, municipalities: &[Municipality]) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    for m in municipalities {
        sqlx::query(&format!(
            "INSERT INTO municipalities ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (istat_code) DO UPDATE SET name = excluded.name,
               belfiore_code = excluded.belfiore_code, fiscal_code = excluded.fiscal_code,
               ipa_code = excluded.ipa_code, province = excluded.province, lat = excluded.lat,
               lon = excluded.lon, population = excluded.population,
               postal_codes = excluded.postal_codes"
        ))
        .bind(m.istat_code.as_str())
        .bind(&m.name)
        .bind(&m.belfiore_code)
        .bind(m.fiscal_code.as_str())
        .bind(&m.ipa_code)
        .bind(&m.province)
        .bind(m.location.lat())
        .bind(m.location.lon())
        .bind(i64::from(m.population))
        .bind(m.postal_codes.join(" "))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Every municipality, by name.
pub async fn list(db: &Db) -> Result<Vec<Municipality>, sqlx::Error> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM municipalities ORDER BY name"))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// One municipality by ISTAT code.
pub async fn get(db: &Db, code: &IstatCode) -> Result<Option<Municipality>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM municipalities WHERE istat_code = $1"
    ))
    .bind(code.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

fn from_row(row: &AnyRow) -> Result<Municipality, sqlx::Error> {
    let decode = |column: &str, error: &dyn std::fmt::Display| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: error.to_string().into(),
    };
    let istat: String = row.try_get("istat_code")?;
    let fiscal: String = row.try_get("fiscal_code")?;
    let postal_codes: String = row.try_get("postal_codes")?;
    let population: i64 = row.try_get("population")?;
    Ok(Municipality {
        istat_code: IstatCode::parse(&istat).map_err(|e| decode("istat_code", &e))?,
        name: row.try_get("name")?,
        belfiore_code: row.try_get("belfiore_code")?,
        fiscal_code: EntityFiscalCode::parse(&fiscal).map_err(|e| decode("fiscal_code", &e))?,
        ipa_code: row.try_get("ipa_code")?,
        province: row.try_get("province")?,
        location: Coordinates::new(row.try_get("lat")?, row.try_get("lon")?)
            .map_err(|e| decode("lat/lon", &e))?,
        population: u32::try_from(population).map_err(|e| decode("population", &e))?,
        postal_codes: postal_codes.split_whitespace().map(str::to_owned).collect(),
    })
}
