//! The pagoPA notice number (numero avviso, NAV) and the IUV inside it, as defined by AgID's
//! "Specifiche attuative dei codici identificativi di versamento" (SACI), table 2:
//!
//! | aux | notice number (18 digits)                                 | IUV                 |
//! |-----|-----------------------------------------------------------|---------------------|
//! | 0   | `0` application code (2) IUV base (13) check (2)          | base + check (15)   |
//! | 1   | `1` IUV base (17), no check digits                        | base (17)           |
//! | 2   | `2` IUV base (15) check (2)                               | base + check (17)   |
//! | 3   | `3` segregation code (2) IUV base (13) check (2)          | seg + base + check  |
//!
//! Wherever there are check digits they are the first 16 digits, read as one number, mod 93.
//! New notices are always aux digit 3 (the municipality has several IUV generation points).

use std::fmt;
use std::str::FromStr;

use super::{PaymentsError, truncate};

/// Digits of a notice number.
const NOTICE_LEN: usize = 18;
/// Digits covered by the check digits.
const CHECKED_LEN: usize = 16;
/// Exclusive upper bound of a 13-digit IUV base.
const IUV_BASE_13_LIMIT: u64 = 10_000_000_000_000;

/// The first digit of a notice number: how the rest of it is structured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuxDigit {
    /// Legacy: one generation point, with an application code; 15-digit IUV.
    Zero,
    /// Legacy: one generation point, 17-digit IUV without check digits (e.g. old RAV codes).
    One,
    /// Legacy: one generation point, 15-digit IUV base with check digits.
    Two,
    /// Current: several generation points told apart by a segregation code.
    Three,
}

impl AuxDigit {
    /// The digit itself.
    pub fn as_u8(self) -> u8 {
        match self {
            AuxDigit::Zero => 0,
            AuxDigit::One => 1,
            AuxDigit::Two => 2,
            AuxDigit::Three => 3,
        }
    }

    /// Whether notices of this kind carry mod-93 check digits.
    pub fn has_check_digits(self) -> bool {
        self != AuxDigit::One
    }
}

/// The segregation code pagoPA assigns to each IUV generation point of a creditor (two digits;
/// AgID assigns 00–49 to intermediaries and 96–99 to national centralised services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegregationCode(u8);

impl SegregationCode {
    /// A code from its numeric value, `0..=99`.
    pub fn new(code: u8) -> Result<Self, PaymentsError> {
        if code <= 99 {
            Ok(Self(code))
        } else {
            Err(PaymentsError::MalformedSegregationCode(code.to_string()))
        }
    }

    /// Parses the two-digit form used in configuration (`"02"`).
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        match text.as_bytes() {
            [tens, units] if tens.is_ascii_digit() && units.is_ascii_digit() => {
                Ok(Self((tens - b'0') * 10 + (units - b'0')))
            }
            _ => Err(PaymentsError::MalformedSegregationCode(truncate(text))),
        }
    }

    /// The numeric value.
    pub fn value(self) -> u8 {
        self.0
    }
}

impl fmt::Display for SegregationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// A validated 18-digit notice number: the code a citizen types, reads on the paper notice or
/// scans in the QR code, and the key of a payment option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoticeNumber(String);

impl NoticeNumber {
    /// Generates an aux-digit-3 notice number from the creditor's segregation code and a
    /// 13-digit IUV base (typically a per-creditor sequence), computing the check digits.
    pub fn generate(segregation: SegregationCode, iuv_base: u64) -> Result<Self, PaymentsError> {
        if iuv_base >= IUV_BASE_13_LIMIT {
            return Err(PaymentsError::MalformedIuvBase(iuv_base.to_string()));
        }
        Ok(Self::with_check_digits(&format!("3{segregation}{iuv_base:013}")))
    }

    /// Appends the check digits to the first 16 digits (ASCII digits, checked by the callers).
    fn with_check_digits(first16: &str) -> Self {
        debug_assert!(first16.len() == CHECKED_LEN);
        Self(format!("{first16}{:02}", check_digits(first16)))
    }

    /// Parses a notice number of any aux digit, verifying the check digits where they exist.
    /// Spaces are ignored, so the printed form (`3020 3200 2700 0002 51`) is accepted.
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        let compact: String = text.chars().filter(|c| *c != ' ').collect();
        if !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PaymentsError::NoticeNotNumeric(truncate(text)));
        }
        if compact.len() != NOTICE_LEN {
            return Err(PaymentsError::NoticeLength(compact.len()));
        }
        let aux = aux_digit_of(compact.as_bytes()[0])
            .ok_or(PaymentsError::UnknownAuxDigit(compact.as_bytes()[0] - b'0'))?;
        if aux.has_check_digits() {
            let (first16, found) = compact.split_at(CHECKED_LEN);
            let expected = format!("{:02}", check_digits(first16));
            if found != expected {
                return Err(PaymentsError::NoticeCheckDigits {
                    notice: compact,
                    expected,
                });
            }
        }
        Ok(Self(compact))
    }

    /// The aux digit.
    pub fn aux_digit(&self) -> AuxDigit {
        // Only valid notice numbers are ever constructed.
        aux_digit_of(self.0.as_bytes()[0]).unwrap_or(AuxDigit::Three)
    }

    /// The IUV (identificativo univoco di versamento), the `creditorReferenceId` of the pagoPA
    /// messages: the last 17 digits, except for aux digit 0 where it is the last 15 (the
    /// application code is not part of it).
    pub fn iuv(&self) -> &str {
        match self.aux_digit() {
            AuxDigit::Zero => &self.0[3..],
            _ => &self.0[1..],
        }
    }

    /// The segregation code (aux digit 3 only).
    pub fn segregation_code(&self) -> Option<SegregationCode> {
        (self.aux_digit() == AuxDigit::Three).then(|| SegregationCode(two_digits(&self.0[1..3])))
    }

    /// The application code (aux digit 0 only).
    pub fn application_code(&self) -> Option<u8> {
        (self.aux_digit() == AuxDigit::Zero).then(|| two_digits(&self.0[1..3]))
    }

    /// The check digits, where the aux digit has them.
    pub fn check_digits(&self) -> Option<u8> {
        self.aux_digit()
            .has_check_digits()
            .then(|| two_digits(&self.0[CHECKED_LEN..]))
    }

    /// The eighteen digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form of the paper notice: groups of four digits (`3020 3200 2700 0002 51`).
    pub fn printed(&self) -> String {
        let mut out = String::with_capacity(NOTICE_LEN + NOTICE_LEN / 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl FromStr for NoticeNumber {
    type Err = PaymentsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn aux_digit_of(byte: u8) -> Option<AuxDigit> {
    match byte {
        b'0' => Some(AuxDigit::Zero),
        b'1' => Some(AuxDigit::One),
        b'2' => Some(AuxDigit::Two),
        b'3' => Some(AuxDigit::Three),
        _ => None,
    }
}

/// Two ASCII digits as a number (callers pass validated digits).
fn two_digits(text: &str) -> u8 {
    text.bytes().fold(0, |acc, b| acc * 10 + (b - b'0'))
}

/// The mod-93 check of the first 16 digits. Sixteen digits fit in a `u64` (< 1.8e19).
fn check_digits(first16: &str) -> u64 {
    let number = first16
        .bytes()
        .fold(0_u64, |acc, b| acc * 10 + u64::from(b - b'0'));
    number % 93
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The example of the pagoPA specifications (creditor 03334231200), also used by the SOAP fixtures.
    const EXAMPLE: &str = "302032002700000251";

    #[test]
    fn the_design_example_validates_and_decomposes() {
        let notice = NoticeNumber::parse(EXAMPLE).unwrap();
        assert_eq!(notice.aux_digit(), AuxDigit::Three);
        assert_eq!(notice.segregation_code(), Some(SegregationCode::new(2).unwrap()));
        assert_eq!(notice.iuv(), "02032002700000251");
        assert_eq!(notice.check_digits(), Some(51));
        assert_eq!(notice.application_code(), None);
        assert_eq!(notice.printed(), "3020 3200 2700 0002 51");
        assert_eq!(NoticeNumber::parse(&notice.printed()).unwrap(), notice);
    }

    #[test]
    fn generation_reproduces_the_example() {
        let generated =
            NoticeNumber::generate(SegregationCode::parse("02").unwrap(), 320_027_000_002).unwrap();
        assert_eq!(generated.as_str(), EXAMPLE);
        assert_eq!(
            NoticeNumber::generate(SegregationCode::new(47).unwrap(), 0)
                .unwrap()
                .as_str(),
            format!("3470000000000000{:02}", 3_470_000_000_000_000_u64 % 93)
        );
        assert!(matches!(
            NoticeNumber::generate(SegregationCode::new(2).unwrap(), IUV_BASE_13_LIMIT),
            Err(PaymentsError::MalformedIuvBase(_))
        ));
    }

    #[test]
    fn legacy_aux_digits_parse() {
        // Aux 0: application code 12, 15-digit IUV.
        let zero = NoticeNumber::with_check_digits("0120000000012345");
        let zero = NoticeNumber::parse(zero.as_str()).unwrap();
        assert_eq!(zero.aux_digit(), AuxDigit::Zero);
        assert_eq!(zero.application_code(), Some(12));
        assert_eq!(zero.segregation_code(), None);
        assert_eq!(zero.iuv().len(), 15);
        assert_eq!(&zero.iuv()[..13], "0000000012345");
        // Aux 1: no check digits at all, any 17 digits.
        let one = NoticeNumber::parse("112345678901234567").unwrap();
        assert_eq!(one.aux_digit(), AuxDigit::One);
        assert_eq!(one.check_digits(), None);
        assert_eq!(one.iuv(), "12345678901234567");
        // Aux 2: 15-digit base plus check digits.
        let two = NoticeNumber::with_check_digits("2123456789012345");
        let two = NoticeNumber::parse(two.as_str()).unwrap();
        assert_eq!(two.aux_digit(), AuxDigit::Two);
        assert_eq!(two.iuv().len(), 17);
        assert_eq!(two.segregation_code(), None);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            NoticeNumber::parse("30203200270000025"),
            Err(PaymentsError::NoticeLength(17))
        );
        assert_eq!(
            NoticeNumber::parse("3020320027000002511"),
            Err(PaymentsError::NoticeLength(19))
        );
        assert!(matches!(
            NoticeNumber::parse("30203200270000025a"),
            Err(PaymentsError::NoticeNotNumeric(_))
        ));
        assert!(matches!(
            NoticeNumber::parse("3020-3200-2700-0002-51"),
            Err(PaymentsError::NoticeNotNumeric(_))
        ));
        assert_eq!(
            NoticeNumber::parse("402032002700000251"),
            Err(PaymentsError::UnknownAuxDigit(4))
        );
        assert_eq!(
            NoticeNumber::parse("302032002700000252"),
            Err(PaymentsError::NoticeCheckDigits {
                notice: "302032002700000252".into(),
                expected: "51".into()
            })
        );
        let message = NoticeNumber::parse("302032002700000252").unwrap_err().to_string();
        assert!(message.contains("check digits"), "{message}");
    }

    #[test]
    fn segregation_codes_are_two_digits() {
        assert_eq!(SegregationCode::parse("07").unwrap().to_string(), "07");
        for bad in ["7", "007", "a7", "", "７７"] {
            assert!(SegregationCode::parse(bad).is_err(), "{bad}");
        }
        assert!(SegregationCode::new(100).is_err());
    }

    proptest! {
        #[test]
        fn generated_notices_always_validate(segregation in 0_u8..=99, base in 0..IUV_BASE_13_LIMIT) {
            let notice = NoticeNumber::generate(SegregationCode::new(segregation).unwrap(), base).unwrap();
            let parsed = NoticeNumber::parse(notice.as_str()).unwrap();
            prop_assert_eq!(&parsed, &notice);
            prop_assert_eq!(parsed.segregation_code().map(SegregationCode::value), Some(segregation));
            prop_assert_eq!(&parsed.iuv()[2..15], &format!("{base:013}"));
        }

        /// Two 16-digit numbers that differ in one digit differ by d·10^k with 1 ≤ |d| ≤ 9; as
        /// 10^k is coprime with 93, 93 never divides the difference, so mod 93 catches every single
        /// substitution in the covered digits, and a changed check digit never matches. The one
        /// exception is by design: turning the aux digit into `1` yields a legal notice without
        /// check digits.
        #[test]
        fn single_digit_changes_are_detected(
            segregation in 0_u8..=99,
            base in 0..IUV_BASE_13_LIMIT,
            position in 0_usize..NOTICE_LEN,
            replacement in 0_u8..=9,
        ) {
            let notice = NoticeNumber::generate(SegregationCode::new(segregation).unwrap(), base).unwrap();
            let mut bytes = notice.as_str().as_bytes().to_vec();
            prop_assume!(bytes[position] != b'0' + replacement);
            prop_assume!(!(position == 0 && replacement == 1));
            bytes[position] = b'0' + replacement;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert!(NoticeNumber::parse(&altered).is_err(), "{} accepted", altered);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = NoticeNumber::parse(&text);
        }
    }
}
