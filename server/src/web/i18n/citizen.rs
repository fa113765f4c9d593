//! The words of the citizen's pages, after login, in Italian and English (the languages of the
//! API's own texts and of the notification preferences); a page asked in another language is
//! shown in English ([`super::super::PageRequest::citizen`]).

use sportello_core::events::Lang;

/// One text in Italian and English.
pub struct Words(pub [&'static str; 2]);

impl Words {
    /// The text in `lang`: Italian, or English for every other language.
    pub fn get(&self, lang: Lang) -> &'static str {
        if lang == Lang::It { self.0[0] } else { self.0[1] }
    }
}

pub const LOGIN_TITLE: Words = Words(["Accedi a Sportello", "Log in to Sportello"]);
pub const LOGIN_INTRO: Words = Words([
    "Accedi con la tua identità digitale per seguire le tue pratiche, pagare gli avvisi e leggere i tuoi messaggi.",
    "Log in with your digital identity to follow your applications, pay your notices and read your messages.",
]);
pub const DEMO_PEOPLE: Words = Words(["Persone della demo", "Demo people"]);
pub const PICK_PERSON: Words = Words([
    "Scegli con chi accedere (solo in sviluppo, --dev-auth)",
    "Pick who to log in as (development only, --dev-auth)",
]);
pub const NO_PROVIDERS: Words = Words([
    "Nessun modo di accesso è configurato su questo server.",
    "No way to log in is configured on this server.",
]);
pub const MY_AREA: Words = Words(["Area personale", "My area"]);
pub const WELCOME: Words = Words(["Benvenuto", "Welcome"]);
pub const MY_PERMITS: Words = Words(["Le mie pratiche", "My applications"]);
pub const NO_PERMITS: Words = Words(["Non hai pratiche.", "You have no applications."]);
pub const MORE: Words = Words(["Altri", "More"]);
pub const DEADLINE: Words = Words(["Scadenza dei termini", "Deadline"]);
pub const LAST_DAY: Words = Words(["ultimo giorno", "last day"]);
pub const ONE_DAY_LEFT: Words = Words(["1 giorno rimasto", "1 day left"]);
pub const DAYS_LEFT: Words = Words(["giorni rimasti", "days left"]);
pub const DAYS_OVERDUE: Words = Words(["giorni oltre la scadenza", "days overdue"]);
pub const ADDRESS: Words = Words(["Indirizzo", "Address"]);
pub const MUNICIPALITY: Words = Words(["Comune", "Municipality"]);
pub const PROTOCOL: Words = Words(["Protocollo", "Protocol number"]);
pub const CLOCK_STOPPED: Words = Words([
    "I termini sono sospesi finché non invii i documenti richiesti.",
    "The clock is stopped until you send the documents requested.",
]);
pub const TIMELINE: Words = Words(["Cronologia", "Timeline"]);
pub const DOCUMENTS: Words = Words(["Documenti", "Documents"]);
pub const NO_DOCUMENTS: Words = Words(["Nessun documento.", "No documents."]);
pub const FEES: Words = Words(["Oneri", "Fees"]);
pub const PAID: Words = Words(["pagato", "paid"]);
pub const PAY: Words = Words(["Paga", "Pay"]);
pub const DOCUMENTS_REQUESTED: Words = Words(["Documenti richiesti", "Documents requested"]);
pub const DOCUMENTS_REQUESTED_TEXT: Words = Words([
    "L'ufficio ha chiesto altri documenti: caricali uno alla volta (PDF, P7M firmato, JPEG o PNG), poi inviali.",
    "The office has asked for more documents: upload them one at a time (PDF, signed P7M, JPEG or PNG), then send them.",
]);
pub const DOCUMENT_KIND: Words = Words(["Tipo di documento", "Kind of document"]);
pub const FILE: Words = Words(["File", "File"]);
pub const UPLOAD: Words = Words(["Carica", "Upload"]);
pub const SEND_DOCUMENTS: Words = Words([
    "Invia i documenti all'ufficio",
    "Send the documents to the office",
]);

/// The timeline's actions (`core::permits::Action`'s API spelling, and `assign`).
pub const ACTIONS: [(&str, Words); 15] = [
    ("submit", Words(["Presentata", "Submitted"])),
    (
        "confirm-payment",
        Words(["Pagamento confermato", "Payment confirmed"]),
    ),
    ("register", Words(["Protocollata", "Registered"])),
    ("start-review", Words(["Istruttoria avviata", "Review started"])),
    (
        "request-integration",
        Words(["Documenti richiesti", "Documents requested"]),
    ),
    (
        "submit-integration",
        Words(["Documenti inviati", "Documents sent"]),
    ),
    ("complete-phase", Words(["Fase conclusa", "Phase completed"])),
    (
        "declare-complex-project",
        Words(["Progetto complesso", "Complex project"]),
    ),
    ("accept", Words(["Accolta", "Approved"])),
    ("reject", Words(["Respinta", "Rejected"])),
    ("withdraw", Words(["Ritirata", "Withdrawn"])),
    ("cancel", Words(["Annullata", "Cancelled"])),
    ("mature", Words(["Silenzio assenso", "Tacitly approved"])),
    ("assign", Words(["Assegnata", "Assigned"])),
    ("create", Words(["Creata", "Created"])),
];

pub const MY_PAYMENTS: Words = Words(["I miei pagamenti", "My payments"]);
pub const NO_PAYMENTS: Words = Words(["Non hai avvisi di pagamento.", "You have no payment notices."]);
pub const DUE_BY: Words = Words(["entro il", "due by"]);
pub const NOTICE_CODE: Words = Words(["Codice avviso", "Notice code"]);
pub const CREDITOR: Words = Words(["Ente creditore", "Creditor"]);
pub const CREDITOR_FISCAL_CODE: Words = Words(["Codice fiscale ente creditore", "Creditor's fiscal code"]);
pub const AMOUNT: Words = Words(["Importo", "Amount"]);
pub const DUE_DATE: Words = Words(["Scadenza", "Due date"]);
pub const IUV: Words = Words(["Codice IUV", "IUV"]);
pub const PAID_AT: Words = Words(["Pagato il", "Paid on"]);
pub const PAY_WITH_PAGOPA: Words = Words(["Paga con pagoPA", "Pay with pagoPA"]);
pub const QR_ALT: Words = Words(["Codice QR dell'avviso", "QR code of notice"]);
/// The states of `GET /v1/me/payments`.
pub const PAYMENT_STATES: [(&str, Words); 4] = [
    ("due", Words(["Da pagare", "To pay"])),
    ("paid", Words(["Pagato", "Paid"])),
    ("expired", Words(["Scaduto", "Expired"])),
    ("cancelled", Words(["Annullato", "Cancelled"])),
];

pub const INBOX: Words = Words(["Messaggi", "Inbox"]);
pub const UNREAD: Words = Words(["da leggere", "unread"]);
pub const NEW: Words = Words(["nuovo", "new"]);
pub const NO_MESSAGES: Words = Words(["Nessun messaggio.", "No messages."]);
pub const NOTIFICATIONS: Words = Words(["Notifiche", "Notifications"]);
pub const SAVED: Words = Words(["Preferenze salvate.", "Preferences saved."]);
pub const PUSH_TITLE: Words = Words(["Notifiche su questo dispositivo", "Notifications on this device"]);
pub const PUSH_TEXT: Words = Words([
    "Ricevi una notifica del browser a ogni novità delle tue pratiche, dei tuoi pagamenti e degli eventi che segui.",
    "Get a browser notification at every change in your applications, your payments and the events you follow.",
]);
pub const PUSH_BUTTON: Words = Words(["Attiva le notifiche", "Turn on notifications"]);
pub const PUSH_DONE: Words = Words([
    "Notifiche attive su questo dispositivo.",
    "Notifications are on for this device.",
]);
pub const PUSH_FAILED: Words = Words([
    "Non è stato possibile attivare le notifiche su questo browser.",
    "Notifications could not be turned on in this browser.",
]);
pub const TOPICS: Words = Words(["Notificami per", "Notify me about"]);
/// The notification topics.
pub const TOPIC_NAMES: [(&str, Words); 5] = [
    ("permits", Words(["Pratiche edilizie", "Permit applications"])),
    ("payments", Words(["Pagamenti", "Payments"])),
    ("events", Words(["Eventi che seguo", "Events I follow"])),
    ("library", Words(["Biblioteche", "Libraries"])),
    (
        "alerts",
        Words(["Allerte di protezione civile", "Civil protection alerts"]),
    ),
];
pub const QUIET_FROM: Words = Words(["Silenzio dalle", "Quiet from"]);
pub const QUIET_TO: Words = Words(["alle", "until"]);
pub const ALERT_AREAS: Words = Words(["Comuni per le allerte", "Municipalities for alerts"]);
pub const SAVE: Words = Words(["Salva", "Save"]);
pub const MY_EVENTS: Words = Words(["Eventi che seguo", "Events I follow"]);
pub const NO_FOLLOWED: Words = Words(["Non segui nessun evento.", "You follow no events."]);
