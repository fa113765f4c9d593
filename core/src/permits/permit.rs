//! An application (pratica) as a pure aggregate: its status, protocol number, the facts its
//! clock depends on, and its append-only timeline. The server stores it; this module decides
//! what may happen to it.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;

use super::catalogue::{DeadlineEffect, DoublingFacts, Fee, FeeDue, Procedure, StopEffect};
use super::clock::{self, ClockEvent, ClockEventKind, ClockFacts, ClockState, ClockStatus};
use super::status::{Action, Actor, CitizenStatus, Status, TransitionContext, next_status};
use super::{PermitsError, TransitionDenied};

/// Longest note on a timeline entry (the reasons of a decision can be long).
const MAX_NOTE_CHARS: usize = 4000;

/// A protocol number: progressive per municipality and year (`2026/0000123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolNumber {
    year: i16,
    number: u32,
}

impl ProtocolNumber {
    /// A protocol number; years 2000..=9999, numbers from 1.
    pub fn new(year: i16, number: u32) -> Result<Self, PermitsError> {
        if (2000..=9999).contains(&year) && (1..=9_999_999).contains(&number) {
            Ok(Self { year, number })
        } else {
            Err(PermitsError::MalformedProtocolNumber(format!("{year}/{number}")))
        }
    }

    /// Parses `YYYY/N` (the number may be zero-padded).
    pub fn parse(text: &str) -> Result<Self, PermitsError> {
        let malformed = || PermitsError::MalformedProtocolNumber(text.chars().take(40).collect());
        let (year, number) = text.trim().split_once('/').ok_or_else(malformed)?;
        let digits = |s: &str| !s.is_empty() && s.len() <= 7 && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || !digits(number) {
            return Err(malformed());
        }
        Self::new(
            year.parse().map_err(|_| malformed())?,
            number.parse().map_err(|_| malformed())?,
        )
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.year
    }

    /// The progressive number within the year.
    pub fn number(self) -> u32 {
        self.number
    }
}

impl fmt::Display for ProtocolNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:07}", self.year, self.number)
    }
}

/// Protections on the property that rule out silent approval (DPR 380/2001 art. 20 c. 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constraint {
    /// Landscape (D.Lgs. 42/2004, part III).
    Landscape,
    /// Cultural heritage (D.Lgs. 42/2004, part II).
    Cultural,
    /// Hydrogeological (R.D. 3267/1923, basin plans).
    Hydrogeological,
    /// Environmental (protected areas, Natura 2000).
    Environmental,
}

impl Constraint {
    /// Every constraint.
    pub const ALL: [Constraint; 4] = [
        Constraint::Landscape,
        Constraint::Cultural,
        Constraint::Hydrogeological,
        Constraint::Environmental,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraint::Landscape => "landscape",
            Constraint::Cultural => "cultural",
            Constraint::Hydrogeological => "hydrogeological",
            Constraint::Environmental => "environmental",
        }
    }

    /// Parses the API spelling.
    pub fn parse(text: &str) -> Result<Self, PermitsError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| PermitsError::UnknownConstraint(text.chars().take(40).collect()))
    }
}

/// One append-only entry of an application's timeline: who did what, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// Who (the server keeps which person).
    pub actor: Actor,
    /// What.
    pub action: Action,
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// Why (reasons of a refusal, what is missing…).
    pub note: Option<String>,
}

/// A request to take an action on an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The action.
    pub action: Action,
    /// Who takes it.
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
    /// Why.
    pub note: Option<String>,
    /// The protocol number, for [`Action::Register`].
    pub protocol_number: Option<ProtocolNumber>,
}

impl Step {
    /// A step without note or protocol number.
    pub fn new(action: Action, actor: Actor, at: Timestamp) -> Self {
        Self {
            action,
            actor,
            at,
            note: None,
            protocol_number: None,
        }
    }

    /// With a note.
    #[must_use]
    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.to_owned());
        self
    }

    /// With a protocol number.
    #[must_use]
    pub fn with_protocol_number(mut self, protocol_number: ProtocolNumber) -> Self {
        self.protocol_number = Some(protocol_number);
        self
    }
}

/// What the periodic deadline sweep should do about an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepFinding {
    /// Nothing (no clock, clock stopped, or deadline far).
    Nothing,
    /// The term ran out with effect for the applicant: apply [`Action::Mature`] as the system.
    Matured {
        /// The last day of the term.
        deadline: Date,
    },
    /// The deadline is within the warning window: warn the officers.
    DueSoon {
        /// The last day of the term.
        deadline: Date,
        /// Days left (0 on the last day).
        days_left: i64,
    },
    /// The term ran out without effect for the applicant: the office is late.
    Overdue {
        /// The last day of the term.
        deadline: Date,
        /// Days since.
        days_overdue: i64,
    },
}

/// An application for a procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    procedure: String,
    doubling: DoublingFacts,
    constraints: Vec<Constraint>,
    protocol_number: Option<ProtocolNumber>,
    fees_paid: FeesPaid,
    status: Status,
    timeline: Vec<TimelineEntry>,
}

/// Which groups of fees have been paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct FeesPaid {
    filing: bool,
    issue: bool,
}

impl Permit {
    /// A new draft for `procedure` in a municipality that is large (over 100,000 inhabitants,
    /// see [`crate::tenant::Municipality::is_large`]) or not.
    pub fn new(procedure: &Procedure, large_municipality: bool) -> Self {
        Self {
            procedure: procedure.code.clone(),
            doubling: DoublingFacts {
                large_municipality,
                complex_project: false,
            },
            constraints: Vec::new(),
            protocol_number: None,
            fees_paid: FeesPaid::default(),
            status: Status::Draft,
            timeline: Vec::new(),
        }
    }

    /// Rebuilds an application from what the server stored, checking that the timeline is a
    /// chain the status machine allows and that the protocol number is there iff it was
    /// registered. The facts derived from the timeline (fees paid, complex project) follow it.
    pub fn restore(
        procedure_code: &str,
        large_municipality: bool,
        constraints: Vec<Constraint>,
        protocol_number: Option<ProtocolNumber>,
        timeline: Vec<TimelineEntry>,
    ) -> Result<Self, PermitsError> {
        let inconsistent = |why: String| PermitsError::InconsistentTimeline(why);
        let mut permit = Self {
            procedure: procedure_code.to_owned(),
            doubling: DoublingFacts {
                large_municipality,
                complex_project: false,
            },
            constraints,
            protocol_number,
            fees_paid: FeesPaid::default(),
            status: Status::Draft,
            timeline: Vec::new(),
        };
        let mut registered = false;
        for (i, entry) in timeline.iter().enumerate() {
            if entry.from != permit.status {
                return Err(inconsistent(format!(
                    "entry {i} starts from {} after {}",
                    entry.from, permit.status
                )));
            }
            if i > 0 && entry.at < timeline[i - 1].at {
                return Err(inconsistent(format!("entry {i} is earlier than the one before")));
            }
            let possible = [false, true].into_iter().flat_map(|filing| {
                [false, true].into_iter().map(move |issue| TransitionContext {
                    filing_fees_unpaid: filing,
                    issue_fees_unpaid: issue,
                })
            });
            let allowed = possible
                .filter_map(|context| next_status(entry.from, entry.action, entry.actor, context).ok())
                .any(|to| to == entry.to);
            if !allowed {
                return Err(inconsistent(format!(
                    "entry {i}: {} by {} cannot lead from {} to {}",
                    entry.action, entry.actor, entry.from, entry.to
                )));
            }
            permit.record_effects(entry);
            registered |= entry.action == Action::Register;
            permit.status = entry.to;
        }
        if registered != permit.protocol_number.is_some() {
            return Err(inconsistent(
                "the protocol number does not match the registration".into(),
            ));
        }
        permit.timeline = timeline;
        Ok(permit)
    }

    /// The procedure's code.
    pub fn procedure_code(&self) -> &str {
        &self.procedure
    }

    /// The full status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The protocol number, once registered.
    pub fn protocol_number(&self) -> Option<ProtocolNumber> {
        self.protocol_number
    }

    /// The constraints declared on the property.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Whether the officer declared the project particularly complex.
    pub fn is_complex_project(&self) -> bool {
        self.doubling.complex_project
    }

    /// The timeline, oldest first.
    pub fn timeline(&self) -> &[TimelineEntry] {
        &self.timeline
    }

    /// Sets the constraints on the property; only while the application is a draft.
    pub fn set_constraints(&mut self, mut constraints: Vec<Constraint>) -> Result<(), PermitsError> {
        if self.status != Status::Draft {
            return Err(PermitsError::NotADraft(self.status));
        }
        constraints.sort_unstable();
        constraints.dedup();
        self.constraints = constraints;
        Ok(())
    }

    /// The clock facts of this application.
    pub fn clock_facts(&self) -> ClockFacts {
        ClockFacts {
            doubling: self.doubling,
            constrained: !self.constraints.is_empty(),
        }
    }

    /// The simplified status for the citizen.
    pub fn citizen_status(&self, procedure: &Procedure) -> CitizenStatus {
        CitizenStatus::of(self.status, procedure.effective_on_filing)
    }

    /// The fees to pay now (on filing while awaiting payment, on issue while awaiting the
    /// issue payment): what the Payments context turns into debt positions.
    pub fn fees_due_now<'p>(&self, procedure: &'p Procedure) -> Vec<&'p Fee> {
        let due = match self.status {
            Status::AwaitingPayment => FeeDue::Filing,
            Status::AwaitingIssuePayment => FeeDue::Issue,
            _ => return Vec::new(),
        };
        procedure.fees_due(due).collect()
    }

    /// The clock as of `now`; `None` when the procedure has none, the application has not been
    /// filed, or it is closed.
    pub fn clock(&self, procedure: &Procedure, now: Timestamp) -> Result<Option<ClockStatus>, PermitsError> {
        self.check_procedure(procedure)?;
        if self.status.is_final() {
            return Ok(None);
        }
        clock::evaluate(procedure, self.clock_facts(), &self.clock_events(procedure), now)
    }

    /// Whether `step` would be taken, without taking it: every rule [`Permit::apply`] checks
    /// (procedure, order of the timeline, note, status machine, the procedure's rules and the
    /// clock at the step's instant) except the protocol number of a registration, which is
    /// drawn only once the step is known to pass. `Ok` here and a protocol number for
    /// [`Action::Register`] mean `apply` takes the step.
    pub fn check(&self, procedure: &Procedure, step: &Step) -> Result<(), PermitsError> {
        self.leads_to(procedure, step).map(drop)
    }

    /// Takes `step`, appending it to the timeline, or explains why it is not allowed; on error
    /// nothing changes.
    pub fn apply(&mut self, procedure: &Procedure, step: Step) -> Result<&TimelineEntry, PermitsError> {
        let to = self.leads_to(procedure, &step)?;
        if step.action == Action::Register && step.protocol_number.is_none() {
            return Err(PermitsError::Transition {
                status: self.status,
                action: step.action,
                reason: TransitionDenied::MissingProtocolNumber,
            });
        }
        let entry = TimelineEntry {
            at: step.at,
            actor: step.actor,
            action: step.action,
            from: self.status,
            to,
            note: step.note,
        };
        if entry.action == Action::Register {
            self.protocol_number = step.protocol_number;
        }
        self.record_effects(&entry);
        self.status = to;
        self.timeline.push(entry);
        Ok(&self.timeline[self.timeline.len() - 1])
    }

    /// What the deadline sweep should do, as of `now`, warning `warn_within_days` ahead.
    pub fn sweep(
        &self,
        procedure: &Procedure,
        now: Timestamp,
        warn_within_days: i64,
    ) -> Result<SweepFinding, PermitsError> {
        let Some(clock) = self.clock(procedure, now)? else {
            return Ok(SweepFinding::Nothing);
        };
        Ok(match clock.state {
            ClockState::Running {
                deadline, days_left, ..
            } if days_left <= warn_within_days => SweepFinding::DueSoon { deadline, days_left },
            ClockState::Elapsed {
                deadline,
                days_overdue,
                ..
            } => {
                if self
                    .check(procedure, &Step::new(Action::Mature, Actor::System, now))
                    .is_ok()
                {
                    SweepFinding::Matured { deadline }
                } else {
                    SweepFinding::Overdue {
                        deadline,
                        days_overdue,
                    }
                }
            }
            _ => SweepFinding::Nothing,
        })
    }

    /// The status `step` leads to, or why it is refused (see [`Permit::check`]).
    fn leads_to(&self, procedure: &Procedure, step: &Step) -> Result<Status, PermitsError> {
        self.check_procedure(procedure)?;
        if self.timeline.last().is_some_and(|last| step.at < last.at) {
            return Err(PermitsError::TimelineOutOfOrder);
        }
        if step
            .note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(PermitsError::NoteTooLong(MAX_NOTE_CHARS));
        }
        let context = TransitionContext {
            filing_fees_unpaid: procedure.fees_due(FeeDue::Filing).next().is_some() && !self.fees_paid.filing,
            issue_fees_unpaid: procedure.fees_due(FeeDue::Issue).next().is_some() && !self.fees_paid.issue,
        };
        let to = next_status(self.status, step.action, step.actor, context)?;
        self.check_rules(procedure, step)?;
        Ok(to)
    }

    fn check_procedure(&self, procedure: &Procedure) -> Result<(), PermitsError> {
        if procedure.code == self.procedure {
            Ok(())
        } else {
            Err(PermitsError::ProcedureMismatch {
                expected: self.procedure.clone(),
                found: procedure.code.clone(),
            })
        }
    }

    /// The state the entry leaves behind besides the status.
    fn record_effects(&mut self, entry: &TimelineEntry) {
        match (entry.action, entry.from) {
            (Action::ConfirmPayment, Status::AwaitingPayment) => self.fees_paid.filing = true,
            (Action::ConfirmPayment, Status::AwaitingIssuePayment) => self.fees_paid.issue = true,
            (Action::DeclareComplexProject, _) => self.doubling.complex_project = true,
            _ => {}
        }
    }

    /// The clock events the timeline implies.
    fn clock_events(&self, procedure: &Procedure) -> Vec<ClockEvent> {
        let stops = procedure.integration.effect != StopEffect::None;
        self.timeline
            .iter()
            .filter_map(|entry| {
                let kind = match entry.action {
                    _ if entry.to == Status::Submitted => ClockEventKind::Start,
                    Action::RequestIntegration if stops => ClockEventKind::Stop,
                    Action::SubmitIntegration if stops => ClockEventKind::Resume,
                    Action::CompletePhase => ClockEventKind::PhaseCompleted,
                    _ => return None,
                };
                Some(ClockEvent { at: entry.at, kind })
            })
            .collect()
    }

    /// The procedure's rules on top of the status machine: integration limits and windows, phases, and what the clock allows at the step's instant.
    fn check_rules(&self, procedure: &Procedure, step: &Step) -> Result<(), PermitsError> {
        let deny = |reason| PermitsError::Transition {
            status: self.status,
            action: step.action,
            reason,
        };
        // Re-labels a clock refusal as a refusal of this step.
        let as_step = |error: PermitsError| match error {
            PermitsError::Clock { reason, .. } => deny(reason),
            other => other,
        };
        let with_event = |kind| -> Result<Option<ClockStatus>, PermitsError> {
            let mut events = self.clock_events(procedure);
            events.push(ClockEvent { at: step.at, kind });
            clock::evaluate(procedure, self.clock_facts(), &events, step.at).map_err(as_step)
        };
        match step.action {
            Action::RequestIntegration => {
                if procedure.integration.effect == StopEffect::None {
                    let used = self
                        .timeline
                        .iter()
                        .filter(|e| e.action == Action::RequestIntegration)
                        .count();
                    if let Some(max) = procedure.integration.max_requests
                        && used >= usize::from(max)
                    {
                        return Err(deny(TransitionDenied::IntegrationLimitReached { max }));
                    }
                    Ok(())
                } else {
                    with_event(ClockEventKind::Stop).map(|_| ())
                }
            }
            Action::SubmitIntegration if procedure.integration.effect != StopEffect::None => {
                with_event(ClockEventKind::Resume).map(|_| ())
            }
            Action::CompletePhase => {
                if !procedure.has_clock() {
                    return Err(deny(TransitionDenied::NoClock));
                }
                with_event(ClockEventKind::PhaseCompleted).map(|_| ())
            }
            Action::DeclareComplexProject => {
                let doubles = procedure.phases.iter().any(|p| !p.doubles_when.is_empty())
                    || !procedure.integration.window_doubles_when.is_empty();
                if !doubles {
                    return Err(deny(TransitionDenied::NothingToDouble));
                }
                if self.doubling.complex_project {
                    return Err(deny(TransitionDenied::AlreadyDeclared));
                }
                match self.clock(procedure, step.at).map_err(as_step)? {
                    Some(status) if status.is_elapsed() => Err(deny(TransitionDenied::ClockElapsed)),
                    _ => Ok(()),
                }
            }
            Action::Reject => match self.clock(procedure, step.at).map_err(as_step)? {
                Some(status) if status.has_matured() => Err(deny(TransitionDenied::EffectMatured {
                    deadline: status.deadline().unwrap_or(Date::MIN),
                })),
                _ => Ok(()),
            },
            Action::Mature => {
                let status = self
                    .clock(procedure, step.at)
                    .map_err(as_step)?
                    .ok_or_else(|| deny(TransitionDenied::NoClock))?;
                match status.state {
                    ClockState::Stopped { .. } => Err(deny(TransitionDenied::ClockStopped)),
                    ClockState::Running { deadline, .. } => {
                        Err(deny(TransitionDenied::DeadlineNotReached { deadline }))
                    }
                    ClockState::Elapsed { matured: true, .. } => Ok(()),
                    ClockState::Elapsed { .. } => match procedure.at_deadline {
                        // A SCIA: the checks are over; recording it closes the application.
                        DeadlineEffect::Nothing => Ok(()),
                        DeadlineEffect::NoSilentApproval => Err(deny(TransitionDenied::NoSilentApproval)),
                        DeadlineEffect::SilentApproval | DeadlineEffect::WorksMayStart => {
                            Err(deny(TransitionDenied::ConstraintsApply))
                        }
                    },
                }
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::super::Catalogue;
    use super::*;
    use crate::calendar::{self, ROME};

    fn builtin(code: &str) -> &'static Procedure {
        Catalogue::builtin().procedure(code).unwrap()
    }

    /// An instant at a Rome wall-clock time.
    fn rome(day: Date, hour: i8, minute: i8) -> Timestamp {
        day.at(hour, minute, 0, 0)
            .to_zoned_datetime(ROME.clone())
            .unwrap()
            .timestamp()
    }

    fn plus(day: Date, days: i64) -> Date {
        calendar::add_days(day, days).unwrap()
    }

    fn take(
        permit: &mut Permit,
        procedure: &Procedure,
        action: Action,
        actor: Actor,
        at: Timestamp,
    ) -> Status {
        let mut step = Step::new(action, actor, at);
        if action == Action::Register {
            step = step.with_protocol_number(ProtocolNumber::new(2026, 123).unwrap());
        }
        permit.apply(procedure, step).unwrap().to
    }

    fn refusal(
        permit: &Permit,
        procedure: &Procedure,
        action: Action,
        actor: Actor,
        at: Timestamp,
    ) -> TransitionDenied {
        let before = permit.clone();
        let mut trial = permit.clone();
        let mut step = Step::new(action, actor, at);
        if action == Action::Register {
            step = step.with_protocol_number(ProtocolNumber::new(2026, 123).unwrap());
        }
        let error = trial.apply(procedure, step).unwrap_err();
        assert_eq!(trial, before, "a refused step changed the application");
        match error {
            PermitsError::Transition { reason, .. } => reason,
            other => panic!("unexpected error {other:?}"),
        }
    }

    /// A permesso di costruire with one interruption, and the dates the law gives it.
    struct PdcWalk {
        large_municipality: bool,
        declare_complex: bool,
        filed: Date,
        interrupted: Date,
        documents_received: Date,
        deadline_before_interruption: Date,
        deadline: Date,
    }

    impl PdcWalk {
        fn small() -> Self {
            Self {
                large_municipality: false,
                declare_complex: false,
                filed: date(2026, 3, 10),
                interrupted: date(2026, 3, 30),
                documents_received: date(2026, 4, 20),
                // 10 March + 60 + 30; after the interruption, 20 April + 60 + 30.
                deadline_before_interruption: date(2026, 6, 8),
                deadline: date(2026, 7, 19),
            }
        }

        fn doubled(declare_complex: bool) -> Self {
            Self {
                large_municipality: true,
                declare_complex,
                filed: date(2026, 3, 10),
                // Day 45: only possible because the 30-day window doubled.
                interrupted: date(2026, 4, 24),
                documents_received: date(2026, 6, 1),
                // 120 + 30 days; the second run crosses the end of summer time (25 October).
                deadline_before_interruption: date(2026, 8, 7),
                deadline: date(2026, 10, 29),
            }
        }

        /// Files the application (fees paid), registers it and starts the review.
        fn file(&self, procedure: &Procedure) -> Permit {
            let mut permit = Permit::new(procedure, self.large_municipality);
            let (operator, system, professional) = (Actor::Operator, Actor::System, Actor::Professional);
            let filed = self.filed;
            assert_eq!(
                take(
                    &mut permit,
                    procedure,
                    Action::Submit,
                    professional,
                    rome(filed, 9, 0)
                ),
                Status::AwaitingPayment
            );
            assert_eq!(permit.citizen_status(procedure), CitizenStatus::PaymentDue);
            let due: Vec<&str> = permit
                .fees_due_now(procedure)
                .iter()
                .map(|f| f.code.as_str())
                .collect();
            assert_eq!(due, ["application-stamp", "secretariat"]);
            assert_eq!(
                permit.clock(procedure, rome(filed, 9, 30)).unwrap(),
                None,
                "no clock before filing"
            );
            assert_eq!(
                take(
                    &mut permit,
                    procedure,
                    Action::ConfirmPayment,
                    system,
                    rome(filed, 10, 0)
                ),
                Status::Submitted
            );
            assert_eq!(permit.citizen_status(procedure), CitizenStatus::Received);
            assert_eq!(
                take(
                    &mut permit,
                    procedure,
                    Action::Register,
                    operator,
                    rome(plus(filed, 1), 9, 0)
                ),
                Status::Registered
            );
            assert_eq!(permit.protocol_number().unwrap().to_string(), "2026/0000123");
            assert_eq!(
                take(
                    &mut permit,
                    procedure,
                    Action::StartReview,
                    operator,
                    rome(plus(filed, 2), 9, 0)
                ),
                Status::InReview
            );
            if self.declare_complex {
                take(
                    &mut permit,
                    procedure,
                    Action::DeclareComplexProject,
                    operator,
                    rome(plus(filed, 2), 10, 0),
                );
                assert!(permit.is_complex_project());
            }
            permit
        }

        /// Files the application and takes it through the interruption; returns the permit
        /// and the instants of the interruption and of the receipt.
        fn run(&self, procedure: &Procedure) -> (Permit, Timestamp, Timestamp) {
            let mut permit = self.file(procedure);
            let (operator, professional) = (Actor::Operator, Actor::Professional);
            let stop_at = rome(self.interrupted, 11, 0);
            permit
                .apply(
                    procedure,
                    Step::new(Action::RequestIntegration, operator, stop_at)
                        .with_note("Manca la relazione geologica"),
                )
                .unwrap();
            assert_eq!(permit.citizen_status(procedure), CitizenStatus::ActionNeeded);
            assert_eq!(
                refusal(
                    &permit,
                    procedure,
                    Action::SubmitIntegration,
                    Actor::Operator,
                    stop_at
                ),
                TransitionDenied::NotAllowedFor(Actor::Operator)
            );
            let resume_at = rome(self.documents_received, 16, 0);
            take(
                &mut permit,
                procedure,
                Action::SubmitIntegration,
                professional,
                resume_at,
            );
            // The law allows one interruption only.
            assert_eq!(
                refusal(
                    &permit,
                    procedure,
                    Action::RequestIntegration,
                    operator,
                    rome(self.documents_received, 17, 0)
                ),
                TransitionDenied::IntegrationLimitReached { max: 1 }
            );
            take(
                &mut permit,
                procedure,
                Action::StartReview,
                operator,
                rome(plus(self.documents_received, 1), 9, 0),
            );
            (permit, stop_at, resume_at)
        }

        /// Checks the clock at three instants of every day, from the filing to five days past
        /// the deadline, then the sweep and silent approval.
        fn check(&self, procedure: &Procedure) {
            let (mut permit, stop_at, resume_at) = self.run(procedure);
            let last = calendar::days_between(self.filed, self.deadline) + 5;
            for offset in 0..=last {
                let day = plus(self.filed, offset);
                for (hour, minute) in [(0, 30), (12, 0), (23, 59)] {
                    let now = rome(day, hour, minute);
                    let clock = permit.clock(procedure, now).unwrap();
                    if now < rome(self.filed, 10, 0) {
                        assert_eq!(clock, None);
                        continue;
                    }
                    let clock = clock.unwrap();
                    let context = format!("{day} {hour}:{minute}");
                    if now < stop_at {
                        assert_eq!(
                            clock.deadline(),
                            Some(self.deadline_before_interruption),
                            "{context}"
                        );
                        assert_eq!(
                            clock.days_left(),
                            Some(calendar::days_between(day, self.deadline_before_interruption)),
                            "{context}"
                        );
                    } else if now < resume_at {
                        assert!(clock.is_stopped(), "{context}");
                        assert_eq!(clock.deadline(), None, "{context}");
                        assert_eq!(permit.sweep(procedure, now, 10).unwrap(), SweepFinding::Nothing);
                    } else if day <= self.deadline {
                        assert_eq!(clock.deadline(), Some(self.deadline), "{context}");
                        assert_eq!(
                            clock.days_left(),
                            Some(calendar::days_between(day, self.deadline)),
                            "{context}"
                        );
                        assert!(!clock.has_matured(), "{context}");
                    } else {
                        assert!(clock.has_matured(), "{context}");
                        assert_eq!(
                            clock.days_left(),
                            Some(-calendar::days_between(self.deadline, day)),
                            "{context}"
                        );
                    }
                }
            }
            // The last day: the officers are warned; silence has not formed yet.
            let last_day = rome(self.deadline, 12, 0);
            assert_eq!(
                permit.sweep(procedure, last_day, 10).unwrap(),
                SweepFinding::DueSoon {
                    deadline: self.deadline,
                    days_left: 0
                }
            );
            assert_eq!(
                refusal(&permit, procedure, Action::Mature, Actor::System, last_day),
                TransitionDenied::DeadlineNotReached {
                    deadline: self.deadline
                }
            );
            // Rome midnight: silent approval. A refusal now comes too late.
            let midnight = calendar::end_of_day(self.deadline).unwrap();
            assert_eq!(
                permit.sweep(procedure, midnight, 10).unwrap(),
                SweepFinding::Matured {
                    deadline: self.deadline
                }
            );
            assert_eq!(
                refusal(&permit, procedure, Action::Reject, Actor::Operator, midnight),
                TransitionDenied::EffectMatured {
                    deadline: self.deadline
                }
            );
            assert_eq!(
                take(&mut permit, procedure, Action::Mature, Actor::System, midnight),
                Status::TacitlyAccepted
            );
            assert_eq!(permit.citizen_status(procedure), CitizenStatus::Approved);
            assert_eq!(permit.clock(procedure, midnight).unwrap(), None);
            assert_eq!(
                refusal(&permit, procedure, Action::Withdraw, Actor::Applicant, midnight),
                TransitionDenied::Closed
            );
            assert_eq!(permit.timeline().len(), if self.declare_complex { 9 } else { 8 });
            let restored = Permit::restore(
                permit.procedure_code(),
                self.large_municipality,
                permit.constraints().to_vec(),
                permit.protocol_number(),
                permit.timeline().to_vec(),
            )
            .unwrap();
            assert_eq!(restored, permit);
        }
    }

    #[test]
    fn a_pdc_in_a_small_municipality_walked_day_by_day_to_silent_approval() {
        PdcWalk::small().check(builtin("pdc"));
    }

    #[test]
    fn a_pdc_in_genova_runs_the_same_terms_unless_declared_complex() {
        // DL 133/2014 left doubling to complex projects only (see the catalogue).
        PdcWalk {
            large_municipality: true,
            ..PdcWalk::small()
        }
        .check(builtin("pdc"));
        let late = PdcWalk {
            large_municipality: true,
            ..PdcWalk::doubled(false)
        };
        let procedure = builtin("pdc");
        let mut permit = Permit::new(procedure, true);
        for (action, actor, day) in [
            (Action::Submit, Actor::Applicant, late.filed),
            (Action::ConfirmPayment, Actor::System, late.filed),
            (Action::Register, Actor::Operator, late.filed),
        ] {
            take(&mut permit, procedure, action, actor, rome(day, 12, 0));
        }
        assert_eq!(
            refusal(
                &permit,
                procedure,
                Action::RequestIntegration,
                Actor::Operator,
                rome(late.interrupted, 11, 0)
            ),
            TransitionDenied::IntegrationWindowClosed {
                last_day: date(2026, 4, 9)
            }
        );
    }

    #[test]
    fn a_complex_pdc_in_genova_walked_day_by_day_with_doubled_terms() {
        PdcWalk::doubled(true).check(builtin("pdc"));
    }

    #[test]
    fn a_pdc_in_genova_under_the_design_reading_doubles_by_population() {
        // DESIGN.md's table: terms double over 100,000 inhabitants. One override restores it.
        let catalogue = Catalogue::builtin_with(
            r#"
            [[procedure]]
            code = "pdc"
            integration = { effect = "interrupt", max_requests = 1, within_days = 30, window_doubles_when = ["large-municipality", "complex-project"] }
            phases = [
              { code = "review", name = { it = "Istruttoria", en = "Review" }, days = 60, doubles_when = ["large-municipality", "complex-project"] },
              { code = "decision", name = { it = "Provvedimento", en = "Decision" }, days = 30 },
            ]
            "#,
        )
        .unwrap();
        PdcWalk::doubled(false).check(catalogue.procedure("pdc").unwrap());
        // The same file leaves small municipalities on 60 + 30.
        PdcWalk::small().check(catalogue.procedure("pdc").unwrap());
    }

    fn filed(procedure: &Procedure, day: Date, constraints: Vec<Constraint>) -> Permit {
        let mut permit = Permit::new(procedure, false);
        permit.set_constraints(constraints).unwrap();
        let at = rome(day, 10, 0);
        take(&mut permit, procedure, Action::Submit, Actor::Applicant, at);
        if permit.status() == Status::AwaitingPayment {
            take(&mut permit, procedure, Action::ConfirmPayment, Actor::System, at);
        }
        take(&mut permit, procedure, Action::Register, Actor::System, at);
        permit
    }

    #[test]
    fn constraints_rule_out_silent_approval_but_not_a_decision() {
        let procedure = builtin("pdc");
        let permit = filed(
            procedure,
            date(2026, 3, 10),
            vec![Constraint::Landscape, Constraint::Landscape],
        );
        assert_eq!(permit.constraints(), [Constraint::Landscape]);
        let late = rome(date(2026, 7, 1), 12, 0);
        assert_eq!(
            permit.sweep(procedure, late, 10).unwrap(),
            SweepFinding::Overdue {
                deadline: date(2026, 6, 8),
                days_overdue: 23
            }
        );
        assert_eq!(
            refusal(&permit, procedure, Action::Mature, Actor::System, late),
            TransitionDenied::ConstraintsApply
        );
        let mut decided = permit.clone();
        assert_eq!(
            take(&mut decided, procedure, Action::Reject, Actor::Operator, late),
            Status::Rejected
        );
        let mut changed = permit;
        assert_eq!(
            changed.set_constraints(vec![]),
            Err(PermitsError::NotADraft(Status::Registered))
        );
    }

    #[test]
    fn a_scia_from_filing_to_the_end_of_its_checks() {
        let procedure = builtin("scia");
        let mut permit = filed(procedure, date(2026, 10, 10), vec![]);
        assert_eq!(permit.citizen_status(procedure), CitizenStatus::Effective);
        take(
            &mut permit,
            procedure,
            Action::StartReview,
            Actor::Operator,
            rome(date(2026, 10, 12), 9, 0),
        );
        assert_eq!(permit.citizen_status(procedure), CitizenStatus::Effective);
        let clock = permit
            .clock(procedure, rome(date(2026, 10, 26), 9, 0))
            .unwrap()
            .unwrap();
        assert_eq!(
            (clock.deadline(), clock.days_left()),
            (Some(date(2026, 11, 9)), Some(14))
        );
        assert_eq!(
            permit.sweep(procedure, rome(date(2026, 11, 2), 9, 0), 7).unwrap(),
            SweepFinding::DueSoon {
                deadline: date(2026, 11, 9),
                days_left: 7
            }
        );
        let over = rome(date(2026, 11, 10), 0, 0);
        assert_eq!(
            permit.sweep(procedure, over, 7).unwrap(),
            SweepFinding::Matured {
                deadline: date(2026, 11, 9)
            }
        );
        assert_eq!(
            take(&mut permit, procedure, Action::Mature, Actor::System, over),
            Status::TacitlyAccepted
        );
        assert_eq!(permit.citizen_status(procedure), CitizenStatus::Approved);
    }

    #[test]
    fn a_scia_conformity_request_restarts_the_checks() {
        let procedure = builtin("scia");
        let mut permit = filed(procedure, date(2026, 5, 4), vec![]);
        take(
            &mut permit,
            procedure,
            Action::RequestIntegration,
            Actor::Operator,
            rome(date(2026, 5, 20), 9, 0),
        );
        take(
            &mut permit,
            procedure,
            Action::SubmitIntegration,
            Actor::Applicant,
            rome(date(2026, 6, 15), 9, 0),
        );
        let clock = permit
            .clock(procedure, rome(date(2026, 6, 15), 12, 0))
            .unwrap()
            .unwrap();
        assert_eq!(clock.deadline(), Some(date(2026, 7, 15)));
    }

    #[test]
    fn a_scia_alternativa_lets_works_start_after_30_days_without_constraints() {
        let procedure = builtin("scia-alternativa");
        let mut free = filed(procedure, date(2026, 2, 1), vec![]);
        // Integration requests are informative here: they do not stop the clock, nor are they limited.
        for day in [5, 6] {
            take(
                &mut free,
                procedure,
                Action::RequestIntegration,
                Actor::Operator,
                rome(date(2026, 2, day), 9, 0),
            );
            take(
                &mut free,
                procedure,
                Action::SubmitIntegration,
                Actor::Applicant,
                rome(date(2026, 2, day), 10, 0),
            );
        }
        let day31 = rome(date(2026, 3, 4), 9, 0);
        assert!(free.clock(procedure, day31).unwrap().unwrap().has_matured());
        assert_eq!(
            take(&mut free, procedure, Action::Mature, Actor::System, day31),
            Status::TacitlyAccepted
        );
        let bound = filed(procedure, date(2026, 2, 1), vec![Constraint::Cultural]);
        assert_eq!(
            refusal(&bound, procedure, Action::Mature, Actor::System, day31),
            TransitionDenied::ConstraintsApply
        );
    }

    #[test]
    fn landscape_and_public_land_never_approve_by_silence() {
        for code in ["paesaggistica", "suolo-pubblico", "passo-carrabile"] {
            let procedure = builtin(code);
            let permit = filed(procedure, date(2026, 4, 1), vec![]);
            let late = rome(date(2026, 9, 1), 9, 0);
            assert!(
                matches!(
                    permit.sweep(procedure, late, 10).unwrap(),
                    SweepFinding::Overdue { .. }
                ),
                "{code}"
            );
            assert_eq!(
                refusal(&permit, procedure, Action::Mature, Actor::System, late),
                TransitionDenied::NoSilentApproval
            );
        }
    }

    #[test]
    fn a_landscape_authorisation_suspends_once_then_decides_with_the_issue_fee() {
        let procedure = builtin("paesaggistica");
        let mut permit = filed(procedure, date(2026, 4, 1), vec![]);
        let at = |month, day| rome(date(2026, month, day), 10, 0);
        for (action, actor, when) in [
            (Action::StartReview, Actor::Operator, at(4, 2)),
            (Action::RequestIntegration, Actor::Operator, at(4, 21)),
            (Action::SubmitIntegration, Actor::Applicant, at(5, 11)),
            (Action::StartReview, Actor::Operator, at(5, 11)),
            // Sent to the Superintendency on day 30 of the municipal phase: 45 + 20 days from there.
            (Action::CompletePhase, Actor::Operator, at(5, 21)),
        ] {
            take(&mut permit, procedure, action, actor, when);
        }
        let clock = permit.clock(procedure, at(5, 22)).unwrap().unwrap();
        let expected = date(2026, 7, 25);
        assert!(
            matches!(clock.state, ClockState::Running { phase: 1, deadline, .. } if deadline == expected)
        );
        let refuse =
            |permit: &Permit, action, when| refusal(permit, procedure, action, Actor::Operator, when);
        assert_eq!(
            refuse(&permit, Action::RequestIntegration, at(5, 22)),
            TransitionDenied::IntegrationLimitReached { max: 1 }
        );
        // Without a first request, a request after the 40-day municipal phase is too late.
        let fresh = filed(procedure, date(2026, 4, 1), vec![]);
        let last_day = date(2026, 5, 11);
        assert_eq!(
            refuse(&fresh, Action::RequestIntegration, at(5, 12)),
            TransitionDenied::IntegrationWindowClosed { last_day }
        );
        // The opinion arrives: the decision phase is the last one.
        take(
            &mut permit,
            procedure,
            Action::CompletePhase,
            Actor::Operator,
            at(6, 30),
        );
        assert_eq!(
            refuse(&permit, Action::CompletePhase, at(7, 1)),
            TransitionDenied::NoFurtherPhase
        );
        let accepted = take(&mut permit, procedure, Action::Accept, Actor::Operator, at(7, 2));
        assert_eq!(accepted, Status::AwaitingIssuePayment);
        assert_eq!(permit.citizen_status(procedure), CitizenStatus::PaymentDue);
        let due: Vec<&str> = permit
            .fees_due_now(procedure)
            .iter()
            .map(|f| f.code.as_str())
            .collect();
        assert_eq!(due, ["authorisation-stamp"]);
        let paid = take(
            &mut permit,
            procedure,
            Action::ConfirmPayment,
            Actor::System,
            at(7, 3),
        );
        assert_eq!(paid, Status::Accepted);
        assert!(permit.fees_due_now(procedure).is_empty());
    }

    #[test]
    fn a_cila_is_effective_on_filing_and_has_no_clock() {
        let procedure = builtin("cila");
        let mut permit = filed(procedure, date(2026, 3, 1), vec![]);
        assert_eq!(permit.citizen_status(procedure), CitizenStatus::Effective);
        let now = rome(date(2026, 6, 1), 9, 0);
        assert_eq!(permit.clock(procedure, now).unwrap(), None);
        assert_eq!(permit.sweep(procedure, now, 10).unwrap(), SweepFinding::Nothing);
        assert_eq!(
            refusal(&permit, procedure, Action::Mature, Actor::System, now),
            TransitionDenied::NoClock
        );
        take(&mut permit, procedure, Action::StartReview, Actor::Operator, now);
        assert_eq!(
            refusal(&permit, procedure, Action::CompletePhase, Actor::Operator, now),
            TransitionDenied::NoClock
        );
        assert_eq!(
            refusal(
                &permit,
                procedure,
                Action::DeclareComplexProject,
                Actor::Operator,
                now
            ),
            TransitionDenied::NothingToDouble
        );
        assert_eq!(
            take(&mut permit, procedure, Action::Accept, Actor::Operator, now),
            Status::Accepted
        );
    }

    #[test]
    fn roles_and_statuses_are_enforced() {
        let procedure = builtin("pdc");
        let now = rome(date(2026, 3, 1), 12, 0);
        let mut draft = Permit::new(procedure, false);
        assert_eq!(
            refusal(&draft, procedure, Action::Accept, Actor::Operator, now),
            TransitionDenied::NotInStatus
        );
        assert_eq!(
            refusal(&draft, procedure, Action::Register, Actor::Applicant, now),
            TransitionDenied::NotAllowedFor(Actor::Applicant)
        );
        assert_eq!(
            refusal(&draft, procedure, Action::Cancel, Actor::Operator, now),
            TransitionDenied::NotInStatus
        );
        assert_eq!(
            refusal(
                &draft,
                procedure,
                Action::RequestIntegration,
                Actor::Operator,
                now
            ),
            TransitionDenied::NotInStatus
        );
        let mut submitted = filed(procedure, date(2026, 3, 1), vec![]);
        assert_eq!(
            refusal(&submitted, procedure, Action::Withdraw, Actor::Professional, now),
            TransitionDenied::NotAllowedFor(Actor::Professional)
        );
        assert_eq!(
            take(&mut submitted, procedure, Action::Withdraw, Actor::Applicant, now),
            Status::Withdrawn
        );
        assert_eq!(
            take(&mut draft, procedure, Action::Cancel, Actor::Professional, now),
            Status::Cancelled
        );
        // Registering needs a protocol number.
        let mut unregistered = Permit::new(procedure, false);
        take(
            &mut unregistered,
            procedure,
            Action::Submit,
            Actor::Applicant,
            now,
        );
        take(
            &mut unregistered,
            procedure,
            Action::ConfirmPayment,
            Actor::Operator,
            now,
        );
        let error = unregistered
            .apply(procedure, Step::new(Action::Register, Actor::Operator, now))
            .unwrap_err();
        assert!(matches!(
            error,
            PermitsError::Transition {
                reason: TransitionDenied::MissingProtocolNumber,
                ..
            }
        ));
        // Declaring complexity twice, and after the term ran out.
        let mut review = filed(procedure, date(2026, 3, 1), vec![]);
        take(
            &mut review,
            procedure,
            Action::DeclareComplexProject,
            Actor::Operator,
            now,
        );
        assert_eq!(
            refusal(
                &review,
                procedure,
                Action::DeclareComplexProject,
                Actor::Operator,
                now
            ),
            TransitionDenied::AlreadyDeclared
        );
        let overdue = filed(procedure, date(2026, 3, 1), vec![Constraint::Hydrogeological]);
        assert_eq!(
            refusal(
                &overdue,
                procedure,
                Action::DeclareComplexProject,
                Actor::Operator,
                rome(date(2026, 9, 1), 9, 0)
            ),
            TransitionDenied::ClockElapsed
        );
    }

    #[test]
    fn steps_are_checked_before_anything_changes() {
        let procedure = builtin("pdc");
        let mut permit = filed(procedure, date(2026, 3, 10), vec![]);
        let before = permit.clone();
        assert_eq!(
            permit.apply(
                procedure,
                Step::new(Action::StartReview, Actor::Operator, rome(date(2026, 3, 9), 9, 0))
            ),
            Err(PermitsError::TimelineOutOfOrder)
        );
        assert_eq!(
            permit.apply(
                procedure,
                Step::new(
                    Action::StartReview,
                    Actor::Operator,
                    rome(date(2026, 3, 11), 9, 0)
                )
                .with_note(&"x".repeat(4001))
            ),
            Err(PermitsError::NoteTooLong(4000))
        );
        assert!(matches!(
            permit.apply(
                builtin("scia"),
                Step::new(
                    Action::StartReview,
                    Actor::Operator,
                    rome(date(2026, 3, 11), 9, 0)
                )
            ),
            Err(PermitsError::ProcedureMismatch { .. })
        ));
        assert_eq!(permit, before);
    }

    #[test]
    fn check_answers_as_apply_without_taking_the_step() {
        let procedure = builtin("pdc");
        let now = rome(date(2026, 3, 1), 12, 0);
        let draft = Permit::new(procedure, false);
        let before = draft.clone();
        assert_eq!(
            draft.check(procedure, &Step::new(Action::Submit, Actor::Applicant, now)),
            Ok(())
        );
        assert_eq!(draft, before, "checking changed nothing");
        assert!(matches!(
            draft.check(procedure, &Step::new(Action::Accept, Actor::Operator, now)),
            Err(PermitsError::Transition {
                reason: TransitionDenied::NotInStatus,
                ..
            })
        ));
        assert_eq!(
            draft.check(
                procedure,
                &Step::new(Action::Submit, Actor::Applicant, now).with_note(&"x".repeat(4001))
            ),
            Err(PermitsError::NoteTooLong(4000))
        );
        let mut paid = Permit::new(procedure, false);
        take(&mut paid, procedure, Action::Submit, Actor::Applicant, now);
        take(&mut paid, procedure, Action::ConfirmPayment, Actor::Operator, now);
        assert_eq!(
            paid.check(
                procedure,
                &Step::new(
                    Action::StartReview,
                    Actor::Operator,
                    rome(date(2026, 2, 28), 12, 0)
                )
            ),
            Err(PermitsError::TimelineOutOfOrder)
        );
        // A registration passes the check without a number; applying it still needs one.
        let register = Step::new(Action::Register, Actor::Operator, now);
        assert_eq!(paid.check(procedure, &register), Ok(()));
        assert!(matches!(
            paid.clone().apply(procedure, register.clone()),
            Err(PermitsError::Transition {
                reason: TransitionDenied::MissingProtocolNumber,
                ..
            })
        ));
        let numbered = register.with_protocol_number(ProtocolNumber::new(2026, 1).unwrap());
        assert_eq!(
            paid.apply(procedure, numbered).map(|e| e.to),
            Ok(Status::Registered)
        );
        // The clock's rules too: no silence before the deadline.
        let filed = filed(procedure, date(2026, 3, 1), vec![]);
        assert!(matches!(
            filed.check(
                procedure,
                &Step::new(Action::Mature, Actor::System, rome(date(2026, 3, 20), 9, 0))
            ),
            Err(PermitsError::Transition {
                reason: TransitionDenied::DeadlineNotReached { .. },
                ..
            })
        ));
    }

    #[test]
    fn stored_timelines_are_checked_when_restored() {
        let procedure = builtin("pdc");
        let permit = filed(procedure, date(2026, 3, 10), vec![Constraint::Cultural]);
        let restore = |protocol, timeline| {
            Permit::restore("pdc", false, vec![Constraint::Cultural], protocol, timeline)
        };
        assert_eq!(
            restore(permit.protocol_number(), permit.timeline().to_vec()).unwrap(),
            permit
        );
        assert!(matches!(
            restore(None, permit.timeline().to_vec()),
            Err(PermitsError::InconsistentTimeline(_))
        ));
        let mut skipped = permit.timeline().to_vec();
        skipped.remove(1);
        assert!(matches!(
            restore(permit.protocol_number(), skipped),
            Err(PermitsError::InconsistentTimeline(_))
        ));
        let mut forged = permit.timeline().to_vec();
        forged[2].actor = Actor::Applicant;
        assert!(matches!(
            restore(permit.protocol_number(), forged),
            Err(PermitsError::InconsistentTimeline(_))
        ));
        let mut reordered = permit.timeline().to_vec();
        reordered[2].at = rome(date(2026, 3, 1), 9, 0);
        assert!(matches!(
            restore(permit.protocol_number(), reordered),
            Err(PermitsError::InconsistentTimeline(_))
        ));
    }

    #[test]
    fn protocol_numbers_and_constraints_parse() {
        let number = ProtocolNumber::parse("2026/123").unwrap();
        assert_eq!((number.year(), number.number()), (2026, 123));
        assert_eq!(number.to_string(), "2026/0000123");
        assert_eq!(ProtocolNumber::parse(&number.to_string()), Ok(number));
        for bad in [
            "",
            "2026",
            "2026/",
            "26/1",
            "2026/0",
            "1999/1",
            "2026/12345678",
            "2026/-1",
            "2026/1a",
        ] {
            assert!(ProtocolNumber::parse(bad).is_err(), "{bad}");
        }
        for constraint in Constraint::ALL {
            assert_eq!(Constraint::parse(constraint.as_str()), Ok(constraint));
        }
        assert!(Constraint::parse("seismic").is_err());
    }

    fn any_action() -> impl Strategy<Value = Action> {
        proptest::sample::select(Action::ALL.to_vec())
    }

    fn any_actor() -> impl Strategy<Value = Actor> {
        proptest::sample::select(Actor::ALL.to_vec())
    }

    /// The (action, actor) pairs the status machine allows from `status`, whatever the fees.
    fn plausible(status: Status) -> Vec<(Action, Actor)> {
        let context = TransitionContext {
            filing_fees_unpaid: true,
            issue_fees_unpaid: true,
        };
        Action::ALL
            .into_iter()
            .flat_map(|action| Actor::ALL.into_iter().map(move |actor| (action, actor)))
            .filter(|&(action, actor)| next_status(status, action, actor, context).is_ok())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random steps at random times, mostly ones the status machine allows (so that walks go
        /// deep: integrations, phases, silence) and some fully random (so that refusals are
        /// exercised). Refused steps change nothing; accepted ones keep the timeline a valid
        /// chain (it restores to the same application); closed applications stay closed; the
        /// law's limit on integration requests holds; the clock always evaluates; a stopped clock
        /// never shows silence; constraints never let it mature.
        #[test]
        fn random_steps_keep_every_rule(
            code in proptest::sample::select(vec!["pdc", "scia", "scia-alternativa", "paesaggistica", "suolo-pubblico", "cila"]),
            large in any::<bool>(),
            constrained in any::<bool>(),
            steps in proptest::collection::vec(
                (proptest::bool::weighted(0.85), any::<u16>(), any_action(), any_actor(), 0_i64..(24 * 25)),
                1..50,
            ),
        ) {
            let procedure = builtin(code);
            let mut permit = Permit::new(procedure, large);
            if constrained {
                permit.set_constraints(vec![Constraint::Environmental]).unwrap();
            }
            let mut now = rome(date(2026, 3, 1), 8, 0);
            for (guided, pick, random_action, random_actor, hours) in steps {
                let choices = plausible(permit.status());
                let (action, actor) = if guided && !choices.is_empty() {
                    choices[usize::from(pick) % choices.len()]
                } else {
                    (random_action, random_actor)
                };
                now = now.checked_add(jiff::SignedDuration::from_hours(hours)).unwrap();
                let before = permit.clone();
                let step = Step::new(action, actor, now).with_protocol_number(ProtocolNumber::new(2026, 7).unwrap());
                match permit.apply(procedure, step) {
                    Err(_) => prop_assert_eq!(&permit, &before),
                    Ok(entry) => {
                        prop_assert!(!before.status().is_final());
                        prop_assert_eq!(entry.from, before.status());
                    }
                }
                let restored = Permit::restore(code, large, permit.constraints().to_vec(), permit.protocol_number(), permit.timeline().to_vec());
                prop_assert_eq!(restored.as_ref(), Ok(&permit));
                let requests = permit.timeline().iter().filter(|e| e.action == Action::RequestIntegration).count();
                if procedure.integration.effect != StopEffect::None {
                    prop_assert!(requests <= usize::from(procedure.integration.max_requests.unwrap_or(u8::MAX)));
                }
                let clock = permit.clock(procedure, now);
                prop_assert!(clock.is_ok(), "{:?}", clock);
                if let Ok(Some(clock)) = clock {
                    prop_assert!(!(clock.is_stopped() && clock.has_matured()));
                    let awaiting = permit.status() == Status::IntegrationRequested;
                    let holds = procedure.integration.effect == StopEffect::Interrupt
                        || (procedure.integration.effect == StopEffect::Suspend && procedure.integration.max_suspension_days.is_none());
                    if awaiting && holds {
                        prop_assert!(clock.is_stopped());
                    }
                    if constrained {
                        prop_assert!(!clock.has_matured());
                    }
                }
                if permit.status() == Status::TacitlyAccepted && permit.timeline().last().is_some_and(|e| e.to == Status::TacitlyAccepted && e.from != Status::TacitlyAccepted) {
                    prop_assert!(procedure.at_deadline != DeadlineEffect::NoSilentApproval);
                }
            }
        }

        /// `check` answers exactly as `apply` would (with a protocol number for a registration),
        /// for every action and actor, at every state a random walk reaches, at instants before,
        /// at and after its last entry, with and without an over-long note; without a protocol
        /// number, `apply` refuses only the registrations `check` lets through.
        #[test]
        fn check_agrees_with_apply(
            code in proptest::sample::select(vec!["pdc", "scia", "scia-alternativa", "paesaggistica", "suolo-pubblico", "cila", "agibilita"]),
            large in any::<bool>(),
            constrained in any::<bool>(),
            walk in proptest::collection::vec((any::<u16>(), 0_i64..(24 * 40), -30_i64..(24 * 120), proptest::bool::weighted(0.1)), 1..25),
        ) {
            let procedure = builtin(code);
            let mut permit = Permit::new(procedure, large);
            if constrained {
                permit.set_constraints(vec![Constraint::Landscape]).unwrap();
            }
            let number = ProtocolNumber::new(2026, 7).unwrap();
            let mut now = rome(date(2026, 3, 1), 8, 0);
            for (pick, hours, probe_hours, long_note) in walk {
                let probe = now.checked_add(jiff::SignedDuration::from_hours(probe_hours)).unwrap();
                for action in Action::ALL {
                    for actor in Actor::ALL {
                        let mut step = Step::new(action, actor, probe);
                        if long_note {
                            step = step.with_note(&"x".repeat(MAX_NOTE_CHARS + 1));
                        }
                        let checked = permit.check(procedure, &step);
                        let numbered = step.clone().with_protocol_number(number);
                        let applied = permit.clone().apply(procedure, numbered).map(drop);
                        prop_assert_eq!(&checked, &applied, "{} by {} in {}", action, actor, permit.status());
                        let bare = permit.clone().apply(procedure, step).map(drop);
                        if action == Action::Register && checked.is_ok() {
                            let missing = matches!(bare, Err(PermitsError::Transition { reason: TransitionDenied::MissingProtocolNumber, .. }));
                            prop_assert!(missing, "{:?}", bare);
                        } else {
                            prop_assert_eq!(&bare, &checked);
                        }
                    }
                }
                let choices = plausible(permit.status());
                if choices.is_empty() {
                    break;
                }
                let (action, actor) = choices[usize::from(pick) % choices.len()];
                now = now.checked_add(jiff::SignedDuration::from_hours(hours)).unwrap();
                let _ = permit.apply(procedure, Step::new(action, actor, now).with_protocol_number(number));
            }
        }
    }
}
