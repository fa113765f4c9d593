//! SQL of the alerts context.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::{Db, placeholders};

/// An alert, update or cancellation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: String,
    pub identifier: String,
    pub sender: String,
    pub chain_id: String,
    pub msg_type: String,
    pub references_id: Option<String>,
    /// CAP `references` of the referenced alert (`sender,identifier,sent`).
    pub cap_references: Option<String>,
    pub status: String,
    pub level: String,
    pub hazard: String,
    /// Space-separated zone letters.
    pub zones: String,
    /// JSON `[[[lat, lon], …], …]`.
    pub polygons: String,
    /// JSON `{lang: AlertText}`.
    pub texts: String,
    pub onset: i64,
    pub expires: i64,
    pub sent: i64,
    pub source: String,
    pub created_by: String,
    pub demo: bool,
    pub created_at: i64,
    /// ISTAT codes, sorted.
    pub municipalities: Vec<String>,
}

const COLUMNS: &str = "id, identifier, sender, chain_id, msg_type, references_id, cap_references, status, level, hazard, zones, \
                       polygons, texts, onset, expires, sent, source, created_by, demo, created_at";

fn from_row(row: &AnyRow) -> Result<AlertRow, sqlx::Error> {
    Ok(AlertRow {
        id: row.try_get("id")?,
        identifier: row.try_get("identifier")?,
        sender: row.try_get("sender")?,
        chain_id: row.try_get("chain_id")?,
        msg_type: row.try_get("msg_type")?,
        references_id: row.try_get("references_id")?,
        cap_references: row.try_get("cap_references")?,
        status: row.try_get("status")?,
        level: row.try_get("level")?,
        hazard: row.try_get("hazard")?,
        zones: row.try_get("zones")?,
        polygons: row.try_get("polygons")?,
        texts: row.try_get("texts")?,
        onset: row.try_get("onset")?,
        expires: row.try_get("expires")?,
        sent: row.try_get("sent")?,
        source: row.try_get("source")?,
        created_by: row.try_get("created_by")?,
        demo: row.try_get::<i64, _>("demo")? != 0,
        created_at: row.try_get("created_at")?,
        municipalities: Vec::new(),
    })
}

/// Fills in the municipalities of the alerts, in one statement.
async fn with_municipalities(db: &Db, mut rows: Vec<AlertRow>) -> Result<Vec<AlertRow>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let sql = format!(
        "SELECT alert_id, municipality FROM alert_municipalities WHERE alert_id IN ({}) ORDER BY municipality",
        placeholders(rows.len(), 1)
    );
    let mut query = sqlx::query(&sql);
    for row in &rows {
        query = query.bind(&row.id);
    }
    for found in query.fetch_all(db.pool()).await? {
        let alert_id: String = found.try_get("alert_id")?;
        let municipality: String = found.try_get("municipality")?;
        if let Some(row) = rows.iter_mut().find(|r| r.id == alert_id) {
            row.municipalities.push(municipality);
        }
    }
    Ok(rows)
}

/// Writes an alert and its municipalities, in the caller's transaction.
pub async fn insert(conn: &mut AnyConnection, alert: &AlertRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO alerts ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
    ))
    .bind(&alert.id)
    .bind(&alert.identifier)
    .bind(&alert.sender)
    .bind(&alert.chain_id)
    .bind(&alert.msg_type)
    .bind(alert.references_id.as_deref())
    .bind(alert.cap_references.as_deref())
    .bind(&alert.status)
    .bind(&alert.level)
    .bind(&alert.hazard)
    .bind(&alert.zones)
    .bind(&alert.polygons)
    .bind(&alert.texts)
    .bind(alert.onset)
    .bind(alert.expires)
    .bind(alert.sent)
    .bind(&alert.source)
    .bind(&alert.created_by)
    .bind(i64::from(alert.demo))
    .bind(alert.created_at)
    .execute(&mut *conn)
    .await?;
    for municipality in &alert.municipalities {
        sqlx::query("INSERT INTO alert_municipalities (municipality, alert_id) VALUES ($1, $2)")
            .bind(municipality)
            .bind(&alert.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Moves an active, unexpired alert to `status` (`replaced`, `cancelled`); false if it was no
/// longer active, so of two concurrent updates of one alert exactly one wins.
pub async fn retire(conn: &mut AnyConnection, id: &str, status: &str, now: i64) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE alerts SET status = $1 WHERE id = $2 AND status = 'active' AND expires > $3")
            .bind(status)
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// One alert.
pub async fn get(db: &Db, id: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM alerts WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    let rows = row.as_ref().map(from_row).transpose()?.into_iter().collect();
    Ok(with_municipalities(db, rows).await?.pop())
}

/// The alert a sender identified so (CAP `sender`, `identifier`).
pub async fn by_identifier(db: &Db, sender: &str, identifier: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE sender = $1 AND identifier = $2"
    ))
    .bind(sender)
    .bind(identifier)
    .fetch_optional(db.pool())
    .await?;
    let rows = row.as_ref().map(from_row).transpose()?.into_iter().collect();
    Ok(with_municipalities(db, rows).await?.pop())
}

/// Which active alerts to read.
#[derive(Debug, Clone, Default)]
pub struct ActiveFilter<'a> {
    /// Only those covering this municipality.
    pub municipality: Option<&'a str>,
    /// Only those of this zone.
    pub zone: Option<&'a str>,
    /// Strictly after this (sent, id), in the order most recent first.
    pub after: Option<(i64, String)>,
}

/// Active alerts (not replaced, cancelled or expired; cancellations are never active), most
/// recent first, at most `limit`.
pub async fn active(
    db: &Db,
    filter: &ActiveFilter<'_>,
    now: i64,
    limit: i64,
) -> Result<Vec<AlertRow>, sqlx::Error> {
    let (after_sent, after_id) = filter
        .after
        .clone()
        .unwrap_or((i64::MAX, "\u{10ffff}".to_owned()));
    let mut sql = format!(
        "SELECT {COLUMNS} FROM alerts a WHERE a.status = 'active' AND a.expires > $1
           AND (a.sent < $2 OR (a.sent = $2 AND a.id < $3))"
    );
    if filter.municipality.is_some() {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM alert_municipalities m WHERE m.alert_id = a.id AND m.municipality = $5)",
        );
    }
    if filter.zone.is_some() {
        sql.push_str(" AND (' ' || a.zones || ' ') LIKE ('% ' || $6 || ' %')");
    }
    sql.push_str(" ORDER BY a.sent DESC, a.id DESC LIMIT $4");
    // Markers are numbered in the order they are bound: the zone is $5 without a municipality.
    let sql = match (filter.municipality.is_some(), filter.zone.is_some()) {
        (false, true) => sql.replace("$6", "$5"),
        _ => sql,
    };
    let mut query = sqlx::query(&sql)
        .bind(now)
        .bind(after_sent)
        .bind(after_id)
        .bind(limit);
    if let Some(municipality) = filter.municipality {
        query = query.bind(municipality);
    }
    if let Some(zone) = filter.zone {
        query = query.bind(zone);
    }
    let rows = query
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>, _>>()?;
    with_municipalities(db, rows).await
}
