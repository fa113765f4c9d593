//! Sportello core: the domain types and pure logic shared by the API server and the mobile
//! bindings. No I/O lives here: no database, no network, no async runtime.
//!
//! One module per bounded context (see DESIGN.md, section 1); the server and the bindings use
//! the same names.

pub mod api;
pub mod calendar;
pub mod catalog;
pub mod geo;
pub mod identity;
pub mod notify;
pub mod payments;
pub mod permits;
pub mod tenant;
