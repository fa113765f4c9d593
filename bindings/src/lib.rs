//! Sportello for iOS and Android: the UniFFI surface of sportello-core's pure functions and a
//! typed, async client of the Sportello API.
//!
//! Thin by design (docs/architecture.md, "Layout"): the client sends and receives core's `api`
//! wire types, so client and server cannot drift, and logic belongs in core. The wire types the
//! apps use as they are carry their UniFFI derives in core (its `uniffi` feature) and reach the
//! apps from there, in core's generated module (`it.genova.sportello.core` in Kotlin,
//! `sportello_core` in Python, `SportelloCore.swift` in the same Swift module). A record here
//! that resembles one of core's exists because the apps need it in another shape (times as
//! times, strings as enums, `lat`/`lon` as one point); each says so. Modules follow core's
//! bounded contexts.
//!
//! Bindings are generated in library mode by the `uniffi-bindgen` workspace binary:
//! `scripts/bindings` (see `bindings/README.md`).

uniffi::setup_scaffolding!();

mod catalog;
mod client;
mod error;
mod events;
mod geo;
mod identity;
mod login;
mod notify;
mod payments;
mod permits;
mod session;
mod tenant;

pub use catalog::{
    CatalogRecord, CopyInfo, CopyStatus, LibraryBranch, LibraryHoldings, RecordAvailability, SearchHit,
    SearchPage, rank_available_libraries, rank_hits_by_distance, rank_libraries_by_distance,
};
pub use client::SportelloClient;
pub use error::SportelloError;
pub use events::{
    Event, EventHit, EventOccurrence, EventPage, EventPeriod, EventStatus, EventVenue, EventWindow,
    event_window, rank_events_by_distance,
};
pub use geo::distance_km;
pub use identity::{Me, Office, Role, is_valid_fiscal_code, parse_fiscal_code, parse_role};
pub use login::{DEFAULT_REDIRECT_URI, LoginRequest};
pub use notify::{
    Device, INBOX_DEEP_LINK, InboxMessage, InboxPage, NotificationPreferences, PushNotification, Topic,
    parse_push_data, parse_topic,
};
pub use payments::{MyPayment, PaymentState, ScannedNotice, parse_payment_code, payment_qr_payload};
pub use permits::{
    Permit, PermitDocument, PermitDraftUpdate, PermitPage, PermitSummary, PermitTimelineEntry,
    permit_days_left,
};
pub use session::{SessionListener, SessionSnapshot, SessionState};
/// Core's wire types that the apps use as they are (generated in core's module).
pub use sportello_core::api::{
    AuthProvider, AuthProviderList, AvailabilitySummary, BroadcastAccepted, CatalogQuery, CatalogSort,
    Contributor, Coordinates, EventQuery, EventText, FacetCount, Facets, FederatedProvider, FieldError,
    MaterialFormat, NearestCopy, PaymentData, ProcedureDocument, ProcedureFee, ProcedureField, ProcedureInfo,
    QuietHours, RecordIdentifier, VerifiedPayment,
};
pub use tenant::{
    Municipality, RankedMunicipality, is_valid_istat_code, parse_istat_code, rank_municipalities_by_distance,
};
