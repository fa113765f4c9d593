//! The status machine of an application: statuses as Italian front-desk systems use them,
//! actions named as in the API (`POST /v1/permits/{id}/actions/{action}`), who may take them,
//! and the simplified status citizens see.

use std::fmt;

use super::{PermitsError, TransitionDenied};

/// The full status of an application, as operators see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Being written by the applicant.
    Draft,
    /// Complete, waiting for the filing fees to be paid before it counts as submitted.
    AwaitingPayment,
    /// Filed: the legal clock runs from here.
    Submitted,
    /// Given a protocol number.
    Registered,
    /// Being examined by the office.
    InReview,
    /// The office asked for documents (the clock stops where the law says so).
    IntegrationRequested,
    /// The applicant sent the documents; back with the office.
    IntegrationSubmitted,
    /// Decided positively, waiting for the fees due on issue.
    AwaitingIssuePayment,
    /// Granted (or, for filings, closed after checks).
    Accepted,
    /// The term ran out and the law gives the applicant its effect: silent approval for a PdC,
    /// permission to start for a SCIA alternativa, end of checks for a SCIA.
    TacitlyAccepted,
    /// Refused.
    Rejected,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Discarded before review (a draft abandoned, or an application filed by mistake).
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 13] = [
        Status::Draft,
        Status::AwaitingPayment,
        Status::Submitted,
        Status::Registered,
        Status::InReview,
        Status::IntegrationRequested,
        Status::IntegrationSubmitted,
        Status::AwaitingIssuePayment,
        Status::Accepted,
        Status::TacitlyAccepted,
        Status::Rejected,
        Status::Withdrawn,
        Status::Cancelled,
    ];

    /// The API spelling (`integration_requested`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::AwaitingPayment => "awaiting_payment",
            Status::Submitted => "submitted",
            Status::Registered => "registered",
            Status::InReview => "in_review",
            Status::IntegrationRequested => "integration_requested",
            Status::IntegrationSubmitted => "integration_submitted",
            Status::AwaitingIssuePayment => "awaiting_issue_payment",
            Status::Accepted => "accepted",
            Status::TacitlyAccepted => "tacitly_accepted",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses the API spelling.
    pub fn parse(text: &str) -> Result<Self, PermitsError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| PermitsError::UnknownStatus(text.chars().take(40).collect()))
    }

    /// Whether the application is closed for good.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Accepted
                | Status::TacitlyAccepted
                | Status::Rejected
                | Status::Withdrawn
                | Status::Cancelled
        )
    }

    /// Whether the application has been filed (the legal clock, if any, has started).
    pub fn is_filed(self) -> bool {
        !matches!(self, Status::Draft | Status::AwaitingPayment | Status::Cancelled)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// File the application.
    Submit,
    /// Record that the fees due (on filing or on issue) have been paid.
    ConfirmPayment,
    /// Assign a protocol number.
    Register,
    /// Start (or resume) examining the application.
    StartReview,
    /// Ask the applicant for documents.
    RequestIntegration,
    /// Send the requested documents.
    SubmitIntegration,
    /// Close the current phase of the clock early (e.g. the PdC proposal is made).
    CompletePhase,
    /// Declare the project particularly complex, doubling the terms that allow it
    /// (DPR 380/2001 art. 20 c. 7: a motivated decision of the officer).
    DeclareComplexProject,
    /// Grant.
    Accept,
    /// Refuse.
    Reject,
    /// Withdraw (applicant).
    Withdraw,
    /// Discard: the applicant's draft, or an application the office cannot process.
    Cancel,
    /// Record that the term ran out with effect for the applicant (the deadline sweep).
    Mature,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 13] = [
        Action::Submit,
        Action::ConfirmPayment,
        Action::Register,
        Action::StartReview,
        Action::RequestIntegration,
        Action::SubmitIntegration,
        Action::CompletePhase,
        Action::DeclareComplexProject,
        Action::Accept,
        Action::Reject,
        Action::Withdraw,
        Action::Cancel,
        Action::Mature,
    ];

    /// The API spelling (`request-integration`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::ConfirmPayment => "confirm-payment",
            Action::Register => "register",
            Action::StartReview => "start-review",
            Action::RequestIntegration => "request-integration",
            Action::SubmitIntegration => "submit-integration",
            Action::CompletePhase => "complete-phase",
            Action::DeclareComplexProject => "declare-complex-project",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Withdraw => "withdraw",
            Action::Cancel => "cancel",
            Action::Mature => "mature",
        }
    }

    /// Parses the API spelling.
    pub fn parse(text: &str) -> Result<Self, PermitsError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == text)
            .ok_or_else(|| PermitsError::UnknownAction(text.chars().take(40).collect()))
    }

    /// Who may take this action.
    pub fn actors(self) -> &'static [Actor] {
        use Actor::{Applicant, Operator, Professional, System};
        match self {
            Action::Submit | Action::SubmitIntegration => &[Applicant, Professional],
            // A pagoPA receipt (system), or a payment made at the counter (operator).
            Action::ConfirmPayment => &[System, Operator],
            // The protocol system may number filings automatically.
            Action::Register => &[Operator, System],
            Action::StartReview
            | Action::RequestIntegration
            | Action::CompletePhase
            | Action::DeclareComplexProject
            | Action::Accept
            | Action::Reject => &[Operator],
            // Withdrawing disposes of the applicant's right: not covered by the professional's
            // mandate to file (our reading of the usual procura speciale).
            Action::Withdraw => &[Applicant],
            Action::Cancel => &[Applicant, Professional, Operator],
            Action::Mature => &[System],
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acts on an application. The server maps authenticated principals to these: the citizen
/// who owns it, a professional they delegated, an operator of the permits office of its
/// municipality, or the server itself (receipts, sweeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    /// The citizen the application belongs to.
    Applicant,
    /// A professional (architect, surveyor) acting for the applicant.
    Professional,
    /// An operator of the municipality's permits office.
    Operator,
    /// Sportello itself: payment receipts, the deadline sweep, automatic protocol.
    System,
}

impl Actor {
    /// Every actor.
    pub const ALL: [Actor; 4] = [
        Actor::Applicant,
        Actor::Professional,
        Actor::Operator,
        Actor::System,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Applicant => "applicant",
            Actor::Professional => "professional",
            Actor::Operator => "operator",
            Actor::System => "system",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Facts that decide between two targets of the same action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransitionContext {
    /// Fees due on filing are still unpaid: submitting leads to [`Status::AwaitingPayment`].
    pub filing_fees_unpaid: bool,
    /// Fees due on issue are still unpaid: accepting leads to [`Status::AwaitingIssuePayment`].
    pub issue_fees_unpaid: bool,
}

/// The status machine: the status after `actor` takes `action` in status `from`, or why not.
/// Clock rules (how many integration requests, within which window, whether the term ran out)
/// are checked on top of this by [`super::Permit::apply`].
pub fn next_status(
    from: Status,
    action: Action,
    actor: Actor,
    context: TransitionContext,
) -> Result<Status, PermitsError> {
    use Status as S;
    let deny = |reason| PermitsError::Transition {
        status: from,
        action,
        reason,
    };
    if from.is_final() {
        return Err(deny(TransitionDenied::Closed));
    }
    if !action.actors().contains(&actor) {
        return Err(deny(TransitionDenied::NotAllowedFor(actor)));
    }
    let to = match (action, from) {
        (Action::Submit, S::Draft) if context.filing_fees_unpaid => S::AwaitingPayment,
        (Action::Submit, S::Draft) | (Action::ConfirmPayment, S::AwaitingPayment) => S::Submitted,
        (Action::Register, S::Submitted) => S::Registered,
        (Action::StartReview, S::Registered | S::IntegrationSubmitted)
        | (Action::CompletePhase, S::InReview) => S::InReview,
        (Action::RequestIntegration, S::Registered | S::InReview | S::IntegrationSubmitted) => {
            S::IntegrationRequested
        }
        (Action::SubmitIntegration, S::IntegrationRequested) => S::IntegrationSubmitted,
        (Action::DeclareComplexProject, S::Registered | S::InReview) => from,
        (Action::Accept, S::Registered | S::InReview | S::IntegrationSubmitted)
            if context.issue_fees_unpaid =>
        {
            S::AwaitingIssuePayment
        }
        (Action::Accept, S::Registered | S::InReview | S::IntegrationSubmitted)
        | (Action::ConfirmPayment, S::AwaitingIssuePayment) => S::Accepted,
        (Action::Reject, S::Registered | S::InReview | S::IntegrationRequested | S::IntegrationSubmitted) => {
            S::Rejected
        }
        (
            Action::Withdraw,
            S::Submitted
            | S::Registered
            | S::InReview
            | S::IntegrationRequested
            | S::IntegrationSubmitted
            | S::AwaitingIssuePayment,
        ) => S::Withdrawn,
        (Action::Cancel, S::Draft | S::AwaitingPayment) if actor != Actor::Operator => S::Cancelled,
        (Action::Cancel, S::Submitted | S::Registered) if actor == Actor::Operator => S::Cancelled,
        (Action::Mature, S::Submitted | S::Registered | S::InReview | S::IntegrationSubmitted) => {
            S::TacitlyAccepted
        }
        _ => return Err(deny(TransitionDenied::NotInStatus)),
    };
    Ok(to)
}

/// The simplified status a citizen sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CitizenStatus {
    /// Not sent yet.
    Draft,
    /// Something to pay.
    PaymentDue,
    /// Received by the office.
    Received,
    /// Effective already (CILA, SCIA, agibilità): the office may still check.
    Effective,
    /// Being examined.
    UnderReview,
    /// The office is waiting for the applicant.
    ActionNeeded,
    /// Granted, expressly or by silence.
    Approved,
    /// Refused.
    Rejected,
    /// Withdrawn.
    Withdrawn,
    /// Cancelled.
    Cancelled,
}

impl CitizenStatus {
    /// The simplified status of `status` for a procedure effective (or not) on filing.
    pub fn of(status: Status, effective_on_filing: bool) -> Self {
        use Status as S;
        match status {
            S::Draft => CitizenStatus::Draft,
            S::AwaitingPayment | S::AwaitingIssuePayment => CitizenStatus::PaymentDue,
            S::Submitted | S::Registered | S::InReview | S::IntegrationSubmitted if effective_on_filing => {
                CitizenStatus::Effective
            }
            S::Submitted | S::Registered => CitizenStatus::Received,
            S::InReview | S::IntegrationSubmitted => CitizenStatus::UnderReview,
            S::IntegrationRequested => CitizenStatus::ActionNeeded,
            S::Accepted | S::TacitlyAccepted => CitizenStatus::Approved,
            S::Rejected => CitizenStatus::Rejected,
            S::Withdrawn => CitizenStatus::Withdrawn,
            S::Cancelled => CitizenStatus::Cancelled,
        }
    }

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CitizenStatus::Draft => "draft",
            CitizenStatus::PaymentDue => "payment_due",
            CitizenStatus::Received => "received",
            CitizenStatus::Effective => "effective",
            CitizenStatus::UnderReview => "under_review",
            CitizenStatus::ActionNeeded => "action_needed",
            CitizenStatus::Approved => "approved",
            CitizenStatus::Rejected => "rejected",
            CitizenStatus::Withdrawn => "withdrawn",
            CitizenStatus::Cancelled => "cancelled",
        }
    }

    /// A short label in Italian or English.
    pub fn label(self, language: &str) -> &'static str {
        let english = language.get(..2).is_some_and(|l| l.eq_ignore_ascii_case("en"));
        let (it, en) = match self {
            CitizenStatus::Draft => ("Bozza", "Draft"),
            CitizenStatus::PaymentDue => ("Da pagare", "Payment due"),
            CitizenStatus::Received => ("Ricevuta", "Received"),
            CitizenStatus::Effective => ("Efficace", "Effective"),
            CitizenStatus::UnderReview => ("In istruttoria", "Under review"),
            CitizenStatus::ActionNeeded => ("Integrazione richiesta", "Documents requested"),
            CitizenStatus::Approved => ("Accolta", "Approved"),
            CitizenStatus::Rejected => ("Respinta", "Rejected"),
            CitizenStatus::Withdrawn => ("Ritirata", "Withdrawn"),
            CitizenStatus::Cancelled => ("Annullata", "Cancelled"),
        };
        if english { en } else { it }
    }
}

impl fmt::Display for CitizenStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The status machine restated as data, independently of `next_status`'s match: which
    /// actors may take an action from which statuses, and where it leads (`None`: depends on
    /// the context, see `target`).
    type Row = (Action, &'static [Status], &'static [Actor], Option<Status>);

    /// See [`TABLE`].
    const TABLE: &[Row] = {
        use Actor::{Applicant, Operator, Professional, System};
        use Status as S;
        &[
            (Action::Submit, &[S::Draft], &[Applicant, Professional], None),
            (
                Action::ConfirmPayment,
                &[S::AwaitingPayment],
                &[System, Operator],
                Some(S::Submitted),
            ),
            (
                Action::ConfirmPayment,
                &[S::AwaitingIssuePayment],
                &[System, Operator],
                Some(S::Accepted),
            ),
            (
                Action::Register,
                &[S::Submitted],
                &[Operator, System],
                Some(S::Registered),
            ),
            (
                Action::StartReview,
                &[S::Registered, S::IntegrationSubmitted],
                &[Operator],
                Some(S::InReview),
            ),
            (
                Action::RequestIntegration,
                &[S::Registered, S::InReview, S::IntegrationSubmitted],
                &[Operator],
                Some(S::IntegrationRequested),
            ),
            (
                Action::SubmitIntegration,
                &[S::IntegrationRequested],
                &[Applicant, Professional],
                Some(S::IntegrationSubmitted),
            ),
            (
                Action::CompletePhase,
                &[S::InReview],
                &[Operator],
                Some(S::InReview),
            ),
            (
                Action::DeclareComplexProject,
                &[S::Registered],
                &[Operator],
                Some(S::Registered),
            ),
            (
                Action::DeclareComplexProject,
                &[S::InReview],
                &[Operator],
                Some(S::InReview),
            ),
            (
                Action::Accept,
                &[S::Registered, S::InReview, S::IntegrationSubmitted],
                &[Operator],
                None,
            ),
            (
                Action::Reject,
                &[
                    S::Registered,
                    S::InReview,
                    S::IntegrationRequested,
                    S::IntegrationSubmitted,
                ],
                &[Operator],
                Some(S::Rejected),
            ),
            (
                Action::Withdraw,
                &[
                    S::Submitted,
                    S::Registered,
                    S::InReview,
                    S::IntegrationRequested,
                    S::IntegrationSubmitted,
                    S::AwaitingIssuePayment,
                ],
                &[Applicant],
                Some(S::Withdrawn),
            ),
            (
                Action::Cancel,
                &[S::Draft, S::AwaitingPayment],
                &[Applicant, Professional],
                Some(S::Cancelled),
            ),
            (
                Action::Cancel,
                &[S::Submitted, S::Registered],
                &[Operator],
                Some(S::Cancelled),
            ),
            (
                Action::Mature,
                &[S::Submitted, S::Registered, S::InReview, S::IntegrationSubmitted],
                &[System],
                Some(S::TacitlyAccepted),
            ),
        ]
    };

    fn contexts() -> [TransitionContext; 4] {
        [(false, false), (false, true), (true, false), (true, true)].map(|(filing, issue)| {
            TransitionContext {
                filing_fees_unpaid: filing,
                issue_fees_unpaid: issue,
            }
        })
    }

    fn expected(
        from: Status,
        action: Action,
        actor: Actor,
        context: TransitionContext,
    ) -> Result<Status, TransitionDenied> {
        if from.is_final() {
            return Err(TransitionDenied::Closed);
        }
        let rows: Vec<_> = TABLE.iter().filter(|row| row.0 == action).collect();
        if !rows.iter().any(|row| row.2.contains(&actor)) {
            return Err(TransitionDenied::NotAllowedFor(actor));
        }
        let row = rows
            .iter()
            .find(|row| row.1.contains(&from) && row.2.contains(&actor))
            .ok_or(TransitionDenied::NotInStatus)?;
        Ok(row.3.unwrap_or(match action {
            Action::Submit if context.filing_fees_unpaid => Status::AwaitingPayment,
            Action::Submit => Status::Submitted,
            _ if context.issue_fees_unpaid => Status::AwaitingIssuePayment,
            _ => Status::Accepted,
        }))
    }

    /// Every (status, action, actor, context) combination, 2,704 of them: nothing the table
    /// does not allow is ever accepted, and refusals give the right reason.
    #[test]
    fn no_illegal_transition_is_ever_accepted() {
        let mut allowed = 0;
        for from in Status::ALL {
            for action in Action::ALL {
                for actor in Actor::ALL {
                    for context in contexts() {
                        let got = next_status(from, action, actor, context).map_err(|e| match e {
                            PermitsError::Transition {
                                status,
                                action: a,
                                reason,
                            } => {
                                assert_eq!((status, a), (from, action));
                                reason
                            }
                            other => panic!("unexpected error {other:?}"),
                        });
                        assert_eq!(
                            got,
                            expected(from, action, actor, context),
                            "{from} {action} by {actor} {context:?}"
                        );
                        allowed += usize::from(got.is_ok());
                    }
                }
            }
        }
        // 41 allowed (status, action, actor) triples, each under the four contexts.
        assert_eq!(allowed, 4 * 41);
    }

    #[test]
    fn final_statuses_are_absorbing() {
        for status in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for action in Action::ALL {
                for actor in Actor::ALL {
                    assert!(next_status(status, action, actor, TransitionContext::default()).is_err());
                }
            }
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let refuse = |from, action, actor| {
            next_status(from, action, actor, TransitionContext::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refuse(Status::Submitted, Action::Register, Actor::Applicant),
            "cannot register an application that is submitted: the applicant may not take this action"
        );
        assert_eq!(
            refuse(Status::Draft, Action::Accept, Actor::Operator),
            "cannot accept an application that is draft: it is not possible in this status"
        );
        assert_eq!(
            refuse(Status::Rejected, Action::Withdraw, Actor::Applicant),
            "cannot withdraw an application that is rejected: the application is closed"
        );
        assert_eq!(
            refuse(Status::InReview, Action::Withdraw, Actor::Professional),
            "cannot withdraw an application that is in_review: the professional may not take this action"
        );
    }

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Ok(status));
        }
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Ok(action));
        }
        assert!(Status::parse("in-review").is_err());
        assert!(Action::parse("approve").is_err());
        assert_eq!(
            Action::parse("request-integration"),
            Ok(Action::RequestIntegration)
        );
    }

    #[test]
    fn citizens_see_a_simplified_status() {
        use CitizenStatus as C;
        let building = |s| CitizenStatus::of(s, false);
        let filing = |s| CitizenStatus::of(s, true);
        assert_eq!(building(Status::Registered), C::Received);
        assert_eq!(filing(Status::Registered), C::Effective);
        assert_eq!(building(Status::IntegrationSubmitted), C::UnderReview);
        assert_eq!(filing(Status::InReview), C::Effective);
        assert_eq!(filing(Status::IntegrationRequested), C::ActionNeeded);
        assert_eq!(building(Status::AwaitingIssuePayment), C::PaymentDue);
        assert_eq!(building(Status::AwaitingPayment), C::PaymentDue);
        assert_eq!(building(Status::TacitlyAccepted), C::Approved);
        assert_eq!(building(Status::Accepted), C::Approved);
        assert_eq!(C::ActionNeeded.label("it"), "Integrazione richiesta");
        assert_eq!(C::ActionNeeded.label("en-US"), "Documents requested");
        assert_eq!(C::Effective.to_string(), "effective");
    }
}
