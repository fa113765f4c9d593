//! Identity: fiscal codes, roles, the logged-in person and the login providers.

use std::fmt;

use sportello_core::api;
use sportello_core::identity::{self, FiscalCode};

use crate::error::SportelloError;

/// Checks an Italian personal fiscal code (codice fiscale) and returns it normalised: trimmed and
/// upper-case. Omocodia variants are accepted.
#[uniffi::export]
pub fn parse_fiscal_code(text: &str) -> Result<String, SportelloError> {
    FiscalCode::parse(text)
        .map(|code| code.as_str().to_owned())
        .map_err(|error| SportelloError::invalid("fiscal_code", &error))
}

/// Whether `text` is a valid personal fiscal code (case and surrounding spaces tolerated).
#[uniffi::export]
pub fn is_valid_fiscal_code(text: &str) -> bool {
    FiscalCode::parse(text).is_ok()
}

/// A municipal back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Office {
    /// Libraries: catalogue, circulation.
    Library,
    /// Building and other permits.
    Permits,
    /// Debt positions and pagoPA.
    Payments,
    /// Cultural events.
    Events,
    /// Civil protection: alerts to the population.
    CivilProtection,
}

/// What a person may do; `toString()` / `str()` / `description` give the role string
/// (`operator:010025:permits`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
#[uniffi::export(Display)]
pub enum Role {
    /// Any logged-in person.
    Citizen,
    /// A municipal employee in one office of one municipality.
    Operator {
        /// ISTAT code of the municipality.
        municipality: String,
        /// The back office.
        office: Office,
    },
    /// A metropolitan administrator.
    Admin,
}

impl From<identity::Office> for Office {
    fn from(office: identity::Office) -> Self {
        match office {
            identity::Office::Library => Office::Library,
            identity::Office::Permits => Office::Permits,
            identity::Office::Payments => Office::Payments,
            identity::Office::Events => Office::Events,
            identity::Office::CivilProtection => Office::CivilProtection,
        }
    }
}

impl From<Office> for identity::Office {
    fn from(office: Office) -> Self {
        match office {
            Office::Library => identity::Office::Library,
            Office::Permits => identity::Office::Permits,
            Office::Payments => identity::Office::Payments,
            Office::Events => identity::Office::Events,
            Office::CivilProtection => identity::Office::CivilProtection,
        }
    }
}

impl From<identity::Role> for Role {
    fn from(role: identity::Role) -> Self {
        match role {
            identity::Role::Citizen => Role::Citizen,
            identity::Role::Admin => Role::Admin,
            identity::Role::Operator { municipality, office } => Role::Operator {
                municipality: municipality.as_str().to_owned(),
                office: office.into(),
            },
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Citizen => f.write_str("citizen"),
            Role::Admin => f.write_str("admin"),
            Role::Operator { municipality, office } => {
                write!(f, "operator:{municipality}:{}", identity::Office::from(*office))
            }
        }
    }
}

/// Parses a role string: `citizen`, `admin`, `operator:<istat_code>:<office>`.
#[uniffi::export]
pub fn parse_role(text: &str) -> Result<Role, SportelloError> {
    text.parse::<identity::Role>()
        .map(Role::from)
        .map_err(|error| SportelloError::invalid("role", &error))
}

/// The logged-in person. Not `api::Me`: its roles are `Role`s for the apps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Me {
    /// Opaque user id.
    pub user_id: String,
    /// Fiscal code.
    pub fiscal_code: String,
    /// Given name, when the identity provider sent it.
    pub given_name: Option<String>,
    /// Family name, when the identity provider sent it.
    pub family_name: Option<String>,
    /// Roles. A role this version of the library does not know (from a newer server) is left
    /// out rather than failing the call.
    pub roles: Vec<Role>,
}

impl From<api::Me> for Me {
    fn from(me: api::Me) -> Self {
        Self {
            user_id: me.user_id,
            fiscal_code: me.fiscal_code,
            given_name: me.given_name,
            family_name: me.family_name,
            roles: me
                .roles
                .iter()
                .filter_map(|text| text.parse::<identity::Role>().ok())
                .map(Role::from)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_codes_are_validated_and_normalised() {
        assert_eq!(
            parse_fiscal_code(" rssmra85t10a562s ").unwrap(),
            "RSSMRA85T10A562S"
        );
        assert!(is_valid_fiscal_code("RSSMRA85T10A562S"));
        assert!(!is_valid_fiscal_code("RSSMRA85T10A562T"));
        assert!(matches!(
            parse_fiscal_code("nope"),
            Err(SportelloError::InvalidInput { field, .. }) if field == "fiscal_code"
        ));
    }

    #[test]
    fn roles_round_trip_through_their_strings() {
        for text in [
            "citizen",
            "admin",
            "operator:010025:permits",
            "operator:010001:library",
        ] {
            assert_eq!(parse_role(text).unwrap().to_string(), text);
        }
        assert_eq!(
            parse_role("operator:010025:events").unwrap(),
            Role::Operator {
                municipality: "010025".into(),
                office: Office::Events
            }
        );
        assert!(parse_role("operator:010025:zoo").is_err());
    }

    #[test]
    fn unknown_roles_from_a_newer_server_are_skipped() {
        let me = Me::from(api::Me {
            user_id: "u".into(),
            fiscal_code: "RSSMRA85T10A562S".into(),
            given_name: None,
            family_name: None,
            roles: vec!["citizen".into(), "auditor:010025".into(), "admin".into()],
        });
        assert_eq!(me.roles, vec![Role::Citizen, Role::Admin]);
    }
}
