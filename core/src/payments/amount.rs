//! Money: integer euro cents, read and written as the pagoPA XSD `stAmount` decimal.

use std::fmt;
use std::str::FromStr;

use super::{PaymentsError, truncate};

/// An amount of money in euro cents, `0.00..=999_999_999.99` (the `stAmount` range of the
/// pagoPA schemas). Integer cents: no floating point ever touches money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Amount(i64);

impl Amount {
    /// Zero euro.
    pub const ZERO: Amount = Amount(0);
    /// The largest amount pagoPA accepts: 999,999,999.99 euro.
    pub const MAX: Amount = Amount(99_999_999_999);

    /// An amount from cents, rejecting negative or too large values.
    pub fn from_cents(cents: i64) -> Result<Self, PaymentsError> {
        if cents < 0 {
            Err(PaymentsError::NegativeAmount(cents.to_string()))
        } else if cents > Self::MAX.0 {
            Err(PaymentsError::AmountOutOfRange(cents.to_string()))
        } else {
            Ok(Self(cents))
        }
    }

    /// The amount in cents (what the database stores).
    pub fn cents(self) -> i64 {
        self.0
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The sum, or `None` when it would exceed [`Amount::MAX`].
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0
            .checked_add(other.0)
            .filter(|&cents| cents <= Self::MAX.0)
            .map(Amount)
    }

    /// Parses a decimal in euro with at most two decimals: `12`, `12.3`, `12.34`.
    ///
    /// Lenient where the meaning is unambiguous (surrounding spaces, one decimal, no decimals),
    /// strict where money could be misread: no sign, no thousands separators, no comma, no more
    /// than two decimals (even `12.340`), nothing beyond [`Amount::MAX`].
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        let trimmed = text.trim();
        let malformed = || PaymentsError::MalformedAmount(truncate(text));
        if trimmed.starts_with('-') {
            return Err(PaymentsError::NegativeAmount(truncate(text)));
        }
        let (euros, decimals) = match trimmed.split_once('.') {
            Some((euros, decimals)) => (euros, decimals),
            None => (trimmed, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if euros.is_empty() || !all_digits(euros) || !all_digits(decimals) {
            return Err(malformed());
        }
        if trimmed.contains('.') && decimals.is_empty() {
            return Err(malformed());
        }
        if decimals.len() > 2 {
            return Err(PaymentsError::TooManyDecimals(truncate(text)));
        }
        let out_of_range = || PaymentsError::AmountOutOfRange(truncate(text));
        let mut cents: i64 = 0;
        for digit in euros.bytes().chain(decimals.bytes()) {
            cents = cents
                .checked_mul(10)
                .and_then(|c| c.checked_add(i64::from(digit - b'0')))
                .ok_or_else(out_of_range)?;
        }
        // "12.3" means 12.30: scale the decimals we read up to cents.
        for _ in decimals.len()..2 {
            cents = cents.checked_mul(10).ok_or_else(out_of_range)?;
        }
        if cents > Self::MAX.0 {
            return Err(out_of_range());
        }
        Ok(Self(cents))
    }
}

impl FromStr for Amount {
    type Err = PaymentsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The `stAmount` form: euros, a dot, exactly two decimals (`30.00`).
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_xsd_decimals_into_cents() {
        for (text, cents) in [
            ("12.34", 1234),
            ("12.3", 1230),
            ("12", 1200),
            ("0.01", 1),
            ("0.00", 0),
            (" 30.00 ", 3000),
            ("007.50", 750),
            ("999999999.99", 99_999_999_999),
        ] {
            assert_eq!(Amount::parse(text).unwrap().cents(), cents, "{text}");
        }
    }

    #[test]
    fn rejects_what_could_be_misread() {
        assert!(matches!(
            Amount::parse("12.345"),
            Err(PaymentsError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Amount::parse("12.340"),
            Err(PaymentsError::TooManyDecimals(_))
        ));
        assert!(matches!(
            Amount::parse("-1.00"),
            Err(PaymentsError::NegativeAmount(_))
        ));
        assert!(matches!(
            Amount::parse("1000000000.00"),
            Err(PaymentsError::AmountOutOfRange(_))
        ));
        assert!(matches!(
            Amount::parse("99999999999999999999999"),
            Err(PaymentsError::AmountOutOfRange(_))
        ));
        for bad in [
            "", " ", ".", "12.", ".50", "+1.00", "12,34", "1 000.00", "1e3", "12.3a", "١٢",
        ] {
            assert!(
                matches!(Amount::parse(bad), Err(PaymentsError::MalformedAmount(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn formats_with_two_decimals() {
        assert_eq!(Amount::from_cents(3000).unwrap().to_string(), "30.00");
        assert_eq!(Amount::from_cents(5).unwrap().to_string(), "0.05");
        assert_eq!(Amount::ZERO.to_string(), "0.00");
        assert_eq!(Amount::MAX.to_string(), "999999999.99");
    }

    #[test]
    fn cents_are_range_checked() {
        assert!(Amount::from_cents(-1).is_err());
        assert!(Amount::from_cents(Amount::MAX.cents() + 1).is_err());
        assert_eq!(Amount::MAX.checked_add(Amount::from_cents(1).unwrap()), None);
        assert_eq!(
            Amount::from_cents(1)
                .unwrap()
                .checked_add(Amount::from_cents(2).unwrap()),
            Some(Amount::from_cents(3).unwrap())
        );
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(cents in 0..=Amount::MAX.cents()) {
            let amount = Amount::from_cents(cents).unwrap();
            prop_assert_eq!(amount.to_string().parse::<Amount>().unwrap(), amount);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Amount::parse(&text);
        }
    }
}
