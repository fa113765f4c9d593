//! Identity: citizens' fiscal codes, as asserted by SPID/CIE, and the roles that authorise
//! what a person may do in Sportello.

use std::fmt;
use std::str::FromStr;

use crate::tenant::{IstatCode, TenantError};

#[cfg(feature = "tokens")]
pub mod tokens;

/// OIDC claim carrying the fiscal code in the SPID/CIE OpenID Connect profile, as `TINIT-<CF>`.
pub const EID_FISCAL_NUMBER_CLAIM: &str = "https://attributes.eid.gov.it/fiscal_number";
/// The older SPID claim, carrying the bare fiscal code.
pub const SPID_FISCAL_NUMBER_CLAIM: &str = "https://attributes.spid.gov.it/fiscal_number";
/// ETSI natural-person identifier prefix: tax identification number, Italy.
const TINIT_PREFIX: &str = "TINIT-";

/// Why an identity or role is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not a 16-character personal fiscal code with a valid check character.
    #[error("`{0}` is not a valid personal fiscal code")]
    MalformedFiscalCode(String),
    /// The identity provider sent no fiscal-code claim.
    #[error("the identity provider did not send a fiscal code")]
    MissingFiscalCode,
    /// Not one of `citizen`, `admin`, `operator:<istat>:<office>`.
    #[error("`{0}` is not a role (citizen, admin, operator:<istat_code>:<office>)")]
    MalformedRole(String),
    /// Not one of the offices.
    #[error("`{0}` is not an office (library, permits, payments, events, civil-protection)")]
    UnknownOffice(String),
    /// The municipality part of an operator role is malformed.
    #[error(transparent)]
    Tenant(#[from] TenantError),
}

/// An Italian personal fiscal code (codice fiscale), upper-case, check character verified.
/// Omocodia variants (digits replaced by letters) are accepted as issued.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FiscalCode(String);

impl FiscalCode {
    /// Parses and validates a fiscal code; surrounding spaces and lower case are tolerated.
    pub fn parse(text: &str) -> Result<Self, IdentityError> {
        // Positions that hold digits, possibly replaced by omocodia letters.
        const NUMERIC: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
        const OMOCODIA: &[u8] = b"LMNPQRSTUV";
        const MONTHS: &[u8] = b"ABCDEHLMPRST";
        let code = text.trim().to_ascii_uppercase();
        let malformed = || IdentityError::MalformedFiscalCode(text.chars().take(32).collect());
        let bytes = code.as_bytes();
        if bytes.len() != 16 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(malformed());
        }
        let letters_ok = [0, 1, 2, 3, 4, 5, 11, 15]
            .iter()
            .all(|&i| bytes[i].is_ascii_uppercase());
        let digits_ok = NUMERIC
            .iter()
            .all(|&i| bytes[i].is_ascii_digit() || OMOCODIA.contains(&bytes[i]));
        if !letters_ok || !digits_ok || !MONTHS.contains(&bytes[8]) {
            return Err(malformed());
        }
        let digit = |i: usize| -> u32 {
            let b = bytes[i];
            if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                OMOCODIA
                    .iter()
                    .position(|&l| l == b)
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(0)
            }
        };
        let day = digit(9) * 10 + digit(10);
        if !(1..=31).contains(&day) && !(41..=71).contains(&day) {
            return Err(malformed());
        }
        if check_character(&bytes[..15]) != bytes[15] {
            return Err(malformed());
        }
        Ok(Self(code))
    }

    /// Extracts the fiscal code from ID-token or userinfo claims: the eID claim
    /// (`TINIT-<CF>`, prefix stripped) is preferred over the older SPID claim (bare code).
    pub fn from_claims(eid: Option<&str>, spid: Option<&str>) -> Result<Self, IdentityError> {
        let value = eid.or(spid).ok_or(IdentityError::MissingFiscalCode)?;
        Self::parse(value.strip_prefix(TINIT_PREFIX).unwrap_or(value))
    }

    /// The sixteen characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Fiscal codes are personal data: debug output shows only the first letters.
impl fmt::Debug for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FiscalCode({}…)", &self.0[..6])
    }
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The check character of a fiscal code, computed over its first fifteen characters.
fn check_character(first15: &[u8]) -> u8 {
    // Values of characters in odd (1st, 3rd, …) positions; digits map like A..J.
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
    ];
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let index = if b.is_ascii_digit() { b - b'0' } else { b - b'A' };
            if i % 2 == 0 {
                ODD[usize::from(index)]
            } else {
                u32::from(index)
            }
        })
        .sum();
    b'A' + u8::try_from(sum % 26).unwrap_or(0)
}

/// A municipal back office an operator can work in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Office {
    /// Libraries: catalogue, circulation.
    Library,
    /// Building and other permits (SUE).
    Permits,
    /// Debt positions and pagoPA.
    Payments,
    /// Cultural events.
    Events,
    /// Civil protection: alerts to the population.
    CivilProtection,
}

impl Office {
    /// Every office, in a stable order.
    pub const ALL: [Office; 5] = [
        Office::Library,
        Office::Permits,
        Office::Payments,
        Office::Events,
        Office::CivilProtection,
    ];

    /// The identifier used in role strings and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Office::Library => "library",
            Office::Permits => "permits",
            Office::Payments => "payments",
            Office::Events => "events",
            Office::CivilProtection => "civil-protection",
        }
    }
}

impl FromStr for Office {
    type Err = IdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Office::ALL
            .into_iter()
            .find(|office| office.as_str() == text)
            .ok_or_else(|| IdentityError::UnknownOffice(text.chars().take(32).collect()))
    }
}

impl fmt::Display for Office {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a person may do. Written as strings in tokens and the API: `citizen`, `admin`,
/// `operator:<istat_code>:<office>` (e.g. `operator:010025:permits`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Any logged-in person: their own holds, permits, payments, inbox.
    Citizen,
    /// A municipal employee working in one office of one municipality.
    Operator {
        /// The municipality the operator works for.
        municipality: IstatCode,
        /// The back office.
        office: Office,
    },
    /// A metropolitan administrator: every municipality.
    Admin,
}

impl FromStr for Role {
    type Err = IdentityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split(':').collect::<Vec<_>>().as_slice() {
            ["citizen"] => Ok(Role::Citizen),
            ["admin"] => Ok(Role::Admin),
            ["operator", municipality, office] => Ok(Role::Operator {
                municipality: IstatCode::parse(municipality)?,
                office: office.parse()?,
            }),
            _ => Err(IdentityError::MalformedRole(text.chars().take(64).collect())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Citizen => f.write_str("citizen"),
            Role::Admin => f.write_str("admin"),
            Role::Operator { municipality, office } => write!(f, "operator:{municipality}:{office}"),
        }
    }
}

/// Whether any of `roles` lets its holder work in `office` of `municipality`.
/// Admins may act in every municipality; operators only in their own, in their own office.
pub fn may_operate(roles: &[Role], municipality: &IstatCode, office: Office) -> bool {
    roles.iter().any(|role| match role {
        Role::Admin => true,
        Role::Operator {
            municipality: m,
            office: o,
        } => m == municipality && *o == office,
        Role::Citizen => false,
    })
}

/// Whether any of `roles` lets its holder see the back office of `municipality` (any office).
pub fn works_in(roles: &[Role], municipality: &IstatCode) -> bool {
    Office::ALL
        .into_iter()
        .any(|office| may_operate(roles, municipality, office))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_fiscal_codes_parse_and_normalise() {
        let code = FiscalCode::parse(" rssmra85t10a562s ").unwrap();
        assert_eq!(code.as_str(), "RSSMRA85T10A562S");
        // An omocodia variant (digits of the birth place replaced by letters) with its own check.
        FiscalCode::parse("RSSMRA85T10A56NH").unwrap();
        assert_eq!(format!("{code:?}"), "FiscalCode(RSSMRA…)");
    }

    #[test]
    fn invalid_fiscal_codes_are_rejected() {
        for bad in [
            "RSSMRA85T10A562T", // wrong check character
            "RSSMRA85Z10A562S", // no month Z
            "RSSMRA85T99A562S", // day 99
            "RSSMRA85T10A562",  // short
            "RSSMRA85T10A562S1",
            "RSSMRA85T10A562\u{e9}",
        ] {
            assert!(FiscalCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fiscal_code_claims_follow_the_spid_cie_profile() {
        let eid = FiscalCode::from_claims(Some("TINIT-RSSMRA85T10A562S"), None).unwrap();
        let spid = FiscalCode::from_claims(None, Some("RSSMRA85T10A562S")).unwrap();
        assert_eq!(eid, spid);
        assert_eq!(
            FiscalCode::from_claims(None, None),
            Err(IdentityError::MissingFiscalCode)
        );
        assert!(FiscalCode::from_claims(Some("TINIT-XXX"), None).is_err());
    }

    #[test]
    fn roles_round_trip_as_strings() {
        for text in [
            "citizen",
            "admin",
            "operator:010025:permits",
            "operator:010001:library",
            "operator:010025:civil-protection",
        ] {
            assert_eq!(text.parse::<Role>().unwrap().to_string(), text);
        }
        for bad in [
            "",
            "operator",
            "operator:10025:permits",
            "operator:010025:zoo",
            "root",
        ] {
            assert!(bad.parse::<Role>().is_err(), "{bad}");
        }
    }

    #[test]
    fn operators_act_only_in_their_municipality_and_office() {
        let genova = IstatCode::parse("010025").unwrap();
        let arenzano = IstatCode::parse("010001").unwrap();
        let roles = vec![Role::Citizen, "operator:010001:permits".parse().unwrap()];
        assert!(may_operate(&roles, &arenzano, Office::Permits));
        assert!(!may_operate(&roles, &arenzano, Office::Library));
        assert!(!may_operate(&roles, &genova, Office::Permits));
        assert!(may_operate(&[Role::Admin], &genova, Office::Payments));
        assert!(!may_operate(&[Role::Citizen], &genova, Office::Permits));
        assert!(works_in(&roles, &arenzano) && !works_in(&roles, &genova));
    }
}
