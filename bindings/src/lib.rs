//! Sportello for iOS and Android: the UniFFI surface of sportello-core's pure functions and a
//! typed, async client of the Sportello API.
//!
//! Thin by design (DESIGN.md, section 6): records and enums mirror core's types, conversions
//! come from core's `api` wire types (so client and server cannot drift), and logic belongs in
//! core. Modules follow core's bounded contexts.
//!
//! Bindings are generated in library mode by the `uniffi-bindgen` workspace binary:
//! `scripts/bindings` (see `bindings/README.md`).

uniffi::setup_scaffolding!();

mod catalog;
mod client;
mod error;
mod geo;
mod identity;
mod login;
mod notify;
mod payments;
mod permits;
mod session;
mod tenant;

pub use catalog::{
    AvailabilitySummary, CatalogQuery, CatalogRecord, CatalogSort, Contributor, CopyInfo, CopyStatus,
    FacetCount, Facets, LibraryBranch, LibraryHoldings, MaterialFormat, NearestCopy, RecordAvailability,
    RecordIdentifier, SearchHit, SearchPage, rank_available_libraries, rank_hits_by_distance,
    rank_libraries_by_distance,
};
pub use client::SportelloClient;
pub use error::{FieldError, SportelloError};
pub use geo::{Coordinates, distance_km};
pub use identity::{
    AuthProvider, AuthProviderList, Me, Office, Role, is_valid_fiscal_code, parse_fiscal_code, parse_role,
};
pub use login::{DEFAULT_REDIRECT_URI, LoginRequest};
pub use notify::{
    BroadcastAccepted, Device, INBOX_DEEP_LINK, InboxMessage, InboxPage, NotificationPreferences,
    PaymentData, PushNotification, QuietHours, Topic, parse_push_data, parse_topic,
};
pub use payments::{
    MyPayment, PaymentState, ScannedNotice, VerifiedPayment, parse_payment_code, payment_qr_payload,
};
pub use permits::{
    Permit, PermitDocument, PermitDraftUpdate, PermitPage, PermitSummary, PermitTimelineEntry,
    ProcedureDocument, ProcedureField, ProcedureInfo, permit_days_left,
};
pub use session::{SessionListener, SessionSnapshot, SessionState};
pub use tenant::{
    Municipality, RankedMunicipality, is_valid_istat_code, parse_istat_code, rank_municipalities_by_distance,
};
