//! Demo applications (`--demo`): a citizen of Genova with applications in several states.

use sportello_core::permits::{Action, Actor, FeeDue, Step};

use super::draft::draft_row;
use super::error::bad_instant;
use super::fees::FeeNotices;
use super::loaded::load;
use super::steps::{apply_step, draw_protocol_number};
use super::store::{self, PermitRow};
use super::{DEFAULT_PUSH_TTL_MS, MS_PER_DAY, PermitError};
use crate::clock::{now_ms, timestamp_from_ms};
use crate::db::Db;

/// One demo application: procedure, address, description, and the steps taken so far as
/// (days ago, action, actor, note).
type DemoPermit = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(i64, Action, Actor, Option<&'static str>)],
);

/// The municipality of the demo applications (Genova).
const DEMO_MUNICIPALITY: &str = "010025";

/// Applications of the demo citizen in Genova, in several states (`--demo`).
const DEMO_PERMITS: &[DemoPermit] = &[
    (
        "cila",
        "Via XX Settembre 14, Genova",
        "Rifacimento del bagno",
        &[],
    ),
    (
        "pdc",
        "Salita San Nicolò 5, Genova",
        "Sopraelevazione di un piano",
        &[
            (20, Action::Submit, Actor::Applicant, None),
            (20, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (18, Action::Register, Actor::Operator, None),
            (15, Action::StartReview, Actor::Operator, None),
            (
                5,
                Action::RequestIntegration,
                Actor::Operator,
                Some("Manca la relazione geologica"),
            ),
        ],
    ),
    (
        "scia",
        "Corso Italia 30, Genova",
        "Manutenzione straordinaria della facciata",
        &[
            (10, Action::Submit, Actor::Applicant, None),
            (10, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (9, Action::Register, Actor::Operator, None),
        ],
    ),
    (
        "suolo-pubblico",
        "Piazza De Ferrari, Genova",
        "Ponteggio per 30 giorni, 12 m²",
        &[
            (25, Action::Submit, Actor::Applicant, None),
            (25, Action::ConfirmPayment, Actor::System, Some("ricevuta demo")),
            (24, Action::Register, Actor::Operator, None),
            (20, Action::StartReview, Actor::Operator, None),
            (2, Action::Accept, Actor::Operator, Some("Concessione accordata")),
        ],
    ),
];

/// Loads the demo applications of `fiscal_code` (user `user_id`) unless they have some already.
/// With `notices`, an application left waiting for a payment gets its pagoPA notice (the steps
/// before the last are history: their fees were paid at the counter, no notice is replayed).
pub async fn load_demo(
    db: &Db,
    user_id: &str,
    fiscal_code: &str,
    notices: Option<&dyn FeeNotices>,
) -> Result<usize, PermitError> {
    let mut tx = db.pool().begin().await?;
    if !store::list_for_person(&mut tx, user_id, fiscal_code, None, 1)
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let now = now_ms();
    for (procedure, address, description, steps) in DEMO_PERMITS {
        let id = uuid::Uuid::now_v7().to_string();
        let row = PermitRow {
            applicant_fiscal_code: fiscal_code.to_owned(),
            filed_by: user_id.to_owned(),
            address: Some((*address).to_owned()),
            foglio: Some("12".to_owned()),
            mappale: Some("345".to_owned()),
            description: Some((*description).to_owned()),
            ..draft_row(
                id.clone(),
                DEMO_MUNICIPALITY,
                procedure,
                true,
                now - 30 * MS_PER_DAY,
            )
        };
        store::insert_permit(&mut tx, &row).await?;
        let mut loaded = load(&mut tx, &id).await?.ok_or(PermitError::NotFound)?;
        for (i, (days_ago, action, actor, note)) in steps.iter().enumerate() {
            let at_ms = now - days_ago * MS_PER_DAY;
            let at = timestamp_from_ms(at_ms).ok_or_else(|| bad_instant(at_ms))?;
            let mut step = Step::new(*action, *actor, at);
            if let Some(note) = note {
                step = step.with_note(note);
            }
            if *action == Action::Register {
                step = step.with_protocol_number(draw_protocol_number(&mut tx, DEMO_MUNICIPALITY, at).await?);
            }
            if *action == Action::ConfirmPayment {
                store::mark_fees_paid(&mut tx, &id, FeeDue::Filing.as_str(), "demo", at_ms).await?;
            }
            let user = matches!(actor, Actor::Applicant).then_some(user_id);
            let last = i + 1 == steps.len();
            let notices = notices.filter(|_| last);
            apply_step(&mut tx, &mut loaded, step, user, DEFAULT_PUSH_TTL_MS, notices).await?;
        }
    }
    tx.commit().await?;
    Ok(DEMO_PERMITS.len())
}

#[cfg(test)]
mod tests {
    use sportello_core::permits::{Catalogue, Permit, ProtocolNumber, Status};

    use super::*;

    #[test]
    fn every_demo_application_is_a_walk_core_allows() {
        let now = now_ms();
        let mut reached = Vec::new();
        for (code, _, _, steps) in DEMO_PERMITS {
            let procedure = Catalogue::builtin().procedure(code).unwrap();
            let mut permit = Permit::new(procedure, true);
            for (days_ago, action, actor, note) in *steps {
                let at = timestamp_from_ms(now - days_ago * MS_PER_DAY).unwrap();
                let mut step = Step::new(*action, *actor, at)
                    .with_protocol_number(ProtocolNumber::new(2026, 1).unwrap());
                if let Some(note) = note {
                    step = step.with_note(note);
                }
                permit.apply(procedure, step).unwrap();
            }
            reached.push(permit.status());
        }
        assert_eq!(
            reached,
            [
                Status::Draft,
                Status::IntegrationRequested,
                Status::Registered,
                Status::AwaitingIssuePayment
            ]
        );
    }
}
