//! Sportello core: the domain types and pure logic shared by the API server and the mobile
//! bindings. No I/O lives here: no database, no network, no async runtime.
//!
//! One module per bounded context (see docs/architecture.md, "Layout"); the server and the
//! bindings use the same names.
//!
//! With the `uniffi` feature (turned on by the mobile bindings) the `api` types the apps use as
//! they are carry UniFFI derives; their generated code is this crate's namespace,
//! `sportello_core`, next to the bindings' own.

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod alerts;
pub mod api;
pub mod calendar;
pub mod catalog;
pub mod events;
pub mod geo;
pub mod identity;
pub mod notify;
pub mod payments;
pub mod permits;
pub mod tenant;
