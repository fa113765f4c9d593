import Foundation

// Hand-written next to the generated SportelloMobile.swift: what the app shows for each error.

public extension SportelloError {
    /// A message for the user: the server's own `detail` where it is meant for people (not
    /// found, validation), one of ours otherwise.
    var userMessage: String {
        switch self {
        case .Network:
            return String(localized: "Connessione non disponibile. Riprova più tardi.")
        case .Unauthorized:
            return String(localized: "La sessione è scaduta: accedi di nuovo.")
        case .Forbidden:
            return String(localized: "Non hai i permessi per questa operazione.")
        case let .NotFound(_, detail):
            return detail
        case let .Validation(_, detail, errors):
            return errors.first?.message ?? detail
        case .RateLimited:
            return String(localized: "Troppe richieste: riprova tra poco.")
        case let .LoginFailed(reason, _):
            return reason == "access_denied"
                ? String(localized: "Accesso annullato.")
                : String(localized: "Accesso non riuscito. Riprova.")
        case let .InvalidInput(field, _):
            return field == "fiscal_code"
                ? String(localized: "Codice fiscale non valido.")
                : String(localized: "Si è verificato un errore.")
        case .Server:
            return String(localized: "Si è verificato un errore.")
        }
    }
}
