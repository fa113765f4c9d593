//! SQL for applications, their timeline, documents, protocol counters, fees, catalogue
//! overrides and deadline warnings. Every function takes a connection, so the service composes
//! them inside one transaction (the change, its timeline entry and its notifications commit
//! together).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitRow {
    pub id: String,
    pub municipality: String,
    pub procedure_code: String,
    pub status: String,
    pub applicant_fiscal_code: String,
    pub filed_by: String,
    pub professional_fiscal_code: Option<String>,
    pub assigned_to: Option<String>,
    pub large_municipality: bool,
    pub address: Option<String>,
    pub foglio: Option<String>,
    pub mappale: Option<String>,
    pub subalterno: Option<String>,
    pub description: Option<String>,
    /// JSON object of the other fields.
    pub fields: String,
    /// Space-separated constraints.
    pub constraints: String,
    pub protocol_year: Option<i64>,
    pub protocol_number: Option<i64>,
    pub deadline: Option<String>,
    pub clock_stopped: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One stored timeline entry, with the actor's name when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRow {
    pub seq: i64,
    pub at: i64,
    pub action: String,
    pub actor: String,
    pub actor_user_id: Option<String>,
    pub actor_name: Option<String>,
    pub from_status: String,
    pub to_status: String,
    pub note: Option<String>,
}

/// A stored document's metadata (the bytes are in the data directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRow {
    pub id: String,
    pub permit_id: String,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub stage: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

/// A fee due on an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRow {
    pub permit_id: String,
    pub code: String,
    pub reason: String,
    pub amount_cents: i64,
    pub due: String,
    pub stamp: bool,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub receipt_ref: Option<String>,
    /// The Payments debt position opened for the fee's group, if any.
    pub position_id: Option<String>,
    /// Its pagoPA notice number.
    pub notice_number: Option<String>,
}

/// A person to notify: user id and preferred language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: String,
    pub language: String,
}

const PERMIT_COLUMNS: &str = "id, municipality, procedure_code, status, applicant_fiscal_code, filed_by, \
     professional_fiscal_code, assigned_to, large_municipality, address, foglio, mappale, subalterno, \
     description, fields, constraints_list, protocol_year, protocol_number, deadline, clock_stopped, \
     created_at, updated_at";

fn permit_from_row(row: &AnyRow) -> Result<PermitRow, sqlx::Error> {
    Ok(PermitRow {
        id: row.try_get("id")?,
        municipality: row.try_get("municipality")?,
        procedure_code: row.try_get("procedure_code")?,
        status: row.try_get("status")?,
        applicant_fiscal_code: row.try_get("applicant_fiscal_code")?,
        filed_by: row.try_get("filed_by")?,
        professional_fiscal_code: row.try_get("professional_fiscal_code")?,
        assigned_to: row.try_get("assigned_to")?,
        large_municipality: row.try_get::<i64, _>("large_municipality")? != 0,
        address: row.try_get("address")?,
        foglio: row.try_get("foglio")?,
        mappale: row.try_get("mappale")?,
        subalterno: row.try_get("subalterno")?,
        description: row.try_get("description")?,
        fields: row.try_get("fields")?,
        constraints: row.try_get("constraints_list")?,
        protocol_year: row.try_get("protocol_year")?,
        protocol_number: row.try_get("protocol_number")?,
        deadline: row.try_get("deadline")?,
        clock_stopped: row.try_get::<i64, _>("clock_stopped")? != 0,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Stores a new draft.
pub async fn insert_permit(conn: &mut AnyConnection, permit: &PermitRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO permits ({PERMIT_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(&permit.id)
    .bind(&permit.municipality)
    .bind(&permit.procedure_code)
    .bind(&permit.status)
    .bind(&permit.applicant_fiscal_code)
    .bind(&permit.filed_by)
    .bind(permit.professional_fiscal_code.as_deref())
    .bind(permit.assigned_to.as_deref())
    .bind(i64::from(permit.large_municipality))
    .bind(permit.address.as_deref())
    .bind(permit.foglio.as_deref())
    .bind(permit.mappale.as_deref())
    .bind(permit.subalterno.as_deref())
    .bind(permit.description.as_deref())
    .bind(&permit.fields)
    .bind(&permit.constraints)
    .bind(permit.protocol_year)
    .bind(permit.protocol_number)
    .bind(permit.deadline.as_deref())
    .bind(i64::from(permit.clock_stopped))
    .bind(permit.created_at)
    .bind(permit.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the application's write lock for the rest of the transaction: a row lock on
/// PostgreSQL, the database write lock on SQLite. Taking it with a write *before* reading keeps
/// SQLite from failing a deferred transaction that reads, then writes (a busy snapshot), and
/// serialises concurrent changes of one application on both engines. Returns whether it exists.
pub async fn lock_permit(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE permits SET updated_at = updated_at WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn get_permit(conn: &mut AnyConnection, id: &str) -> Result<Option<PermitRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {PERMIT_COLUMNS} FROM permits WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(permit_from_row).transpose()
}

/// Writes the draft's editable data.
pub async fn update_draft(conn: &mut AnyConnection, permit: &PermitRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE permits SET address = $2, foglio = $3, mappale = $4, subalterno = $5, description = $6,
           fields = $7, constraints_list = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(&permit.id)
    .bind(permit.address.as_deref())
    .bind(permit.foglio.as_deref())
    .bind(permit.mappale.as_deref())
    .bind(permit.subalterno.as_deref())
    .bind(permit.description.as_deref())
    .bind(&permit.fields)
    .bind(&permit.constraints)
    .bind(permit.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes what a transition changes: status, protocol number, clock columns.
pub async fn update_state(conn: &mut AnyConnection, permit: &PermitRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE permits SET status = $2, protocol_year = $3, protocol_number = $4, deadline = $5,
           clock_stopped = $6, assigned_to = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(&permit.id)
    .bind(&permit.status)
    .bind(permit.protocol_year)
    .bind(permit.protocol_number)
    .bind(permit.deadline.as_deref())
    .bind(i64::from(permit.clock_stopped))
    .bind(permit.assigned_to.as_deref())
    .bind(permit.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refreshes the stored clock columns (the sweep), without touching `updated_at`.
pub async fn update_clock(
    conn: &mut AnyConnection,
    id: &str,
    deadline: Option<&str>,
    clock_stopped: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE permits SET deadline = $2, clock_stopped = $3 WHERE id = $1")
        .bind(id)
        .bind(deadline)
        .bind(i64::from(clock_stopped))
        .execute(conn)
        .await?;
    Ok(())
}

/// The timeline, oldest first.
pub async fn timeline(conn: &mut AnyConnection, permit_id: &str) -> Result<Vec<TimelineRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT t.seq, t.at, t.action, t.actor, t.actor_user_id, t.from_status, t.to_status, t.note,
                u.given_name, u.family_name
         FROM permit_timeline t LEFT JOIN users u ON u.id = t.actor_user_id
         WHERE t.permit_id = $1 ORDER BY t.seq",
    )
    .bind(permit_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let given: Option<String> = row.try_get("given_name")?;
            let family: Option<String> = row.try_get("family_name")?;
            let name = [given, family]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            Ok(TimelineRow {
                seq: row.try_get("seq")?,
                at: row.try_get("at")?,
                action: row.try_get("action")?,
                actor: row.try_get("actor")?,
                actor_user_id: row.try_get("actor_user_id")?,
                actor_name: (!name.is_empty()).then_some(name),
                from_status: row.try_get("from_status")?,
                to_status: row.try_get("to_status")?,
                note: row.try_get("note")?,
            })
        })
        .collect()
}

/// Appends a timeline entry (the primary key refuses two entries with one sequence number).
pub async fn append_timeline(
    conn: &mut AnyConnection,
    permit_id: &str,
    entry: &TimelineRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO permit_timeline (permit_id, seq, at, action, actor, actor_user_id, from_status, to_status, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(permit_id)
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.action)
    .bind(&entry.actor)
    .bind(entry.actor_user_id.as_deref())
    .bind(&entry.from_status)
    .bind(&entry.to_status)
    .bind(entry.note.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// The next protocol number of a municipality and year, in the caller's transaction: the
/// counter row stays locked until it commits, so numbers are unique, and a rolled-back
/// registration gives its number back, so they are gapless.
pub async fn next_protocol_number(
    conn: &mut AnyConnection,
    municipality: &str,
    year: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO permit_protocol_counters (municipality, year, last_number) VALUES ($1, $2, 0)
         ON CONFLICT (municipality, year) DO NOTHING",
    )
    .bind(municipality)
    .bind(year)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE permit_protocol_counters SET last_number = last_number + 1
         WHERE municipality = $1 AND year = $2 RETURNING last_number",
    )
    .bind(municipality)
    .bind(year)
    .fetch_one(conn)
    .await?
    .try_get("last_number")
}

/// Filters of the operator queue.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub municipality: String,
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    /// Only deadlines on or before this day (`YYYY-MM-DD`).
    pub deadline_until: Option<String>,
    /// Only deadlines on or after this day.
    pub deadline_from: Option<String>,
    /// Only deadlines on or after this day, or none.
    pub not_overdue_on: Option<String>,
    /// Only closed (`true`) or open (`false`) applications.
    pub closed: Option<bool>,
}

/// Statuses that end an application (see core `Status::is_final`).
pub const FINAL_STATUSES: &str = "'accepted', 'tacitly_accepted', 'rejected', 'withdrawn', 'cancelled'";

/// Sort key of the queue: deadline first (none last), then id.
const QUEUE_KEY: &str = "COALESCE(deadline, '9999-12-31')";

/// The queue's sort key of an application without a deadline (as in [`QUEUE_KEY`]).
pub const NO_DEADLINE: &str = "9999-12-31";

/// A page of a municipality's filed applications, nearest deadline first, strictly after the
/// cursor `(deadline key, id)`.
pub async fn queue(
    conn: &mut AnyConnection,
    filter: &QueueFilter,
    after: Option<(String, String)>,
    limit: i64,
) -> Result<Vec<PermitRow>, sqlx::Error> {
    let mut clauses = vec!["municipality = $1".to_owned(), "status <> 'draft'".to_owned()];
    let mut values: Vec<String> = vec![filter.municipality.clone()];
    let bind = |values: &mut Vec<String>, value: String| {
        values.push(value);
        format!("${}", values.len())
    };
    if !filter.statuses.is_empty() {
        let placeholders: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| bind(&mut values, s.clone()))
            .collect();
        clauses.push(format!("status IN ({})", placeholders.join(", ")));
    }
    if let Some(procedure) = &filter.procedure {
        clauses.push(format!(
            "procedure_code = {}",
            bind(&mut values, procedure.clone())
        ));
    }
    if let Some(until) = &filter.deadline_until {
        clauses.push(format!("deadline <= {}", bind(&mut values, until.clone())));
    }
    if let Some(from) = &filter.deadline_from {
        clauses.push(format!("deadline >= {}", bind(&mut values, from.clone())));
    }
    if let Some(day) = &filter.not_overdue_on {
        clauses.push(format!(
            "(deadline IS NULL OR deadline >= {})",
            bind(&mut values, day.clone())
        ));
    }
    match filter.closed {
        Some(true) => clauses.push(format!("status IN ({FINAL_STATUSES})")),
        Some(false) => clauses.push(format!("status NOT IN ({FINAL_STATUSES})")),
        None => {}
    }
    if let Some((key, id)) = after {
        let key = bind(&mut values, key);
        let id = bind(&mut values, id);
        clauses.push(format!(
            "({QUEUE_KEY} > {key} OR ({QUEUE_KEY} = {key} AND id > {id}))"
        ));
    }
    let sql = format!(
        "SELECT {PERMIT_COLUMNS} FROM permits WHERE {} ORDER BY {QUEUE_KEY}, id LIMIT {limit}",
        clauses.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    for value in &values {
        query = query.bind(value);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter().map(permit_from_row).collect()
}

/// A page of a person's applications (as applicant, or as the professional who filed them),
/// most recently changed first, strictly after the cursor `(updated_at, id)`.
pub async fn list_for_person(
    conn: &mut AnyConnection,
    user_id: &str,
    fiscal_code: &str,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<PermitRow>, sqlx::Error> {
    let (cursor_at, cursor_id) = after.unwrap_or((i64::MAX, "\u{10ffff}".to_owned()));
    let rows = sqlx::query(&format!(
        "SELECT {PERMIT_COLUMNS} FROM permits
         WHERE (applicant_fiscal_code = $1 OR filed_by = $2)
           AND (updated_at < $3 OR (updated_at = $3 AND id < $4))
         ORDER BY updated_at DESC, id DESC LIMIT $5"
    ))
    .bind(fiscal_code)
    .bind(user_id)
    .bind(cursor_at)
    .bind(cursor_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(permit_from_row).collect()
}

/// Ids of the applications whose clock may need the sweep's attention.
pub async fn open_with_clock(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id FROM permits
         WHERE status IN ('submitted', 'registered', 'in_review', 'integration_requested', 'integration_submitted')
         ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter().map(|row| row.try_get("id")).collect()
}

const DOCUMENT_COLUMNS: &str =
    "id, permit_id, kind, file_name, content_type, size_bytes, sha256, stage, uploaded_by, uploaded_at";

fn document_from_row(row: &AnyRow) -> Result<DocumentRow, sqlx::Error> {
    Ok(DocumentRow {
        id: row.try_get("id")?,
        permit_id: row.try_get("permit_id")?,
        kind: row.try_get("kind")?,
        file_name: row.try_get("file_name")?,
        content_type: row.try_get("content_type")?,
        size_bytes: row.try_get("size_bytes")?,
        sha256: row.try_get("sha256")?,
        stage: row.try_get("stage")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
    })
}

pub async fn insert_document(conn: &mut AnyConnection, document: &DocumentRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO permit_documents ({DOCUMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&document.id)
    .bind(&document.permit_id)
    .bind(&document.kind)
    .bind(&document.file_name)
    .bind(&document.content_type)
    .bind(document.size_bytes)
    .bind(&document.sha256)
    .bind(&document.stage)
    .bind(&document.uploaded_by)
    .bind(document.uploaded_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The application's documents, oldest first.
pub async fn documents(conn: &mut AnyConnection, permit_id: &str) -> Result<Vec<DocumentRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM permit_documents WHERE permit_id = $1 ORDER BY uploaded_at, id"
    ))
    .bind(permit_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(document_from_row).collect()
}

pub async fn get_document(
    conn: &mut AnyConnection,
    permit_id: &str,
    id: &str,
) -> Result<Option<DocumentRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {DOCUMENT_COLUMNS} FROM permit_documents WHERE permit_id = $1 AND id = $2"
    ))
    .bind(permit_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(document_from_row).transpose()
}

const FEE_COLUMNS: &str = "permit_id, code, reason, amount_cents, due, stamp, created_at, paid_at, receipt_ref, \
     position_id, notice_number";

fn fee_from_row(row: &AnyRow) -> Result<FeeRow, sqlx::Error> {
    Ok(FeeRow {
        permit_id: row.try_get("permit_id")?,
        code: row.try_get("code")?,
        reason: row.try_get("reason")?,
        amount_cents: row.try_get("amount_cents")?,
        due: row.try_get("due")?,
        stamp: row.try_get::<i64, _>("stamp")? != 0,
        created_at: row.try_get("created_at")?,
        paid_at: row.try_get("paid_at")?,
        receipt_ref: row.try_get("receipt_ref")?,
        position_id: row.try_get("position_id")?,
        notice_number: row.try_get("notice_number")?,
    })
}

/// Records a fee as due; a fee already recorded (same code) is left as it is.
pub async fn insert_fee(conn: &mut AnyConnection, fee: &FeeRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO permit_fees ({FEE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (permit_id, code) DO NOTHING"
    ))
    .bind(&fee.permit_id)
    .bind(&fee.code)
    .bind(&fee.reason)
    .bind(fee.amount_cents)
    .bind(&fee.due)
    .bind(i64::from(fee.stamp))
    .bind(fee.created_at)
    .bind(fee.paid_at)
    .bind(fee.receipt_ref.as_deref())
    .bind(fee.position_id.as_deref())
    .bind(fee.notice_number.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// Links the unpaid fees of one group (`filing` or `issue`) to the pagoPA notice opened for
/// them.
pub async fn set_fee_notice(
    conn: &mut AnyConnection,
    permit_id: &str,
    due: &str,
    position_id: &str,
    notice_number: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE permit_fees SET position_id = $3, notice_number = $4
         WHERE permit_id = $1 AND due = $2 AND paid_at IS NULL",
    )
    .bind(permit_id)
    .bind(due)
    .bind(position_id)
    .bind(notice_number)
    .execute(conn)
    .await?;
    Ok(())
}

/// The application's fees, in the order they became due.
pub async fn fees(conn: &mut AnyConnection, permit_id: &str) -> Result<Vec<FeeRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {FEE_COLUMNS} FROM permit_fees WHERE permit_id = $1 ORDER BY created_at, code"
    ))
    .bind(permit_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(fee_from_row).collect()
}

/// Unpaid fees, oldest first, optionally of one municipality: what Payments turns into debt
/// positions.
pub async fn unpaid_fees(
    conn: &mut AnyConnection,
    municipality: Option<&str>,
    limit: i64,
) -> Result<Vec<(FeeRow, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT f.permit_id, f.code, f.reason, f.amount_cents, f.due, f.stamp, f.created_at, f.paid_at,
                f.receipt_ref, f.position_id, f.notice_number, p.municipality
         FROM permit_fees f JOIN permits p ON p.id = f.permit_id
         WHERE f.paid_at IS NULL AND ($1 = '' OR p.municipality = $1)
         ORDER BY f.created_at, f.permit_id, f.code LIMIT $2",
    )
    .bind(municipality.unwrap_or_default())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((fee_from_row(row)?, row.try_get("municipality")?)))
        .collect()
}

/// Marks the unpaid fees of one group (`filing` or `issue`) paid; returns how many.
pub async fn mark_fees_paid(
    conn: &mut AnyConnection,
    permit_id: &str,
    due: &str,
    receipt_ref: &str,
    paid_at: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE permit_fees SET paid_at = $4, receipt_ref = $3
         WHERE permit_id = $1 AND due = $2 AND paid_at IS NULL",
    )
    .bind(permit_id)
    .bind(due)
    .bind(receipt_ref)
    .bind(paid_at)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Whether a receipt was already recorded on the application.
pub async fn receipt_recorded(
    conn: &mut AnyConnection,
    permit_id: &str,
    receipt_ref: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 AS one FROM permit_fees WHERE permit_id = $1 AND receipt_ref = $2")
        .bind(permit_id)
        .bind(receipt_ref)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// A municipality's catalogue overrides (TOML), if it has any.
pub async fn catalogue_override(
    conn: &mut AnyConnection,
    municipality: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT toml FROM permit_catalogue_overrides WHERE municipality = $1")
        .bind(municipality)
        .fetch_optional(conn)
        .await?;
    row.map(|row| row.try_get("toml")).transpose()
}

/// Sets (or, with `None`, removes) a municipality's catalogue overrides.
pub async fn set_catalogue_override(
    conn: &mut AnyConnection,
    municipality: &str,
    toml: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    match toml {
        Some(toml) => sqlx::query(
            "INSERT INTO permit_catalogue_overrides (municipality, toml, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (municipality) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at",
        )
        .bind(municipality)
        .bind(toml)
        .bind(now)
        .execute(conn)
        .await
        .map(drop),
        None => sqlx::query("DELETE FROM permit_catalogue_overrides WHERE municipality = $1")
            .bind(municipality)
            .execute(conn)
            .await
            .map(drop),
    }
}

/// Records a deadline warning; returns false if it had already been given.
pub async fn record_warning(
    conn: &mut AnyConnection,
    permit_id: &str,
    kind: &str,
    deadline: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO permit_warnings (permit_id, kind, deadline, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (permit_id, kind, deadline) DO NOTHING",
    )
    .bind(permit_id)
    .bind(kind)
    .bind(deadline)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

fn recipient_from_row(row: &AnyRow) -> Result<Recipient, sqlx::Error> {
    Ok(Recipient {
        user_id: row.try_get("id")?,
        language: row.try_get("language")?,
    })
}

/// The account of a fiscal code, if the person ever logged in.
pub async fn person(conn: &mut AnyConnection, fiscal_code: &str) -> Result<Option<Recipient>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, COALESCE(p.language, 'it') AS language FROM users u
         LEFT JOIN notification_preferences p ON p.user_id = u.id WHERE u.fiscal_code = $1",
    )
    .bind(fiscal_code)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(recipient_from_row).transpose()
}

/// The name on a person's account (given and family name), if they logged in with one.
pub async fn person_name(conn: &mut AnyConnection, fiscal_code: &str) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT given_name, family_name FROM users WHERE fiscal_code = $1")
        .bind(fiscal_code)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let given: Option<String> = row.try_get("given_name")?;
    let family: Option<String> = row.try_get("family_name")?;
    let name = [given, family]
        .into_iter()
        .flatten()
        .map(|part| part.trim().to_owned())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok((!name.is_empty()).then_some(name))
}

/// The account of a user id.
pub async fn person_by_id(conn: &mut AnyConnection, user_id: &str) -> Result<Option<Recipient>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, COALESCE(p.language, 'it') AS language FROM users u
         LEFT JOIN notification_preferences p ON p.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(recipient_from_row).transpose()
}

/// People granted `role` (e.g. `operator:010025:permits`) who have an account.
pub async fn people_with_role(conn: &mut AnyConnection, role: &str) -> Result<Vec<Recipient>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT u.id, COALESCE(p.language, 'it') AS language FROM role_grants g
         JOIN users u ON u.fiscal_code = g.fiscal_code
         LEFT JOIN notification_preferences p ON p.user_id = u.id
         WHERE g.role = $1 ORDER BY u.id",
    )
    .bind(role)
    .fetch_all(conn)
    .await?;
    rows.iter().map(recipient_from_row).collect()
}

/// Calls `each` with (municipality, procedure, created at) of every application past its draft,
/// streamed: the open data counts read them all without holding them.
pub async fn for_each_filed(
    conn: &mut AnyConnection,
    mut each: impl FnMut(String, String, i64),
) -> Result<(), sqlx::Error> {
    use futures_util::TryStreamExt as _;
    let mut rows =
        sqlx::query("SELECT municipality, procedure_code, created_at FROM permits WHERE status <> 'draft'")
            .fetch(conn);
    while let Some(row) = rows.try_next().await? {
        each(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    }
    Ok(())
}
