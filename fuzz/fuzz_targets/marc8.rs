//! The MARC-8 decoder on its own (MARC 21 records with a blank leader/09 go through it), where
//! the fuzzer reaches escape sequences and combining marks faster than through whole records.
//! Properties: no panic; at most one character out per byte in; printable ASCII with no escape
//! decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::catalog::marc8;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = marc8::decode(data) else {
        return;
    };
    assert!(text.chars().count() <= data.len());
    if data.iter().all(|b| (0x20..0x7F).contains(b)) {
        assert_eq!(text.as_bytes(), data);
    }
});
