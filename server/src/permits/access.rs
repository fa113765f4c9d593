//! Who may see an application and act on it: the caller's relations to it (applicant, filing
//! professional, officer of its municipality), the role they act in for an action, and the
//! actions core would let them take now.

use sportello_core::identity::{Office, may_operate};
use sportello_core::permits::{Action, Actor, PermitsError, Status, Step, TransitionDenied};
use sportello_core::tenant::IstatCode;
use sqlx::AnyConnection;

use super::loaded::{Loaded, load};
use super::store::PermitRow;
use super::{PermitError, Permits};
use crate::identity::Principal;

/// How the caller relates to an application, most specific first; empty: they may not see it.
/// Officers see filed applications only: a draft is the citizen's own business.
pub(super) fn relations(principal: &Principal, row: &PermitRow) -> Vec<Actor> {
    let mut relations = Vec::new();
    if principal.fiscal_code == row.applicant_fiscal_code {
        relations.push(Actor::Applicant);
    }
    if row.professional_fiscal_code.as_deref() == Some(principal.fiscal_code.as_str()) {
        relations.push(Actor::Professional);
    }
    let officer =
        IstatCode::parse(&row.municipality).is_ok_and(|m| may_operate(&principal.roles, &m, Office::Permits));
    if officer && row.status != Status::Draft.as_str() {
        relations.push(Actor::Operator);
    }
    relations
}

/// The role the caller acts in for `action`: the first of their relations the action allows,
/// else their first relation (so core names the refusal).
pub(super) fn actor_for(relations: &[Actor], action: Action) -> Option<Actor> {
    relations
        .iter()
        .copied()
        .find(|a| action.actors().contains(a))
        .or_else(|| relations.first().copied())
}

/// Refuses `action` (changing the data, uploading) to a caller who neither applied nor filed.
pub(super) fn require_filer(relations: &[Actor], status: Status, action: Action) -> Result<(), PermitError> {
    if relations
        .iter()
        .any(|r| matches!(r, Actor::Applicant | Actor::Professional))
    {
        Ok(())
    } else {
        Err(PermitsError::Transition {
            status,
            action,
            reason: TransitionDenied::NotAllowedFor(Actor::Operator),
        }
        .into())
    }
}

/// Whether the caller may assign the application to an officer: officers, while it is open.
/// Refusals are named as refusals of `start-review`, the officers' first step.
pub(super) fn may_assign(relations: &[Actor], status: Status) -> Result<(), PermitError> {
    let deny = |reason| PermitsError::Transition {
        status,
        action: Action::StartReview,
        reason,
    };
    if !relations.contains(&Actor::Operator) {
        let actor = relations.first().copied().unwrap_or(Actor::Applicant);
        return Err(deny(TransitionDenied::NotAllowedFor(actor)).into());
    }
    if status.is_final() {
        return Err(deny(TransitionDenied::Closed).into());
    }
    Ok(())
}

/// The actions the caller could take now, as core sees them (documents on file aside).
pub(super) fn allowed_actions(loaded: &Loaded, relations: &[Actor], now: jiff::Timestamp) -> Vec<String> {
    let at = loaded
        .permit
        .timeline()
        .last()
        .map_or(now, |last| now.max(last.at));
    let mut actions: Vec<String> = Action::ALL
        .into_iter()
        .filter(|a| *a != Action::Mature)
        .filter(|action| {
            let Some(actor) = relations.iter().copied().find(|a| action.actors().contains(a)) else {
                return false;
            };
            loaded
                .permit
                .check(&loaded.procedure, &Step::new(*action, actor, at))
                .is_ok()
        })
        .map(|a| a.as_str().to_owned())
        .collect();
    if may_assign(relations, loaded.permit.status()).is_ok() {
        actions.push("assign".to_owned());
    }
    actions
}

impl Permits {
    /// Loads an application the caller may see, with their relations to it.
    pub(super) async fn visible(
        &self,
        conn: &mut AnyConnection,
        principal: &Principal,
        id: &str,
    ) -> Result<(Loaded, Vec<Actor>), PermitError> {
        let loaded = load(conn, id).await?.ok_or(PermitError::NotFound)?;
        let relations = relations(principal, &loaded.row);
        if relations.is_empty() {
            // Someone else's application looks like none at all.
            return Err(PermitError::NotFound);
        }
        Ok((loaded, relations))
    }
}

#[cfg(test)]
mod tests {
    use sportello_core::identity::Role;
    use sportello_core::permits::ProtocolNumber;

    use super::super::loaded::testing::{APPLICANT, MARCH_1_MS, draft, filed, walked};
    use super::*;

    const PROFESSIONAL: &str = "VRDLGU70B02D969X";

    fn principal(fiscal_code: &str, roles: &[&str]) -> Principal {
        Principal {
            user_id: format!("user-{fiscal_code}"),
            fiscal_code: fiscal_code.to_owned(),
            roles: roles.iter().map(|r| r.parse::<Role>().unwrap()).collect(),
            session_id: "session".to_owned(),
        }
    }

    #[test]
    fn relations_follow_who_filed_and_who_works_there() {
        let mut draft = draft("pdc");
        draft.row.professional_fiscal_code = Some(PROFESSIONAL.to_owned());
        let officer = principal("BNCGNN75C03D969Y", &["operator:010025:permits"]);
        let elsewhere = principal("BNCGNN75C03D969Y", &["operator:010001:permits"]);
        let library = principal("BNCGNN75C03D969Y", &["operator:010025:library"]);
        let admin = principal("BNCGNN75C03D969Y", &["admin"]);
        assert_eq!(
            relations(&principal(APPLICANT, &[]), &draft.row),
            [Actor::Applicant]
        );
        assert_eq!(
            relations(&principal(PROFESSIONAL, &[]), &draft.row),
            [Actor::Professional]
        );
        // Drafts are nobody else's business.
        assert!(relations(&officer, &draft.row).is_empty());
        assert!(relations(&admin, &draft.row).is_empty());
        let filed = filed();
        assert_eq!(relations(&officer, &filed.row), [Actor::Operator]);
        assert_eq!(relations(&admin, &filed.row), [Actor::Operator]);
        assert!(relations(&elsewhere, &filed.row).is_empty());
        assert!(relations(&library, &filed.row).is_empty());
        assert_eq!(
            relations(&principal(APPLICANT, &["operator:010025:permits"]), &filed.row),
            [Actor::Applicant, Actor::Operator]
        );
    }

    #[test]
    fn the_role_acted_in_is_the_first_the_action_allows() {
        let both = [Actor::Applicant, Actor::Operator];
        assert_eq!(actor_for(&both, Action::Register), Some(Actor::Operator));
        assert_eq!(actor_for(&both, Action::Submit), Some(Actor::Applicant));
        // None allows it: the first relation, so that core names the refusal.
        assert_eq!(
            actor_for(&[Actor::Operator], Action::Submit),
            Some(Actor::Operator)
        );
        assert_eq!(
            actor_for(&[Actor::Professional], Action::Withdraw),
            Some(Actor::Professional)
        );
        assert_eq!(actor_for(&[], Action::Submit), None);
    }

    #[test]
    fn only_filers_change_and_only_officers_assign() {
        assert!(require_filer(&[Actor::Professional], Status::Draft, Action::Submit).is_ok());
        assert!(matches!(
            require_filer(&[Actor::Operator], Status::Submitted, Action::SubmitIntegration),
            Err(PermitError::Rule(PermitsError::Transition {
                action: Action::SubmitIntegration,
                reason: TransitionDenied::NotAllowedFor(Actor::Operator),
                ..
            }))
        ));
        assert!(may_assign(&[Actor::Applicant, Actor::Operator], Status::Submitted).is_ok());
        assert!(matches!(
            may_assign(&[Actor::Applicant], Status::Submitted),
            Err(PermitError::Rule(PermitsError::Transition {
                reason: TransitionDenied::NotAllowedFor(Actor::Applicant),
                ..
            }))
        ));
        assert!(matches!(
            may_assign(&[Actor::Operator], Status::Accepted),
            Err(PermitError::Rule(PermitsError::Transition {
                reason: TransitionDenied::Closed,
                ..
            }))
        ));
    }

    #[test]
    fn allowed_actions_are_what_core_would_take() {
        let now = crate::clock::timestamp_from_ms(MARCH_1_MS + 86_400_000).unwrap();
        let draft = draft("pdc");
        assert_eq!(
            allowed_actions(&draft, &[Actor::Applicant], now),
            ["submit", "cancel"]
        );
        let filed = filed();
        assert_eq!(
            allowed_actions(&filed, &[Actor::Operator], now),
            ["register", "cancel", "assign"]
        );
        assert_eq!(allowed_actions(&filed, &[Actor::Applicant], now), ["withdraw"]);
        // Each action in the first role it allows: cancelling is the applicant's (of a draft).
        assert_eq!(
            allowed_actions(&filed, &[Actor::Applicant, Actor::Operator], now),
            ["register", "withdraw", "assign"]
        );
        // The same answer as taking each step on a copy, the way it was asked before core could
        // check a step.
        let reviewed = walked(
            filed,
            &[
                (Action::Register, Actor::Operator),
                (Action::StartReview, Actor::Operator),
            ],
        );
        for loaded in [&draft, &reviewed] {
            for relations in [
                &[Actor::Applicant][..],
                &[Actor::Operator],
                &[Actor::Professional],
            ] {
                let by_trial: Vec<String> = Action::ALL
                    .into_iter()
                    .filter(|a| *a != Action::Mature)
                    .filter(|action| {
                        relations.iter().any(|&actor| {
                            action.actors().contains(&actor)
                                && loaded
                                    .permit
                                    .clone()
                                    .apply(
                                        &loaded.procedure,
                                        Step::new(*action, actor, now)
                                            .with_protocol_number(ProtocolNumber::new(2000, 1).unwrap()),
                                    )
                                    .is_ok()
                        })
                    })
                    .map(|a| a.as_str().to_owned())
                    .collect();
                let mut actions = allowed_actions(loaded, relations, now);
                actions.retain(|a| a != "assign");
                assert_eq!(actions, by_trial, "{relations:?} in {}", loaded.row.status);
            }
        }
    }
}
