//! Transfers (versamenti): where the money of a payment option goes, up to five per option.

use std::fmt;

use super::{Amount, Iban, PaymentsError, truncate};
use crate::tenant::EntityFiscalCode;

/// Longest free text in the pagoPA schemas for descriptions and remittance information.
pub const MAX_TEXT_CHARS: usize = 140;
/// The only digital stamp type the schemas define (`stTipoBolloDigitale`).
const STAMP_TYPE_DOCUMENT: &str = "01";
/// Bounds of `stBase64Binary72`, the document hash of a digital stamp.
const STAMP_HASH_CHARS: std::ops::RangeInclusive<usize> = 4..=72;

/// The accounting category of a transfer in the pagoPA taxonomy, written `9/<code>/` where the
/// code is the creditor type (2 digits), macro-area (2), service type (3) and legal reason
/// (2 letters), e.g. `9/0101100IM/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaxonomyCategory(String);

impl TaxonomyCategory {
    /// Parses `9/0101100IM/`; the bare code `0101100IM` is accepted and normalised.
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        let trimmed = text.trim();
        let code = trimmed
            .strip_prefix("9/")
            .and_then(|rest| rest.strip_suffix('/'))
            .unwrap_or(trimmed);
        let bytes = code.as_bytes();
        let well_formed = bytes.len() == 9
            && bytes[..7].iter().all(u8::is_ascii_digit)
            && bytes[7..].iter().all(u8::is_ascii_uppercase);
        if well_formed {
            Ok(Self(format!("9/{code}/")))
        } else {
            Err(PaymentsError::MalformedTaxonomy(truncate(text)))
        }
    }

    /// The full category, as the `transferCategory` of the pagoPA messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nine-character taxonomy code without the `9/…/` wrapping.
    pub fn code(&self) -> &str {
        &self.0[2..11]
    }
}

impl fmt::Display for TaxonomyCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A digital revenue stamp (marca da bollo digitale) bought through pagoPA instead of money
/// credited to an account: it binds the stamp to the hash of the document it is affixed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DigitalStamp {
    document_hash: String,
    stamp_type: String,
    province: String,
}

impl DigitalStamp {
    /// A stamp for the document whose hash (SHA-256, base64) is given, of `stamp_type` (`01`,
    /// the only type defined), for a payer resident in `province` (two upper-case letters).
    pub fn new(document_hash: &str, stamp_type: &str, province: &str) -> Result<Self, PaymentsError> {
        if !is_base64(document_hash) || !STAMP_HASH_CHARS.contains(&document_hash.len()) {
            return Err(PaymentsError::MalformedStamp(
                "the document hash is not base64 of 4..=72 characters",
            ));
        }
        if stamp_type != STAMP_TYPE_DOCUMENT {
            return Err(PaymentsError::MalformedStamp("the stamp type is not 01"));
        }
        if province.len() != 2 || !province.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PaymentsError::MalformedStamp(
                "the province is not two upper-case letters",
            ));
        }
        Ok(Self {
            document_hash: document_hash.to_owned(),
            stamp_type: stamp_type.to_owned(),
            province: province.to_owned(),
        })
    }

    /// Base64 hash of the stamped document.
    pub fn document_hash(&self) -> &str {
        &self.document_hash
    }

    /// Stamp type code (`01`).
    pub fn stamp_type(&self) -> &str {
        &self.stamp_type
    }

    /// Province of residence of the payer (`GE`).
    pub fn province(&self) -> &str {
        &self.province
    }
}

/// Whether `text` is padded base64 (RFC 4648 standard alphabet).
fn is_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return false;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    padding <= 2
        && bytes[..bytes.len() - padding]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Where a transfer's money goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTarget {
    /// Credited to a bank account, optionally with a postal account the PSP may use instead.
    Iban {
        /// The account credited.
        iban: Iban,
        /// Alternative postal account (pagoPA's `postalIban`).
        postal_iban: Option<Iban>,
    },
    /// Paid as a digital revenue stamp.
    Stamp(DigitalStamp),
}

/// One transfer of a payment option. Its pagoPA `idTransfer` is its position in the option
/// (1-based), so ids are unique and contiguous by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Amount of this transfer (at least one cent).
    pub amount: Amount,
    /// The creditor institution this transfer pays (another one for multi-beneficiary options).
    pub creditor: EntityFiscalCode,
    /// Remittance information (causale), 1..=140 characters.
    pub remittance: String,
    /// Accounting category.
    pub category: TaxonomyCategory,
    /// Account credited or digital stamp.
    pub target: TransferTarget,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64 of the SHA-256 of the empty string: a realistic 44-character hash.
    const HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    #[test]
    fn taxonomy_categories_are_normalised() {
        let category = TaxonomyCategory::parse("9/0101108TS/").unwrap();
        assert_eq!(category.as_str(), "9/0101108TS/");
        assert_eq!(category.code(), "0101108TS");
        assert_eq!(
            TaxonomyCategory::parse(" 0101100IM ").unwrap().as_str(),
            "9/0101100IM/"
        );
        for bad in [
            "",
            "9/",
            "9/0101100IM",
            "0/0101100IM/",
            "9/0101100im/",
            "9/010110IMX/",
            "9/01011000IM/",
        ] {
            assert!(TaxonomyCategory::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digital_stamps_are_validated() {
        let stamp = DigitalStamp::new(HASH, "01", "GE").unwrap();
        assert_eq!(
            (stamp.document_hash(), stamp.stamp_type(), stamp.province()),
            (HASH, "01", "GE")
        );
        assert!(DigitalStamp::new("abc", "01", "GE").is_err());
        assert!(DigitalStamp::new("ab=c", "01", "GE").is_err());
        assert!(DigitalStamp::new("a===", "01", "GE").is_err());
        assert!(DigitalStamp::new(&"A".repeat(76), "01", "GE").is_err());
        assert!(DigitalStamp::new(HASH, "02", "GE").is_err());
        assert!(DigitalStamp::new(HASH, "01", "Ge").is_err());
        assert!(DigitalStamp::new(HASH, "01", "GEN").is_err());
    }
}
