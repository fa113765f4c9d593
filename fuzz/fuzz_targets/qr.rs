//! The QR code of a paper notice as an app or the citizens' verify route reads it:
//! `QrPayload::parse`. Properties: no panic; a payload that parses prints in canonical form,
//! which parses back to the same payload and prints the same again; its notice number and
//! creditor code are valid on their own; its amount is within the pagoPA range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::payments::{Amount, NoticeNumber, QrPayload};
use sportello_core::tenant::EntityFiscalCode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(payload) = QrPayload::parse(text) else {
        return;
    };
    let canonical = payload.to_string();
    let again = QrPayload::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical payload {canonical:?} does not parse: {e}"));
    assert_eq!(again, payload);
    assert_eq!(again.to_string(), canonical);
    assert!(canonical.starts_with("PAGOPA|002|"));
    assert_eq!(
        NoticeNumber::parse(payload.notice().as_str()).as_ref(),
        Ok(payload.notice())
    );
    assert_eq!(
        EntityFiscalCode::parse(payload.creditor().as_str()).as_ref(),
        Ok(payload.creditor())
    );
    assert!((0..=Amount::MAX.cents()).contains(&payload.amount().cents()));
});
