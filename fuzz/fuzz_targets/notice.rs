//! Notice numbers (numero avviso) as a citizen types them, an app scans them or the pagoPA
//! Node sends them: `NoticeNumber::parse`. Properties: no panic; a number that parses is its
//! input without spaces, eighteen digits, and parses again to itself from both its compact
//! and printed forms; its IUV, segregation code, application code and check digits agree
//! with its digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::payments::{AuxDigit, NoticeNumber};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(notice) = NoticeNumber::parse(text) else {
        return;
    };
    let digits = notice.as_str();
    assert_eq!(digits, text.replace(' ', ""));
    assert!(digits.len() == 18 && digits.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(NoticeNumber::parse(digits).as_ref(), Ok(&notice));
    let printed = notice.printed();
    assert_eq!(printed.len(), 22);
    assert_eq!(NoticeNumber::parse(&printed).as_ref(), Ok(&notice));
    assert_eq!(notice.to_string(), digits);
    let iuv = notice.iuv();
    assert!(digits.ends_with(iuv));
    let two = |s: &str| s.parse::<u8>().ok();
    match notice.aux_digit() {
        AuxDigit::Zero => {
            assert_eq!(iuv.len(), 15);
            assert_eq!(notice.application_code(), two(&digits[1..3]));
        }
        AuxDigit::Three => {
            assert_eq!(iuv.len(), 17);
            assert_eq!(notice.segregation_code().map(|s| s.value()), two(&digits[1..3]));
        }
        AuxDigit::One | AuxDigit::Two => assert_eq!(iuv.len(), 17),
    }
    match notice.check_digits() {
        Some(check) => {
            assert_eq!(Some(check), two(&digits[16..]));
            let first16: u64 = digits[..16].parse().unwrap_or(u64::MAX);
            assert_eq!(u64::from(check), first16 % 93);
        }
        None => assert_eq!(notice.aux_digit(), AuxDigit::One),
    }
});
