//! The QR code of a pagoPA notice: `PAGOPA|002|<notice number>|<creditor fiscal code>|<cents>`.

use std::fmt;
use std::str::FromStr;

use super::{Amount, NoticeNumber, PaymentsError, truncate};
use crate::tenant::EntityFiscalCode;

/// Literal first field.
const PREFIX: &str = "PAGOPA";
/// The only payload version in use.
const VERSION: &str = "002";
/// Digits of the largest amount in cents (999999999.99 euro).
const MAX_AMOUNT_DIGITS: usize = 11;

/// What the QR code of a notice carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrPayload {
    notice: NoticeNumber,
    creditor: EntityFiscalCode,
    amount: Amount,
}

impl QrPayload {
    /// A payload to print on a notice; the amount must not be zero.
    pub fn new(
        notice: NoticeNumber,
        creditor: EntityFiscalCode,
        amount: Amount,
    ) -> Result<Self, PaymentsError> {
        if amount.is_zero() {
            return Err(PaymentsError::ZeroAmount);
        }
        Ok(Self {
            notice,
            creditor,
            amount,
        })
    }

    /// Reads a scanned payload. Lenient about what scanners and printers really produce:
    /// surrounding white space and a trailing `|`, spaces around fields, the prefix in any case,
    /// amounts of any length up to eleven digits (real codes carry `5` for five cents, or
    /// zero-padded amounts). Strict about what matters: the notice number (with its check
    /// digits) and the creditor's fiscal code (with its check digit).
    pub fn parse(text: &str) -> Result<Self, PaymentsError> {
        let trimmed = text.trim();
        let trimmed = trimmed.strip_suffix('|').unwrap_or(trimmed);
        let fields: Vec<&str> = trimmed.split('|').map(str::trim).collect();
        let [prefix, version, notice, creditor, amount] = fields.as_slice() else {
            return Err(PaymentsError::QrFieldCount(fields.len()));
        };
        if !prefix.eq_ignore_ascii_case(PREFIX) {
            return Err(PaymentsError::QrPrefix(truncate(prefix)));
        }
        if *version != VERSION {
            return Err(PaymentsError::QrVersion(truncate(version)));
        }
        let notice = NoticeNumber::parse(notice)?;
        let creditor = EntityFiscalCode::parse(creditor)?;
        if amount.is_empty()
            || amount.len() > MAX_AMOUNT_DIGITS
            || !amount.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PaymentsError::QrAmount(truncate(amount)));
        }
        let cents: i64 = amount
            .parse()
            .map_err(|_| PaymentsError::QrAmount(truncate(amount)))?;
        Ok(Self {
            notice,
            creditor,
            amount: Amount::from_cents(cents)?,
        })
    }

    /// The notice number.
    pub fn notice(&self) -> &NoticeNumber {
        &self.notice
    }

    /// The creditor institution (the municipality).
    pub fn creditor(&self) -> &EntityFiscalCode {
        &self.creditor
    }

    /// The amount printed on the notice (the amount due may change: pagoPA asks the creditor).
    pub fn amount(&self) -> Amount {
        self.amount
    }
}

impl FromStr for QrPayload {
    type Err = PaymentsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// The canonical payload to encode in the QR code: amount in cents, unpadded.
impl fmt::Display for QrPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}|{VERSION}|{}|{}|{}",
            self.notice,
            self.creditor,
            self.amount.cents()
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::SegregationCode;
    use super::*;
    use crate::tenant::TenantError;

    const EXAMPLE: &str = "PAGOPA|002|302032002700000251|03334231200|3000";

    #[test]
    fn builds_the_canonical_payload() {
        let payload = QrPayload::new(
            NoticeNumber::parse("302032002700000251").unwrap(),
            EntityFiscalCode::parse("03334231200").unwrap(),
            Amount::parse("30.00").unwrap(),
        )
        .unwrap();
        assert_eq!(payload.to_string(), EXAMPLE);
        assert_eq!(QrPayload::parse(EXAMPLE).unwrap(), payload);
    }

    #[test]
    fn zero_amounts_are_not_printed_but_are_read() {
        let notice = NoticeNumber::parse("302032002700000251").unwrap();
        let creditor = EntityFiscalCode::parse("03334231200").unwrap();
        assert_eq!(
            QrPayload::new(notice, creditor, Amount::ZERO),
            Err(PaymentsError::ZeroAmount)
        );
        let read = QrPayload::parse("PAGOPA|002|302032002700000251|03334231200|0").unwrap();
        assert!(read.amount().is_zero());
    }

    #[test]
    fn reads_real_world_variants() {
        for text in [
            "PAGOPA|002|302032002700000251|03334231200|5",
            "pagopa|002|302032002700000251|03334231200|5",
            "  PAGOPA|002|302032002700000251|03334231200|5\r\n",
            "PAGOPA | 002 | 302032002700000251 | 03334231200 | 5",
            "PAGOPA|002|302032002700000251|03334231200|5|",
            "PAGOPA|002|302032002700000251|03334231200|00000000005",
        ] {
            let payload = QrPayload::parse(text).unwrap();
            assert_eq!(payload.amount().cents(), 5, "{text:?}");
            assert_eq!(payload.notice().as_str(), "302032002700000251");
            assert_eq!(payload.creditor().as_str(), "03334231200");
        }
    }

    #[test]
    fn rejects_what_it_cannot_trust() {
        use PaymentsError as E;
        type Check = fn(&PaymentsError) -> bool;
        let cases: [(&str, Check); 9] = [
            ("PAGOPA|002|302032002700000251|03334231200", |e| {
                matches!(e, E::QrFieldCount(4))
            }),
            ("PAGOPA|002|302032002700000251|03334231200|1|2", |e| {
                matches!(e, E::QrFieldCount(6))
            }),
            ("PAGOPB|002|302032002700000251|03334231200|1", |e| {
                matches!(e, E::QrPrefix(_))
            }),
            ("PAGOPA|001|302032002700000251|03334231200|1", |e| {
                matches!(e, E::QrVersion(_))
            }),
            ("PAGOPA|002|302032002700000252|03334231200|1", |e| {
                matches!(e, E::NoticeCheckDigits { .. })
            }),
            ("PAGOPA|002|302032002700000251|03334231201|1", |e| {
                matches!(e, E::Creditor(TenantError::MalformedEntityFiscalCode(_)))
            }),
            ("PAGOPA|002|302032002700000251|03334231200|", |e| {
                matches!(e, E::QrFieldCount(4))
            }),
            ("PAGOPA|002|302032002700000251|03334231200|1.00", |e| {
                matches!(e, E::QrAmount(_))
            }),
            ("PAGOPA|002|302032002700000251|03334231200|100000000000", |e| {
                matches!(e, E::QrAmount(_))
            }),
        ];
        for (text, expected) in cases {
            let error = QrPayload::parse(text).unwrap_err();
            assert!(expected(&error), "{text}: {error:?}");
        }
        assert!(matches!(
            QrPayload::parse("PAGOPA|002|302032002700000251|03334231200|-1"),
            Err(E::QrAmount(_))
        ));
        // Eleven digits fit, but not beyond the pagoPA maximum.
        assert!(QrPayload::parse("PAGOPA|002|302032002700000251|03334231200|99999999999").is_ok());
    }

    /// Valid entity fiscal codes: ten random digits and the computed check digit.
    fn fiscal_code() -> impl Strategy<Value = EntityFiscalCode> {
        proptest::collection::vec(0_u32..=9, 10).prop_map(|digits| {
            let sum: u32 = digits
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    if i % 2 == 0 {
                        d
                    } else if d * 2 > 9 {
                        d * 2 - 9
                    } else {
                        d * 2
                    }
                })
                .sum();
            let text: String = digits
                .iter()
                .chain(std::iter::once(&((10 - sum % 10) % 10)))
                .map(|d| char::from_digit(*d, 10).unwrap())
                .collect();
            EntityFiscalCode::parse(&text).unwrap()
        })
    }

    proptest! {
        #[test]
        fn build_then_parse_round_trips(
            segregation in 0_u8..=99,
            base in 0_u64..10_000_000_000_000,
            creditor in fiscal_code(),
            cents in 1..=Amount::MAX.cents(),
        ) {
            let notice = NoticeNumber::generate(SegregationCode::new(segregation).unwrap(), base).unwrap();
            let payload = QrPayload::new(notice, creditor, Amount::from_cents(cents).unwrap()).unwrap();
            prop_assert_eq!(QrPayload::parse(&payload.to_string()).unwrap(), payload);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,80}") {
            let _ = QrPayload::parse(&text);
        }
    }
}
