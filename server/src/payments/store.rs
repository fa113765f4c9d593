//! SQL for debt positions, options, transfers, receipts and IUV counters.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// A stored debt position (without options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRow {
    pub id: String,
    pub municipality: String,
    pub creditor: String,
    pub iupd: String,
    pub status: String,
    pub debtor_kind: String,
    pub debtor_id: String,
    pub debtor_name: String,
    pub description: String,
    pub valid_from: Option<i64>,
    pub switch_to_expired: bool,
    pub origin_kind: Option<String>,
    pub origin_id: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

/// A stored payment option (one notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRow {
    pub creditor: String,
    pub notice_number: String,
    pub id: String,
    pub position_id: String,
    pub iuv: String,
    pub instalment: bool,
    pub amount_cents: i64,
    pub due_date: String,
    pub description: String,
    pub receipt_id: Option<String>,
    pub paid_cents: Option<i64>,
    pub paid_at: Option<i64>,
}

/// A stored transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    pub creditor: String,
    pub notice_number: String,
    pub id_transfer: i64,
    pub amount_cents: i64,
    pub fiscal_code: String,
    pub remittance: String,
    pub category: String,
    pub iban: Option<String>,
    pub postal_iban: Option<String>,
    pub stamp_hash: Option<String>,
    pub stamp_type: Option<String>,
    pub stamp_province: Option<String>,
}

/// A position with its options and transfers, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPosition {
    pub position: PositionRow,
    pub options: Vec<OptionRow>,
    pub transfers: Vec<TransferRow>,
}

/// A receipt to record.
#[derive(Debug, Clone)]
pub struct NewReceipt<'a> {
    pub creditor: &'a str,
    pub iuv: &'a str,
    pub receipt_id: &'a str,
    pub notice_number: &'a str,
    pub position_id: &'a str,
    pub amount_cents: i64,
    pub psp_id: &'a str,
    pub psp_name: &'a str,
    pub paid_at: i64,
    pub received_at: i64,
    pub xml: &'a str,
}

const POSITION_COLUMNS: &str =
    "p.id, p.municipality, p.creditor, p.iupd, p.status, p.debtor_kind, p.debtor_id,
    p.debtor_name, p.description, p.valid_from, p.switch_to_expired, p.origin_kind, p.origin_id, p.created_by,
    p.created_at";
const OPTION_COLUMNS: &str =
    "o.creditor, o.notice_number, o.id, o.position_id, o.iuv, o.instalment, o.amount_cents,
    o.due_date, o.description, o.receipt_id, o.paid_cents, o.paid_at";
const TRANSFER_COLUMNS: &str =
    "t.creditor, t.notice_number, t.id_transfer, t.amount_cents, t.fiscal_code, t.remittance,
    t.category, t.iban, t.postal_iban, t.stamp_hash, t.stamp_type, t.stamp_province";

fn position_from_row(row: &AnyRow) -> Result<PositionRow, sqlx::Error> {
    Ok(PositionRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        creditor: row.try_get("creditor")?,
        iupd: row.try_get("iupd")?,
        status: row.try_get("status")?,
        debtor_kind: row.try_get("debtor_kind")?,
        debtor_id: row.try_get("debtor_id")?,
        debtor_name: row.try_get("debtor_name")?,
        description: row.try_get("description")?,
        valid_from: row.try_get("valid_from")?,
        switch_to_expired: row.try_get::<i64, _>("switch_to_expired")? != 0,
        origin_kind: row.try_get("origin_kind")?,
        origin_id: row.try_get("origin_id")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

fn option_from_row(row: &AnyRow) -> Result<OptionRow, sqlx::Error> {
    Ok(OptionRow {
        creditor: row.try_get("creditor")?,
        notice_number: row.try_get("notice_number")?,
        id: row.try_get("id")?,
        position_id: row.try_get("position_id")?,
        iuv: row.try_get("iuv")?,
        instalment: row.try_get::<i64, _>("instalment")? != 0,
        amount_cents: row.try_get("amount_cents")?,
        due_date: row.try_get("due_date")?,
        description: row.try_get("description")?,
        receipt_id: row.try_get("receipt_id")?,
        paid_cents: row.try_get("paid_cents")?,
        paid_at: row.try_get("paid_at")?,
    })
}

fn transfer_from_row(row: &AnyRow) -> Result<TransferRow, sqlx::Error> {
    Ok(TransferRow {
        creditor: row.try_get("creditor")?,
        notice_number: row.try_get("notice_number")?,
        id_transfer: row.try_get("id_transfer")?,
        amount_cents: row.try_get("amount_cents")?,
        fiscal_code: row.try_get("fiscal_code")?,
        remittance: row.try_get("remittance")?,
        category: row.try_get("category")?,
        iban: row.try_get("iban")?,
        postal_iban: row.try_get("postal_iban")?,
        stamp_hash: row.try_get("stamp_hash")?,
        stamp_type: row.try_get("stamp_type")?,
        stamp_province: row.try_get("stamp_province")?,
    })
}

/// Reserves `count` consecutive IUV bases for a creditor and segregation code; returns the
/// first. One upsert, so concurrent creations never get the same base.
pub async fn reserve_iuv_bases(
    conn: &mut AnyConnection,
    creditor: &str,
    segregation_code: i64,
    count: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO payment_iuv_counters (creditor, segregation_code, last_base) VALUES ($1, $2, $3)
         ON CONFLICT (creditor, segregation_code)
         DO UPDATE SET last_base = payment_iuv_counters.last_base + $3
         RETURNING last_base",
    )
    .bind(creditor)
    .bind(segregation_code)
    .bind(count)
    .fetch_one(&mut *conn)
    .await?;
    let last: i64 = row.try_get("last_base")?;
    Ok(last - count + 1)
}

/// Inserts a position with its options and transfers.
pub async fn insert_position(conn: &mut AnyConnection, stored: &StoredPosition) -> Result<(), sqlx::Error> {
    let p = &stored.position;
    sqlx::query(
        "INSERT INTO payment_positions (id, municipality, creditor, iupd, status, debtor_kind, debtor_id, debtor_name,
           description, valid_from, switch_to_expired, origin_kind, origin_id, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
    )
    .bind(&p.id)
    .bind(&p.municipality)
    .bind(&p.creditor)
    .bind(&p.iupd)
    .bind(&p.status)
    .bind(&p.debtor_kind)
    .bind(&p.debtor_id)
    .bind(&p.debtor_name)
    .bind(&p.description)
    .bind(p.valid_from)
    .bind(i64::from(p.switch_to_expired))
    .bind(p.origin_kind.as_deref())
    .bind(p.origin_id.as_deref())
    .bind(&p.created_by)
    .bind(p.created_at)
    .execute(&mut *conn)
    .await?;
    for o in &stored.options {
        sqlx::query(
            "INSERT INTO payment_options (creditor, notice_number, id, position_id, iuv, instalment, amount_cents,
               due_date, description)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&o.creditor)
        .bind(&o.notice_number)
        .bind(&o.id)
        .bind(&o.position_id)
        .bind(&o.iuv)
        .bind(i64::from(o.instalment))
        .bind(o.amount_cents)
        .bind(&o.due_date)
        .bind(&o.description)
        .execute(&mut *conn)
        .await?;
    }
    for t in &stored.transfers {
        sqlx::query(
            "INSERT INTO payment_transfers (creditor, notice_number, id_transfer, position_id, amount_cents,
               fiscal_code, remittance, category, iban, postal_iban, stamp_hash, stamp_type, stamp_province)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&t.creditor)
        .bind(&t.notice_number)
        .bind(t.id_transfer)
        .bind(&p.id)
        .bind(t.amount_cents)
        .bind(&t.fiscal_code)
        .bind(&t.remittance)
        .bind(&t.category)
        .bind(t.iban.as_deref())
        .bind(t.postal_iban.as_deref())
        .bind(t.stamp_hash.as_deref())
        .bind(t.stamp_type.as_deref())
        .bind(t.stamp_province.as_deref())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Options and transfers of the given positions, attached to them in order.
async fn attach_options(
    conn: &mut AnyConnection,
    positions: Vec<PositionRow>,
) -> Result<Vec<StoredPosition>, sqlx::Error> {
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=positions.len()).map(|i| format!("${i}")).collect();
    let list = placeholders.join(", ");
    let options_sql = format!(
        "SELECT {OPTION_COLUMNS} FROM payment_options o WHERE o.position_id IN ({list})
         ORDER BY o.due_date, o.notice_number"
    );
    let mut query = sqlx::query(&options_sql);
    for p in &positions {
        query = query.bind(&p.id);
    }
    let options = query.fetch_all(&mut *conn).await?;
    let transfers_sql = format!(
        "SELECT t.position_id, {TRANSFER_COLUMNS} FROM payment_transfers t WHERE t.position_id IN ({list})
         ORDER BY t.notice_number, t.id_transfer"
    );
    let mut query = sqlx::query(&transfers_sql);
    for p in &positions {
        query = query.bind(&p.id);
    }
    let transfers = query.fetch_all(&mut *conn).await?;
    let mut stored: Vec<StoredPosition> = positions
        .into_iter()
        .map(|position| StoredPosition {
            position,
            options: Vec::new(),
            transfers: Vec::new(),
        })
        .collect();
    for row in &options {
        let option = option_from_row(row)?;
        if let Some(s) = stored.iter_mut().find(|s| s.position.id == option.position_id) {
            s.options.push(option);
        }
    }
    for row in &transfers {
        let position_id: String = row.try_get("position_id")?;
        let transfer = transfer_from_row(row)?;
        if let Some(s) = stored.iter_mut().find(|s| s.position.id == position_id) {
            s.transfers.push(transfer);
        }
    }
    Ok(stored)
}

/// A position by id.
pub async fn load_position(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<StoredPosition>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {POSITION_COLUMNS} FROM payment_positions p WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(attach_options(conn, vec![position_from_row(&row)?]).await?.pop())
}

/// The position owning a notice of a creditor (the verify hot path: three indexed lookups).
pub async fn load_by_notice(
    conn: &mut AnyConnection,
    creditor: &str,
    notice_number: &str,
) -> Result<Option<StoredPosition>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {POSITION_COLUMNS} FROM payment_positions p
         WHERE p.id = (SELECT position_id FROM payment_options WHERE creditor = $1 AND notice_number = $2)"
    ))
    .bind(creditor)
    .bind(notice_number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(attach_options(conn, vec![position_from_row(&row)?]).await?.pop())
}

/// The id of the position owning a notice.
pub async fn position_id_by_notice(
    conn: &mut AnyConnection,
    creditor: &str,
    notice_number: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT position_id FROM payment_options WHERE creditor = $1 AND notice_number = $2")
        .bind(creditor)
        .bind(notice_number)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get("position_id"))
        .transpose()
}

/// The ids of the positions a context opened for one of its records (`origin_kind`,
/// `origin_id`) that are still payable as stored (PUBLISHED or VALID).
pub async fn payable_position_ids_of_origin(
    conn: &mut AnyConnection,
    origin_kind: &str,
    origin_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM payment_positions
         WHERE origin_kind = $1 AND origin_id = $2 AND status IN ('PUBLISHED', 'VALID')
         ORDER BY id",
    )
    .bind(origin_kind)
    .bind(origin_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect()
}

/// The creditors that issued a notice number (usually one).
pub async fn creditors_of_notice(
    conn: &mut AnyConnection,
    notice_number: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT creditor FROM payment_options WHERE notice_number = $1 LIMIT 5")
        .bind(notice_number)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| row.try_get("creditor"))
        .collect()
}

/// Takes the position's write lock for the rest of the transaction: a no-op update is the one
/// statement that locks the row on PostgreSQL and takes SQLite's write lock up front (a read
/// first would make two concurrent receipts deadlock on the lock upgrade). Returns whether the
/// position exists.
pub async fn lock_position(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE payment_positions SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Sets a position's status (and validity instant, when it changes).
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    valid_from: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payment_positions SET status = $2, valid_from = COALESCE($3, valid_from), updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(valid_from)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records a receipt and marks its option paid. Fails with a unique violation when the option
/// already has a receipt (the caller holds the position lock, so this is a last line of defence).
pub async fn record_receipt(conn: &mut AnyConnection, receipt: &NewReceipt<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payment_receipts (creditor, iuv, receipt_id, notice_number, position_id, amount_cents, psp_id,
           psp_name, paid_at, received_at, xml)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(receipt.creditor)
    .bind(receipt.iuv)
    .bind(receipt.receipt_id)
    .bind(receipt.notice_number)
    .bind(receipt.position_id)
    .bind(receipt.amount_cents)
    .bind(receipt.psp_id)
    .bind(receipt.psp_name)
    .bind(receipt.paid_at)
    .bind(receipt.received_at)
    .bind(receipt.xml)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE payment_options SET receipt_id = $3, paid_cents = $4, paid_at = $5
         WHERE creditor = $1 AND notice_number = $2 AND receipt_id IS NULL",
    )
    .bind(receipt.creditor)
    .bind(receipt.notice_number)
    .bind(receipt.receipt_id)
    .bind(receipt.amount_cents)
    .bind(receipt.paid_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Filters of the operators' list.
#[derive(Debug, Clone, Default)]
pub struct PositionFilter<'a> {
    pub municipality: &'a str,
    pub status: Option<&'a str>,
    pub debtor_id: Option<&'a str>,
    pub origin: Option<(&'a str, &'a str)>,
    /// (created_at, id) of the last item of the previous page.
    pub after: Option<(i64, &'a str)>,
    pub limit: i64,
}

/// A municipality's positions, newest first.
pub async fn list_positions(
    conn: &mut AnyConnection,
    filter: &PositionFilter<'_>,
) -> Result<Vec<StoredPosition>, sqlx::Error> {
    let (after_at, after_id) = filter.after.unwrap_or((i64::MAX, ""));
    let (origin_kind, origin_id) = filter.origin.unzip();
    let rows = sqlx::query(&format!(
        "SELECT {POSITION_COLUMNS} FROM payment_positions p
         WHERE p.municipality = $1
           AND ($2 IS NULL OR p.status = $2)
           AND ($3 IS NULL OR p.debtor_id = $3)
           AND ($4 IS NULL OR (p.origin_kind = $4 AND p.origin_id = $5))
           AND (p.created_at < $6 OR (p.created_at = $6 AND p.id < $7))
         ORDER BY p.created_at DESC, p.id DESC
         LIMIT $8"
    ))
    .bind(filter.municipality)
    .bind(filter.status)
    .bind(filter.debtor_id)
    .bind(origin_kind)
    .bind(origin_id)
    .bind(after_at)
    .bind(if filter.after.is_some() {
        after_id
    } else {
        "\u{10FFFF}"
    })
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    let positions = rows
        .iter()
        .map(position_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_options(conn, positions).await
}

/// A debtor's published positions (never drafts), newest first, at most `limit`.
pub async fn positions_of_debtor(
    conn: &mut AnyConnection,
    debtor_id: &str,
    limit: i64,
) -> Result<Vec<StoredPosition>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {POSITION_COLUMNS} FROM payment_positions p
         WHERE p.debtor_id = $1 AND p.status <> 'DRAFT'
         ORDER BY p.created_at DESC, p.id DESC LIMIT $2"
    ))
    .bind(debtor_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let positions = rows
        .iter()
        .map(position_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_options(conn, positions).await
}

/// The stored receipt of an option, with the debtor it belongs to: (debtor id, receipt XML).
pub async fn receipt_of_option(
    conn: &mut AnyConnection,
    option_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query(
        "SELECT p.debtor_id, r.xml FROM payment_options o
         JOIN payment_positions p ON p.id = o.position_id
         JOIN payment_receipts r ON r.creditor = o.creditor AND r.iuv = o.iuv
         WHERE o.id = $1",
    )
    .bind(option_id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| Ok((row.try_get("debtor_id")?, row.try_get("xml")?)))
    .transpose()
}

/// The account of a person, by fiscal code.
pub async fn user_id_by_fiscal_code(
    conn: &mut AnyConnection,
    fiscal_code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT id FROM users WHERE fiscal_code = $1")
        .bind(fiscal_code)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get("id"))
        .transpose()
}
