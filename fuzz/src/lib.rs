//! What the fuzz targets share: the properties every decoded MARC record must have, whichever
//! reader produced it, and an ISO 2709 writer so a record can be read back and compared.

use sportello_core::catalog::holdings::{self, HoldingsMapping};
use sportello_core::catalog::marc::{
    FIELD_TERMINATOR, Field, FieldContent, MAX_RECORD_BYTES, RECORD_TERMINATOR, Record, SUBFIELD_DELIMITER,
};
use sportello_core::catalog::record::BibRecord;
use unicode_normalization::UnicodeNormalization;

/// Checks what the readers promise about a record they return, then runs the import's
/// normalisation on it (what `sportello catalog import` does with each record next).
pub fn check_record(record: &Record) {
    assert_eq!(record.leader.len(), 24, "leader {:?}", record.leader);
    assert!(record.leader.is_ascii(), "leader {:?}", record.leader);
    for field in &record.fields {
        assert!(
            field.tag.len() == 3 && field.tag.bytes().all(|b| b.is_ascii_alphanumeric()),
            "tag {:?}",
            field.tag
        );
        match &field.content {
            FieldContent::Control(value) => assert_nfc(value),
            FieldContent::Data { subfields, .. } => {
                for subfield in subfields {
                    assert_nfc(&subfield.value);
                }
            }
        }
    }
    // The import's next steps, all pure: normalise, merge key, copies with the default mapping.
    let _ = record.control_number();
    let _ = record.is_deleted();
    let bib = BibRecord::from_marc(record);
    let _ = bib.merge_key();
    let _ = bib.sbn_bid();
    let mappings = HoldingsMapping::defaults(record.flavour);
    let _ = holdings::copies(record, &mappings);
}

fn assert_nfc(value: &str) {
    assert!(value.nfc().eq(value.chars()), "value not in NFC: {value:?}");
}

/// Writes a record as UTF-8 ISO 2709 (leader/09 `a`, 5+5-digit directory entries), keeping the
/// rest of its leader. `None` when ISO 2709 cannot carry the record as it is: a value holding a
/// delimiter, a non-ASCII indicator or subfield code, a control field under a data tag (or the
/// reverse, which MARCXML can say), or more than [`MAX_RECORD_BYTES`].
pub fn to_iso2709(record: &Record) -> Option<Vec<u8>> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for field in &record.fields {
        let start = data.len();
        write_field(field, &mut data)?;
        data.push(FIELD_TERMINATOR);
        let length = data.len() - start;
        if length > 99_999 || start > 99_999 {
            return None;
        }
        directory.extend_from_slice(format!("{}{length:05}{start:05}", field.tag).as_bytes());
    }
    directory.push(FIELD_TERMINATOR);
    let base = 24 + directory.len();
    let total = base + data.len() + 1;
    if total > MAX_RECORD_BYTES {
        return None;
    }
    let leader = record.leader.as_bytes();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(format!("{total:05}").as_bytes());
    out.extend_from_slice(&leader[5..9]);
    out.push(b'a');
    out.extend_from_slice(&leader[10..12]);
    out.extend_from_slice(format!("{base:05}").as_bytes());
    out.extend_from_slice(&leader[17..20]);
    out.extend_from_slice(b"55");
    out.extend_from_slice(&leader[22..24]);
    out.extend_from_slice(&directory);
    out.extend_from_slice(&data);
    out.push(RECORD_TERMINATOR);
    Some(out)
}

fn write_field(field: &Field, out: &mut Vec<u8>) -> Option<()> {
    let control_tag = Field::is_control_tag(&field.tag);
    match &field.content {
        FieldContent::Control(value) if control_tag => {
            if value.bytes().any(|b| b == RECORD_TERMINATOR) {
                return None;
            }
            out.extend_from_slice(value.as_bytes());
        }
        FieldContent::Data {
            indicators,
            subfields,
        } if !control_tag => {
            for indicator in indicators {
                if !indicator.is_ascii() || is_delimiter(*indicator) {
                    return None;
                }
                out.push(*indicator as u8);
            }
            for subfield in subfields {
                let code = subfield.code;
                let value = &subfield.value;
                if !code.is_ascii()
                    || is_delimiter(code)
                    || value
                        .bytes()
                        .any(|b| b == SUBFIELD_DELIMITER || b == RECORD_TERMINATOR)
                {
                    return None;
                }
                out.push(SUBFIELD_DELIMITER);
                out.push(code as u8);
                out.extend_from_slice(value.as_bytes());
            }
        }
        _ => return None,
    }
    Some(())
}

fn is_delimiter(c: char) -> bool {
    c == char::from(SUBFIELD_DELIMITER) || c == char::from(RECORD_TERMINATOR)
}

/// Whether `c` may appear in an XML 1.0 document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}
