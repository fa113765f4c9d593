//! Permits: the procedures of a municipality, the person's applications (filing a draft,
//! documents, actions), their detail with the timeline, and days left to a deadline.

use std::collections::HashMap;
use std::time::SystemTime;

use reqwest::Method;
use sportello_core::api::{self, ProcedureInfo};
use sportello_core::calendar;

use crate::client::{SportelloClient, path_segment, timestamp};
use crate::error::SportelloError;
use crate::tenant::parse_istat_code;

/// What to change in a draft; `None` leaves a member as it is. Not `api::PermitUpdate`: the
/// cadastral parcel is flat (`foglio`, `mappale`, `subalterno`) and the fields a `HashMap`
/// (UniFFI has no ordered map); the constraints are an officer's, not the apps'.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct PermitDraftUpdate {
    /// Address of the property.
    #[uniffi(default = None)]
    pub address: Option<String>,
    /// Cadastral sheet (foglio); with `mappale`.
    #[uniffi(default = None)]
    pub foglio: Option<String>,
    /// Cadastral parcel (mappale); with `foglio`.
    #[uniffi(default = None)]
    pub mappale: Option<String>,
    /// Cadastral sub-unit (subalterno).
    #[uniffi(default = None)]
    pub subalterno: Option<String>,
    /// Description of the works.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// The procedure's other fields by code (dates `YYYY-MM-DD`); an empty value removes one.
    pub fields: HashMap<String, String>,
}

/// One entry of an application's timeline. Not `api::PermitTimelineEntry`: `at` is a time for
/// the apps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PermitTimelineEntry {
    /// When.
    pub at: SystemTime,
    /// `submit`, `register`, `request-integration`, …, `mature`, `assign`.
    pub action: String,
    /// `applicant`, `professional`, `operator`, `system`.
    pub actor: String,
    /// The person's name, when known.
    pub actor_name: Option<String>,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// Why.
    pub note: Option<String>,
}

/// A document on an application. Not `api::PermitDocument`: `uploaded_at` is a time and the
/// size unsigned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PermitDocument {
    /// Id.
    pub id: String,
    /// Document code of the procedure.
    pub kind: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub content_type: String,
    /// Bytes.
    pub size_bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// `application` or `integration`.
    pub stage: String,
    /// When.
    pub uploaded_at: SystemTime,
}

/// An application in full. Not `api::Permit`: it holds the apps' timeline entries and
/// documents (times, not strings), and leaves out what an officer's screen needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Permit {
    /// Id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name.
    pub procedure_name: String,
    /// Full status (`integration_requested`).
    pub status: String,
    /// Simplified status for citizens (`action_needed`).
    pub simplified_status: String,
    /// The simplified status in the client's language.
    pub simplified_label: String,
    /// Fiscal code of the applicant.
    pub applicant_fiscal_code: String,
    /// Fiscal code of the professional filing for them, if any.
    pub professional_fiscal_code: Option<String>,
    /// `YYYY/NNNNNNN`, once registered.
    pub protocol_number: Option<String>,
    /// Address of the property.
    pub address: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Last day of the legal term (`YYYY-MM-DD`), while known.
    pub deadline: Option<String>,
    /// Days to the deadline as the server counted them (0 on the last day, negative after).
    pub days_left: Option<i64>,
    /// Whether an integration request stops the clock.
    pub clock_stopped: bool,
    /// Actions the person may take now (`submit`, `withdraw`, `submit-integration`, …).
    pub actions: Vec<String>,
    /// Timeline, oldest first.
    pub timeline: Vec<PermitTimelineEntry>,
    /// Documents.
    pub documents: Vec<PermitDocument>,
    /// Fees still to pay, euro cents.
    pub fee_due_cents: i64,
}

/// An application in a list. Not `api::PermitSummary`: `updated_at` is a time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PermitSummary {
    /// Id.
    pub id: String,
    /// ISTAT code of the municipality.
    pub municipality: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name.
    pub procedure_name: String,
    /// Full status.
    pub status: String,
    /// Simplified status.
    pub simplified_status: String,
    /// The simplified status in the client's language.
    pub simplified_label: String,
    /// Protocol number, once registered.
    pub protocol_number: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Last day of the legal term.
    pub deadline: Option<String>,
    /// Days to the deadline.
    pub days_left: Option<i64>,
    /// Last change.
    pub updated_at: SystemTime,
}

/// A page of applications. Not `api::PermitPage`: it holds the apps' `PermitSummary`s.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PermitPage {
    /// Applications, most recently changed first.
    pub items: Vec<PermitSummary>,
    /// Cursor for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

impl TryFrom<api::Permit> for Permit {
    type Error = SportelloError;

    fn try_from(p: api::Permit) -> Result<Self, Self::Error> {
        let timeline = p
            .timeline
            .into_iter()
            .map(|t| {
                Ok(PermitTimelineEntry {
                    at: timestamp("at", &t.at)?,
                    action: t.action,
                    actor: t.actor,
                    actor_name: t.actor_name,
                    from_status: t.from_status,
                    to_status: t.to_status,
                    note: t.note,
                })
            })
            .collect::<Result<_, SportelloError>>()?;
        let documents = p
            .documents
            .into_iter()
            .map(PermitDocument::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: p.id,
            municipality: p.municipality,
            procedure: p.procedure,
            procedure_name: p.procedure_name,
            status: p.status,
            simplified_status: p.simplified_status,
            simplified_label: p.simplified_label,
            applicant_fiscal_code: p.applicant_fiscal_code,
            professional_fiscal_code: p.professional_fiscal_code,
            protocol_number: p.protocol_number,
            address: p.address,
            description: p.description,
            deadline: p.deadline,
            days_left: p.days_left,
            clock_stopped: p.clock_stopped,
            actions: p.actions,
            timeline,
            documents,
            fee_due_cents: p.fee_due_cents,
        })
    }
}

impl TryFrom<api::PermitDocument> for PermitDocument {
    type Error = SportelloError;

    fn try_from(d: api::PermitDocument) -> Result<Self, Self::Error> {
        Ok(Self {
            uploaded_at: timestamp("uploaded_at", &d.uploaded_at)?,
            id: d.id,
            kind: d.kind,
            file_name: d.file_name,
            content_type: d.content_type,
            size_bytes: u64::try_from(d.size_bytes).unwrap_or(0),
            sha256: d.sha256,
            stage: d.stage,
        })
    }
}

impl TryFrom<api::PermitPage> for PermitPage {
    type Error = SportelloError;

    fn try_from(page: api::PermitPage) -> Result<Self, Self::Error> {
        let items = page
            .items
            .into_iter()
            .map(|s| {
                Ok(PermitSummary {
                    updated_at: timestamp("updated_at", &s.updated_at)?,
                    id: s.id,
                    municipality: s.municipality,
                    procedure: s.procedure,
                    procedure_name: s.procedure_name,
                    status: s.status,
                    simplified_status: s.simplified_status,
                    simplified_label: s.simplified_label,
                    protocol_number: s.protocol_number,
                    address: s.address,
                    deadline: s.deadline,
                    days_left: s.days_left,
                })
            })
            .collect::<Result<_, SportelloError>>()?;
        Ok(Self {
            items,
            next_cursor: page.next_cursor,
        })
    }
}

/// Days from `now` (its Europe/Rome calendar day) to `deadline` (`YYYY-MM-DD`): 0 on the last
/// day, negative once it has passed. What the app shows as "N days left" offline, counted as
/// the server counts them.
#[uniffi::export]
pub fn permit_days_left(deadline: &str, now: SystemTime) -> Result<i64, SportelloError> {
    let deadline: jiff::civil::Date = deadline
        .trim()
        .parse()
        .map_err(|error| SportelloError::invalid("deadline", &error))?;
    let now = jiff::Timestamp::try_from(now).map_err(|error| SportelloError::invalid("now", &error))?;
    Ok(calendar::days_between(calendar::rome_date(now), deadline))
}

#[uniffi::export(async_runtime = "tokio")]
impl SportelloClient {
    /// The procedures a municipality offers.
    pub async fn permit_procedures(
        &self,
        municipality: String,
    ) -> Result<Vec<ProcedureInfo>, SportelloError> {
        let municipality = parse_istat_code(&municipality)?;
        let list: api::ProcedureList = self
            .send(
                self.request(Method::GET, "v1/permits/procedures")?
                    .query(&[("municipality", municipality)]),
            )
            .await?;
        Ok(list.items)
    }

    /// Creates a draft; a professional filing for someone gives their fiscal code.
    #[uniffi::method(default(applicant_fiscal_code = None))]
    pub async fn create_permit(
        &self,
        municipality: String,
        procedure: String,
        applicant_fiscal_code: Option<String>,
    ) -> Result<Permit, SportelloError> {
        let request = api::NewPermit {
            municipality: parse_istat_code(&municipality)?,
            procedure,
            applicant_fiscal_code,
        };
        let permit: api::Permit = self
            .authorized(|| Ok(self.request(Method::POST, "v1/permits")?.json(&request)))
            .await?;
        permit.try_into()
    }

    /// Changes a draft.
    pub async fn update_permit(
        &self,
        id: String,
        update: PermitDraftUpdate,
    ) -> Result<Permit, SportelloError> {
        let path = format!("v1/permits/{}", path_segment("id", &id)?);
        let parcel = match (update.foglio, update.mappale) {
            (Some(foglio), Some(mappale)) => Some(api::CadastralParcel {
                foglio,
                mappale,
                subalterno: update.subalterno,
            }),
            (None, None) => None,
            _ => {
                return Err(SportelloError::invalid(
                    "mappale",
                    "foglio and mappale go together",
                ));
            }
        };
        let request = api::PermitUpdate {
            address: update.address,
            cadastral_parcel: parcel,
            description: update.description,
            fields: (!update.fields.is_empty()).then(|| update.fields.into_iter().collect()),
            constraints: None,
        };
        let permit: api::Permit = self
            .authorized(|| Ok(self.request(Method::PATCH, &path)?.json(&request)))
            .await?;
        permit.try_into()
    }

    /// Uploads a document (PDF, signed P7M, JPEG or PNG) of the procedure's `kind`.
    pub async fn upload_permit_document(
        &self,
        id: String,
        kind: String,
        file_name: String,
        content: Vec<u8>,
    ) -> Result<PermitDocument, SportelloError> {
        let path = format!("v1/permits/{}/documents", path_segment("id", &id)?);
        let document: api::PermitDocument = self
            .authorized(|| {
                Ok(self
                    .request(Method::POST, &path)?
                    .query(&[("kind", kind.as_str()), ("name", file_name.as_str())])
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(content.clone()))
            })
            .await?;
        document.try_into()
    }

    /// Takes an action (`submit`, `submit-integration`, `withdraw`, `cancel`; officers' too),
    /// with an optional note (the reasons).
    #[uniffi::method(default(note = None))]
    pub async fn permit_action(
        &self,
        id: String,
        action: String,
        note: Option<String>,
    ) -> Result<Permit, SportelloError> {
        let path = format!(
            "v1/permits/{}/actions/{}",
            path_segment("id", &id)?,
            path_segment("action", &action)?
        );
        let request = api::PermitActionRequest {
            note,
            assignee_fiscal_code: None,
        };
        let permit: api::Permit = self
            .authorized(|| Ok(self.request(Method::POST, &path)?.json(&request)))
            .await?;
        permit.try_into()
    }

    /// An application with its timeline, documents, deadline and days left.
    pub async fn permit(&self, id: String) -> Result<Permit, SportelloError> {
        let path = format!("v1/permits/{}", path_segment("id", &id)?);
        let permit: api::Permit = self.authorized(|| self.request(Method::GET, &path)).await?;
        permit.try_into()
    }

    /// The person's applications (as applicant or filing professional), most recent first.
    #[uniffi::method(default(cursor = None, limit = None))]
    pub async fn my_permits(
        &self,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<PermitPage, SportelloError> {
        let mut query = Vec::new();
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.clone()));
        }
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        let page: api::PermitPage = self
            .authorized(|| Ok(self.request(Method::GET, "v1/me/permits")?.query(&query)))
            .await?;
        page.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_counts_rome_days() {
        // 2026-03-28T23:30Z is already 29 March in Rome (CET, UTC+1).
        let now = SystemTime::try_from("2026-03-28T23:30:00Z".parse::<jiff::Timestamp>().unwrap()).unwrap();
        assert_eq!(permit_days_left("2026-03-29", now).unwrap(), 0);
        assert_eq!(permit_days_left("2026-04-28", now).unwrap(), 30);
        assert_eq!(permit_days_left("2026-03-28", now).unwrap(), -1);
        assert!(permit_days_left("28/03/2026", now).is_err());
    }
}
