//! The normalised bibliographic record: what a citizen sees and searches, the same shape whether
//! the library catalogues in MARC 21 or UNIMARC, and the key that merges one edition held by
//! many libraries into one record.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::isbn::Isbn13;
use super::marc::{Field, Flavour, Record};

/// Non-sort begin/end markers: UNIMARC writes U+0088/U+0089, MARC 21 (and BNCF) U+0098/U+009C.
const NON_SORT_BEGIN: [char; 2] = ['\u{88}', '\u{98}'];
const NON_SORT_END: [char; 2] = ['\u{89}', '\u{9c}'];
/// Longest title kept in the merge key: VuFind-style keys compare a prefix, which tolerates
/// sources that add or drop a long subtitle tail.
const KEY_TITLE_CHARS: usize = 60;

/// What kind of material a record describes, as the public catalogue filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Printed book (also manuscripts and printed music).
    Book,
    /// Electronic text.
    EBook,
    /// Sound recording (audiobook, music).
    Audio,
    /// Video (DVD, Blu-ray, film).
    Video,
    /// Serial: journal, magazine, newspaper.
    Periodical,
    /// Anything else (maps, pictures, objects, kits).
    Other,
}

impl Format {
    /// Every format, in display order.
    pub const ALL: [Format; 6] = [
        Format::Book,
        Format::EBook,
        Format::Audio,
        Format::Video,
        Format::Periodical,
        Format::Other,
    ];

    /// The identifier used in the API and the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Book => "book",
            Format::EBook => "ebook",
            Format::Audio => "audio",
            Format::Video => "video",
            Format::Periodical => "periodical",
            Format::Other => "other",
        }
    }

    /// Parses [`Format::as_str`] output.
    pub fn parse(text: &str) -> Option<Self> {
        Format::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// What a person did for the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Author (or composer, creator).
    Author,
    /// Editor or compiler.
    Editor,
    /// Translator.
    Translator,
    /// Illustrator.
    Illustrator,
    /// Any other contribution (preface, performer, …).
    Contributor,
}

impl Role {
    /// The identifier used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Editor => "editor",
            Role::Translator => "translator",
            Role::Illustrator => "illustrator",
            Role::Contributor => "contributor",
        }
    }

    /// Parses [`Role::as_str`] output.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Role::Author,
            Role::Editor,
            Role::Translator,
            Role::Illustrator,
            Role::Contributor,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// From a relator code (UNIMARC numeric, MARC 21 alphabetic) or a relator term.
    fn from_relator(code: &str) -> Option<Self> {
        let code = code.trim().trim_end_matches(['.', ',']).to_lowercase();
        Some(match code.as_str() {
            "070" | "aut" | "author" | "autore" | "230" | "cmp" | "composer" => Role::Author,
            "340" | "edt" | "editor" | "curatore" | "220" | "com" | "compiler" => Role::Editor,
            "730" | "trl" | "translator" | "traduttore" => Role::Translator,
            "440" | "ill" | "illustrator" | "illustratore" => Role::Illustrator,
            "" => return None,
            _ => Role::Contributor,
        })
    }
}

/// A person or body responsible for the work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Name as catalogued, inverted for persons (`Asimov, Isaac`).
    pub name: String,
    /// What they did.
    pub role: Role,
}

/// An identifier of the edition other than the ISBN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    /// `sbn` (SBN BID), `issn`, `lccn`, `oclc`, `bni` (Italian national bibliography), `ean`.
    pub scheme: String,
    /// The value as normalised for the scheme.
    pub value: String,
}

/// A bibliographic record normalised from MARC 21 or UNIMARC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BibRecord {
    /// Title as displayed (non-sort markers removed, the article kept): `Lo Stato innovatore`.
    pub title: String,
    /// Title without its non-filing part, for sorting and keys: `Stato innovatore`.
    pub sort_title: String,
    /// Subtitle / other title information.
    pub subtitle: Option<String>,
    /// Authors and contributors, main author first.
    pub authors: Vec<Author>,
    /// ISBNs as ISBN-13, in record order, without duplicates.
    pub isbns: Vec<Isbn13>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Publication year.
    pub year: Option<i32>,
    /// Language, ISO 639-2/B code (`ita`).
    pub language: Option<String>,
    /// Subject headings, subdivisions joined with ` -- `.
    pub subjects: Vec<String>,
    /// Material format.
    pub format: Format,
    /// Series titles.
    pub series: Vec<String>,
    /// SBN BID and other identifiers.
    pub identifiers: Vec<Identifier>,
}

impl BibRecord {
    /// Normalises a MARC record of either flavour.
    pub fn from_marc(record: &Record) -> Self {
        match record.flavour {
            Flavour::Marc21 => from_marc21(record),
            Flavour::Unimarc => from_unimarc(record),
        }
    }

    /// The key that merges copies of one edition across libraries (see [`merge_key`]).
    pub fn merge_key(&self) -> String {
        merge_key(self)
    }

    /// The SBN BID, when the record has one.
    pub fn sbn_bid(&self) -> Option<&str> {
        self.identifiers
            .iter()
            .find(|i| i.scheme == "sbn")
            .map(|i| i.value.as_str())
    }

    /// Completes this record with what another source knows about the same edition: missing
    /// single values are filled, lists are united. The first source's title and authors win,
    /// so a record does not change its face every time another library re-imports.
    pub fn merge_from(&mut self, other: &BibRecord) {
        fn fill<T: Clone>(mine: &mut Option<T>, theirs: Option<&T>) {
            if mine.is_none() {
                *mine = theirs.cloned();
            }
        }
        fn unite<T: Clone + PartialEq>(mine: &mut Vec<T>, theirs: &[T]) {
            for item in theirs {
                if !mine.contains(item) {
                    mine.push(item.clone());
                }
            }
        }
        fill(&mut self.subtitle, other.subtitle.as_ref());
        fill(&mut self.publisher, other.publisher.as_ref());
        fill(&mut self.year, other.year.as_ref());
        fill(&mut self.language, other.language.as_ref());
        if self.authors.is_empty() {
            self.authors.clone_from(&other.authors);
        }
        unite(&mut self.isbns, &other.isbns);
        unite(&mut self.subjects, &other.subjects);
        unite(&mut self.series, &other.series);
        unite(&mut self.identifiers, &other.identifiers);
    }
}

/// The merge key, after VuFind's RecordManager: the smallest ISBN-13 when the record has any
/// (the same for every source whatever order they list ISBNs in); otherwise the folded title
/// prefix, the main author's folded surname, the year and the format.
pub fn merge_key(record: &BibRecord) -> String {
    if let Some(isbn) = record.isbns.iter().min() {
        return format!("isbn:{isbn}");
    }
    let title: String = fold(&record.sort_title)
        .replace(' ', "")
        .chars()
        .take(KEY_TITLE_CHARS)
        .collect();
    let author = record
        .authors
        .first()
        .map(|a| fold(a.name.split(',').next().unwrap_or_default()).replace(' ', ""))
        .unwrap_or_default();
    let year = record.year.map(|y| y.to_string()).unwrap_or_default();
    format!("tay:{title}|{author}|{year}|{}", record.format.as_str())
}

/// Lower case, diacritics removed, anything but letters and digits turned into single spaces:
/// how titles and names compare (`Città` and `citta` fold alike).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// Removes the non-sort markers, returning (display text, text without the non-filing part).
pub fn strip_non_filing(text: &str) -> (String, String) {
    let mut display = String::with_capacity(text.len());
    let mut filing = String::with_capacity(text.len());
    let mut skipping = false;
    for c in text.chars() {
        if NON_SORT_BEGIN.contains(&c) {
            skipping = true;
        } else if NON_SORT_END.contains(&c) {
            skipping = false;
        } else {
            display.push(c);
            if !skipping {
                filing.push(c);
            }
        }
    }
    (display, filing)
}

/// Trims ISBD punctuation that catalogues leave at the end of a subfield (` /`, ` :`, `.`).
fn clean(text: &str) -> String {
    let trimmed = text
        .trim()
        .trim_end_matches([' ', '/', ':', ';', ',', '=', '.'])
        .trim_start_matches([' ', ',', ':']);
    // Keep a final period that ends an abbreviation such as "Jr." or an initial ("A.").
    let keep_period = text.trim_end().ends_with('.')
        && trimmed
            .rsplit(' ')
            .next()
            .is_some_and(|w| w.chars().count() <= 2 && w.chars().all(char::is_uppercase));
    let mut out = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
    if keep_period {
        out.push('.');
    }
    out
}

fn non_empty(text: String) -> Option<String> {
    if text.is_empty() { None } else { Some(text) }
}

fn first_year(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    bytes.windows(4).enumerate().find_map(|(i, w)| {
        let before_ok = i == 0 || !bytes[i - 1].is_ascii_digit();
        let after_ok = bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
        if before_ok && after_ok && w.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(w)
                .ok()?
                .parse()
                .ok()
                .filter(|y| (1000..=2100).contains(y))
        } else {
            None
        }
    })
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn isbns(record: &Record, tag: &str) -> Vec<Isbn13> {
    let mut out = Vec::new();
    for value in record.fields_with(tag).flat_map(|f| f.all('a')) {
        if let Some(isbn) = Isbn13::parse(value) {
            push_unique(&mut out, isbn);
        }
    }
    out
}

fn subject_heading(field: &Field, subdivisions: &[char]) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for sub in field.subfields() {
        if sub.code == 'a' || subdivisions.contains(&sub.code) {
            let part = clean(&strip_non_filing(&sub.value).0);
            if !part.is_empty() {
                parts.push(part);
            }
        }
    }
    non_empty(parts.join(" -- "))
}

#[allow(clippy::too_many_lines, reason = "a field-by-field mapping table")]
fn from_marc21(record: &Record) -> BibRecord {
    let title_field = record.field("245");
    let (title, sort_title) = title_field
        .map(|field| {
            let mut main = field.all('a').collect::<Vec<_>>().join(" ");
            for part in field.all('n').chain(field.all('p')) {
                main.push_str(". ");
                main.push_str(part);
            }
            let (display, filing) = strip_non_filing(&main);
            // 245 second indicator: the number of non-filing characters ("The ", "L'").
            let skip = field.indicators()[1].to_digit(10).unwrap_or(0) as usize;
            let filing = if display == filing && skip > 0 {
                display.chars().skip(skip).collect()
            } else {
                filing
            };
            (clean(&display), clean(&filing))
        })
        .unwrap_or_default();
    let subtitle = title_field
        .and_then(|f| f.first('b'))
        .map(clean)
        .and_then(non_empty);

    let mut authors = Vec::new();
    for (tag, default) in [
        ("100", Role::Author),
        ("110", Role::Author),
        ("111", Role::Author),
        ("700", Role::Contributor),
        ("710", Role::Contributor),
        ("711", Role::Contributor),
    ] {
        for field in record.fields_with(tag) {
            let mut name = field.all('a').collect::<Vec<_>>().join(" ");
            if tag.ends_with("10") {
                for part in field.all('b') {
                    name.push(' ');
                    name.push_str(part);
                }
            }
            let name = clean(&name);
            if name.is_empty() {
                continue;
            }
            let role = field
                .all('4')
                .chain(field.all('e'))
                .find_map(Role::from_relator)
                .unwrap_or(default);
            push_unique(&mut authors, Author { name, role });
        }
    }

    let fixed = record.control("008").unwrap_or_default();
    let year = fixed
        .get(7..11)
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (1000..=2100).contains(y))
        .or_else(|| {
            record
                .fields_with("264")
                .chain(record.fields_with("260"))
                .find_map(|f| f.first('c'))
                .and_then(first_year)
        });
    let language = fixed
        .get(35..38)
        .map(str::to_lowercase)
        .filter(|l| l.chars().all(|c| c.is_ascii_lowercase()))
        .or_else(|| record.first("041", 'a').map(|l| l.trim().to_lowercase()))
        .and_then(|l| if l.len() == 3 { Some(l) } else { None });
    let publisher = record
        .fields_with("264")
        .filter(|f| f.indicators()[1] == '1')
        .chain(record.fields_with("260"))
        .find_map(|f| f.first('b'))
        .map(clean)
        .and_then(non_empty);

    let mut subjects = Vec::new();
    for tag in ["600", "610", "611", "630", "650", "651", "655"] {
        for field in record.fields_with(tag) {
            if let Some(heading) = subject_heading(field, &['b', 'c', 'd', 't', 'v', 'x', 'y', 'z']) {
                push_unique(&mut subjects, heading);
            }
        }
    }
    let mut series = Vec::new();
    for tag in ["490", "440", "830", "800", "810"] {
        for value in record.fields_with(tag).filter_map(|f| {
            f.first(if tag.starts_with('8') && tag != "830" {
                't'
            } else {
                'a'
            })
        }) {
            let value = clean(&strip_non_filing(value).0);
            if !value.is_empty() {
                push_unique(&mut series, value);
            }
        }
    }

    let mut identifiers = Vec::new();
    for value in record.fields_with("010").filter_map(|f| f.first('a')) {
        push_unique(&mut identifiers, id("lccn", value.trim()));
    }
    for value in record.fields_with("022").filter_map(|f| f.first('a')) {
        push_unique(&mut identifiers, id("issn", value.trim()));
    }
    for value in record.fields_with("035").flat_map(|f| f.all('a')) {
        if let Some(oclc) = value.strip_prefix("(OCoLC)") {
            let oclc = oclc.trim_start_matches(|c: char| !c.is_ascii_digit());
            push_unique(&mut identifiers, id("oclc", oclc.trim()));
        }
    }
    identifiers.retain(|i| !i.value.is_empty());

    let leader = record.leader.as_bytes();
    let physical = record.control("007").unwrap_or_default();
    let form = fixed.as_bytes().get(23).copied().unwrap_or(b' ');
    let format = match (
        leader.get(6).copied().unwrap_or(b'a'),
        leader.get(7).copied().unwrap_or(b'm'),
    ) {
        (b'a', b's' | b'b' | b'i') => Format::Periodical,
        (b'a' | b't', _) if matches!(form, b'o' | b's' | b'q') || physical.starts_with('c') => Format::EBook,
        (b'a' | b't' | b'c' | b'd', _) => Format::Book,
        (b'i' | b'j', _) => Format::Audio,
        (b'g', _) => Format::Video,
        (b'm', _) => Format::EBook,
        _ => Format::Other,
    };

    BibRecord {
        title,
        sort_title,
        subtitle,
        authors,
        isbns: isbns(record, "020"),
        publisher,
        year,
        language,
        subjects,
        format,
        series,
        identifiers,
    }
}

fn id(scheme: &str, value: &str) -> Identifier {
    Identifier {
        scheme: scheme.to_owned(),
        value: value.to_owned(),
    }
}

/// The SBN BID (three-character polo code plus seven digits, `ANA0019370`) from a UNIMARC 001
/// such as `IT\ICCU\ANA\0019370`, a bare BID, or an `http://id.sbn.it/bid/…` URI in 003.
pub fn sbn_bid(value: &str) -> Option<String> {
    let value = value.trim();
    let candidate = if let Some(rest) = value.strip_prefix("IT\\ICCU\\") {
        rest.replace('\\', "")
    } else if let Some(rest) = value.strip_prefix("http://id.sbn.it/bid/") {
        rest.to_owned()
    } else {
        value.to_owned()
    };
    let bytes = candidate.as_bytes();
    let ok = bytes.len() == 10
        && bytes[..3].iter().all(u8::is_ascii_alphanumeric)
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[3..].iter().all(u8::is_ascii_digit);
    ok.then_some(candidate)
}

#[allow(clippy::too_many_lines, reason = "a field-by-field mapping table")]
fn from_unimarc(record: &Record) -> BibRecord {
    let title_field = record.field("200");
    let (title, sort_title) = title_field
        .map(|field| {
            let mut main = field.first('a').unwrap_or_default().to_owned();
            for part in field.all('h').chain(field.all('i')) {
                main.push_str(". ");
                main.push_str(part);
            }
            let (display, filing) = strip_non_filing(&main);
            (clean(&display), clean(&filing))
        })
        .unwrap_or_default();
    let subtitle = title_field
        .and_then(|f| f.first('e'))
        .map(|s| clean(&strip_non_filing(s).0))
        .and_then(non_empty);

    let mut authors = Vec::new();
    for (tag, default) in [
        ("700", Role::Author),
        ("710", Role::Author),
        ("701", Role::Author),
        ("711", Role::Author),
        ("702", Role::Contributor),
        ("712", Role::Contributor),
    ] {
        for field in record.fields_with(tag) {
            // Personal names: $a surname, $b ", forename" (the comma is in the data).
            let mut name = strip_non_filing(field.first('a').unwrap_or_default()).0;
            for part in field.all('b') {
                if tag.starts_with("70") && !part.trim_start().starts_with(',') {
                    name.push(',');
                }
                if !part.starts_with(' ') && !part.starts_with(',') {
                    name.push(' ');
                }
                name.push_str(part);
            }
            let name = clean(&name);
            if name.is_empty() {
                continue;
            }
            let role = field.all('4').find_map(Role::from_relator).unwrap_or(default);
            push_unique(&mut authors, Author { name, role });
        }
    }

    let general = record.first("100", 'a').unwrap_or_default();
    let year = general
        .get(9..13)
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (1000..=2100).contains(y))
        .or_else(|| {
            record
                .fields_with("210")
                .chain(record.fields_with("214"))
                .find_map(|f| f.first('d'))
                .and_then(first_year)
        });
    let language = record
        .first("101", 'a')
        .map(|l| l.trim().to_lowercase())
        .filter(|l| l.len() == 3 && l.chars().all(|c| c.is_ascii_lowercase()));
    let publisher = record
        .fields_with("210")
        .chain(record.fields_with("214"))
        .find_map(|f| f.first('c'))
        .map(clean)
        .and_then(non_empty);

    let mut subjects = Vec::new();
    for tag in ["600", "601", "602", "604", "605", "606", "607", "610"] {
        for field in record.fields_with(tag) {
            if let Some(heading) = subject_heading(field, &['b', 'j', 'x', 'y', 'z']) {
                push_unique(&mut subjects, heading);
            }
        }
    }
    let mut series = Vec::new();
    for field in record.fields_with("225").chain(record.fields_with("410")) {
        if let Some(value) = field.first('a') {
            let value = clean(&strip_non_filing(value).0);
            if !value.is_empty() {
                push_unique(&mut series, value);
            }
        }
    }

    let mut identifiers = Vec::new();
    if let Some(bid) = record
        .control("001")
        .and_then(sbn_bid)
        .or_else(|| record.control("003").and_then(sbn_bid))
    {
        identifiers.push(id("sbn", &bid));
    }
    for value in record.fields_with("011").filter_map(|f| f.first('a')) {
        push_unique(&mut identifiers, id("issn", value.trim()));
    }
    for field in record.fields_with("020") {
        if let (Some(country), Some(number)) = (field.first('a'), field.first('b')) {
            push_unique(
                &mut identifiers,
                id("bni", &format!("{} {}", country.trim(), number.trim())),
            );
        }
    }
    for value in record.fields_with("073").filter_map(|f| f.first('a')) {
        push_unique(&mut identifiers, id("ean", value.trim()));
    }
    identifiers.retain(|i| !i.value.is_empty());

    let leader = record.leader.as_bytes();
    let media = record.first("182", 'a').unwrap_or_default().trim().to_owned();
    let format = match (
        leader.get(6).copied().unwrap_or(b'a'),
        leader.get(7).copied().unwrap_or(b'm'),
    ) {
        (_, b's') => Format::Periodical,
        (b'a' | b'b', _) if media == "c" => Format::EBook,
        (b'a' | b'b' | b'c' | b'd', _) => Format::Book,
        (b'i' | b'j', _) => Format::Audio,
        (b'g', _) => Format::Video,
        (b'l', _) => Format::EBook,
        _ => Format::Other,
    };

    BibRecord {
        title,
        sort_title,
        subtitle,
        authors,
        isbns: isbns(record, "010"),
        publisher,
        year,
        language,
        subjects,
        format,
        series,
        identifiers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_non_filing() {
        assert_eq!(fold("  Città, l'ÉTÉ!  "), "citta l ete");
        assert_eq!(
            strip_non_filing("\u{98}Lo \u{9c}Stato innovatore"),
            ("Lo Stato innovatore".to_owned(), "Stato innovatore".to_owned())
        );
        assert_eq!(
            strip_non_filing("\u{88}L'\u{89}altra faccia"),
            ("L'altra faccia".to_owned(), "altra faccia".to_owned())
        );
        assert_eq!(clean("Programming Python /"), "Programming Python");
        assert_eq!(clean("Smith, John A."), "Smith, John A.");
        assert_eq!(first_year("c1996."), Some(1996));
        assert_eq!(first_year("stampa 1951"), Some(1951));
        assert_eq!(first_year("12345"), None);
    }

    #[test]
    fn sbn_bids() {
        assert_eq!(sbn_bid("IT\\ICCU\\ANA\\0019370").as_deref(), Some("ANA0019370"));
        assert_eq!(
            sbn_bid("http://id.sbn.it/bid/ABR0000164").as_deref(),
            Some("ABR0000164")
        );
        assert_eq!(sbn_bid("CFI0893220").as_deref(), Some("CFI0893220"));
        assert_eq!(sbn_bid("121564"), None);
    }

    #[test]
    fn merge_keys_prefer_isbn_then_title_author_year() {
        let mut record = BibRecord {
            title: "Il nome della rosa".into(),
            sort_title: "nome della rosa".into(),
            subtitle: None,
            authors: vec![Author {
                name: "Eco, Umberto".into(),
                role: Role::Author,
            }],
            isbns: vec![],
            publisher: None,
            year: Some(1980),
            language: Some("ita".into()),
            subjects: vec![],
            format: Format::Book,
            series: vec![],
            identifiers: vec![],
        };
        assert_eq!(merge_key(&record), "tay:nomedellarosa|eco|1980|book");
        let mut other = record.clone();
        other.sort_title = "Nome della rosa".into();
        assert_eq!(
            merge_key(&record),
            merge_key(&other),
            "case and accents do not matter"
        );
        record.isbns = vec![
            Isbn13::parse("9788845278655").unwrap(),
            Isbn13::parse("8845207579").unwrap(),
        ];
        assert_eq!(merge_key(&record), "isbn:9788845207570", "the smallest ISBN");
    }
}
