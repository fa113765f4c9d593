//! The permits context's errors and the problems they become.

use axum::http::StatusCode;
use sportello_core::permits::PermitsError;

use crate::http::problem::{ApiError, Message};
use crate::pagination::PageError;
use crate::upload::UploadError;

/// Why a permits request is refused.
#[derive(Debug, thiserror::Error)]
pub enum PermitError {
    /// No such application, or not one the caller may see.
    #[error("permit not found")]
    NotFound,
    /// No such document on the application.
    #[error("document not found")]
    DocumentNotFound,
    /// Not an operator of that municipality's permits office.
    #[error("forbidden")]
    Forbidden,
    /// Bad input in one field.
    #[error("{field}: {en}")]
    Invalid { field: String, it: String, en: String },
    /// What is missing before submitting: (field, Italian, English).
    #[error("incomplete application")]
    Incomplete(Vec<(String, String, String)>),
    /// The rules refuse the action (core's reason).
    #[error(transparent)]
    Rule(#[from] PermitsError),
    /// Documents can no longer be added.
    #[error("documents cannot be added in status {0}")]
    DocumentsClosed(String),
    /// A document over the per-document limit (bytes).
    #[error("document over {0} bytes")]
    DocumentTooLarge(u64),
    /// The application's documents together over the limit (bytes).
    #[error("documents over {0} bytes in total")]
    PermitTooLarge(u64),
    /// Not a PDF, P7M, JPEG or PNG, or not what its name says.
    #[error("unsupported document type")]
    UnsupportedDocument,
    /// A cursor or page size the lists refuse.
    #[error(transparent)]
    Page(#[from] PageError),
    /// A stored document missing, or not the bytes recorded at upload.
    #[error("document damaged: {0}")]
    DocumentDamaged(String),
    /// A stored document or timeline that does not check out.
    #[error("integrity: {0}")]
    Integrity(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

pub(crate) fn invalid(field: &str, it: impl Into<String>, en: impl Into<String>) -> PermitError {
    PermitError::Invalid {
        field: field.to_owned(),
        it: it.into(),
        en: en.into(),
    }
}

/// A stored instant outside the calendar: a corrupt row.
pub(crate) fn bad_instant(ms: i64) -> PermitError {
    PermitError::Integrity(format!("instant {ms} ms is outside the calendar"))
}

/// A document upload refused while streaming. Past the size limit is a document too large
/// (413 `document-too-large`); the service turns it into `documents-too-large` when the limit
/// was the room left on the application.
impl From<UploadError> for PermitError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::TooLarge(max) => PermitError::DocumentTooLarge(max),
            UploadError::Refused => PermitError::UnsupportedDocument,
            UploadError::Empty => invalid("body", "Il documento è vuoto.", "The document is empty."),
            UploadError::Interrupted(cause) => invalid(
                "body",
                format!("Caricamento interrotto: {cause}"),
                format!("Upload interrupted: {cause}"),
            ),
            UploadError::Io(error) => PermitError::Internal(error.to_string()),
        }
    }
}

/// Why core refuses an action, in Italian (core's `Display` is the English).
fn denied_it(reason: sportello_core::permits::TransitionDenied) -> String {
    use sportello_core::permits::TransitionDenied as D;
    match reason {
        D::Closed => "la pratica è chiusa".to_owned(),
        D::NotAllowedFor(actor) => format!(
            "il ruolo «{}» non può compiere questa azione",
            match actor {
                sportello_core::permits::Actor::Applicant => "richiedente",
                sportello_core::permits::Actor::Professional => "professionista",
                sportello_core::permits::Actor::Operator => "funzionario",
                sportello_core::permits::Actor::System => "sistema",
            }
        ),
        D::NotInStatus => "non è possibile in questo stato".to_owned(),
        D::ClockNotStarted => "la pratica non è ancora stata presentata".to_owned(),
        D::AlreadyFiled => "la pratica è già stata presentata".to_owned(),
        D::NoClockEffect => {
            "le richieste di integrazione non sospendono i termini di questa procedura".to_owned()
        }
        D::ClockStopped => "i termini sono sospesi da una richiesta di integrazione in corso".to_owned(),
        D::ClockNotStopped => "non c'è alcuna richiesta di integrazione in corso".to_owned(),
        D::ClockElapsed => "il termine di legge è già scaduto".to_owned(),
        D::IntegrationWindowClosed { last_day } => {
            format!("le richieste di integrazione erano possibili fino al {last_day}")
        }
        D::IntegrationLimitReached { max } => {
            format!("la legge consente al massimo {max} richiesta/e di integrazione per questa procedura")
        }
        D::NoFurtherPhase => "la fase corrente è l'ultima: accogliere o respingere".to_owned(),
        D::NoClock => "la procedura non ha termini di legge".to_owned(),
        D::NothingToDouble => {
            "nessun termine di questa procedura raddoppia per i progetti complessi".to_owned()
        }
        D::AlreadyDeclared => "il progetto è già stato dichiarato complesso".to_owned(),
        D::MissingProtocolNumber => "la protocollazione richiede un numero di protocollo".to_owned(),
        D::EffectMatured { deadline } => format!(
            "il silenzio-assenso si è formato alla scadenza del {deadline}; resta solo l'annullamento in autotutela (L. 241/1990 art. 21-nonies)"
        ),
        D::DeadlineNotReached { deadline } => format!("il termine di legge scade il {deadline}"),
        D::NoSilentApproval => "la legge non prevede il silenzio-assenso per questa procedura".to_owned(),
        D::ConstraintsApply => {
            "i vincoli paesaggistici, culturali, idrogeologici o ambientali escludono il silenzio-assenso"
                .to_owned()
        }
    }
}

impl From<sportello_core::permits::PermitsError> for ApiError {
    fn from(error: sportello_core::permits::PermitsError) -> Self {
        use sportello_core::permits::{PermitsError as E, TransitionDenied as D};
        match error {
            E::Transition {
                status,
                action,
                reason,
            } => {
                let http = if matches!(reason, D::NotAllowedFor(_)) {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::CONFLICT
                };
                refused(
                    http,
                    reason.code(),
                    Message::new("Operazione non consentita", "Not allowed"),
                    format!(
                        "Impossibile «{action}» su una pratica in stato «{status}»: {}.",
                        denied_it(reason)
                    ),
                    format!("Cannot {action} an application that is {status}: {reason}."),
                )
            }
            E::Clock { reason, .. } => refused(
                StatusCode::CONFLICT,
                reason.code(),
                Message::new("Termini di legge", "Legal clock"),
                format!(
                    "Operazione non consentita dai termini di legge: {}.",
                    denied_it(reason)
                ),
                format!("The legal clock does not allow it: {reason}."),
            ),
            E::NotADraft(status) => refused(
                StatusCode::CONFLICT,
                "not-a-draft",
                Message::new("Non è più una bozza", "No longer a draft"),
                format!("La pratica è in stato «{status}», non è più una bozza."),
                format!("The application is {status}, no longer a draft."),
            ),
            E::TimelineOutOfOrder => refused(
                StatusCode::CONFLICT,
                "timeline-out-of-order",
                Message::new("Cronologia non in ordine", "Timeline out of order"),
                "Un passo non può precedere l'ultimo della cronologia.",
                "A step cannot be earlier than the last entry of the timeline.",
            ),
            E::NoteTooLong(max) => ApiError::field(
                "note",
                Message::new(
                    format!("Al massimo {max} caratteri."),
                    format!("At most {max} characters."),
                ),
            ),
            E::UnknownConstraint(_) | E::UnknownStatus(_) | E::UnknownAction(_) | E::UnknownProcedure(_) => {
                let field = match &error {
                    E::UnknownConstraint(_) => "constraints",
                    E::UnknownStatus(_) => "status",
                    E::UnknownAction(_) => "action",
                    _ => "procedure",
                };
                ApiError::field(field, Message::new(error.to_string(), error.to_string()))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<PermitError> for ApiError {
    fn from(error: PermitError) -> Self {
        use PermitError as E;
        match error {
            E::NotFound => ApiError::problem(
                StatusCode::NOT_FOUND,
                "permit-not-found",
                Message::new("Pratica non trovata", "Application not found"),
                Message::new(
                    "Nessuna pratica con questo identificativo tra quelle che puoi vedere.",
                    "There is no application with this id among those you may see.",
                ),
            ),
            E::DocumentNotFound => refused(
                StatusCode::NOT_FOUND,
                "document-not-found",
                Message::new("Documento non trovato", "Document not found"),
                "Nessun documento con questo identificativo nella pratica.",
                "There is no such document on the application.",
            ),
            E::Forbidden => ApiError::Forbidden,
            E::Invalid { field, it, en } => ApiError::field(&field, Message::new(it, en)),
            E::Incomplete(missing) => ApiError::Validation(
                missing
                    .into_iter()
                    .map(|(field, it, en)| (field, Message::new(it, en)))
                    .collect(),
            ),
            E::Rule(rule) => rule.into(),
            E::DocumentsClosed(status) => refused(
                StatusCode::CONFLICT,
                "documents-closed",
                Message::new("Documenti non modificabili", "Documents closed"),
                format!("In stato «{status}» non si possono aggiungere documenti."),
                format!("Documents cannot be added while the application is {status}."),
            ),
            E::DocumentTooLarge(max) => refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "document-too-large",
                Message::new("Documento troppo grande", "Document too large"),
                format!("Il documento supera il limite di {max} byte."),
                format!("The document exceeds the limit of {max} bytes."),
            ),
            E::PermitTooLarge(max) => refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "documents-too-large",
                Message::new("Documenti troppo grandi", "Documents too large"),
                format!("I documenti della pratica supererebbero in tutto {max} byte."),
                format!("The application's documents would exceed {max} bytes in total."),
            ),
            E::UnsupportedDocument => refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-document-type",
                Message::new("Tipo di documento non ammesso", "Unsupported document type"),
                "Sono ammessi solo PDF, file firmati P7M, JPEG e PNG, con l'estensione corrispondente al contenuto.",
                "Only PDF, signed P7M, JPEG and PNG files are accepted, with the extension matching the content.",
            ),
            E::Page(error) => error.into(),
            E::Integrity(cause) => {
                tracing::error!(%cause, "permits integrity check failed");
                ApiError::Internal
            }
            E::DocumentDamaged(cause) => {
                tracing::error!(%cause, "permit document refused: not what was uploaded");
                refused(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "document-damaged",
                    Message::new("Documento danneggiato", "Document damaged"),
                    "Il documento archiviato non corrisponde all'impronta SHA-256 registrata al \
                     caricamento e non viene consegnato; l'errore è stato registrato.",
                    "The stored document does not match the SHA-256 recorded when it was \
                     uploaded and is not served; the error has been logged.",
                )
            }
            E::Database(error) => error.into(),
            E::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// A refusal of this context: `title` names the kind, `it`/`en` say what happened.
fn refused(
    status: StatusCode,
    code: &'static str,
    title: Message,
    it: impl Into<String>,
    en: impl Into<String>,
) -> ApiError {
    ApiError::problem(status, code, title, Message::new(it, en))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(error: PermitError) -> (StatusCode, &'static str) {
        let error = ApiError::from(error);
        (error.status(), error.code())
    }

    fn invalid_field(error: PermitError) -> String {
        match ApiError::from(error) {
            ApiError::Validation(fields) => fields.into_iter().map(|(field, _)| field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn refused_uploads_are_the_problems_of_documents() {
        assert_eq!(
            problem(UploadError::TooLarge(10).into()),
            (StatusCode::PAYLOAD_TOO_LARGE, "document-too-large")
        );
        assert_eq!(
            problem(PermitError::PermitTooLarge(30)),
            (StatusCode::PAYLOAD_TOO_LARGE, "documents-too-large")
        );
        assert_eq!(
            problem(UploadError::Refused.into()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-document-type")
        );
        assert_eq!(invalid_field(UploadError::Empty.into()), "body");
        assert_eq!(
            invalid_field(UploadError::Interrupted("reset".into()).into()),
            "body"
        );
        assert_eq!(
            problem(UploadError::Io(std::io::Error::other("disk full")).into()).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn rules_refuse_with_their_reason() {
        use sportello_core::permits::{Action, Actor, Status, TransitionDenied};
        let denied = |reason| {
            problem(PermitError::Rule(PermitsError::Transition {
                status: Status::Draft,
                action: Action::Accept,
                reason,
            }))
        };
        assert_eq!(
            denied(TransitionDenied::NotAllowedFor(Actor::Applicant)),
            (StatusCode::FORBIDDEN, "not-allowed-for-actor")
        );
        assert_eq!(
            denied(TransitionDenied::NotInStatus),
            (StatusCode::CONFLICT, "not-in-status")
        );
        assert_eq!(
            problem(PermitError::NotFound),
            (StatusCode::NOT_FOUND, "permit-not-found")
        );
        assert_eq!(invalid_field(PageError::Cursor.into()), "cursor");
        assert_eq!(
            problem(bad_instant(i64::MAX)).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
