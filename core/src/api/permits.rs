//! Wire types of the permits context (`/v1/permits`).

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A document the applicant attaches, as the procedure asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureDocument {
    /// Stable code, used as `kind` when uploading (`drawings`).
    pub code: String,
    /// Name in the request's language.
    pub name: String,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// A field of a procedure's application form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureField {
    /// Stable code (`works_start_date`); `address`, `cadastral_parcel` and `description` have
    /// their own members in [`PermitUpdate`], the others go in `fields`.
    pub code: String,
    /// Label in the request's language.
    pub label: String,
    /// `text`, `long-text`, `number`, `date` (YYYY-MM-DD), `boolean` (`true`/`false`),
    /// `address` or `cadastral-parcel`.
    pub kind: String,
    /// Whether the application cannot be submitted without it.
    pub required: bool,
}

/// A fixed fee of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureFee {
    /// Stable code (`secretariat`).
    pub code: String,
    /// What it is for, in the request's language.
    pub name: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// `filing` (before the application counts as submitted) or `issue` (before the title).
    pub due: String,
}

/// A procedure a municipality offers (`GET /v1/permits/procedures`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProcedureInfo {
    /// Stable code: `cila`, `scia`, `scia-alternativa`, `pdc`, `agibilita`, `paesaggistica`,
    /// `suolo-pubblico`, `passo-carrabile`, or one a municipality added.
    pub code: String,
    /// Name in the request's language.
    pub name: String,
    /// The law it rests on.
    pub legal_basis: String,
    /// Who decides.
    pub decided_by: String,
    /// Whether the title is effective as soon as it is filed.
    pub effective_on_filing: bool,
    /// Days of the legal clock in this municipality (0: none), before any doubling the officer
    /// may declare.
    pub clock_days: i64,
    /// What the clock running out means: `nothing`, `works-may-start`, `silent-approval`,
    /// `no-silent-approval`.
    pub at_deadline: String,
    /// Documents to attach.
    pub documents: Vec<ProcedureDocument>,
    /// Form fields.
    pub fields: Vec<ProcedureField>,
    /// Fixed fees.
    pub fees: Vec<ProcedureFee>,
}

/// The procedures of a municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProcedureList {
    /// Procedures, in catalogue order.
    pub items: Vec<ProcedureInfo>,
}

/// Body of `POST /v1/permits`: a new draft for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPermit {
    /// ISTAT code of the municipality.
    #[cfg_attr(feature = "openapi", schema(example = "010025"))]
    pub municipality: String,
    /// Procedure code (`pdc`).
    pub procedure: String,
    /// A professional filing for someone else gives the applicant's fiscal code; the
    /// applicant then sees and follows the application too. Absent: the caller applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_fiscal_code: Option<String>,
}

/// Cadastral identification of the property (catasto fabbricati / terreni).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CadastralParcel {
    /// Sheet (foglio).
    pub foglio: String,
    /// Parcel (mappale or particella).
    pub mappale: String,
    /// Sub-unit (subalterno), when the parcel is divided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subalterno: Option<String>,
}

/// Body of `PATCH /v1/permits/{id}`: only members present change; drafts only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermitUpdate {
    /// Address of the property.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Cadastral parcel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadastral_parcel: Option<CadastralParcel>,
    /// Description of the works or of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The procedure's other fields by code, as text (dates `YYYY-MM-DD`, booleans
    /// `true`/`false`); an empty value removes the field. Merged into the stored ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// Constraints on the property (`landscape`, `cultural`, `hydrogeological`,
    /// `environmental`): they rule out silent approval. Replaces the stored list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Vec<String>>,
}

/// Body of `POST /v1/permits/{id}/actions/{action}` (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermitActionRequest {
    /// Why: the reasons of a decision, what documents are missing… (at most 4000 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For `assign`: the fiscal code of an officer of the municipality's permits office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_fiscal_code: Option<String>,
}

/// One entry of an application's timeline (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitTimelineEntry {
    /// RFC 3339 UTC.
    pub at: String,
    /// The action (`submit`, `register`, …, `mature`, or `assign`).
    pub action: String,
    /// Who, by role: `applicant`, `professional`, `operator`, `system`.
    pub actor: String,
    /// The person's name, when known (the officer in charge is public: L. 241/1990 art. 8).
    pub actor_name: Option<String>,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// Why.
    pub note: Option<String>,
}

/// A document attached to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitDocument {
    /// Opaque id, for the download.
    pub id: String,
    /// Document code of the procedure (`drawings`).
    pub kind: String,
    /// File name as uploaded.
    pub file_name: String,
    /// `application/pdf`, `application/pkcs7-mime`, `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// `application` or `integration`.
    pub stage: String,
    /// RFC 3339 UTC.
    pub uploaded_at: String,
}

/// A fee due on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitFee {
    /// Fee code of the procedure.
    pub code: String,
    /// What it is for.
    pub reason: String,
    /// Euro cents.
    pub amount_cents: i64,
    /// `filing` or `issue`.
    pub due: String,
    /// RFC 3339 UTC, once paid.
    pub paid_at: Option<String>,
    /// The debt position opened for the fee's group (the fees due together share one pagoPA
    /// notice); it is the `position_id` of the payer's `GET /v1/me/payments` item. `null` when
    /// no notice was opened: the municipality does not collect through pagoPA here, and the fee
    /// is paid at its office (the officer confirms the payment).
    pub payment_position_id: Option<String>,
    /// The pagoPA notice number (18 digits) to pay the fee's group with, or `null` (see
    /// `payment_position_id`).
    #[cfg_attr(feature = "openapi", schema(example = "302032002700000251"))]
    pub notice_number: Option<String>,
}

/// An application in full (`GET /v1/permits/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Permit {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name, in the request's language.
    pub procedure_name: String,
    /// Full status: `draft`, `awaiting_payment`, `submitted`, `registered`, `in_review`,
    /// `integration_requested`, `integration_submitted`, `awaiting_issue_payment`, `accepted`,
    /// `tacitly_accepted`, `rejected`, `withdrawn`, `cancelled`.
    pub status: String,
    /// Simplified status for citizens: `draft`, `payment_due`, `received`, `effective`,
    /// `under_review`, `action_needed`, `approved`, `rejected`, `withdrawn`, `cancelled`.
    pub simplified_status: String,
    /// The simplified status in the request's language.
    pub simplified_label: String,
    /// Fiscal code of the applicant.
    pub applicant_fiscal_code: String,
    /// Fiscal code of the professional who files for the applicant, if any.
    pub professional_fiscal_code: Option<String>,
    /// Fiscal code of the officer in charge, once assigned.
    pub assigned_to: Option<String>,
    /// `YYYY/NNNNNNN`, once registered.
    pub protocol_number: Option<String>,
    /// Address of the property.
    pub address: Option<String>,
    /// Cadastral parcel.
    pub cadastral_parcel: Option<CadastralParcel>,
    /// Description.
    pub description: Option<String>,
    /// The procedure's other fields.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Constraints declared on the property.
    pub constraints: Vec<String>,
    /// Last day of the legal term (`YYYY-MM-DD`, Europe/Rome), while a clock runs or once it
    /// ran out; absent while an integration request stops it.
    pub deadline: Option<String>,
    /// Calendar days to the deadline: 0 on the last day, negative once overdue.
    pub days_left: Option<i64>,
    /// Whether an integration request stops the clock.
    pub clock_stopped: bool,
    /// What the clock running out means for this procedure.
    pub at_deadline: String,
    /// Actions the caller may try now (`submit`, `withdraw`, …).
    pub actions: Vec<String>,
    /// Timeline, oldest first.
    pub timeline: Vec<PermitTimelineEntry>,
    /// Documents, oldest first.
    pub documents: Vec<PermitDocument>,
    /// Fees due or paid.
    pub fees: Vec<PermitFee>,
    /// Sum of the fees still to pay, euro cents.
    pub fee_due_cents: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// An application in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitSummary {
    /// Opaque id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name, in the request's language.
    pub procedure_name: String,
    /// Full status.
    pub status: String,
    /// Simplified status for citizens.
    pub simplified_status: String,
    /// The simplified status in the request's language.
    pub simplified_label: String,
    /// Fiscal code of the applicant.
    pub applicant_fiscal_code: String,
    /// `YYYY/NNNNNNN`, once registered.
    pub protocol_number: Option<String>,
    /// Address of the property.
    pub address: Option<String>,
    /// Fiscal code of the officer in charge.
    pub assigned_to: Option<String>,
    /// Last day of the legal term as of the last change or sweep (`YYYY-MM-DD`).
    pub deadline: Option<String>,
    /// Calendar days to the deadline as of now.
    pub days_left: Option<i64>,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// A page of applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermitPage {
    /// Applications.
    pub items: Vec<PermitSummary>,
    /// Cursor for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}
