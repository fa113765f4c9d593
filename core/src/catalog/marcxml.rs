//! MARCXML (Library of Congress "MARC21 slim") and "UNIMARC slim" (BNCF) readers, streaming.
//!
//! Both schemas have the same shape with different element names (`record`/`rec`,
//! `leader`/`lab`, `controlfield`/`cf`, `datafield`/`df`, `subfield`/`sf`, and `tag`/`t`,
//! `ind1`/`i1`, `code`/`c`), so one pull parser reads both; wrappers such as OAI-PMH envelopes are
//! skipped. Entities: only the five predefined ones and character references are resolved.
//! Document type declarations are ignored, so no entity is ever expanded from a DTD: an
//! "XML bomb" is just an unknown entity, which fails the record it appears in.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::marc::{Field, FieldContent, Flavour, ReadError, Record, RecordError, Subfield, detect_flavour};

/// The longest value kept for one leader, control field or subfield; longer ones fail the record.
const MAX_VALUE_BYTES: usize = 99_999;
/// The most fields one record may have (ISO 2709 cannot hold more than ~8,000 either).
const MAX_FIELDS: usize = 10_000;

/// Where text being read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    None,
    Leader,
    Control,
    Subfield,
}

struct Builder {
    index: u64,
    offset: u64,
    leader: String,
    fields: Vec<Field>,
    control_tag: String,
    subfield_code: char,
    text: String,
    error: Option<String>,
}

impl Builder {
    fn fail(&mut self, reason: String) {
        if self.error.is_none() {
            self.error = Some(reason);
        }
    }

    /// Adds `$1` with an embedded field's head to the field being read.
    fn push_embedded(&mut self, value: String) {
        match self.fields.last_mut() {
            Some(Field {
                content: FieldContent::Data { subfields, .. },
                ..
            }) => subfields.push(Subfield { code: '1', value }),
            _ => self.fail("an embedded field outside a data field".to_owned()),
        }
    }

    fn push_text(&mut self, text: &str) {
        if self.text.len() + text.len() > MAX_VALUE_BYTES {
            self.fail(format!("a value is longer than {MAX_VALUE_BYTES} bytes"));
        } else {
            self.text.push_str(text);
        }
    }
}

/// Reads MARC records from MARCXML or UNIMARC slim XML.
pub struct MarcXmlReader<R> {
    reader: Reader<R>,
    buffer: Vec<u8>,
    flavour: Option<Flavour>,
    index: u64,
    done: bool,
}

impl<R: BufRead> MarcXmlReader<R> {
    /// A reader detecting the flavour per record from its tags.
    pub fn new(input: R, flavour: Option<Flavour>) -> Self {
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = true;
        Self {
            reader,
            buffer: Vec::with_capacity(8 * 1024),
            flavour,
            index: 0,
            done: false,
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one pull-parser state machine reads clearer whole"
    )]
    fn next_record(&mut self) -> Option<Result<Record, ReadError>> {
        let mut current: Option<Builder> = None;
        let mut capture = Capture::None;
        // Inside UNIMARC slim `<s1>`: embedded fields (4XX links) become `$1` subfields of the
        // enclosing field, exactly as ISO 2709 carries them (`$1001…`, `$12001 $a…`).
        let mut embedded = false;
        loop {
            self.buffer.clear();
            let position = self.reader.buffer_position();
            let event = match self.reader.read_event_into(&mut self.buffer) {
                Ok(event) => event,
                Err(error) => {
                    self.done = true;
                    return Some(Err(ReadError::Input(format!(
                        "malformed XML near byte {}: {error}; reading stopped",
                        self.reader.error_position()
                    ))));
                }
            };
            match event {
                Event::Eof => {
                    self.done = true;
                    return current.map(|record| {
                        Err(ReadError::Record(RecordError {
                            index: record.index,
                            offset: record.offset,
                            control_number: None,
                            reason: "the XML ends inside the record".to_owned(),
                        }))
                    });
                }
                Event::Start(start) => {
                    let name = start.local_name();
                    match (name.as_ref(), current.as_mut()) {
                        ("record" | "rec", None) => {
                            self.index += 1;
                            current = Some(Builder {
                                index: self.index,
                                offset: position,
                                leader: String::new(),
                                fields: Vec::new(),
                                control_tag: String::new(),
                                subfield_code: ' ',
                                text: String::new(),
                                error: None,
                            });
                        }
                        ("s1", Some(_)) => embedded = true,
                        ("cf", Some(record)) if embedded => {
                            record.text.clear();
                            record.control_tag = attribute(&start, &["tag", "t"]).unwrap_or_default();
                            capture = Capture::Control;
                        }
                        ("df", Some(record)) if embedded => {
                            let tag = attribute(&start, &["tag", "t"]).unwrap_or_default();
                            let indicator = |names: &[&str]| {
                                attribute(&start, names)
                                    .and_then(|v| v.chars().next())
                                    .unwrap_or(' ')
                            };
                            let value = format!(
                                "{tag}{}{}",
                                indicator(&["ind1", "i1"]),
                                indicator(&["ind2", "i2"])
                            );
                            record.push_embedded(value);
                        }
                        ("leader" | "lab", Some(record)) => {
                            record.text.clear();
                            capture = Capture::Leader;
                        }
                        ("controlfield" | "cf", Some(record)) => {
                            record.text.clear();
                            match attribute(&start, &["tag", "t"]) {
                                Some(tag) => record.control_tag = tag,
                                None => record.fail("a control field has no tag".to_owned()),
                            }
                            capture = Capture::Control;
                        }
                        ("datafield" | "df", Some(record)) => {
                            let Some(tag) = attribute(&start, &["tag", "t"]) else {
                                record.fail("a data field has no tag".to_owned());
                                continue;
                            };
                            let indicator = |names: &[&str]| {
                                attribute(&start, names)
                                    .and_then(|v| v.chars().next())
                                    .unwrap_or(' ')
                            };
                            let indicators = [indicator(&["ind1", "i1"]), indicator(&["ind2", "i2"])];
                            if record.fields.len() >= MAX_FIELDS {
                                record.fail(format!("more than {MAX_FIELDS} fields"));
                            } else {
                                record.fields.push(Field {
                                    tag,
                                    content: FieldContent::Data {
                                        indicators,
                                        subfields: Vec::new(),
                                    },
                                });
                            }
                        }
                        ("subfield" | "sf", Some(record)) => {
                            record.text.clear();
                            record.subfield_code = attribute(&start, &["code", "c"])
                                .and_then(|v| v.chars().next())
                                .unwrap_or(' ');
                            capture = Capture::Subfield;
                        }
                        _ => {}
                    }
                }
                Event::Text(text) => {
                    if let (Some(record), true) = (current.as_mut(), capture != Capture::None) {
                        record.push_text(&text.xml10_content());
                    }
                }
                Event::CData(data) => {
                    if let (Some(record), true) = (current.as_mut(), capture != Capture::None) {
                        record.push_text(&data);
                    }
                }
                Event::GeneralRef(reference) => {
                    if let (Some(record), true) = (current.as_mut(), capture != Capture::None) {
                        let name = reference.xml10_content();
                        match reference.resolve_char_ref() {
                            Ok(Some(c)) => record.push_text(c.encode_utf8(&mut [0; 4])),
                            Ok(None) => match predefined(&name) {
                                Some(text) => record.push_text(text),
                                None => record.fail(format!(
                                    "entity `&{name};` is not allowed (only the XML predefined entities)"
                                )),
                            },
                            Err(_) => record.fail(format!("invalid character reference `&{name};`")),
                        }
                    }
                }
                Event::End(end) => {
                    let name = end.local_name();
                    let Some(record) = current.as_mut() else {
                        continue;
                    };
                    match name.as_ref() {
                        "leader" | "lab" => {
                            record.leader = std::mem::take(&mut record.text);
                            capture = Capture::None;
                        }
                        "s1" => embedded = false,
                        "cf" if embedded => {
                            let value = format!("{}{}", record.control_tag, record.text);
                            record.text.clear();
                            record.push_embedded(value);
                            capture = Capture::None;
                        }
                        "controlfield" | "cf" => {
                            let value = std::mem::take(&mut record.text);
                            let tag = std::mem::take(&mut record.control_tag);
                            if record.fields.len() < MAX_FIELDS {
                                record.fields.push(Field {
                                    tag,
                                    content: FieldContent::Control(value),
                                });
                            }
                            capture = Capture::None;
                        }
                        "subfield" | "sf" => {
                            let value = std::mem::take(&mut record.text);
                            let code = record.subfield_code;
                            match record.fields.last_mut() {
                                Some(Field {
                                    content: FieldContent::Data { subfields, .. },
                                    ..
                                }) => subfields.push(Subfield { code, value }),
                                _ => record.fail("a subfield outside a data field".to_owned()),
                            }
                            capture = Capture::None;
                        }
                        "record" | "rec" => {
                            let record = current.take()?;
                            return Some(finish(record, self.flavour));
                        }
                        _ => {}
                    }
                }
                // DOCTYPE (and any entity it declares), comments, PIs: ignored on purpose.
                Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
    }
}

impl<R: BufRead> Iterator for MarcXmlReader<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.next_record()
    }
}

fn finish(builder: Builder, flavour: Option<Flavour>) -> Result<Record, ReadError> {
    use unicode_normalization::UnicodeNormalization;
    let control_number = builder
        .fields
        .iter()
        .find(|f| f.tag == "001")
        .and_then(Field::control_value)
        .map(|v| v.trim().to_owned());
    let fail = |reason: String| {
        Err(ReadError::Record(RecordError {
            index: builder.index,
            offset: builder.offset,
            control_number: control_number.clone(),
            reason,
        }))
    };
    if let Some(reason) = &builder.error {
        return fail(reason.clone());
    }
    if builder.leader.len() != 24 || !builder.leader.is_ascii() {
        return fail(format!(
            "the leader must be 24 ASCII characters, not {:?}",
            builder.leader.chars().take(40).collect::<String>()
        ));
    }
    if let Some(bad) = builder
        .fields
        .iter()
        .find(|f| f.tag.len() != 3 || !f.tag.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return fail(format!(
            "`{}` is not a three-character tag",
            bad.tag.chars().take(10).collect::<String>()
        ));
    }
    let flavour = flavour.unwrap_or_else(|| detect_flavour(builder.fields.iter().map(|f| f.tag.as_bytes())));
    let nfc = |text: String| {
        if text.is_ascii() {
            text
        } else {
            text.nfc().collect()
        }
    };
    let fields = builder
        .fields
        .into_iter()
        .map(|field| Field {
            tag: field.tag,
            content: match field.content {
                FieldContent::Control(value) => FieldContent::Control(nfc(value)),
                FieldContent::Data {
                    indicators,
                    subfields,
                } => FieldContent::Data {
                    indicators,
                    subfields: subfields
                        .into_iter()
                        .map(|s| Subfield {
                            code: s.code,
                            value: nfc(s.value),
                        })
                        .collect(),
                },
            },
        })
        .collect();
    Ok(Record {
        leader: builder.leader,
        flavour,
        fields,
    })
}

fn attribute(start: &BytesStart<'_>, names: &[&str]) -> Option<String> {
    start.attributes().flatten().find_map(|attribute| {
        let key = attribute.key.local_name();
        if names.contains(&key.as_ref()) {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.trim().to_owned())
        } else {
            None
        }
    })
}

fn predefined(name: &str) -> Option<&'static str> {
    match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Vec<Result<Record, ReadError>> {
        MarcXmlReader::new(xml.as_bytes(), None).collect()
    }

    #[test]
    fn reads_marcxml_and_unimarc_slim() {
        let marc21 = r#"<?xml version="1.0"?><collection xmlns="http://www.loc.gov/MARC21/slim">
            <record><leader>00000nam a2200000 a 4500</leader>
            <controlfield tag="001">42</controlfield>
            <datafield tag="245" ind1="1" ind2="0"><subfield code="a">Tom &amp; Jerry&#x21;</subfield></datafield>
            </record></collection>"#;
        let records = read(marc21);
        let record = records[0].as_ref().unwrap();
        assert_eq!(record.flavour, Flavour::Marc21);
        assert_eq!(record.first("245", 'a'), Some("Tom & Jerry!"));
        assert_eq!(record.fields[1].indicators(), ['1', '0']);
        let unimarc = r#"<collection><rec><lab>00000nam0 2200000 i 450 </lab><cf t="001">X</cf>
            <df t="200" i1="1" i2=" "><sf c="a">Citta&#768; <![CDATA[& co]]></sf></df></rec></collection>"#;
        let records = read(unimarc);
        let record = records[0].as_ref().unwrap();
        assert_eq!(record.flavour, Flavour::Unimarc);
        assert_eq!(
            record.first("200", 'a'),
            Some("Città & co"),
            "NFC after the character reference"
        );
    }

    #[test]
    fn entity_bombs_fail_the_record_without_expansion() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<collection><record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">b</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">&lol3;</subfield></datafield></record>
<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">ok</controlfield></record></collection>"#;
        let records = read(bomb);
        assert_eq!(records.len(), 2);
        let Err(ReadError::Record(error)) = &records[0] else {
            panic!("{:?}", records[0])
        };
        assert!(error.reason.contains("&lol3;"), "{error}");
        assert_eq!(error.control_number.as_deref(), Some("b"));
        assert_eq!(records[1].as_ref().unwrap().control_number(), Some("ok"));
    }

    #[test]
    fn broken_xml_stops_with_an_input_error_after_good_records() {
        let xml = r#"<collection><record><leader>00000nam a2200000 a 4500</leader></record>
            <record><leader>00000nam a2200000 a 4500</leader><datafield tag="245"></record>"#;
        let records = read(xml);
        assert!(records[0].is_ok());
        assert!(
            matches!(records.last(), Some(Err(ReadError::Input(_)))),
            "{records:?}"
        );
        assert!(read("").is_empty());
        let bad_leader = read("<record><leader>short</leader></record>");
        assert!(matches!(&bad_leader[0], Err(ReadError::Record(e)) if e.reason.contains("24")));
    }
}
