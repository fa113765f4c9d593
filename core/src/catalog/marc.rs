//! MARC records as they come from library software, and the ISO 2709 reader.
//!
//! The reader streams: it holds one record (at most [`MAX_RECORD_BYTES`]) in memory, whatever the
//! size of the file. Records are delimited by the record terminator (0x1D), not by the length in
//! the leader, so a record whose leader lies is reported and skipped while the next one is read
//! normally; whitespace between records (the `\n` many exporters add after 0x1D) is skipped.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use super::marc8;

/// ISO 2709 record terminator.
pub const RECORD_TERMINATOR: u8 = 0x1D;
/// ISO 2709 field terminator.
pub const FIELD_TERMINATOR: u8 = 0x1E;
/// ISO 2709 subfield delimiter.
pub const SUBFIELD_DELIMITER: u8 = 0x1F;
/// The largest record ISO 2709 can describe (a five-digit length).
pub const MAX_RECORD_BYTES: usize = 99_999;

/// The two MARC families in use in Italian and international libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// MARC 21 (Library of Congress): title in 245, fixed data in 008.
    Marc21,
    /// UNIMARC (IFLA), used by SBN and most Italian software: title in 200, fixed data in 100.
    Unimarc,
}

impl Flavour {
    /// Name used in messages and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Marc21 => "marc21",
            Flavour::Unimarc => "unimarc",
        }
    }
}

/// One subfield: a one-character code and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    /// Subfield code (`a`, `b`, `1`, …).
    pub code: char,
    /// The value, decoded to Unicode (NFC).
    pub value: String,
}

/// A field: a control field (tags 001–009) or a data field with indicators and subfields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Three-character tag (`245`, `200`, `950`).
    pub tag: String,
    /// What the field holds.
    pub content: FieldContent,
}

/// The body of a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldContent {
    /// A control field's single value.
    Control(String),
    /// A data field.
    Data {
        /// The two indicators (space when blank).
        indicators: [char; 2],
        /// The subfields, in order.
        subfields: Vec<Subfield>,
    },
}

impl Field {
    /// Whether tags like `001`–`009` (control fields in both MARC 21 and UNIMARC).
    pub fn is_control_tag(tag: &str) -> bool {
        tag.len() == 3 && tag.starts_with("00")
    }

    /// The subfields of a data field (none for a control field).
    pub fn subfields(&self) -> &[Subfield] {
        match &self.content {
            FieldContent::Control(_) => &[],
            FieldContent::Data { subfields, .. } => subfields,
        }
    }

    /// The first value of subfield `code`.
    pub fn first(&self, code: char) -> Option<&str> {
        self.subfields()
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.value.as_str())
    }

    /// Every value of subfield `code`, in order.
    pub fn all(&self, code: char) -> impl Iterator<Item = &str> {
        self.subfields()
            .iter()
            .filter(move |s| s.code == code)
            .map(|s| s.value.as_str())
    }

    /// The indicators (blank for a control field).
    pub fn indicators(&self) -> [char; 2] {
        match &self.content {
            FieldContent::Control(_) => [' ', ' '],
            FieldContent::Data { indicators, .. } => *indicators,
        }
    }

    /// The value of a control field.
    pub fn control_value(&self) -> Option<&str> {
        match &self.content {
            FieldContent::Control(value) => Some(value),
            FieldContent::Data { .. } => None,
        }
    }
}

/// A decoded MARC record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The 24-character leader.
    pub leader: String,
    /// MARC 21 or UNIMARC.
    pub flavour: Flavour,
    /// Fields in the order of the directory (or of the XML).
    pub fields: Vec<Field>,
}

impl Record {
    /// Every field with `tag`.
    pub fn fields_with<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Field> {
        self.fields.iter().filter(move |f| f.tag == tag)
    }

    /// The first field with `tag`.
    pub fn field(&self, tag: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.tag == tag)
    }

    /// The value of control field `tag`.
    pub fn control(&self, tag: &str) -> Option<&str> {
        self.field(tag).and_then(Field::control_value)
    }

    /// The first value of `tag`$`code`.
    pub fn first(&self, tag: &str, code: char) -> Option<&str> {
        self.fields
            .iter()
            .filter(|f| f.tag == tag)
            .find_map(|f| f.first(code))
    }

    /// The record's own id in the source system (001), trimmed.
    pub fn control_number(&self) -> Option<&str> {
        self.control("001").map(str::trim).filter(|s| !s.is_empty())
    }

    /// Leader position 5: `d` marks a deleted record in both MARC 21 and UNIMARC.
    pub fn is_deleted(&self) -> bool {
        self.leader.as_bytes().get(5) == Some(&b'd')
    }
}

/// Character encoding of a record's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (MARC 21 leader/09 `a`; UNIMARC with ISO 10646).
    Utf8,
    /// MARC-8 (MARC 21 leader/09 blank).
    Marc8,
}

/// Why one record could not be read. The reader goes on with the next record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// 1-based position of the record in the file.
    pub index: u64,
    /// Byte offset of the record's start in the file (or the line, for XML).
    pub offset: u64,
    /// The record's 001, when it could be read.
    pub control_number: Option<String>,
    /// What is wrong, for a person to fix the export.
    pub reason: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} at byte {}", self.index, self.offset)?;
        if let Some(id) = &self.control_number {
            write!(f, " (001 {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A failure while reading a file: either one bad record (skip it) or the input itself.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// One record is malformed; the next call reads the following record.
    #[error("{0}")]
    Record(RecordError),
    /// The input failed (I/O, or XML so broken that no further record can be found); stop.
    #[error("cannot read the input: {0}")]
    Input(String),
}

/// Reads ISO 2709 records one at a time from any byte stream.
pub struct Iso2709Reader<R> {
    input: BufReader<R>,
    /// Bytes consumed so far: the offset of the next record.
    offset: u64,
    index: u64,
    flavour: Option<Flavour>,
    buffer: Vec<u8>,
    /// The current record's directory, kept between records so it is allocated once.
    entries: Vec<Entry>,
    done: bool,
}

impl<R: Read> Iso2709Reader<R> {
    /// A reader that detects MARC 21 or UNIMARC per record (from the directory's tags).
    pub fn new(input: R) -> Self {
        Self {
            input: BufReader::with_capacity(64 * 1024, input),
            offset: 0,
            index: 0,
            flavour: None,
            buffer: Vec::with_capacity(8 * 1024),
            entries: Vec::new(),
            done: false,
        }
    }

    /// A reader for a known flavour.
    pub fn with_flavour(input: R, flavour: Option<Flavour>) -> Self {
        Self {
            flavour,
            ..Self::new(input)
        }
    }

    /// Skips whitespace and NULs between records; returns false at the end of the input.
    fn skip_separators(&mut self) -> std::io::Result<bool> {
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            let skip = available
                .iter()
                .take_while(|&&b| matches!(b, b'\n' | b'\r' | b'\0' | b' ' | b'\t'))
                .count();
            let all = skip == available.len();
            self.input.consume(skip);
            self.offset += skip as u64;
            if !all {
                return Ok(true);
            }
        }
    }

    /// Reads up to and including the next record terminator, keeping at most
    /// `MAX_RECORD_BYTES`; returns the number of bytes consumed and whether a terminator was seen.
    fn read_raw(&mut self) -> std::io::Result<(u64, bool)> {
        self.buffer.clear();
        let limit = (MAX_RECORD_BYTES + 1) as u64;
        let read = (&mut self.input)
            .take(limit)
            .read_until(RECORD_TERMINATOR, &mut self.buffer)?;
        let terminated = self.buffer.last() == Some(&RECORD_TERMINATOR);
        if terminated || read < MAX_RECORD_BYTES + 1 {
            return Ok((read as u64, terminated));
        }
        // Too long: discard up to the next terminator without holding it in memory.
        let mut consumed = read as u64;
        let mut scratch = Vec::with_capacity(8 * 1024);
        loop {
            scratch.clear();
            let n = (&mut self.input)
                .take(64 * 1024)
                .read_until(RECORD_TERMINATOR, &mut scratch)?;
            consumed += n as u64;
            if n == 0 || scratch.last() == Some(&RECORD_TERMINATOR) {
                return Ok((consumed, false));
            }
        }
    }
}

impl<R: Read> Iterator for Iso2709Reader<R> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.skip_separators() {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(error) => {
                self.done = true;
                return Some(Err(ReadError::Input(error.to_string())));
            }
        }
        let start = self.offset;
        self.index += 1;
        let (consumed, terminated) = match self.read_raw() {
            Ok(read) => read,
            Err(error) => {
                self.done = true;
                return Some(Err(ReadError::Input(error.to_string())));
            }
        };
        self.offset += consumed;
        let error = |reason: String, control_number: Option<String>| {
            ReadError::Record(RecordError {
                index: self.index,
                offset: start,
                control_number,
                reason,
            })
        };
        if !terminated {
            let reason = if consumed > MAX_RECORD_BYTES as u64 {
                format!("no record terminator (0x1D) within {MAX_RECORD_BYTES} bytes")
            } else {
                format!(
                    "truncated: the input ends {consumed} bytes into the record, without a record terminator"
                )
            };
            return Some(Err(error(reason, None)));
        }
        Some(
            parse_record(&self.buffer, self.flavour, &mut self.entries)
                .map_err(|(reason, control_number)| error(reason, control_number)),
        )
    }
}

/// Parses one record, terminator included. On error returns the reason and, when readable, 001.
pub fn parse_iso2709(raw: &[u8], flavour: Option<Flavour>) -> Result<Record, (String, Option<String>)> {
    parse_record(raw, flavour, &mut Vec::new())
}

/// A parsed directory entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: [u8; 3],
    length: usize,
    start: usize,
}

impl Entry {
    /// Tags 001–009, compared as bytes (a `&str` comparison calls `memcmp`, measurable here).
    fn is_control(&self) -> bool {
        self.tag[0] == b'0' && self.tag[1] == b'0'
    }
}

/// [`parse_iso2709`] with a caller's Vec for the directory, so a reader allocates it once.
fn parse_record(
    raw: &[u8],
    flavour: Option<Flavour>,
    entries: &mut Vec<Entry>,
) -> Result<Record, (String, Option<String>)> {
    let fail = |reason: String| Err((reason, None));
    if raw.len() < 25 {
        return fail(format!("{} bytes is too short for a record", raw.len()));
    }
    let leader_bytes = &raw[..24];
    let Ok(leader) = std::str::from_utf8(leader_bytes) else {
        return fail("the leader is not text".to_owned());
    };
    if !leader.is_ascii() {
        return fail("the leader is not ASCII".to_owned());
    }
    let Some(declared) = ascii_number(&leader_bytes[0..5]) else {
        return fail(format!(
            "leader record length `{}` is not a number",
            &leader[0..5]
        ));
    };
    if declared != raw.len() {
        return fail(format!(
            "leader says the record is {declared} bytes but its terminator is at byte {}",
            raw.len()
        ));
    }
    let Some(base) = ascii_number(&leader_bytes[12..17]) else {
        return fail(format!(
            "leader base address `{}` is not a number",
            &leader[12..17]
        ));
    };
    if base < 25 || base > raw.len() || raw[base - 1] != FIELD_TERMINATOR {
        return fail(format!(
            "base address {base} does not point just past the directory"
        ));
    }
    if let Err(reason) = read_directory(leader_bytes, &raw[24..base - 1], entries) {
        return fail(reason);
    }
    let data = &raw[base..raw.len() - 1];
    let flavour = flavour.unwrap_or_else(|| detect_flavour(entries.iter().map(|e| &e.tag[..])));
    let encoding = match (flavour, leader_bytes[9]) {
        (Flavour::Marc21, b' ') => Encoding::Marc8,
        _ => Encoding::Utf8,
    };
    // UTF-8 data is validated once for the whole record instead of once per subfield (most
    // values are a few bytes, so the per-call cost dominated). When it is valid, which is nearly
    // always, values are sliced out of it with no further check; a field whose bounds cut a
    // character, and any record with invalid UTF-8, take the byte path, which finds and reports
    // the error exactly as before. An all-ASCII record (most of them) needs no NFC at all.
    let text = match encoding {
        Encoding::Utf8 => std::str::from_utf8(data).ok(),
        Encoding::Marc8 => None,
    };
    let ascii = text.is_some_and(str::is_ascii);
    // Index of the last 001 read, so its value is copied only when an error needs it.
    let mut control_field: Option<usize> = None;
    let mut fields = Vec::with_capacity(entries.len());
    for entry in entries.iter() {
        let Entry { length, start, .. } = *entry;
        let tag = tag_string(entry.tag);
        let control_number = |fields: &[Field]| {
            control_field
                .and_then(|i| fields[i].control_value())
                .map(|v| v.trim().to_owned())
        };
        let Some(bytes) = start.checked_add(length).and_then(|end| data.get(start..end)) else {
            return Err((
                format!("field {tag} (bytes {start}+{length}) lies outside the record"),
                control_number(&fields),
            ));
        };
        // The field terminator is dropped as a byte (`str::strip_suffix` called `memcmp`).
        let bytes = match bytes.split_last() {
            Some((&FIELD_TERMINATOR, body)) => body,
            _ => bytes,
        };
        let control = entry.is_control();
        let field = match text.and_then(|text| text.get(start..start + bytes.len())) {
            Some(value) => decode_field_str(tag, control, value, ascii),
            None => decode_field(tag, control, bytes, encoding),
        };
        let field = field.map_err(|reason| (reason, control_number(&fields)))?;
        if entry.tag == *b"001" {
            control_field = Some(fields.len());
        }
        fields.push(field);
    }
    Ok(Record {
        leader: leader.to_owned(),
        flavour,
        fields,
    })
}

/// Parses the directory into `entries`, checking every entry before any field is decoded, so a
/// bad entry is reported even when an earlier field is also bad.
fn read_directory(leader: &[u8], directory: &[u8], entries: &mut Vec<Entry>) -> Result<(), String> {
    // Entry map (leader 20–22); UNIMARC and MARC 21 both use 4+5, some exporters blank it.
    let length_len = digit_or(leader[20], 4);
    let start_len = digit_or(leader[21], 5);
    let entry_len = 3 + length_len + start_len;
    if length_len == 0 || start_len == 0 || !directory.len().is_multiple_of(entry_len) {
        return Err(format!(
            "directory of {} bytes is not a whole number of {entry_len}-byte entries",
            directory.len()
        ));
    }
    entries.clear();
    for (i, entry) in directory.chunks_exact(entry_len).enumerate() {
        let Some(parsed) = directory_entry(entry, length_len) else {
            return Err(format!(
                "directory entry {} `{}` is malformed",
                i + 1,
                String::from_utf8_lossy(entry)
            ));
        };
        entries.push(parsed);
    }
    Ok(())
}

/// One directory entry; `None` when malformed.
fn directory_entry(entry: &[u8], length_len: usize) -> Option<Entry> {
    let tag = [entry[0], entry[1], entry[2]];
    if !tag.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let length = ascii_number(&entry[3..3 + length_len])?;
    let start = ascii_number(&entry[3 + length_len..])?;
    Some(Entry { tag, length, start })
}

/// The tag as a String; its bytes were checked to be ASCII alphanumerics, so each is a char
/// (cheaper than `from_utf8_lossy` and its `Cow`).
fn tag_string(tag: [u8; 3]) -> String {
    let mut text = String::with_capacity(3);
    for b in tag {
        text.push(char::from(b));
    }
    text
}

/// MARC 21 has 245 (title) and 008; UNIMARC has 200 (title) and 100. Decided from the directory,
/// before decoding, because the flavour decides the encoding.
pub fn detect_flavour<'a>(tags: impl Iterator<Item = &'a [u8]>) -> Flavour {
    let mut unimarc = false;
    for tag in tags {
        // Byte patterns rather than `b"245"`, which compiled to a `memcmp` call per tag.
        match tag {
            [b'2', b'4', b'5'] | [b'0', b'0', b'8'] => return Flavour::Marc21,
            [b'2', b'0', b'0'] => unimarc = true,
            _ => {}
        }
    }
    if unimarc {
        Flavour::Unimarc
    } else {
        Flavour::Marc21
    }
}

/// Decodes a field from bytes: MARC-8 records, and UTF-8 records whose data is not valid UTF-8
/// as a whole (each value is then checked on its own, so the error names the subfield).
fn decode_field(tag: String, control: bool, bytes: &[u8], encoding: Encoding) -> Result<Field, String> {
    if control {
        let value = decode_text(bytes, encoding).map_err(|e| format!("field {tag}: {e}"))?;
        return Ok(Field {
            tag,
            content: FieldContent::Control(value),
        });
    }
    let mut parts = bytes.split(|&b| b == SUBFIELD_DELIMITER);
    let head = parts.next().unwrap_or_default();
    let indicators = indicators(head);
    let mut subfields = Vec::with_capacity(delimiter_count(bytes));
    for part in parts {
        let Some((&code, value)) = part.split_first() else {
            continue;
        };
        if !code.is_ascii() {
            return Err(format!(
                "field {tag}: subfield code byte 0x{code:02X} is not ASCII"
            ));
        }
        let value = decode_text(value, encoding)
            .map_err(|e| format!("field {tag} subfield ${}: {e}", char::from(code)))?;
        subfields.push(Subfield {
            code: char::from(code),
            value,
        });
    }
    Ok(Field {
        tag,
        content: FieldContent::Data {
            indicators,
            subfields,
        },
    })
}

/// Decodes a field from text already known to be valid UTF-8, the same way as [`decode_field`]
/// (same values, same error for a non-ASCII subfield code) without checking the bytes again.
/// `ascii`: the whole record is ASCII, so no value needs normalising.
fn decode_field_str(tag: String, control: bool, text: &str, ascii: bool) -> Result<Field, String> {
    let owned = |value: &str| if ascii { value.to_owned() } else { nfc(value) };
    if control {
        return Ok(Field {
            tag,
            content: FieldContent::Control(owned(text)),
        });
    }
    let bytes = text.as_bytes();
    let mut subfields = Vec::with_capacity(delimiter_count(bytes));
    // Delimiters found by a plain byte loop: fields are tens of bytes, too short for
    // `str::split` or `memchr` to repay their set-up. `part_start` is None in the head (the
    // indicators), then the start of the part after the last delimiter seen.
    let mut head_end = bytes.len();
    let mut part_start: Option<usize> = None;
    for end in 0..=bytes.len() {
        if end < bytes.len() && bytes[end] != SUBFIELD_DELIMITER {
            continue;
        }
        match part_start {
            None => head_end = end,
            // Parts lie between ASCII delimiters, and an ASCII code is one byte, so both
            // slice ends are character boundaries.
            Some(start) if start < end => {
                let code = bytes[start];
                if !code.is_ascii() {
                    return Err(format!(
                        "field {tag}: subfield code byte 0x{code:02X} is not ASCII"
                    ));
                }
                subfields.push(Subfield {
                    code: char::from(code),
                    value: owned(&text[start + 1..end]),
                });
            }
            // An empty part (two delimiters in a row, or one at the end) is skipped.
            Some(_) => {}
        }
        part_start = Some(end + 1);
    }
    let indicators = indicators(&bytes[..head_end]);
    Ok(Field {
        tag,
        content: FieldContent::Data {
            indicators,
            subfields,
        },
    })
}

/// The two indicators from the bytes before the first subfield delimiter. Extra bytes there are
/// ignored, as other readers do; a missing or non-ASCII indicator reads as blank.
fn indicators(head: &[u8]) -> [char; 2] {
    let indicator = |i: usize| {
        head.get(i)
            .map_or(' ', |&b| if b.is_ascii() { char::from(b) } else { ' ' })
    };
    [indicator(0), indicator(1)]
}

/// Subfield delimiters in a field: the most subfields it can have, so their Vec is allocated
/// once at the right size instead of grown.
fn delimiter_count(bytes: &[u8]) -> usize {
    // Counted in u8 over chunks of at most 255 bytes: the compiler turns that into 16 byte
    // comparisons at once, where a usize count went two bytes at a time.
    bytes
        .chunks(255)
        .map(|chunk| {
            let count = chunk
                .iter()
                .fold(0u8, |count, &b| count + u8::from(b == SUBFIELD_DELIMITER));
            usize::from(count)
        })
        .sum()
}

/// Decodes a value and normalises it to NFC, so `città` is one code point whatever the source.
pub fn decode_text(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    let text = match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => return Ok(nfc(text)),
            Err(error) => return Err(format!("invalid UTF-8 at byte {}", error.valid_up_to())),
        },
        Encoding::Marc8 => marc8::decode(bytes)?,
    };
    if is_nfc(&text) {
        Ok(text)
    } else {
        use unicode_normalization::UnicodeNormalization;
        Ok(text.nfc().collect())
    }
}

/// `text` in NFC, as an owned String.
fn nfc(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if is_nfc(text) {
        text.to_owned()
    } else {
        text.nfc().collect()
    }
}

/// Whether `text` is certainly NFC already: ASCII, or the Unicode quick check says so (a `Yes`
/// is definitive), which spares building a second String for nearly every accented value.
fn is_nfc(text: &str) -> bool {
    use unicode_normalization::{IsNormalized, is_nfc_quick};
    text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes
}

/// A non-empty run of ASCII digits as a number (at most nine digits: the entry map allows
/// no more), with no overflow possible.
fn ascii_number(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0usize, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + usize::from(b - b'0'))
    })
}

fn digit_or(byte: u8, default: usize) -> usize {
    if byte.is_ascii_digit() {
        usize::from(byte - b'0')
    } else {
        default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an ISO 2709 record from (tag, body) pairs, bodies already with indicators and
    /// delimiters, so the tests can make broken ones.
    pub(crate) fn build(leader9: u8, fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut directory = Vec::new();
        let mut data = Vec::new();
        for (tag, body) in fields {
            let start = data.len();
            data.extend_from_slice(body);
            data.push(FIELD_TERMINATOR);
            directory.extend_from_slice(format!("{tag}{:04}{start:05}", data.len() - start).as_bytes());
        }
        directory.push(FIELD_TERMINATOR);
        let base = 24 + directory.len();
        let total = base + data.len() + 1;
        let mut record = format!("{total:05}nam{}a22{base:05}   4500", char::from(leader9)).into_bytes();
        record.extend_from_slice(&directory);
        record.extend_from_slice(&data);
        record.push(RECORD_TERMINATOR);
        record
    }

    fn sample(title: &str) -> Vec<u8> {
        let body = format!("10\x1faTitle {title}");
        build(b'a', &[("001", title.as_bytes()), ("245", body.as_bytes())])
    }

    #[test]
    fn reads_records_and_skips_newlines_between_them() {
        let mut input = sample("one");
        input.extend_from_slice(b"\n\r\n");
        input.extend(sample("two"));
        input.push(b'\n');
        let records: Vec<_> = Iso2709Reader::new(&input[..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].control_number(), Some("two"));
        assert_eq!(records[1].first("245", 'a'), Some("Title two"));
        assert_eq!(records[1].fields[1].indicators(), ['1', '0']);
        assert_eq!(records[0].flavour, Flavour::Marc21);
    }

    #[test]
    fn a_bad_leader_length_fails_that_record_only() {
        let mut bad = sample("bad");
        bad[..5].copy_from_slice(b"00010");
        let mut input = sample("one");
        let second_offset = input.len() as u64;
        input.extend(bad);
        input.extend(sample("three"));
        let results: Vec<_> = Iso2709Reader::new(&input[..]).collect();
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        let Err(ReadError::Record(error)) = &results[1] else {
            panic!("{:?}", results[1])
        };
        assert_eq!((error.index, error.offset), (2, second_offset));
        assert!(error.reason.contains("leader says"), "{error}");
    }

    #[test]
    fn garbage_truncation_and_invalid_utf8_are_per_record_errors() {
        let mut input = b"this is not MARC at all, it is text\x1d".to_vec();
        input.extend(build(b'a', &[("001", b"x"), ("245", b"10\x1fa\xff\xfe")]));
        input.extend(sample("ok"));
        let mut truncated = sample("cut");
        truncated.truncate(30);
        input.extend(truncated);
        let results: Vec<_> = Iso2709Reader::new(&input[..]).collect();
        let reasons: Vec<String> = results
            .iter()
            .map(|r| match r {
                Ok(record) => format!("ok {}", record.control_number().unwrap_or("")),
                Err(error) => error.to_string(),
            })
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].contains("not a number"), "{reasons:?}");
        assert!(
            reasons[1].contains("invalid UTF-8") && reasons[1].contains("(001 x)"),
            "{reasons:?}"
        );
        assert_eq!(reasons[2], "ok ok");
        assert!(reasons[3].contains("truncated"), "{reasons:?}");
    }

    #[test]
    fn oversized_garbage_is_skipped_without_buffering_it() {
        let mut input = vec![b'9'; 300_000];
        input.push(RECORD_TERMINATOR);
        input.extend(sample("after"));
        let results: Vec<_> = Iso2709Reader::new(&input[..]).collect();
        assert_eq!(results.len(), 2);
        assert!(
            matches!(&results[0], Err(ReadError::Record(e)) if e.reason.contains("no record terminator"))
        );
        assert_eq!(results[1].as_ref().unwrap().control_number(), Some("after"));
    }

    #[test]
    fn empty_input_has_no_records() {
        assert_eq!(Iso2709Reader::new(&b""[..]).count(), 0);
        assert_eq!(Iso2709Reader::new(&b"\n\n  \n"[..]).count(), 0);
    }

    #[test]
    fn records_across_the_input_buffer_boundary_read_the_same() {
        // Enough records that some straddle the reader's 64 KiB buffer and take the copying
        // path; a bad one among them keeps its own index and offset.
        let mut input = Vec::new();
        let mut bad_offset = 0;
        for i in 0..3000 {
            if i == 1500 {
                bad_offset = input.len() as u64;
                input.extend_from_slice(b"garbage\x1d\n");
            }
            input.extend(sample(&format!("n{i:05}")));
        }
        let results: Vec<_> = Iso2709Reader::new(&input[..]).collect();
        assert_eq!(results.len(), 3001);
        let Err(ReadError::Record(error)) = &results[1500] else {
            panic!("{:?}", results[1500])
        };
        assert_eq!((error.index, error.offset), (1501, bad_offset));
        let numbers: Vec<_> = results
            .iter()
            .filter_map(|r| r.as_ref().ok()?.control_number().map(str::to_owned))
            .collect();
        let expected: Vec<_> = (0..3000).map(|i| format!("n{i:05}")).collect();
        assert_eq!(numbers, expected);
    }

    #[test]
    fn utf8_values_are_normalised_and_errors_found_field_by_field() {
        // Decomposed à (a + U+0300) becomes one code point; an already composed one is kept.
        let raw = build(
            b'a',
            &[
                ("001", b"x"),
                ("245", "10\x1faCitta\u{300} citt\u{e0}".as_bytes()),
            ],
        );
        let record = parse_iso2709(&raw, None).unwrap();
        assert_eq!(record.first("245", 'a'), Some("Citt\u{e0} citt\u{e0}"));
        // A subfield code that is not ASCII, in otherwise valid UTF-8.
        let raw = build(b'a', &[("001", b"x"), ("245", "10\x1fàbc".as_bytes())]);
        let (reason, control_number) = parse_iso2709(&raw, None).unwrap_err();
        assert_eq!(reason, "field 245: subfield code byte 0xC3 is not ASCII");
        assert_eq!(control_number.as_deref(), Some("x"));
        // The record's data is valid UTF-8 but the directory cuts the 245 inside `à`: that
        // field alone is invalid, at the byte where the cut character starts.
        let mut raw = build(b'a', &[("001", b" y "), ("245", "10\x1faCitt\u{e0}".as_bytes())]);
        let entry = 24 + 12;
        assert_eq!(&raw[entry..entry + 7], b"2450011");
        raw[entry + 5..entry + 7].copy_from_slice(b"09");
        let (reason, control_number) = parse_iso2709(&raw, None).unwrap_err();
        assert_eq!(reason, "field 245 subfield $a: invalid UTF-8 at byte 4");
        assert_eq!(control_number.as_deref(), Some("y"));
    }

    #[test]
    fn unimarc_is_detected_from_the_directory() {
        let raw = build(b' ', &[("001", b"CFI1"), ("200", b"1 \x1faCitt\xc3\xa0")]);
        let record = parse_iso2709(&raw, None).unwrap();
        // UNIMARC leader/09 is not an encoding flag: the data stays UTF-8.
        assert_eq!(record.flavour, Flavour::Unimarc);
        assert_eq!(record.first("200", 'a'), Some("Città"));
    }
}
