//! Catalogue: MARC records from the libraries' own software (MARC 21 and UNIMARC, ISO 2709 and
//! XML, MARC-8 and UTF-8), normalised into one record per edition, with holdings, opening hours
//! and availability.
//!
//! Everything here is pure: readers take any `std::io::Read`, so the server streams multi-GB
//! exports from disk and tests read byte slices.

pub mod availability;
pub mod holdings;
pub mod hours;
pub mod isbn;
pub mod marc;
pub mod marc8;
pub mod marcxml;
pub mod record;

use std::io::{BufRead, BufReader, Read};

pub use self::marc::{Flavour, ReadError, Record, RecordError};

/// The container format of an export, as the import command names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Decide from the first bytes: `<` is XML, anything else ISO 2709; the flavour is decided
    /// per record from its tags.
    Auto,
    /// ISO 2709 MARC 21.
    Marc21,
    /// ISO 2709 UNIMARC.
    Unimarc,
    /// MARCXML or UNIMARC slim XML (flavour from the tags).
    MarcXml,
}

impl InputFormat {
    /// Parses `auto`, `marc21`, `unimarc`, `marcxml`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "auto" => InputFormat::Auto,
            "marc21" => InputFormat::Marc21,
            "unimarc" => InputFormat::Unimarc,
            "marcxml" | "xml" => InputFormat::MarcXml,
            _ => return None,
        })
    }
}

/// A reader of any supported format, yielding records or per-record errors.
pub enum MarcReader<R: Read> {
    /// ISO 2709.
    Iso2709(marc::Iso2709Reader<BufReader<R>>),
    /// XML.
    Xml(Box<marcxml::MarcXmlReader<BufReader<R>>>),
}

impl<R: Read> MarcReader<R> {
    /// Opens `input` in `format`, sniffing the first bytes for [`InputFormat::Auto`].
    pub fn open(input: R, format: InputFormat) -> std::io::Result<Self> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let format = match format {
            InputFormat::Auto => {
                if starts_like_xml(&mut input)? {
                    InputFormat::MarcXml
                } else {
                    InputFormat::Auto
                }
            }
            other => other,
        };
        Ok(match format {
            InputFormat::MarcXml => MarcReader::Xml(Box::new(marcxml::MarcXmlReader::new(input, None))),
            InputFormat::Marc21 => {
                MarcReader::Iso2709(marc::Iso2709Reader::with_flavour(input, Some(Flavour::Marc21)))
            }
            InputFormat::Unimarc => {
                MarcReader::Iso2709(marc::Iso2709Reader::with_flavour(input, Some(Flavour::Unimarc)))
            }
            InputFormat::Auto => MarcReader::Iso2709(marc::Iso2709Reader::new(input)),
        })
    }
}

impl<R: Read> Iterator for MarcReader<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            MarcReader::Iso2709(reader) => reader.next(),
            MarcReader::Xml(reader) => reader.next(),
        }
    }
}

/// Whether the first non-blank byte (after a UTF-8 byte-order mark) is `<`.
fn starts_like_xml<R: Read>(input: &mut BufReader<R>) -> std::io::Result<bool> {
    let head = input.fill_buf()?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_detects_xml_and_iso2709() {
        let xml =
            "\u{feff}  <collection><record><leader>00000nam a2200000 a 4500</leader></record></collection>";
        let reader = MarcReader::open(xml.as_bytes(), InputFormat::Auto).unwrap();
        assert!(matches!(reader, MarcReader::Xml(_)));
        assert_eq!(reader.count(), 1);
        let reader = MarcReader::open(&b"00000"[..], InputFormat::Auto).unwrap();
        assert!(matches!(reader, MarcReader::Iso2709(_)));
        assert_eq!(InputFormat::parse("unimarc"), Some(InputFormat::Unimarc));
        assert_eq!(InputFormat::parse("pdf"), None);
    }
}
