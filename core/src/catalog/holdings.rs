//! Holdings: the physical copies a record's holdings fields describe, read with a mapping that
//! is chosen per source, because every library system puts copies in a different field.

use super::marc::{Field, Flavour, Record};

/// Live status of one copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CopyStatus {
    /// On the shelf: can be taken now.
    OnShelf,
    /// Lent out (the copy may carry a due date).
    OnLoan,
    /// Travelling between branches.
    InTransit,
    /// On the shelf but for consultation in the library only.
    ReferenceOnly,
    /// Held by the library, status not reported by its system (e.g. SBN localisations).
    Unknown,
    /// Lost or missing.
    Missing,
    /// Withdrawn from the collection: kept for history, never shown as available.
    Withdrawn,
}

impl CopyStatus {
    /// Every status.
    pub const ALL: [CopyStatus; 7] = [
        CopyStatus::OnShelf,
        CopyStatus::OnLoan,
        CopyStatus::InTransit,
        CopyStatus::ReferenceOnly,
        CopyStatus::Unknown,
        CopyStatus::Missing,
        CopyStatus::Withdrawn,
    ];

    /// The identifier used in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyStatus::OnShelf => "on_shelf",
            CopyStatus::OnLoan => "on_loan",
            CopyStatus::InTransit => "in_transit",
            CopyStatus::ReferenceOnly => "reference_only",
            CopyStatus::Unknown => "unknown",
            CopyStatus::Missing => "missing",
            CopyStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parses [`CopyStatus::as_str`] output.
    pub fn parse(text: &str) -> Option<Self> {
        CopyStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a citizen can walk in and take (or read) it now.
    pub fn is_available(self) -> bool {
        matches!(self, CopyStatus::OnShelf | CopyStatus::ReferenceOnly)
    }
}

/// How the library code and item number are written in the holdings field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One subfield per datum.
    Plain,
    /// SBN fixed-width columns (SBN 950, BNCF 960): collocation `$d` = library code (2) +
    /// section (10) + shelf mark (24) + specification; inventory `$e` = library code (2) +
    /// series (3) + number (9) + …
    SbnFixedWidth,
}

/// Where one source keeps its copies. Presets cover the common systems; every field is public
/// so a source with its own conventions can be described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingsMapping {
    /// Name of the preset (`sbn950`, …) or `custom`.
    pub name: String,
    /// Holdings tag.
    pub tag: String,
    /// Subfield with the library (or location) code.
    pub library_code: Option<char>,
    /// Subfields that together make the shelf mark, in order.
    pub shelf_mark: Vec<char>,
    /// Subfield with the copy's barcode or inventory number.
    pub item_id: Option<char>,
    /// Subfield with a status word (`on loan`, `withdrawn`, `1` for a flag, …).
    pub status: Option<char>,
    /// Subfield with the due date of a lent copy (ISO `YYYY-MM-DD`).
    pub due_date: Option<char>,
    /// Subfield that, when non-empty and not `0`, marks the copy withdrawn (Koha `$0`).
    pub withdrawn_flag: Option<char>,
    /// Subfield that, when non-empty and not `0`, makes the copy not for loan (Koha `$7`).
    pub not_for_loan_flag: Option<char>,
    /// Column layout.
    pub layout: Layout,
    /// Whether the field lists many libraries (a union-catalogue localisation such as SBN 899):
    /// then only codes mapped to a library of ours become copies.
    pub union_catalogue: bool,
}

impl HoldingsMapping {
    fn plain(name: &str, tag: &str) -> Self {
        Self {
            name: name.to_owned(),
            tag: tag.to_owned(),
            library_code: None,
            shelf_mark: Vec::new(),
            item_id: None,
            status: None,
            due_date: None,
            withdrawn_flag: None,
            not_for_loan_flag: None,
            layout: Layout::Plain,
            union_catalogue: false,
        }
    }

    /// A preset by name: `sbn950`, `bncf960`, `sbn899`, `marc852`, `marc949`, `koha952`.
    pub fn preset(name: &str) -> Option<Self> {
        Some(match name {
            "sbn950" | "bncf960" => Self {
                library_code: Some('e'),
                shelf_mark: vec!['d'],
                item_id: Some('e'),
                layout: Layout::SbnFixedWidth,
                ..Self::plain(name, if name == "sbn950" { "950" } else { "960" })
            },
            "sbn899" => Self {
                library_code: Some('1'),
                union_catalogue: true,
                ..Self::plain(name, "899")
            },
            // MARC 21 Holdings 852: $a institution, $b sublocation, $h/$i call number, $p barcode.
            "marc852" => Self {
                library_code: Some('b'),
                shelf_mark: vec!['k', 'h', 'i', 'j', 'm'],
                item_id: Some('p'),
                ..Self::plain(name, "852")
            },
            // The widespread local 949 item layout: $m library, $a call number, $i barcode,
            // $k current location (the status word).
            "marc949" => Self {
                library_code: Some('m'),
                shelf_mark: vec!['a'],
                item_id: Some('i'),
                status: Some('k'),
                ..Self::plain(name, "949")
            },
            // Koha items: $a home branch, $o call number, $p barcode, $q due date, $0 withdrawn,
            // $7 not for loan.
            "koha952" => Self {
                library_code: Some('a'),
                shelf_mark: vec!['o'],
                item_id: Some('p'),
                due_date: Some('q'),
                withdrawn_flag: Some('0'),
                not_for_loan_flag: Some('7'),
                ..Self::plain(name, "952")
            },
            _ => return None,
        })
    }

    /// Preset names, for help texts.
    pub const PRESETS: [&'static str; 6] = ["sbn950", "bncf960", "sbn899", "marc852", "marc949", "koha952"];

    /// The presets tried, in order, when a source names none: the first whose tag the record
    /// has is used.
    pub fn defaults(flavour: Flavour) -> Vec<Self> {
        let names: &[&str] = match flavour {
            Flavour::Unimarc => &["sbn950", "bncf960", "sbn899"],
            Flavour::Marc21 => &["marc852", "marc949", "koha952"],
        };
        names.iter().filter_map(|n| Self::preset(n)).collect()
    }
}

/// A copy as described by the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCopy {
    /// The source's library or location code, when the field carries one.
    pub library_code: Option<String>,
    /// Barcode or inventory number; unique within the library.
    pub item_id: Option<String>,
    /// Shelf mark (collocazione).
    pub shelf_mark: Option<String>,
    /// Status as the source reports it.
    pub status: CopyStatus,
    /// Due date of a lent copy, `YYYY-MM-DD`.
    pub due_date: Option<String>,
}

/// The copies of `record` according to the first mapping whose tag it has, with that mapping.
pub fn copies<'m>(
    record: &Record,
    mappings: &'m [HoldingsMapping],
) -> (Option<&'m HoldingsMapping>, Vec<SourceCopy>) {
    for mapping in mappings {
        let fields: Vec<&Field> = record.fields_with(&mapping.tag).collect();
        if fields.is_empty() {
            continue;
        }
        let list = fields.iter().filter_map(|f| copy(f, mapping)).collect();
        return (Some(mapping), list);
    }
    (None, Vec::new())
}

fn copy(field: &Field, mapping: &HoldingsMapping) -> Option<SourceCopy> {
    let text = |code: Option<char>| code.and_then(|c| field.first(c)).and_then(squashed);
    let flag = |code: Option<char>| text(code).is_some_and(|v| v != "0");
    let (library_code, item_id, shelf_mark) = match mapping.layout {
        Layout::Plain => {
            let shelf: Vec<String> = mapping.shelf_mark.iter().filter_map(|&c| text(Some(c))).collect();
            (
                text(mapping.library_code),
                text(mapping.item_id),
                if shelf.is_empty() {
                    None
                } else {
                    Some(shelf.join(" "))
                },
            )
        }
        Layout::SbnFixedWidth => {
            let inventory = field.first('e').unwrap_or_default();
            let collocation = field.first('d').unwrap_or_default();
            let code = column(inventory, 0, 2).or_else(|| column(collocation, 0, 2));
            let item = match (column(inventory, 2, 5), column(inventory, 5, 14)) {
                (series, Some(number)) => {
                    // Inventory numbers are zero-padded; a number of only zeros is 0, not empty.
                    let number = match number.trim_start_matches('0') {
                        "" => "0",
                        digits => digits,
                    };
                    Some(match series {
                        Some(series) => format!("{series}-{number}"),
                        None => number.to_owned(),
                    })
                }
                _ => None,
            };
            // BNCF adds the readable shelf mark in $g; otherwise join the columns of $d.
            let shelf = text(Some('g')).or_else(|| {
                let parts: Vec<String> = [
                    column(collocation, 2, 12),
                    column(collocation, 12, 36),
                    column(collocation, 36, 48),
                ]
                .into_iter()
                .flatten()
                .collect();
                if parts.is_empty() {
                    None
                } else {
                    Some(parts.join(" "))
                }
            });
            (code, item, shelf)
        }
    };
    let mut status = CopyStatus::OnShelf;
    if mapping.union_catalogue {
        status = CopyStatus::Unknown;
    }
    if let Some(word) = text(mapping.status) {
        status = status_word(&word).unwrap_or(status);
    }
    let due_date = text(mapping.due_date).and_then(|d| iso_date(&d));
    if due_date.is_some() {
        status = CopyStatus::OnLoan;
    }
    if flag(mapping.not_for_loan_flag) && status == CopyStatus::OnShelf {
        status = CopyStatus::ReferenceOnly;
    }
    if flag(mapping.withdrawn_flag) {
        status = CopyStatus::Withdrawn;
    }
    if library_code.is_none() && item_id.is_none() && shelf_mark.is_none() {
        return None;
    }
    Some(SourceCopy {
        library_code,
        item_id,
        shelf_mark,
        status,
        due_date,
    })
}

/// Characters `from..to` of a fixed-width column, trimmed; `None` when blank or absent.
fn column(text: &str, from: usize, to: usize) -> Option<String> {
    let at = |n: usize| text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
    squashed(&text[at(from)..at(to)])
}

/// `text` with its runs of white space made single spaces and its ends trimmed; None when
/// nothing is left.
fn squashed(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

/// Status words used by library systems, in Italian and English.
fn status_word(word: &str) -> Option<CopyStatus> {
    let word = word.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| word.contains(n));
    if has(&["withdrawn", "scartat", "ritirat", "discard"]) {
        Some(CopyStatus::Withdrawn)
    } else if has(&["missing", "lost", "smarrit", "mancant"]) {
        Some(CopyStatus::Missing)
    } else if has(&["transit"]) {
        Some(CopyStatus::InTransit)
    } else if has(&[
        "checkedout",
        "checked out",
        "on loan",
        "prestito",
        "prestato",
        "loan",
    ]) {
        Some(CopyStatus::OnLoan)
    } else if has(&["reference", "consultazione", "non prestabile", "not for loan"]) {
        Some(CopyStatus::ReferenceOnly)
    } else if has(&["available", "disponibile", "on shelf", "scaffale"]) {
        Some(CopyStatus::OnShelf)
    } else {
        None
    }
}

/// `YYYY-MM-DD` from `YYYY-MM-DD…` or `YYYYMMDD`.
fn iso_date(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).take(8).collect();
    if digits.len() != 8 {
        return None;
    }
    let date = format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]);
    jiff::civil::Date::strptime("%Y-%m-%d", &date).ok().map(|_| date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::marc::{FieldContent, Subfield};

    fn field(tag: &str, subfields: &[(char, &str)]) -> Field {
        Field {
            tag: tag.to_owned(),
            content: FieldContent::Data {
                indicators: [' ', ' '],
                subfields: subfields
                    .iter()
                    .map(|&(code, value)| Subfield {
                        code,
                        value: value.to_owned(),
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn bncf_960_fixed_width_columns() {
        // Copied from the BNCF record CFI0893220 in the test data.
        let f = field(
            "960",
            &[
                ('a', "Bibl. Nazionale Centrale Di Firenze"),
                ('d', " CFGEN       B 35                    9807"),
                ('e', "CF   006430746                                A VMB    "),
                ('g', "GEN B35 0"),
            ],
        );
        let copy = copy(&f, &HoldingsMapping::preset("bncf960").unwrap()).unwrap();
        assert_eq!(copy.library_code.as_deref(), Some("CF"));
        assert_eq!(copy.item_id.as_deref(), Some("6430746"));
        assert_eq!(copy.shelf_mark.as_deref(), Some("GEN B35 0"));
        assert_eq!(copy.status, CopyStatus::OnShelf);
    }

    #[test]
    fn columns_count_characters_not_bytes_and_zero_is_an_inventory_number() {
        // Columns are character positions: "à" is one column, two bytes.
        assert_eq!(column("CFàà  12 ", 2, 4).as_deref(), Some("àà"));
        assert_eq!(column("CFàà  12 ", 4, 9).as_deref(), Some("12"));
        assert_eq!(column("CF", 2, 5), None);
        assert_eq!(column("ab \t  cd", 0, 99).as_deref(), Some("ab cd"));
        let f = field("950", &[('d', "A0GEN       100"), ('e', "A0   000000000")]);
        let copy = copy(&f, &HoldingsMapping::preset("sbn950").unwrap()).unwrap();
        assert_eq!(copy.item_id.as_deref(), Some("0"));
    }

    #[test]
    fn koha_flags_and_status_words() {
        let koha = HoldingsMapping::preset("koha952").unwrap();
        let lent = copy(
            &field("952", &[('a', "BERIO"), ('p', "B001"), ('q', "2026-12-01")]),
            &koha,
        )
        .unwrap();
        assert_eq!(
            (lent.status, lent.due_date.as_deref()),
            (CopyStatus::OnLoan, Some("2026-12-01"))
        );
        let gone = copy(&field("952", &[('a', "BERIO"), ('p', "B002"), ('0', "1")]), &koha).unwrap();
        assert_eq!(gone.status, CopyStatus::Withdrawn);
        let reference = copy(&field("952", &[('a', "BERIO"), ('p', "B003"), ('7', "1")]), &koha).unwrap();
        assert_eq!(reference.status, CopyStatus::ReferenceOnly);
        let m949 = HoldingsMapping::preset("marc949").unwrap();
        let transit = copy(
            &field("949", &[('m', "X"), ('i', "1"), ('k', "INTRANSIT")]),
            &m949,
        )
        .unwrap();
        assert_eq!(transit.status, CopyStatus::InTransit);
        assert_eq!(iso_date("20261301"), None);
    }
}
