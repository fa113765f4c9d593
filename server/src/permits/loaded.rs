//! An application as the service works on it: the stored row and timeline, its procedure (from
//! its municipality's catalogue) and core's view of it, rebuilt and re-checked at every load.

use sportello_core::permits::{
    Action, Actor, Catalogue, Constraint, Permit, Procedure, ProtocolNumber, Status, TimelineEntry,
};
use sqlx::AnyConnection;

use super::error::bad_instant;
use super::store::{self, PermitRow, TimelineRow};
use super::{PermitError, internal};
use crate::clock::timestamp_from_ms;

/// An application with its timeline, its procedure and core's view of it.
pub(crate) struct Loaded {
    pub row: PermitRow,
    pub timeline: Vec<TimelineRow>,
    pub procedure: Procedure,
    pub permit: Permit,
}

fn parse_actor(text: &str) -> Result<Actor, PermitError> {
    Actor::ALL
        .into_iter()
        .find(|a| a.as_str() == text)
        .ok_or_else(|| PermitError::Integrity(format!("unknown actor {text}")))
}

/// The catalogue of a municipality: the built-in one with its overrides.
pub(crate) async fn catalogue_of(
    conn: &mut AnyConnection,
    municipality: &str,
) -> Result<Catalogue, PermitError> {
    match store::catalogue_override(conn, municipality).await? {
        Some(text) => Catalogue::builtin_with(&text)
            .map_err(|e| PermitError::Internal(format!("catalogue of {municipality}: {e}"))),
        None => Ok(Catalogue::builtin().clone()),
    }
}

/// Core's application from the stored row and timeline (entries that are not core actions,
/// like `assign`, do not change the status and are skipped).
fn restore(row: &PermitRow, timeline: &[TimelineRow]) -> Result<Permit, PermitError> {
    let constraints = row
        .constraints
        .split_whitespace()
        .map(Constraint::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let protocol = match (row.protocol_year, row.protocol_number) {
        (Some(year), Some(number)) => Some(ProtocolNumber::new(
            i16::try_from(year).map_err(internal)?,
            u32::try_from(number).map_err(internal)?,
        )?),
        _ => None,
    };
    let mut entries = Vec::with_capacity(timeline.len());
    for t in timeline {
        let Ok(action) = Action::parse(&t.action) else {
            continue;
        };
        entries.push(TimelineEntry {
            at: timestamp_from_ms(t.at).ok_or_else(|| bad_instant(t.at))?,
            actor: parse_actor(&t.actor)?,
            action,
            from: Status::parse(&t.from_status)?,
            to: Status::parse(&t.to_status)?,
            note: t.note.clone(),
        });
    }
    Permit::restore(
        &row.procedure_code,
        row.large_municipality,
        constraints,
        protocol,
        entries,
    )
    .map_err(|e| PermitError::Integrity(format!("permit {}: {e}", row.id)))
}

/// Loads an application (inside the caller's transaction when it holds the lock).
pub(crate) async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<Loaded>, PermitError> {
    let Some(row) = store::get_permit(conn, id).await? else {
        return Ok(None);
    };
    let timeline = store::timeline(conn, id).await?;
    let catalogue = catalogue_of(conn, &row.municipality).await?;
    let procedure = catalogue
        .procedure(&row.procedure_code)
        .map_err(|e| PermitError::Integrity(format!("permit {id}: {e}")))?
        .clone();
    let permit = restore(&row, &timeline)?;
    Ok(Some(Loaded {
        row,
        timeline,
        procedure,
        permit,
    }))
}

/// Applications built in memory for the unit tests of the service's modules.
#[cfg(test)]
pub(crate) mod testing {
    use sportello_core::permits::{Action, Actor, Catalogue, Permit, ProtocolNumber, Step};

    use super::Loaded;
    use crate::permits::draft::draft_row;
    use crate::permits::store::{DocumentRow, PermitRow, TimelineRow};

    /// The applicant of the applications built here.
    pub const APPLICANT: &str = "RSSMRA80A01D969P";

    /// 1 March 2026, 12:00 UTC, in stored milliseconds.
    pub const MARCH_1_MS: i64 = 1_772_366_400_000;

    /// A draft of `procedure` in Genova, filed by the applicant themselves.
    pub fn draft(procedure: &str) -> Loaded {
        let procedure = Catalogue::builtin().procedure(procedure).unwrap().clone();
        let row = PermitRow {
            applicant_fiscal_code: APPLICANT.to_owned(),
            filed_by: "user-1".to_owned(),
            ..draft_row("permit-1".to_owned(), "010025", &procedure.code, true, MARCH_1_MS)
        };
        let permit = Permit::new(&procedure, true);
        Loaded {
            row,
            timeline: Vec::new(),
            procedure,
            permit,
        }
    }

    /// Takes `steps` (action and actor, an hour apart after the entries already there) as core
    /// would, keeping the row's status and timeline in step.
    pub fn walked(mut loaded: Loaded, steps: &[(Action, Actor)]) -> Loaded {
        for &(action, actor) in steps {
            let i = loaded.timeline.len();
            let at_ms = MARCH_1_MS + i64::try_from(i).unwrap() * 3_600_000;
            let at = crate::clock::timestamp_from_ms(at_ms).unwrap();
            let step =
                Step::new(action, actor, at).with_protocol_number(ProtocolNumber::new(2026, 1).unwrap());
            let entry = loaded.permit.apply(&loaded.procedure, step).unwrap().clone();
            loaded.timeline.push(TimelineRow {
                seq: i64::try_from(i).unwrap() + 1,
                at: at_ms,
                action: entry.action.as_str().to_owned(),
                actor: entry.actor.as_str().to_owned(),
                actor_user_id: None,
                actor_name: None,
                from_status: entry.from.as_str().to_owned(),
                to_status: entry.to.as_str().to_owned(),
                note: None,
            });
        }
        loaded.permit.status().as_str().clone_into(&mut loaded.row.status);
        if loaded.permit.protocol_number().is_some() {
            loaded.row.protocol_year = Some(2026);
            loaded.row.protocol_number = Some(1);
        }
        loaded
    }

    /// A permesso di costruire filed and paid (`submitted`).
    pub fn filed() -> Loaded {
        walked(
            draft("pdc"),
            &[
                (Action::Submit, Actor::Applicant),
                (Action::ConfirmPayment, Actor::Operator),
            ],
        )
    }

    /// A permesso di costruire under review with documents requested.
    pub fn integration_requested() -> Loaded {
        walked(
            filed(),
            &[
                (Action::Register, Actor::Operator),
                (Action::StartReview, Actor::Operator),
                (Action::RequestIntegration, Actor::Operator),
            ],
        )
    }

    /// A PDF of `kind` uploaded at `uploaded_at` in `stage`.
    pub fn document(kind: &str, stage: &str, uploaded_at: i64) -> DocumentRow {
        DocumentRow {
            id: format!("doc-{kind}-{uploaded_at}"),
            permit_id: "permit-1".to_owned(),
            kind: kind.to_owned(),
            file_name: format!("{kind}.pdf"),
            content_type: "application/pdf".to_owned(),
            size_bytes: 10,
            sha256: String::new(),
            stage: stage.to_owned(),
            uploaded_by: "user-1".to_owned(),
            uploaded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use sportello_core::permits::{Action, Actor, Status};

    use super::testing::{draft, filed, walked};
    use super::*;

    #[test]
    fn a_stored_timeline_restores_to_the_same_application() {
        let loaded = walked(filed(), &[(Action::Register, Actor::Operator)]);
        let mut timeline = loaded.timeline.clone();
        // An assignment is on the timeline but is no step of core's.
        timeline.insert(
            2,
            TimelineRow {
                action: "assign".to_owned(),
                from_status: "submitted".to_owned(),
                to_status: "submitted".to_owned(),
                ..timeline[1].clone()
            },
        );
        let restored = restore(&loaded.row, &timeline).unwrap();
        assert_eq!(restored, loaded.permit);
        assert_eq!(restored.status(), Status::Registered);
    }

    #[test]
    fn corrupt_rows_are_integrity_errors() {
        let loaded = walked(draft("pdc"), &[(Action::Submit, Actor::Applicant)]);
        let mut forged = loaded.timeline.clone();
        forged[0].actor = "janitor".to_owned();
        assert!(matches!(
            restore(&loaded.row, &forged),
            Err(PermitError::Integrity(_))
        ));
        let mut out_of_range = loaded.timeline.clone();
        out_of_range[0].at = i64::MAX;
        assert!(matches!(
            restore(&loaded.row, &out_of_range),
            Err(PermitError::Integrity(_))
        ));
        // A protocol number without a registration.
        let mut row = loaded.row.clone();
        row.protocol_year = Some(2026);
        row.protocol_number = Some(9);
        assert!(matches!(
            restore(&row, &loaded.timeline),
            Err(PermitError::Integrity(_))
        ));
    }
}
