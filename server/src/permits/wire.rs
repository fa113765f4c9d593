//! What the service read, as the API shows it (`core::api`), in the caller's language.

use sportello_core::api;
use sportello_core::calendar;
use sportello_core::permits::{CitizenStatus, Status};

use super::reads::{PermitView, ProcedureCatalogue, SummaryPage};
use super::store::{DocumentRow, FeeRow, PermitRow, TimelineRow};
use crate::clock::rfc3339_from_ms;

/// The procedures of a municipality, with their clocks, documents, fields and fees.
pub fn procedures(offered: &ProcedureCatalogue, lang: &str) -> api::ProcedureList {
    let items = offered
        .catalogue
        .procedures()
        .iter()
        .map(|p| api::ProcedureInfo {
            code: p.code.clone(),
            name: p.name.get(lang).to_owned(),
            legal_basis: p.legal_basis.clone(),
            decided_by: p.decided_by.get(lang).to_owned(),
            effective_on_filing: p.effective_on_filing,
            clock_days: p.total_days(offered.facts),
            at_deadline: p.at_deadline.as_str().to_owned(),
            documents: p
                .documents
                .iter()
                .map(|d| api::ProcedureDocument {
                    code: d.code.clone(),
                    name: d.name.get(lang).to_owned(),
                    required: d.required,
                })
                .collect(),
            fields: p
                .fields
                .iter()
                .map(|f| api::ProcedureField {
                    code: f.code.clone(),
                    label: f.label.get(lang).to_owned(),
                    kind: f.kind.as_str().to_owned(),
                    required: f.required,
                })
                .collect(),
            fees: p
                .fees
                .iter()
                .map(|f| api::ProcedureFee {
                    code: f.code.clone(),
                    name: f.name.get(lang).to_owned(),
                    amount_cents: f.amount.cents(),
                    due: f.due.as_str().to_owned(),
                })
                .collect(),
        })
        .collect();
    api::ProcedureList { items }
}

/// An application in full.
pub fn permit(view: &PermitView, lang: &str) -> api::Permit {
    let loaded = &view.loaded;
    let row = &loaded.row;
    let citizen = loaded.permit.citizen_status(&loaded.procedure);
    let clock = view.clock;
    api::Permit {
        id: row.id.clone(),
        municipality: row.municipality.clone(),
        procedure: row.procedure_code.clone(),
        procedure_name: loaded.procedure.name.get(lang).to_owned(),
        status: row.status.clone(),
        simplified_status: citizen.as_str().to_owned(),
        simplified_label: citizen.label(lang).to_owned(),
        applicant_fiscal_code: row.applicant_fiscal_code.clone(),
        professional_fiscal_code: row.professional_fiscal_code.clone(),
        assigned_to: row.assigned_to.clone(),
        protocol_number: loaded.permit.protocol_number().map(|p| p.to_string()),
        address: row.address.clone(),
        cadastral_parcel: parcel(row),
        description: row.description.clone(),
        fields: view.fields.clone(),
        constraints: row.constraints.split_whitespace().map(str::to_owned).collect(),
        deadline: clock.and_then(|c| c.deadline()).map(|d| d.to_string()),
        days_left: clock.and_then(|c| c.days_left()),
        clock_stopped: clock.is_some_and(|c| c.is_stopped()),
        at_deadline: loaded.procedure.at_deadline.as_str().to_owned(),
        actions: view.actions.clone(),
        timeline: loaded.timeline.iter().map(timeline_entry).collect(),
        documents: view.documents.iter().map(document).collect(),
        fee_due_cents: view
            .fees
            .iter()
            .filter(|f| f.paid_at.is_none())
            .map(|f| f.amount_cents)
            .sum(),
        fees: view.fees.iter().map(fee).collect(),
        created_at: rfc3339_from_ms(row.created_at),
        updated_at: rfc3339_from_ms(row.updated_at),
    }
}

fn parcel(row: &PermitRow) -> Option<api::CadastralParcel> {
    Some(api::CadastralParcel {
        foglio: row.foglio.clone()?,
        mappale: row.mappale.clone()?,
        subalterno: row.subalterno.clone(),
    })
}

fn timeline_entry(t: &TimelineRow) -> api::PermitTimelineEntry {
    api::PermitTimelineEntry {
        at: rfc3339_from_ms(t.at),
        action: t.action.clone(),
        actor: t.actor.clone(),
        actor_name: t.actor_name.clone(),
        from_status: t.from_status.clone(),
        to_status: t.to_status.clone(),
        note: t.note.clone(),
    }
}

fn fee(f: &FeeRow) -> api::PermitFee {
    api::PermitFee {
        code: f.code.clone(),
        reason: f.reason.clone(),
        amount_cents: f.amount_cents,
        due: f.due.clone(),
        paid_at: f.paid_at.map(rfc3339_from_ms),
        payment_position_id: f.position_id.clone(),
        notice_number: f.notice_number.clone(),
    }
}

/// A document's metadata.
pub fn document(row: &DocumentRow) -> api::PermitDocument {
    api::PermitDocument {
        id: row.id.clone(),
        kind: row.kind.clone(),
        file_name: row.file_name.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        stage: row.stage.clone(),
        uploaded_at: rfc3339_from_ms(row.uploaded_at),
    }
}

/// `Content-Disposition` of a document's download. The name was checked on upload (no quotes,
/// no paths); non-ASCII characters go in `filename*`, percent-encoded.
pub fn attachment(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A page of applications, each summed up.
pub fn page(page: &SummaryPage, lang: &str) -> api::PermitPage {
    api::PermitPage {
        items: page.rows.iter().map(|row| summary(page, row, lang)).collect(),
        next_cursor: page.next_cursor.clone(),
    }
}

/// One application of a list: the stored deadline (hidden while the clock is stopped and once
/// closed) and the days left from today.
fn summary(page: &SummaryPage, row: &PermitRow, lang: &str) -> api::PermitSummary {
    let procedure = page
        .catalogues
        .get(&row.municipality)
        .and_then(|c| c.procedure(&row.procedure_code).ok());
    let effective = procedure.is_some_and(|p| p.effective_on_filing);
    let status = Status::parse(&row.status).unwrap_or(Status::Draft);
    let citizen = CitizenStatus::of(status, effective);
    let deadline = row
        .deadline
        .clone()
        .filter(|_| !row.clock_stopped && !status.is_final());
    api::PermitSummary {
        id: row.id.clone(),
        municipality: row.municipality.clone(),
        procedure: row.procedure_code.clone(),
        procedure_name: procedure.map_or_else(|| row.procedure_code.clone(), |p| p.name.get(lang).to_owned()),
        status: row.status.clone(),
        simplified_status: citizen.as_str().to_owned(),
        simplified_label: citizen.label(lang).to_owned(),
        applicant_fiscal_code: row.applicant_fiscal_code.clone(),
        protocol_number: match (row.protocol_year, row.protocol_number) {
            (Some(y), Some(n)) => Some(format!("{y}/{n:07}")),
            _ => None,
        },
        address: row.address.clone(),
        assigned_to: row.assigned_to.clone(),
        days_left: deadline
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .map(|d| calendar::days_between(page.today, d)),
        deadline,
        updated_at: rfc3339_from_ms(row.updated_at),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::civil::date;
    use sportello_core::permits::Catalogue;

    use super::super::loaded::testing::draft;
    use super::*;

    fn page_of(rows: Vec<PermitRow>) -> SummaryPage {
        SummaryPage {
            rows,
            catalogues: BTreeMap::from([("010025".to_owned(), Catalogue::builtin().clone())]),
            today: date(2026, 5, 20),
            next_cursor: Some("next".to_owned()),
        }
    }

    #[test]
    fn downloads_keep_their_name() {
        assert_eq!(
            attachment("tavola 1.pdf"),
            "attachment; filename=\"tavola 1.pdf\"; filename*=UTF-8''tavola%201.pdf"
        );
        assert_eq!(
            attachment("relazione-geologica_è.p7m"),
            "attachment; filename=\"relazione-geologica__.p7m\"; filename*=UTF-8''relazione-geologica_%C3%A8.p7m"
        );
    }

    #[test]
    fn summaries_show_the_running_deadline_and_the_protocol_number() {
        let mut row = draft("pdc").row;
        row.status = "in_review".to_owned();
        row.protocol_year = Some(2026);
        row.protocol_number = Some(123);
        row.deadline = Some("2026-05-30".to_owned());
        let mut stopped = row.clone();
        stopped.clock_stopped = true;
        let mut closed = row.clone();
        closed.status = "accepted".to_owned();
        let mut elsewhere = row.clone();
        elsewhere.municipality = "010001".to_owned();
        let page = page(&page_of(vec![row, stopped, closed, elsewhere]), "en");
        assert_eq!(page.next_cursor.as_deref(), Some("next"));
        let [running, stopped, closed, elsewhere] = &page.items[..] else {
            panic!("four items");
        };
        assert_eq!(running.protocol_number.as_deref(), Some("2026/0000123"));
        assert_eq!(
            (running.deadline.as_deref(), running.days_left),
            (Some("2026-05-30"), Some(10))
        );
        assert_eq!(running.procedure_name, "Building permit");
        assert_eq!((stopped.deadline.as_deref(), stopped.days_left), (None, None));
        assert_eq!((closed.deadline.as_deref(), closed.days_left), (None, None));
        // A catalogue not read: the procedure is named by its code.
        assert_eq!(elsewhere.procedure_name, "pdc");
        let draft = page_of(vec![draft("pdc").row]);
        assert_eq!(super::page(&draft, "it").items[0].protocol_number, None);
    }
}
