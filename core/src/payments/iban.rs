//! IBANs (ISO 13616) of the accounts a transfer credits.

use std::fmt;
use std::str::FromStr;

use super::{PaymentsError, truncate};

/// Length of every Italian IBAN.
const ITALIAN_LEN: usize = 27;
/// Shortest and longest IBANs of any country (Norway 15, Saint Lucia / Russia 32-33, max 34).
const MIN_LEN: usize = 15;
/// See [`MIN_LEN`].
const MAX_LEN: usize = 34;
/// ABI code of Poste Italiane: accounts under it are postal accounts (conti correnti postali).
const POSTE_ABI: &str = "07601";

/// A validated IBAN, stored compact and upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN: spaces are ignored and case is folded; the mod-97 check digits must
    /// verify; an Italian IBAN must be 27 characters with its CIN letter, five-digit ABI and
    /// CAB codes and a twelve-character account number.
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let malformed = || PaymentsError::MalformedIban(truncate(text));
        let bytes = compact.as_bytes();
        if bytes.len() < 4
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
            || !bytes[..2].iter().all(u8::is_ascii_uppercase)
            || !bytes[2..4].iter().all(u8::is_ascii_digit)
        {
            return Err(malformed());
        }
        let country = &compact[..2];
        if country == "IT" {
            if bytes.len() != ITALIAN_LEN {
                return Err(PaymentsError::IbanLength {
                    country: country.to_owned(),
                    expected: ITALIAN_LEN,
                    found: bytes.len(),
                });
            }
            let structured = bytes[4].is_ascii_uppercase() && bytes[5..15].iter().all(u8::is_ascii_digit);
            if !structured {
                return Err(malformed());
            }
        } else if !(MIN_LEN..=MAX_LEN).contains(&bytes.len()) {
            return Err(malformed());
        }
        if mod97(bytes) != 1 {
            return Err(PaymentsError::IbanChecksum(truncate(text)));
        }
        Ok(Self(compact))
    }

    /// The compact form (`IT60X0542811101000000123456`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 3166 country code.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }

    /// Whether this is an Italian postal account (Poste Italiane ABI), which pagoPA lists apart
    /// as a "postal IBAN".
    pub fn is_postal(&self) -> bool {
        self.country() == "IT" && &self.0[5..10] == POSTE_ABI
    }

    /// The printed form, in groups of four characters.
    pub fn printed(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl FromStr for Iban {
    type Err = PaymentsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 7064 mod 97-10 over the rearranged IBAN (first four characters moved to the end,
/// letters as 10..=35), computed digit by digit so no big integers are needed.
fn mod97(bytes: &[u8]) -> u32 {
    bytes[4..].iter().chain(&bytes[..4]).fold(0_u32, |acc, &b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A') + 10) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ibans_parse_and_normalise() {
        let iban = Iban::parse("it60 x054 2811 1010 0000 0123 456").unwrap();
        assert_eq!(iban.as_str(), "IT60X0542811101000000123456");
        assert_eq!(iban.printed(), "IT60 X054 2811 1010 0000 0123 456");
        assert_eq!(iban.country(), "IT");
        assert!(!iban.is_postal());
        // A German and a Belgian IBAN from the ISO examples: other countries keep the generic rules.
        Iban::parse("DE89370400440532013000").unwrap();
        Iban::parse("BE68539007547034").unwrap();
    }

    #[test]
    fn postal_accounts_are_recognised() {
        // Built for the test: ABI 07601, check digits computed.
        let postal = Iban::parse("IT22X0760101400000012345678").unwrap();
        assert!(postal.is_postal());
    }

    #[test]
    fn invalid_ibans_are_rejected_with_a_reason() {
        assert!(matches!(
            Iban::parse("IT60X0542811101000000123457"),
            Err(PaymentsError::IbanChecksum(_))
        ));
        assert_eq!(
            Iban::parse("IT60X054281110100000012345"),
            Err(PaymentsError::IbanLength {
                country: "IT".into(),
                expected: 27,
                found: 26
            })
        );
        for bad in [
            "",
            "IT",
            "1T60X0542811101000000123456",
            "ITx0X0542811101000000123456",
            "IT6010542811101000000123456", // no CIN letter
            "IT60X05428111010000001234-6",
            "DE8937040044",
        ] {
            assert!(
                matches!(Iban::parse(bad), Err(PaymentsError::MalformedIban(_))),
                "{bad}"
            );
        }
    }
}
