//! Clock arithmetic: from a procedure's rules and the timeline of an application, the current
//! deadline, the days left, whether the clock is stopped and whether its effect has matured.
//!
//! Terms are counted in Europe/Rome calendar days: the day of the triggering event is not
//! counted and the term ends with the whole of its last day (art. 2963 c.c.; art. 155 c.p.c.).
//! A term of N days started on day D therefore ends on D + N, and has run out from D + N + 1.
//! Terms are not extended when they end on a holiday (see docs/domain-rules.md).

use jiff::Timestamp;
use jiff::civil::Date;

use super::catalogue::{DeadlineEffect, DoublingFacts, Procedure, StopEffect};
use super::{PermitsError, TransitionDenied};
use crate::calendar;

/// Something that happened to an application's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockEventKind {
    /// The application was filed: the clock starts.
    Start,
    /// An integration request interrupts or suspends the clock.
    Stop,
    /// The requested documents arrived: the clock restarts or resumes.
    Resume,
    /// The office closed the current phase early (e.g. the proposal of a PdC).
    PhaseCompleted,
}

/// A clock event at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockEvent {
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: ClockEventKind,
}

/// Where an application's clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// The clock runs.
    Running {
        /// Index of the current phase in the procedure's phases.
        phase: usize,
        /// Last day of the current phase.
        phase_deadline: Date,
        /// Last day of the whole term.
        deadline: Date,
        /// Calendar days from today to the deadline: 0 on the last day.
        days_left: i64,
    },
    /// The clock is stopped by an integration request.
    Stopped {
        /// Day of the request.
        since: Date,
        /// For a suspension, the days the term will still have when it resumes; an
        /// interruption restarts it in full.
        days_left_on_resume: Option<i64>,
        /// The day the clock resumes by itself if nothing arrives (capped suspensions).
        resumes_by: Option<Date>,
    },
    /// The whole term has run out.
    Elapsed {
        /// Its last day.
        deadline: Date,
        /// Days since then (at least 1).
        days_overdue: i64,
        /// Whether the law gives the applicant its effect now: silent approval, or works may
        /// start; never where constraints apply.
        matured: bool,
    },
}

/// An application's clock as of an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockStatus {
    /// Where it stands.
    pub state: ClockState,
    /// What the law makes of it running out.
    pub effect: DeadlineEffect,
    /// Integration requests that stopped it so far.
    pub stops_used: u8,
}

impl ClockStatus {
    /// The last day of the term, while it is known (not while an interruption is pending).
    pub fn deadline(&self) -> Option<Date> {
        match self.state {
            ClockState::Running { deadline, .. } | ClockState::Elapsed { deadline, .. } => Some(deadline),
            ClockState::Stopped { .. } => None,
        }
    }

    /// Days left to the deadline (negative once overdue); `None` while stopped.
    pub fn days_left(&self) -> Option<i64> {
        match self.state {
            ClockState::Running { days_left, .. } => Some(days_left),
            ClockState::Elapsed { days_overdue, .. } => Some(-days_overdue),
            ClockState::Stopped { .. } => None,
        }
    }

    /// Whether an integration request holds the clock.
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, ClockState::Stopped { .. })
    }

    /// Whether the term has run out.
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, ClockState::Elapsed { .. })
    }

    /// Whether silent approval (or the permission to start works) has matured.
    pub fn has_matured(&self) -> bool {
        matches!(self.state, ClockState::Elapsed { matured: true, .. })
    }
}

/// The facts of an application that the clock depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockFacts {
    /// What makes terms double.
    pub doubling: DoublingFacts,
    /// Whether landscape, cultural, hydrogeological or environmental constraints apply: they
    /// rule out silent approval.
    pub constrained: bool,
}

/// Computes an application's clock as of `now` from its events (in time order; events after
/// `now` are ignored). `Ok(None)` when the procedure has no clock or the application has not
/// been filed. Events the rules forbid (a stop beyond the allowed number or window, a stop
/// after the term ran out, a resume without a stop…) are errors naming the reason.
pub fn evaluate(
    procedure: &Procedure,
    facts: ClockFacts,
    events: &[ClockEvent],
    now: Timestamp,
) -> Result<Option<ClockStatus>, PermitsError> {
    if !procedure.has_clock() {
        return Ok(None);
    }
    let mut clock: Option<Clock> = None;
    let mut previous: Option<Timestamp> = None;
    for event in events.iter().take_while(|e| e.at <= now) {
        if previous.is_some_and(|p| event.at < p) {
            return Err(PermitsError::ClockEventsOutOfOrder);
        }
        previous = Some(event.at);
        let day = calendar::rome_date(event.at);
        match (&mut clock, event.kind) {
            (None, ClockEventKind::Start) => clock = Some(Clock::start(procedure, facts, day)?),
            (None, _) => return Err(denied(event.kind, TransitionDenied::ClockNotStarted)),
            (Some(_), ClockEventKind::Start) => {
                return Err(denied(event.kind, TransitionDenied::AlreadyFiled));
            }
            (Some(running), kind) => running.apply(kind, day)?,
        }
    }
    let Some(mut clock) = clock else {
        return Ok(None);
    };
    clock.status(calendar::rome_date(now)).map(Some)
}

fn denied(kind: ClockEventKind, reason: TransitionDenied) -> PermitsError {
    PermitsError::Clock { event: kind, reason }
}

fn overflow() -> PermitsError {
    PermitsError::DateOutOfRange
}

/// The running computation.
struct Clock<'a> {
    procedure: &'a Procedure,
    facts: ClockFacts,
    /// Day of the filing: integration windows count from it.
    filed: Date,
    phase: usize,
    /// Last day of the current phase.
    phase_end: Date,
    /// Pending stop: the day it began and, for suspensions, the days left in the phase.
    stopped: Option<(Date, Option<i64>)>,
    stops_used: u8,
    /// A capped suspension resumed by itself and its receipt has not arrived yet.
    auto_resumed: bool,
}

impl<'a> Clock<'a> {
    fn start(procedure: &'a Procedure, facts: ClockFacts, day: Date) -> Result<Self, PermitsError> {
        let first = procedure.phases[0].days_for(facts.doubling);
        Ok(Self {
            procedure,
            facts,
            filed: day,
            phase: 0,
            phase_end: calendar::add_days(day, first).ok_or_else(overflow)?,
            stopped: None,
            stops_used: 0,
            auto_resumed: false,
        })
    }

    fn phase_days(&self, phase: usize) -> i64 {
        self.procedure.phases[phase].days_for(self.facts.doubling)
    }

    /// Moves into later phases while `day` is past the current one: a phase that runs out
    /// hands over to the next on its last day.
    fn advance(&mut self, day: Date) -> Result<(), PermitsError> {
        while day > self.phase_end && self.phase + 1 < self.procedure.phases.len() {
            self.phase += 1;
            self.phase_end =
                calendar::add_days(self.phase_end, self.phase_days(self.phase)).ok_or_else(overflow)?;
        }
        Ok(())
    }

    /// Last day of the whole term, from the current phase on.
    fn deadline(&self) -> Result<Date, PermitsError> {
        let rest: i64 = (self.phase + 1..self.procedure.phases.len())
            .map(|p| self.phase_days(p))
            .sum();
        calendar::add_days(self.phase_end, rest).ok_or_else(overflow)
    }

    /// Resumes a capped suspension by itself once its longest duration has passed by `day`.
    fn auto_resume(&mut self, day: Date) -> Result<(), PermitsError> {
        if let (Some((since, Some(left))), Some(max)) =
            (self.stopped, self.procedure.integration.max_suspension_days)
        {
            let resumes = calendar::add_days(since, i64::from(max)).ok_or_else(overflow)?;
            if day > resumes {
                self.phase_end = calendar::add_days(resumes, left).ok_or_else(overflow)?;
                self.stopped = None;
                self.auto_resumed = true;
            }
        }
        Ok(())
    }

    fn apply(&mut self, kind: ClockEventKind, day: Date) -> Result<(), PermitsError> {
        let rule = &self.procedure.integration;
        match kind {
            ClockEventKind::Start => Err(denied(kind, TransitionDenied::AlreadyFiled)),
            ClockEventKind::Stop => {
                self.auto_resume(day)?;
                if rule.effect == StopEffect::None {
                    return Err(denied(kind, TransitionDenied::NoClockEffect));
                }
                if self.stopped.is_some() {
                    return Err(denied(kind, TransitionDenied::ClockStopped));
                }
                if let Some(max) = rule.max_requests
                    && self.stops_used >= max
                {
                    return Err(denied(kind, TransitionDenied::IntegrationLimitReached { max }));
                }
                self.advance(day)?;
                if day > self.deadline()? {
                    return Err(denied(kind, TransitionDenied::ClockElapsed));
                }
                if let Some(window) = rule.window_for(self.facts.doubling) {
                    let last_day = calendar::add_days(self.filed, window).ok_or_else(overflow)?;
                    if day > last_day {
                        return Err(denied(
                            kind,
                            TransitionDenied::IntegrationWindowClosed { last_day },
                        ));
                    }
                }
                self.stops_used += 1;
                self.auto_resumed = false;
                let left = match rule.effect {
                    StopEffect::Suspend => Some(calendar::days_between(day, self.phase_end)),
                    _ => None,
                };
                self.stopped = Some((day, left));
                Ok(())
            }
            ClockEventKind::Resume => {
                self.auto_resume(day)?;
                let auto_resumed = std::mem::take(&mut self.auto_resumed);
                match self.stopped.take() {
                    // Interruption: the term of the first phase starts again, in full.
                    Some((_, None)) => {
                        self.phase = 0;
                        self.phase_end = calendar::add_days(day, self.phase_days(0)).ok_or_else(overflow)?;
                    }
                    // Suspension: the days left continue from the receipt.
                    Some((_, Some(left))) => {
                        self.phase_end = calendar::add_days(day, left).ok_or_else(overflow)?;
                    }
                    // A capped suspension that resumed by itself: its late receipt changes nothing.
                    None if auto_resumed => {}
                    None => return Err(denied(kind, TransitionDenied::ClockNotStopped)),
                }
                Ok(())
            }
            ClockEventKind::PhaseCompleted => {
                self.auto_resume(day)?;
                if self.stopped.is_some() {
                    return Err(denied(kind, TransitionDenied::ClockStopped));
                }
                self.advance(day)?;
                if day > self.deadline()? {
                    return Err(denied(kind, TransitionDenied::ClockElapsed));
                }
                if self.phase + 1 >= self.procedure.phases.len() {
                    return Err(denied(kind, TransitionDenied::NoFurtherPhase));
                }
                self.phase += 1;
                // The next phase counts from the day the previous one was completed.
                self.phase_end = calendar::add_days(day, self.phase_days(self.phase)).ok_or_else(overflow)?;
                Ok(())
            }
        }
    }

    fn status(&mut self, today: Date) -> Result<ClockStatus, PermitsError> {
        self.auto_resume(today)?;
        let effect = self.procedure.at_deadline;
        let state = if let Some((since, left)) = self.stopped {
            let rest: i64 = (self.phase + 1..self.procedure.phases.len())
                .map(|p| self.phase_days(p))
                .sum();
            let resumes_by = match (left, self.procedure.integration.max_suspension_days) {
                (Some(_), Some(max)) => Some(calendar::add_days(since, i64::from(max)).ok_or_else(overflow)?),
                _ => None,
            };
            ClockState::Stopped {
                since,
                days_left_on_resume: left.map(|l| l + rest),
                resumes_by,
            }
        } else {
            self.advance(today)?;
            let deadline = self.deadline()?;
            if today <= deadline {
                ClockState::Running {
                    phase: self.phase,
                    phase_deadline: self.phase_end,
                    deadline,
                    days_left: calendar::days_between(today, deadline),
                }
            } else {
                ClockState::Elapsed {
                    deadline,
                    days_overdue: calendar::days_between(deadline, today),
                    matured: effect.grants() && !self.facts.constrained,
                }
            }
        };
        Ok(ClockStatus {
            state,
            effect,
            stops_used: self.stops_used,
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{DateTime, date};
    use proptest::prelude::*;

    use super::super::Catalogue;
    use super::*;
    use crate::calendar::ROME;

    fn procedure(code: &str) -> &'static Procedure {
        Catalogue::builtin().procedure(code).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Noon in Rome on `day`.
    fn noon(day: Date) -> Timestamp {
        day.at(12, 0, 0, 0)
            .to_zoned_datetime(ROME.clone())
            .unwrap()
            .timestamp()
    }

    fn event(kind: ClockEventKind, day: Date) -> ClockEvent {
        ClockEvent { at: noon(day), kind }
    }

    fn start(day: Date) -> ClockEvent {
        event(ClockEventKind::Start, day)
    }

    fn stop(day: Date) -> ClockEvent {
        event(ClockEventKind::Stop, day)
    }

    fn resume(day: Date) -> ClockEvent {
        event(ClockEventKind::Resume, day)
    }

    fn status(code: &str, facts: ClockFacts, events: &[ClockEvent], now: Timestamp) -> ClockStatus {
        evaluate(procedure(code), facts, events, now).unwrap().unwrap()
    }

    fn refused(code: &str, events: &[ClockEvent]) -> TransitionDenied {
        let now = events.last().unwrap().at;
        match evaluate(procedure(code), ClockFacts::default(), events, now) {
            Err(PermitsError::Clock { reason, .. }) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_pdc_runs_60_plus_30_days_from_the_day_after_filing() {
        let events = [start(date(2026, 3, 10))];
        let s = status("pdc", ClockFacts::default(), &events, noon(date(2026, 3, 10)));
        assert_eq!(
            s.state,
            ClockState::Running {
                phase: 0,
                phase_deadline: date(2026, 5, 9),
                deadline: date(2026, 6, 8),
                days_left: 90
            }
        );
        assert_eq!(s.effect, DeadlineEffect::SilentApproval);
        // The review phase hands over to the decision phase after its last day.
        let s = status("pdc", ClockFacts::default(), &events, noon(date(2026, 5, 10)));
        assert!(
            matches!(s.state, ClockState::Running { phase: 1, phase_deadline, .. } if phase_deadline == date(2026, 6, 8))
        );
        assert_eq!(
            status("pdc", ClockFacts::default(), &events, noon(date(2026, 6, 8))).days_left(),
            Some(0)
        );
        let s = status("pdc", ClockFacts::default(), &events, noon(date(2026, 6, 9)));
        assert_eq!(
            s.state,
            ClockState::Elapsed {
                deadline: date(2026, 6, 8),
                days_overdue: 1,
                matured: true
            }
        );
        assert!(s.has_matured());
    }

    #[test]
    fn complex_projects_double_the_review_and_the_interruption_window() {
        let complex = ClockFacts {
            doubling: DoublingFacts {
                complex_project: true,
                ..DoublingFacts::default()
            },
            constrained: false,
        };
        let events = [start(date(2026, 3, 10))];
        assert_eq!(
            status("pdc", complex, &events, noon(date(2026, 3, 10))).deadline(),
            Some(date(2026, 8, 7))
        );
        // Day 45: too late for a small project, allowed for a complex one.
        let late = [start(date(2026, 3, 10)), stop(date(2026, 4, 24))];
        assert_eq!(
            refused("pdc", &late),
            TransitionDenied::IntegrationWindowClosed {
                last_day: date(2026, 4, 9)
            }
        );
        assert!(status("pdc", complex, &late, noon(date(2026, 4, 24))).is_stopped());
    }

    #[test]
    fn the_filing_day_is_the_rome_day_across_dst_changes() {
        // 23:30 CET on Saturday 28 March and 00:30 CEST on Sunday 29 March 2026.
        let saturday = [ClockEvent {
            at: at("2026-03-28T22:30:00Z"),
            kind: ClockEventKind::Start,
        }];
        let sunday = [ClockEvent {
            at: at("2026-03-28T23:30:00Z"),
            kind: ClockEventKind::Start,
        }];
        let later = at("2026-04-01T10:00:00Z");
        assert_eq!(
            status("scia", ClockFacts::default(), &saturday, later).deadline(),
            Some(date(2026, 4, 27))
        );
        assert_eq!(
            status("scia", ClockFacts::default(), &sunday, later).deadline(),
            Some(date(2026, 4, 28))
        );
        // The same around the end of summer time on 25 October.
        let before = [ClockEvent {
            at: at("2026-10-24T21:30:00Z"),
            kind: ClockEventKind::Start,
        }];
        let after = [ClockEvent {
            at: at("2026-10-24T22:30:00Z"),
            kind: ClockEventKind::Start,
        }];
        assert_eq!(
            status("scia", ClockFacts::default(), &before, at("2026-10-26T00:00:00Z")).deadline(),
            Some(date(2026, 11, 23))
        );
        assert_eq!(
            status("scia", ClockFacts::default(), &after, at("2026-10-26T00:00:00Z")).deadline(),
            Some(date(2026, 11, 24))
        );
    }

    #[test]
    fn the_last_day_ends_at_rome_midnight_whatever_the_offset() {
        // Filed 10 October (CEST), checks end 9 November (CET): the deadline is 9 November
        // until 23:59:59 in Rome, 22:59:59 UTC.
        let events = [start(date(2026, 10, 10))];
        let s = status("scia", ClockFacts::default(), &events, at("2026-11-09T22:59:59Z"));
        assert_eq!(s.deadline(), Some(date(2026, 11, 9)));
        assert_eq!(s.days_left(), Some(0));
        let s = status("scia", ClockFacts::default(), &events, at("2026-11-09T23:00:00Z"));
        assert!(s.is_elapsed());
        // SCIA checks ending do not grant anything: nothing matures.
        assert!(!s.has_matured());
        // And across the October change itself: 24 → 26 October is two days.
        let s = status("scia", ClockFacts::default(), &events, at("2026-10-24T12:00:00Z"));
        let t = status("scia", ClockFacts::default(), &events, at("2026-10-26T12:00:00Z"));
        assert_eq!(s.days_left().unwrap() - t.days_left().unwrap(), 2);
    }

    #[test]
    fn an_early_proposal_starts_the_decision_phase() {
        let events = [
            start(date(2026, 3, 10)),
            event(ClockEventKind::PhaseCompleted, date(2026, 4, 1)),
        ];
        let s = status("pdc", ClockFacts::default(), &events, noon(date(2026, 4, 2)));
        assert_eq!(
            s.state,
            ClockState::Running {
                phase: 1,
                phase_deadline: date(2026, 5, 1),
                deadline: date(2026, 5, 1),
                days_left: 29
            }
        );
        // The decision is the last phase: it cannot be "completed", only decided.
        let events = [
            start(date(2026, 3, 10)),
            event(ClockEventKind::PhaseCompleted, date(2026, 4, 1)),
            event(ClockEventKind::PhaseCompleted, date(2026, 4, 2)),
        ];
        assert_eq!(refused("pdc", &events), TransitionDenied::NoFurtherPhase);
    }

    #[test]
    fn an_interruption_restarts_the_term_in_full() {
        let events = [start(date(2026, 3, 10)), stop(date(2026, 3, 30))];
        let s = status("pdc", ClockFacts::default(), &events, noon(date(2026, 4, 10)));
        assert_eq!(
            s.state,
            ClockState::Stopped {
                since: date(2026, 3, 30),
                days_left_on_resume: None,
                resumes_by: None
            }
        );
        assert_eq!((s.deadline(), s.days_left(), s.stops_used), (None, None, 1));
        let events = [
            start(date(2026, 3, 10)),
            stop(date(2026, 3, 30)),
            resume(date(2026, 4, 20)),
        ];
        assert_eq!(
            status("pdc", ClockFacts::default(), &events, noon(date(2026, 4, 20))).deadline(),
            Some(date(2026, 7, 19))
        );
    }

    #[test]
    fn a_suspension_resumes_with_the_days_left() {
        // Landscape: 40 + 45 + 20 = 105 days; suspended on day 20 of the first phase.
        let events = [start(date(2026, 4, 1)), stop(date(2026, 4, 21))];
        assert_eq!(
            status(
                "paesaggistica",
                ClockFacts::default(),
                &events[..1],
                noon(date(2026, 4, 1))
            )
            .deadline(),
            Some(date(2026, 7, 15))
        );
        let s = status(
            "paesaggistica",
            ClockFacts::default(),
            &events,
            noon(date(2026, 5, 1)),
        );
        assert_eq!(
            s.state,
            ClockState::Stopped {
                since: date(2026, 4, 21),
                days_left_on_resume: Some(85),
                resumes_by: None
            }
        );
        let events = [
            start(date(2026, 4, 1)),
            stop(date(2026, 4, 21)),
            resume(date(2026, 5, 11)),
        ];
        let s = status(
            "paesaggistica",
            ClockFacts::default(),
            &events,
            noon(date(2026, 5, 11)),
        );
        // Twenty days of suspension move the deadline by twenty days.
        assert_eq!(s.deadline(), Some(date(2026, 8, 4)));
        assert_eq!(s.days_left(), Some(85));
        let s = status(
            "paesaggistica",
            ClockFacts::default(),
            &events,
            noon(date(2026, 8, 5)),
        );
        assert_eq!(
            s.state,
            ClockState::Elapsed {
                deadline: date(2026, 8, 4),
                days_overdue: 1,
                matured: false
            }
        );
    }

    #[test]
    fn a_capped_suspension_resumes_by_itself() {
        // Public land: 30 days, suspended at most 30 days (L. 241/1990 art. 2 c. 7).
        let events = [start(date(2026, 5, 1)), stop(date(2026, 5, 11))];
        let s = status(
            "suolo-pubblico",
            ClockFacts::default(),
            &events,
            noon(date(2026, 6, 10)),
        );
        assert_eq!(
            s.state,
            ClockState::Stopped {
                since: date(2026, 5, 11),
                days_left_on_resume: Some(20),
                resumes_by: Some(date(2026, 6, 10))
            }
        );
        let s = status(
            "suolo-pubblico",
            ClockFacts::default(),
            &events,
            noon(date(2026, 6, 11)),
        );
        assert_eq!(s.deadline(), Some(date(2026, 6, 30)));
        // A late receipt changes nothing; an early one resumes at once.
        let late = [
            start(date(2026, 5, 1)),
            stop(date(2026, 5, 11)),
            resume(date(2026, 6, 15)),
        ];
        assert_eq!(
            status(
                "suolo-pubblico",
                ClockFacts::default(),
                &late,
                noon(date(2026, 6, 15))
            )
            .deadline(),
            Some(date(2026, 6, 30))
        );
        let early = [
            start(date(2026, 5, 1)),
            stop(date(2026, 5, 11)),
            resume(date(2026, 5, 20)),
        ];
        assert_eq!(
            status(
                "suolo-pubblico",
                ClockFacts::default(),
                &early,
                noon(date(2026, 5, 20))
            )
            .deadline(),
            Some(date(2026, 6, 9))
        );
    }

    #[test]
    fn constraints_rule_out_silent_approval() {
        let constrained = ClockFacts {
            constrained: true,
            ..ClockFacts::default()
        };
        let events = [start(date(2026, 3, 10))];
        let s = status("pdc", constrained, &events, noon(date(2026, 7, 1)));
        assert!(s.is_elapsed() && !s.has_matured());
        let s = status("scia-alternativa", constrained, &events, noon(date(2026, 7, 1)));
        assert!(s.is_elapsed() && !s.has_matured());
        assert!(
            status(
                "scia-alternativa",
                ClockFacts::default(),
                &events,
                noon(date(2026, 7, 1))
            )
            .has_matured()
        );
    }

    #[test]
    fn events_the_rules_forbid_are_refused() {
        let d = |day| date(2026, 3, day);
        assert_eq!(refused("pdc", &[stop(d(1))]), TransitionDenied::ClockNotStarted);
        assert_eq!(
            refused("pdc", &[start(d(1)), start(d(2))]),
            TransitionDenied::AlreadyFiled
        );
        assert_eq!(
            refused("pdc", &[start(d(1)), resume(d(2))]),
            TransitionDenied::ClockNotStopped
        );
        assert_eq!(
            refused("pdc", &[start(d(1)), stop(d(2)), resume(d(3)), stop(d(4))]),
            TransitionDenied::IntegrationLimitReached { max: 1 }
        );
        assert_eq!(
            refused(
                "pdc",
                &[
                    start(d(1)),
                    stop(d(2)),
                    event(ClockEventKind::PhaseCompleted, d(3))
                ]
            ),
            TransitionDenied::ClockStopped
        );
        assert_eq!(
            refused("scia-alternativa", &[start(d(1)), stop(d(2))]),
            TransitionDenied::NoClockEffect
        );
        assert_eq!(
            refused("suolo-pubblico", &[start(d(1)), stop(date(2026, 4, 1))]),
            TransitionDenied::ClockElapsed
        );
        assert_eq!(
            evaluate(
                procedure("pdc"),
                ClockFacts::default(),
                &[start(d(2)), stop(d(1))],
                noon(d(3))
            ),
            Err(PermitsError::ClockEventsOutOfOrder)
        );
        // A second stop while stopped, where the rules allow several requests.
        let several = Catalogue::builtin_with(
            "[[procedure]]\ncode = \"paesaggistica\"\nintegration = { effect = \"suspend\", max_requests = 2 }",
        )
        .unwrap();
        let result = evaluate(
            several.procedure("paesaggistica").unwrap(),
            ClockFacts::default(),
            &[start(d(1)), stop(d(2)), stop(d(3))],
            noon(d(3)),
        );
        assert!(matches!(
            result,
            Err(PermitsError::Clock {
                reason: TransitionDenied::ClockStopped,
                ..
            })
        ));
    }

    #[test]
    fn no_clock_before_filing_or_without_phases() {
        assert_eq!(
            evaluate(
                procedure("pdc"),
                ClockFacts::default(),
                &[],
                noon(date(2026, 3, 1))
            ),
            Ok(None)
        );
        assert_eq!(
            evaluate(
                procedure("cila"),
                ClockFacts::default(),
                &[start(date(2026, 3, 1))],
                noon(date(2026, 3, 1))
            ),
            Ok(None)
        );
        // Events after `now` are not yet known.
        let events = [start(date(2026, 3, 10)), stop(date(2026, 3, 30))];
        assert!(!status("pdc", ClockFacts::default(), &events, noon(date(2026, 3, 29))).is_stopped());
        assert_eq!(
            evaluate(
                procedure("pdc"),
                ClockFacts::default(),
                &events,
                noon(date(2026, 3, 9))
            ),
            Ok(None)
        );
    }

    /// Instants at a Rome wall-clock time on a day of 2026-2027, so that shifting the day keeps
    /// the wall-clock time (shifting instants by 24 h would not, across DST changes).
    fn rome_instant(day: Date, minute_of_day: i32) -> Timestamp {
        let hour = i8::try_from(minute_of_day / 60).unwrap();
        let minute = i8::try_from(minute_of_day % 60).unwrap();
        DateTime::from_parts(day, jiff::civil::time(hour, minute, 0, 0))
            .to_zoned_datetime(ROME.clone())
            .unwrap()
            .timestamp()
    }

    fn day_of(offset: i64) -> Date {
        calendar::add_days(date(2026, 1, 1), offset).unwrap()
    }

    fn clock_procedure() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "pdc",
            "scia",
            "paesaggistica",
            "suolo-pubblico",
            "passo-carrabile",
        ])
    }

    /// Start, then (optionally) a stop within the first days and a later resume.
    fn deadline_after(
        code: &str,
        start_day: i64,
        stop_after: i64,
        resume_after: i64,
        minutes: i32,
    ) -> Option<Date> {
        let start_day = day_of(start_day);
        let stop_day = calendar::add_days(start_day, stop_after).unwrap();
        let resume_day = calendar::add_days(stop_day, resume_after).unwrap();
        let events = [
            ClockEvent {
                at: rome_instant(start_day, minutes),
                kind: ClockEventKind::Start,
            },
            ClockEvent {
                at: rome_instant(stop_day, minutes),
                kind: ClockEventKind::Stop,
            },
            ClockEvent {
                at: rome_instant(resume_day, minutes),
                kind: ClockEventKind::Resume,
            },
        ];
        evaluate(
            procedure(code),
            ClockFacts::default(),
            &events,
            rome_instant(resume_day, minutes),
        )
        .unwrap()
        .unwrap()
        .deadline()
    }

    proptest! {
        /// Moving every event by k days moves the deadline by exactly k days, at any time of day
        /// and across DST changes.
        #[test]
        fn deadlines_move_with_the_events(
            code in clock_procedure(),
            start_day in 0_i64..600,
            stop_after in 0_i64..=20,
            resume_after in 0_i64..=60,
            shift in 1_i64..=200,
            minutes in 0_i32..1440,
        ) {
            let base = deadline_after(code, start_day, stop_after, resume_after, minutes).unwrap();
            let shifted = deadline_after(code, start_day + shift, stop_after, resume_after, minutes).unwrap();
            prop_assert_eq!(calendar::days_between(base, shifted), shift);
        }

        /// A later receipt of the documents never brings the deadline forward, nor does a later
        /// filing with the same stop day.
        #[test]
        fn deadlines_are_monotone_in_the_input_dates(
            code in clock_procedure(),
            start_day in 0_i64..600,
            stop_after in 1_i64..=20,
            resume_after in 0_i64..=60,
            delay in 0_i64..=60,
            minutes in 0_i32..1440,
        ) {
            let base = deadline_after(code, start_day, stop_after, resume_after, minutes).unwrap();
            let later_receipt = deadline_after(code, start_day, stop_after, resume_after + delay, minutes).unwrap();
            prop_assert!(later_receipt >= base);
            // Filing one day later, stopping on the same day.
            let later_filing = deadline_after(code, start_day + 1, stop_after - 1, resume_after, minutes).unwrap();
            prop_assert!(later_filing >= base);
        }

        /// While documents are awaited, an interruption or an uncapped suspension never lets the
        /// term run out, however long the wait.
        #[test]
        fn a_stopped_clock_never_reaches_silence(
            code in proptest::sample::select(vec!["pdc", "scia", "paesaggistica"]),
            start_day in 0_i64..600,
            stop_after in 0_i64..=30,
            wait in 0_i64..2000,
            constrained in any::<bool>(),
            complex in any::<bool>(),
        ) {
            let facts = ClockFacts {
                doubling: DoublingFacts { large_municipality: true, complex_project: complex },
                constrained,
            };
            let start_day = day_of(start_day);
            let stop_day = calendar::add_days(start_day, stop_after).unwrap();
            let events = [start(start_day), stop(stop_day)];
            let now = noon(calendar::add_days(stop_day, wait).unwrap());
            let status = evaluate(procedure(code), facts, &events, now).unwrap().unwrap();
            prop_assert!(status.is_stopped());
            prop_assert!(!status.has_matured() && !status.is_elapsed());
        }
    }
}
