//! Drafts: creating one, filling it in (every member checked against the procedure), and what a
//! draft or an answer to an integration request still lacks before it can be sent.

use std::collections::BTreeMap;

use sportello_core::api;
use sportello_core::identity::FiscalCode;
use sportello_core::permits::{Action, Constraint, FieldKind, PermitsError, Procedure, Status};
use sportello_core::tenant::IstatCode;
use sqlx::AnyConnection;

use super::access::require_filer;
use super::error::invalid;
use super::loaded::{Loaded, catalogue_of};
use super::store::{self, DocumentRow, PermitRow};
use super::{PermitError, Permits, internal};
use crate::identity::Principal;

/// What is missing or wrong, by field: (field, Italian, English).
type Missing = Vec<(String, String, String)>;

/// The row of a new draft of `procedure` in `municipality`, created at `at_ms`, with nothing
/// filled in and no one filing it yet (the caller sets the applicant and who files).
pub(super) fn draft_row(
    id: String,
    municipality: &str,
    procedure: &str,
    large_municipality: bool,
    at_ms: i64,
) -> PermitRow {
    PermitRow {
        id,
        municipality: municipality.to_owned(),
        procedure_code: procedure.to_owned(),
        status: Status::Draft.as_str().to_owned(),
        applicant_fiscal_code: String::new(),
        filed_by: String::new(),
        professional_fiscal_code: None,
        assigned_to: None,
        large_municipality,
        address: None,
        foglio: None,
        mappale: None,
        subalterno: None,
        description: None,
        fields: "{}".to_owned(),
        constraints: String::new(),
        protocol_year: None,
        protocol_number: None,
        deadline: None,
        clock_stopped: false,
        created_at: at_ms,
        updated_at: at_ms,
    }
}

impl Permits {
    /// Creates a draft for the caller (or, when a professional gives another applicant's
    /// fiscal code, for that applicant, filed by the caller). Returns its id.
    pub async fn create(
        &self,
        principal: &Principal,
        request: &api::NewPermit,
    ) -> Result<String, PermitError> {
        let municipality = IstatCode::parse(&request.municipality)
            .map_err(|e| invalid("municipality", e.to_string(), e.to_string()))?;
        let large = self.is_large(&municipality)?;
        let mut conn = self.conn().await?;
        let catalogue = catalogue_of(&mut conn, municipality.as_str()).await?;
        let procedure = catalogue.procedure(&request.procedure).map_err(|_| {
            invalid(
                "procedure",
                format!("Nessuna procedura `{}` in questo comune.", request.procedure),
                format!("No procedure `{}` in this municipality.", request.procedure),
            )
        })?;
        let (applicant, professional) = match &request.applicant_fiscal_code {
            Some(code) => {
                let code = FiscalCode::parse(code).map_err(|_| {
                    invalid(
                        "applicant_fiscal_code",
                        "Codice fiscale non valido.",
                        "Invalid fiscal code.",
                    )
                })?;
                if code.as_str() == principal.fiscal_code {
                    (principal.fiscal_code.clone(), None)
                } else {
                    (code.as_str().to_owned(), Some(principal.fiscal_code.clone()))
                }
            }
            None => (principal.fiscal_code.clone(), None),
        };
        let id = uuid::Uuid::now_v7().to_string();
        let row = PermitRow {
            applicant_fiscal_code: applicant,
            filed_by: principal.user_id.clone(),
            professional_fiscal_code: professional,
            ..draft_row(
                id.clone(),
                municipality.as_str(),
                &procedure.code,
                large,
                self.now_ms(),
            )
        };
        store::insert_permit(&mut conn, &row).await?;
        tracing::info!(permit = %id, procedure = %row.procedure_code, municipality = %row.municipality, "permit draft created");
        Ok(id)
    }

    /// Changes a draft's data (applicant or filing professional only).
    pub async fn update(
        &self,
        principal: &Principal,
        id: &str,
        update: &api::PermitUpdate,
    ) -> Result<(), PermitError> {
        let mut tx = self.db.pool().begin().await?;
        if !store::lock_permit(&mut tx, id).await? {
            return Err(PermitError::NotFound);
        }
        let (mut loaded, relations) = self.visible(&mut tx, principal, id).await?;
        require_filer(&relations, loaded.permit.status(), Action::Submit)?;
        if loaded.permit.status() != Status::Draft {
            return Err(PermitsError::NotADraft(loaded.permit.status()).into());
        }
        apply_update(&mut loaded, update)?;
        loaded.row.updated_at = self.now_ms().max(loaded.row.updated_at);
        store::update_draft(&mut tx, &loaded.row).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Applies a draft update to the row, validating every member against the procedure.
fn apply_update(loaded: &mut Loaded, update: &api::PermitUpdate) -> Result<(), PermitError> {
    let row = &mut loaded.row;
    if let Some(address) = &update.address {
        row.address = text("address", address, 300)?;
    }
    if let Some(description) = &update.description {
        row.description = text("description", description, 10_000)?;
    }
    if let Some(parcel) = &update.cadastral_parcel {
        set_parcel(row, parcel)?;
    }
    if let Some(fields) = &update.fields {
        set_fields(row, &loaded.procedure, fields)?;
    }
    if let Some(constraints) = &update.constraints {
        let parsed = constraints
            .iter()
            .map(|c| Constraint::parse(c.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("constraints", e.to_string(), e.to_string()))?;
        loaded.permit.set_constraints(parsed)?;
        loaded.row.constraints = loaded
            .permit
            .constraints()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(" ");
    }
    Ok(())
}

/// Trimmed text of at most `max` characters without control characters but line breaks and
/// tabs; empty is none.
fn text(field: &str, value: &str, max: usize) -> Result<Option<String>, PermitError> {
    let value = value.trim();
    if value.chars().count() > max || value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(invalid(
            field,
            format!("Al massimo {max} caratteri, senza caratteri di controllo."),
            format!("At most {max} characters, no control characters."),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// One part of a cadastral reference: up to 10 letters or digits; empty is none.
fn parcel_code(field: &str, value: &str) -> Result<Option<String>, PermitError> {
    let value = value.trim();
    if value.len() > 10 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            field,
            "Da 1 a 10 lettere o cifre.",
            "1 to 10 letters or digits.",
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// Sets the cadastral parcel: sheet and parcel required, sub-unit optional.
fn set_parcel(row: &mut PermitRow, parcel: &api::CadastralParcel) -> Result<(), PermitError> {
    let foglio = parcel_code("cadastral_parcel.foglio", &parcel.foglio)?;
    let mappale = parcel_code("cadastral_parcel.mappale", &parcel.mappale)?;
    if foglio.is_none() || mappale.is_none() {
        return Err(invalid(
            "cadastral_parcel",
            "Servono foglio e mappale.",
            "Sheet (foglio) and parcel (mappale) are required.",
        ));
    }
    row.foglio = foglio;
    row.mappale = mappale;
    row.subalterno = parcel
        .subalterno
        .as_deref()
        .map(|s| parcel_code("cadastral_parcel.subalterno", s))
        .transpose()?
        .flatten();
    Ok(())
}

/// Merges `fields` into the stored ones, each checked against its kind in the procedure; an
/// empty value removes the field.
fn set_fields(
    row: &mut PermitRow,
    procedure: &Procedure,
    fields: &BTreeMap<String, String>,
) -> Result<(), PermitError> {
    let mut stored = fields_of(row)?;
    for (code, value) in fields {
        let field = format!("fields.{code}");
        let spec = procedure
            .fields
            .iter()
            .find(|f| f.code == *code && !is_own_member(f.kind, &f.code))
            .ok_or_else(|| {
                invalid(
                    &field,
                    "Campo sconosciuto per questa procedura.",
                    "Unknown field for this procedure.",
                )
            })?;
        let value = value.trim();
        if value.is_empty() {
            stored.remove(code);
            continue;
        }
        let ok = match spec.kind {
            FieldKind::Date => value.parse::<jiff::civil::Date>().is_ok(),
            FieldKind::Number => value.parse::<f64>().is_ok_and(f64::is_finite),
            FieldKind::Boolean => matches!(value, "true" | "false"),
            FieldKind::Text => value.chars().count() <= 300,
            _ => value.chars().count() <= 10_000,
        };
        if !ok {
            return Err(invalid(
                &field,
                format!("Valore non valido per un campo di tipo {}.", spec.kind.as_str()),
                format!("Invalid value for a {} field.", spec.kind.as_str()),
            ));
        }
        stored.insert(code.clone(), value.to_owned());
    }
    row.fields = serde_json::to_string(&stored).map_err(internal)?;
    Ok(())
}

/// Fields with their own member in the API rather than in `fields`.
fn is_own_member(kind: FieldKind, code: &str) -> bool {
    matches!(kind, FieldKind::Address | FieldKind::CadastralParcel) || code == "description"
}

/// The procedure's other fields of an application, by code.
pub(super) fn fields_of(row: &PermitRow) -> Result<BTreeMap<String, String>, PermitError> {
    serde_json::from_str(&row.fields)
        .map_err(|e| PermitError::Integrity(format!("fields of {}: {e}", row.id)))
}

/// What a draft lacks before it can be submitted: required fields and documents.
pub(super) async fn check_complete(conn: &mut AnyConnection, loaded: &Loaded) -> Result<(), PermitError> {
    let documents = store::documents(conn, &loaded.row.id).await?;
    let missing = missing(loaded, &documents)?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PermitError::Incomplete(missing))
    }
}

/// The required fields and documents a draft with `documents` on file lacks.
fn missing(loaded: &Loaded, documents: &[DocumentRow]) -> Result<Missing, PermitError> {
    let row = &loaded.row;
    let fields = fields_of(row)?;
    let mut missing = Vec::new();
    for spec in loaded.procedure.fields.iter().filter(|f| f.required) {
        let present = match spec.kind {
            FieldKind::Address => row.address.is_some(),
            FieldKind::CadastralParcel => row.foglio.is_some() && row.mappale.is_some(),
            _ if spec.code == "description" => row.description.is_some(),
            _ => fields.contains_key(&spec.code),
        };
        if !present {
            let field = if is_own_member(spec.kind, &spec.code) {
                spec.code.clone()
            } else {
                format!("fields.{}", spec.code)
            };
            missing.push((
                field,
                format!("Obbligatorio: {}.", spec.label.it),
                format!("Required: {}.", spec.label.en),
            ));
        }
    }
    for spec in loaded.procedure.documents.iter().filter(|d| d.required) {
        if !documents.iter().any(|d| d.kind == spec.code) {
            missing.push((
                format!("documents.{}", spec.code),
                format!("Documento obbligatorio mancante: {}.", spec.name.it),
                format!("Required document missing: {}.", spec.name.en),
            ));
        }
    }
    Ok(missing)
}

/// An answer to an integration request must bring at least one document uploaded since.
pub(super) async fn check_integration_documents(
    conn: &mut AnyConnection,
    loaded: &Loaded,
) -> Result<(), PermitError> {
    let documents = store::documents(conn, &loaded.row.id).await?;
    if brings_integration(loaded, &documents) {
        Ok(())
    } else {
        Err(PermitError::Incomplete(vec![(
            "documents".to_owned(),
            "Carica almeno un documento di integrazione prima di inviarla.".to_owned(),
            "Upload at least one integration document before submitting it.".to_owned(),
        )]))
    }
}

/// Whether an integration document was uploaded since the last integration request.
fn brings_integration(loaded: &Loaded, documents: &[DocumentRow]) -> bool {
    let requested_at = loaded
        .timeline
        .iter()
        .rev()
        .find(|t| t.action == Action::RequestIntegration.as_str())
        .map_or(0, |t| t.at);
    documents
        .iter()
        .any(|d| d.stage == "integration" && d.uploaded_at >= requested_at)
}

#[cfg(test)]
mod tests {
    use sportello_core::permits::Actor;

    use super::super::loaded::testing::{document, draft, integration_requested, walked};
    use super::*;

    fn refused_field(result: Result<(), PermitError>) -> String {
        match result {
            Err(PermitError::Invalid { field, .. }) => field,
            other => panic!("not refused on a field: {other:?}"),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> api::PermitUpdate {
        api::PermitUpdate {
            fields: Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..api::PermitUpdate::default()
        }
    }

    #[test]
    fn members_are_trimmed_and_checked() {
        let mut loaded = draft("pdc");
        let update = api::PermitUpdate {
            address: Some("  Via Roma 1, Genova ".to_owned()),
            description: Some("Rifacimento\ndel tetto".to_owned()),
            cadastral_parcel: Some(api::CadastralParcel {
                foglio: " 12 ".to_owned(),
                mappale: "345".to_owned(),
                subalterno: Some(String::new()),
            }),
            constraints: Some(vec![
                "landscape".to_owned(),
                " cultural".to_owned(),
                "landscape".to_owned(),
            ]),
            ..api::PermitUpdate::default()
        };
        apply_update(&mut loaded, &update).unwrap();
        assert_eq!(loaded.row.address.as_deref(), Some("Via Roma 1, Genova"));
        assert_eq!(loaded.row.description.as_deref(), Some("Rifacimento\ndel tetto"));
        assert_eq!(
            (
                loaded.row.foglio.as_deref(),
                loaded.row.mappale.as_deref(),
                loaded.row.subalterno.as_deref()
            ),
            (Some("12"), Some("345"), None)
        );
        assert_eq!(loaded.row.constraints, "landscape cultural");
        // An empty address clears it.
        let clear = api::PermitUpdate {
            address: Some("   ".to_owned()),
            ..api::PermitUpdate::default()
        };
        apply_update(&mut loaded, &clear).unwrap();
        assert_eq!(loaded.row.address, None);
    }

    #[test]
    fn bad_members_are_refused_by_field() {
        let mut loaded = draft("pdc");
        let cases = [
            (
                api::PermitUpdate {
                    address: Some("x".repeat(301)),
                    ..api::PermitUpdate::default()
                },
                "address",
            ),
            (
                api::PermitUpdate {
                    description: Some("bell\u{7}".to_owned()),
                    ..api::PermitUpdate::default()
                },
                "description",
            ),
            (
                api::PermitUpdate {
                    cadastral_parcel: Some(api::CadastralParcel {
                        foglio: "12/b".to_owned(),
                        mappale: "1".to_owned(),
                        subalterno: None,
                    }),
                    ..api::PermitUpdate::default()
                },
                "cadastral_parcel.foglio",
            ),
            (
                api::PermitUpdate {
                    cadastral_parcel: Some(api::CadastralParcel {
                        foglio: "12".to_owned(),
                        mappale: String::new(),
                        subalterno: None,
                    }),
                    ..api::PermitUpdate::default()
                },
                "cadastral_parcel",
            ),
            (
                api::PermitUpdate {
                    constraints: Some(vec!["seismic".to_owned()]),
                    ..api::PermitUpdate::default()
                },
                "constraints",
            ),
            // `address` has its own member; it is no field of `fields`.
            (fields(&[("address", "Via Roma 1")]), "fields.address"),
            (fields(&[("colour", "red")]), "fields.colour"),
        ];
        for (update, field) in cases {
            assert_eq!(refused_field(apply_update(&mut loaded, &update)), field);
        }
    }

    #[test]
    fn fields_are_checked_against_their_kind() {
        let mut loaded = draft("suolo-pubblico");
        apply_update(
            &mut loaded,
            &fields(&[("area_m2", "12.5"), ("occupation_from", "2026-04-01")]),
        )
        .unwrap();
        for (code, bad) in [
            ("area_m2", "NaN"),
            ("area_m2", "12 m²"),
            ("occupation_from", "1/4/2026"),
        ] {
            assert_eq!(
                refused_field(apply_update(&mut loaded, &fields(&[(code, bad)]))),
                format!("fields.{code}")
            );
        }
        // An empty value removes the field; the others stay.
        apply_update(&mut loaded, &fields(&[("area_m2", " ")])).unwrap();
        assert_eq!(
            fields_of(&loaded.row).unwrap(),
            BTreeMap::from([("occupation_from".to_owned(), "2026-04-01".to_owned())])
        );
    }

    #[test]
    fn constraints_change_only_on_a_draft() {
        let mut loaded = walked(draft("pdc"), &[(Action::Submit, Actor::Applicant)]);
        let update = api::PermitUpdate {
            constraints: Some(vec!["landscape".to_owned()]),
            ..api::PermitUpdate::default()
        };
        assert!(matches!(
            apply_update(&mut loaded, &update),
            Err(PermitError::Rule(PermitsError::NotADraft(
                Status::AwaitingPayment
            )))
        ));
    }

    #[test]
    fn a_draft_lacks_every_required_field_and_document() {
        let mut loaded = draft("cila");
        let named = |missing: Missing| missing.into_iter().map(|(field, ..)| field).collect::<Vec<_>>();
        assert_eq!(
            named(missing(&loaded, &[]).unwrap()),
            [
                "address",
                "cadastral_parcel",
                "description",
                "fields.works_start_date",
                "documents.technical-report",
                "documents.drawings",
                "documents.contractor",
            ]
        );
        let update = api::PermitUpdate {
            address: Some("Via Roma 1".to_owned()),
            description: Some("Bagno".to_owned()),
            cadastral_parcel: Some(api::CadastralParcel {
                foglio: "1".to_owned(),
                mappale: "2".to_owned(),
                subalterno: None,
            }),
            fields: Some(BTreeMap::from([(
                "works_start_date".to_owned(),
                "2026-05-04".to_owned(),
            )])),
            ..api::PermitUpdate::default()
        };
        apply_update(&mut loaded, &update).unwrap();
        assert_eq!(
            named(missing(&loaded, &[document("drawings", "application", 1)]).unwrap()),
            ["documents.technical-report", "documents.contractor"]
        );
        let documents = [
            document("drawings", "application", 1),
            document("technical-report", "application", 2),
            document("contractor", "application", 3),
        ];
        assert!(missing(&loaded, &documents).unwrap().is_empty());
    }

    #[test]
    fn an_integration_brings_a_document_uploaded_since_the_request() {
        let loaded = integration_requested();
        let requested_at = loaded.timeline.last().unwrap().at;
        assert!(!brings_integration(&loaded, &[]));
        assert!(!brings_integration(
            &loaded,
            &[
                document("drawings", "application", requested_at + 1),
                document("opinions", "integration", requested_at - 1),
            ]
        ));
        assert!(brings_integration(
            &loaded,
            &[document("opinions", "integration", requested_at)]
        ));
    }
}
