//! Inbox messages about applications, in Italian (the default) or English: what happened,
//! why, and what comes next.

use std::fmt::Write as _;

use sportello_core::permits::{Action, DeadlineEffect, Status, TimelineEntry};

use super::Loaded;
use super::fees::FeeNotice;

fn english(language: &str) -> bool {
    language.get(..2).is_some_and(|l| l.eq_ignore_ascii_case("en"))
}

/// How the application is called in a message: its protocol number once it has one.
fn reference(loaded: &Loaded, en: bool) -> String {
    let name = loaded.procedure.name.get(if en { "en" } else { "it" });
    match (loaded.row.protocol_year, loaded.row.protocol_number) {
        (Some(year), Some(number)) if en => format!("{name}, file {year}/{number:07}"),
        (Some(year), Some(number)) => format!("{name}, prot. {year}/{number:07}"),
        _ => name.to_owned(),
    }
}

/// Subject and markdown body of the message to the applicant about `entry`.
pub(crate) fn transition(language: &str, loaded: &Loaded, entry: &TimelineEntry) -> (String, String) {
    let en = english(language);
    let silent = loaded.procedure.at_deadline == DeadlineEffect::SilentApproval;
    let (it_text, en_text) = match (entry.action, entry.to) {
        (Action::Submit, Status::AwaitingPayment) => (
            "Domanda inviata: per presentarla paga i diritti dovuti",
            "Application sent: pay the fees due to file it",
        ),
        (Action::Submit, _) | (Action::ConfirmPayment, Status::Submitted) => {
            ("Domanda presentata", "Application filed")
        }
        (Action::ConfirmPayment, _) => ("Pagamento registrato", "Payment recorded"),
        (Action::Register, _) => ("Pratica protocollata", "Application registered"),
        (Action::StartReview, _) => ("Istruttoria avviata", "Review started"),
        (Action::RequestIntegration, _) => (
            "Integrazione richiesta: carica i documenti mancanti",
            "Documents requested: upload what is missing",
        ),
        (Action::SubmitIntegration, _) => ("Integrazione ricevuta", "Documents received"),
        (Action::CompletePhase, _) => ("Fase istruttoria conclusa", "Review phase completed"),
        (Action::DeclareComplexProject, _) => (
            "Progetto dichiarato particolarmente complesso: i termini raddoppiano",
            "Project declared particularly complex: the terms double",
        ),
        (Action::Accept, Status::AwaitingIssuePayment) => (
            "Pratica accolta: paga i diritti per il rilascio",
            "Application approved: pay the fees for the issue",
        ),
        (Action::Accept, _) => ("Pratica accolta", "Application approved"),
        (Action::Reject, _) => ("Pratica respinta", "Application rejected"),
        (Action::Withdraw, _) => ("Pratica ritirata", "Application withdrawn"),
        (Action::Cancel, _) => ("Pratica annullata", "Application cancelled"),
        (Action::Mature, _) if silent => (
            "Silenzio-assenso: il titolo si è formato",
            "Silent approval: the permit has formed",
        ),
        (Action::Mature, _) if loaded.procedure.at_deadline == DeadlineEffect::WorksMayStart => (
            "Termine decorso: i lavori possono iniziare",
            "Term elapsed: works may start",
        ),
        (Action::Mature, _) => (
            "Controlli conclusi: il titolo resta efficace",
            "Checks over: the title stays effective",
        ),
    };
    let what = if en { en_text } else { it_text };
    let subject = format!("{}: {what}", reference(loaded, en));
    let mut body = format!("**{what}**\n\n{}.", reference(loaded, en));
    if let Some(note) = &entry.note {
        body.push_str(if en { "\n\nReason: " } else { "\n\nMotivazione: " });
        body.push_str(note);
    }
    if !entry.to.is_final()
        && let Some(deadline) = &loaded.row.deadline
    {
        let _ = if en {
            write!(body, "\n\nThe legal term ends on {deadline}.")
        } else {
            write!(body, "\n\nIl termine di legge scade il {deadline}.")
        };
    }
    (subject.chars().take(120).collect(), body)
}

/// The paragraph about fees due: the pagoPA notice to pay, or the counter when there is none.
pub(crate) fn fee_notice(language: &str, cents: i64, notice: Option<&FeeNotice>) -> String {
    let en = english(language);
    let euros = format!("{},{:02}", cents / 100, cents % 100);
    let printed = notice.map(|n| {
        sportello_core::payments::NoticeNumber::parse(&n.notice_number)
            .map_or_else(|_| n.notice_number.clone(), |number| number.printed())
    });
    match (printed, en) {
        (Some(number), false) => {
            format!("\n\nImporto: € {euros}, avviso pagoPA n. {number}. Lo trovi nella sezione Pagamenti.")
        }
        (Some(number), true) => {
            format!("\n\nAmount: € {euros}, pagoPA notice no. {number}. You will find it under Payments.")
        }
        (None, false) => format!("\n\nImporto: € {euros}, da pagare presso l'ufficio del Comune."),
        (None, true) => format!("\n\nAmount: € {euros}, to be paid at the municipality's office."),
    }
}

/// Subject and body of a deadline warning to an officer.
pub(crate) fn warning(
    language: &str,
    loaded: &Loaded,
    kind: &str,
    deadline: &str,
    days_left: i64,
) -> (String, String) {
    let en = english(language);
    let what = match (kind, en) {
        ("overdue", false) => format!("termine scaduto il {deadline} ({} giorni fa)", -days_left),
        ("overdue", true) => format!("term ended on {deadline} ({} days ago)", -days_left),
        (_, false) if days_left == 0 => format!("il termine scade oggi ({deadline})"),
        (_, true) if days_left == 0 => format!("the term ends today ({deadline})"),
        (_, false) => format!("il termine scade il {deadline} (tra {days_left} giorni)"),
        (_, true) => format!("the term ends on {deadline} (in {days_left} days)"),
    };
    let subject = format!("{}: {what}", reference(loaded, en));
    let body = format!(
        "**{what}**\n\n{}{}",
        reference(loaded, en),
        loaded
            .row
            .address
            .as_deref()
            .map(|a| format!(" — {a}"))
            .unwrap_or_default()
    );
    (subject.chars().take(120).collect(), body)
}
