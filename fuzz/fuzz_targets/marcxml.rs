//! MARCXML and UNIMARC slim XML as the import reads them (`--format marcxml`; `auto` picks it
//! for input starting with `<`). Properties: no panic; every record read has the promised
//! shape and passes the import's normalisation; no more records than `<record`/`<rec` tags can
//! open; and a record that ISO 2709 can carry reads back from ISO 2709 to the same fields and
//! flavour, so the two readers agree on what a record says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::catalog::marc::parse_iso2709;
use sportello_core::catalog::{InputFormat, MarcReader};
use sportello_fuzz::{check_record, to_iso2709};

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = MarcReader::open(data, InputFormat::MarcXml) else {
        return;
    };
    let mut results = 0usize;
    for result in reader {
        results += 1;
        assert!(
            results <= data.len() / 4 + 1,
            "{results} results from {} bytes",
            data.len()
        );
        let Ok(record) = result else { continue };
        check_record(&record);
        assert!(record.fields.len() <= 10_000);
        if let Some(raw) = to_iso2709(&record) {
            let again = parse_iso2709(&raw, None)
                .unwrap_or_else(|e| panic!("the XML record does not read as ISO 2709: {e:?}\n{record:?}"));
            assert_eq!(again.fields, record.fields);
            assert_eq!(again.flavour, record.flavour);
        }
    }
});
