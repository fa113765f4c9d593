//! Permits: building permits of the sportello unico per l'edilizia and the other municipal
//! authorisations citizens apply for. The procedure catalogue (as data), the status machine of an
//! application with who may do what, and the legal clocks in Europe/Rome calendar days:
//! interruptions and suspensions, doubling, silent approval.
//!
//! Sources: DPR 380/2001 (artt. 6-bis, 20, 22-24), L. 241/1990 (artt. 2, 19, 20), D.Lgs. 42/2004
//! (art. 146). See docs/domain-rules.md for the rules encoded and the doubts.

mod catalogue;
mod clock;
mod permit;
mod status;

pub use catalogue::{
    ApplicantDeadline, BUILTIN_CATALOGUE, Catalogue, DeadlineEffect, DocumentSpec, Doubling, DoublingFacts,
    Fee, FeeDue, FieldKind, FieldSpec, IntegrationRule, LocalizedText, Phase, Procedure, StopEffect,
};
pub use clock::{ClockEvent, ClockEventKind, ClockFacts, ClockState, ClockStatus, evaluate};
pub use permit::{Constraint, Permit, ProtocolNumber, Step, SweepFinding, TimelineEntry};
pub use status::{Action, Actor, CitizenStatus, Status, TransitionContext, next_status};

use jiff::civil::Date;

/// Why an action may not be taken now. Each reason has a stable [`TransitionDenied::code`] for
/// problem+json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionDenied {
    /// The application is closed.
    #[error("the application is closed")]
    Closed,
    /// This actor may not take this action at all.
    #[error("the {0} may not take this action")]
    NotAllowedFor(Actor),
    /// The action does not apply in the current status.
    #[error("it is not possible in this status")]
    NotInStatus,
    /// A clock event before the filing.
    #[error("the application has not been filed")]
    ClockNotStarted,
    /// A second filing.
    #[error("the application has already been filed")]
    AlreadyFiled,
    /// A clock stop for a procedure whose integration requests do not stop the clock.
    #[error("integration requests do not stop this procedure's clock")]
    NoClockEffect,
    /// An integration request is pending.
    #[error("the clock is stopped by a pending integration request")]
    ClockStopped,
    /// Nothing to resume.
    #[error("no integration request is pending")]
    ClockNotStopped,
    /// The legal term has run out.
    #[error("the legal term has already run out")]
    ClockElapsed,
    /// Too late for an integration request.
    #[error("integration requests were possible until {last_day}")]
    IntegrationWindowClosed {
        /// The last day a request was possible.
        last_day: Date,
    },
    /// The law allows no more integration requests.
    #[error("the law allows only {max} integration request(s) for this procedure")]
    IntegrationLimitReached {
        /// The number allowed.
        max: u8,
    },
    /// Completing the last phase means deciding.
    #[error("the current phase is the last one: accept or reject instead")]
    NoFurtherPhase,
    /// The procedure has no legal clock.
    #[error("the procedure has no legal clock")]
    NoClock,
    /// No term of the procedure doubles.
    #[error("no term of this procedure doubles for complex projects")]
    NothingToDouble,
    /// Declared once already.
    #[error("the project has already been declared complex")]
    AlreadyDeclared,
    /// Registration needs a protocol number.
    #[error("registering needs a protocol number")]
    MissingProtocolNumber,
    /// The term ran out with silent approval: the office can only annul in self-protection.
    #[error(
        "silent approval formed when the term ended on {deadline}; only annulment in self-protection (L. 241/1990 art. 21-nonies) remains"
    )]
    EffectMatured {
        /// The last day of the term.
        deadline: Date,
    },
    /// Maturing before the deadline.
    #[error("the legal term runs until {deadline}")]
    DeadlineNotReached {
        /// The last day of the term.
        deadline: Date,
    },
    /// The procedure has no silent approval.
    #[error("the law gives no silent approval for this procedure")]
    NoSilentApproval,
    /// Constraints rule out silent approval.
    #[error("landscape, cultural, hydrogeological or environmental constraints rule out silent approval")]
    ConstraintsApply,
}

impl TransitionDenied {
    /// A stable machine-readable code (`integration-limit-reached`).
    pub fn code(self) -> &'static str {
        match self {
            TransitionDenied::Closed => "closed",
            TransitionDenied::NotAllowedFor(_) => "not-allowed-for-actor",
            TransitionDenied::NotInStatus => "not-in-status",
            TransitionDenied::ClockNotStarted => "clock-not-started",
            TransitionDenied::AlreadyFiled => "already-filed",
            TransitionDenied::NoClockEffect => "no-clock-effect",
            TransitionDenied::ClockStopped => "clock-stopped",
            TransitionDenied::ClockNotStopped => "clock-not-stopped",
            TransitionDenied::ClockElapsed => "clock-elapsed",
            TransitionDenied::IntegrationWindowClosed { .. } => "integration-window-closed",
            TransitionDenied::IntegrationLimitReached { .. } => "integration-limit-reached",
            TransitionDenied::NoFurtherPhase => "no-further-phase",
            TransitionDenied::NoClock => "no-clock",
            TransitionDenied::NothingToDouble => "nothing-to-double",
            TransitionDenied::AlreadyDeclared => "already-declared",
            TransitionDenied::MissingProtocolNumber => "missing-protocol-number",
            TransitionDenied::EffectMatured { .. } => "effect-matured",
            TransitionDenied::DeadlineNotReached { .. } => "deadline-not-reached",
            TransitionDenied::NoSilentApproval => "no-silent-approval",
            TransitionDenied::ConstraintsApply => "constraints-apply",
        }
    }
}

/// Why a permits datum or operation is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermitsError {
    /// The catalogue text is not valid.
    #[error("procedure catalogue: {0}")]
    Catalogue(String),
    /// No procedure with this code.
    #[error("no procedure `{0}`")]
    UnknownProcedure(String),
    /// Not a status.
    #[error("`{0}` is not an application status")]
    UnknownStatus(String),
    /// Not an action.
    #[error("`{0}` is not an action on applications")]
    UnknownAction(String),
    /// Not a constraint.
    #[error("`{0}` is not a constraint (landscape, cultural, hydrogeological, environmental)")]
    UnknownConstraint(String),
    /// An action refused, and why.
    #[error("cannot {action} an application that is {status}: {reason}")]
    Transition {
        /// The status it was in.
        status: Status,
        /// The refused action.
        action: Action,
        /// Why.
        reason: TransitionDenied,
    },
    /// A clock event the rules forbid.
    #[error("clock event {event:?} refused: {reason}")]
    Clock {
        /// The refused event.
        event: ClockEventKind,
        /// Why.
        reason: TransitionDenied,
    },
    /// Clock events not in time order.
    #[error("clock events are not in time order")]
    ClockEventsOutOfOrder,
    /// A date beyond the supported calendar.
    #[error("a date is outside the supported calendar")]
    DateOutOfRange,
    /// Not a protocol number.
    #[error("`{0}` is not a protocol number (YYYY/N)")]
    MalformedProtocolNumber(String),
    /// The procedure passed is not the application's.
    #[error("the application is for `{expected}`, not `{found}`")]
    ProcedureMismatch {
        /// The application's procedure.
        expected: String,
        /// The procedure passed.
        found: String,
    },
    /// A step earlier than the last timeline entry.
    #[error("a step cannot be earlier than the last entry of the timeline")]
    TimelineOutOfOrder,
    /// A stored timeline the status machine does not allow.
    #[error("inconsistent timeline: {0}")]
    InconsistentTimeline(String),
    /// A note that is too long.
    #[error("notes are limited to {0} characters")]
    NoteTooLong(usize),
    /// Only drafts can be changed this way.
    #[error("the application is {0}, no longer a draft")]
    NotADraft(Status),
}
