//! ISO 2709 (MARC 21 and UNIMARC, UTF-8 and MARC-8) as `sportello catalog import` reads a file:
//! `MarcReader::open` with the default format `auto`, then the import's normalisation of each
//! record. Properties: no panic; every record read has the promised shape (24-character ASCII
//! leader, alphanumeric tags, NFC values); no more results than the input can hold; and a
//! record written back as UTF-8 ISO 2709 reads back to the same fields and flavour.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::catalog::marc::parse_iso2709;
use sportello_core::catalog::{InputFormat, MarcReader};
use sportello_fuzz::{check_record, to_iso2709};

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = MarcReader::open(data, InputFormat::Auto) else {
        return;
    };
    let mut results = 0usize;
    for result in reader {
        results += 1;
        // Each result, record or error, consumes at least one byte of the input.
        assert!(
            results <= data.len(),
            "{results} results from {} bytes",
            data.len()
        );
        let Ok(record) = result else { continue };
        check_record(&record);
        if let Some(raw) = to_iso2709(&record) {
            let again = parse_iso2709(&raw, None)
                .unwrap_or_else(|e| panic!("re-encoded record does not read: {e:?}\n{record:?}"));
            assert_eq!(again.fields, record.fields);
            assert_eq!(again.flavour, record.flavour);
        }
    }
});
