//! The real records in `tests/fixtures/marc` (see its README for provenance), read and
//! normalised end to end.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::fs::File;
use std::path::PathBuf;

use sportello_core::catalog::holdings::{CopyStatus, HoldingsMapping, copies};
use sportello_core::catalog::record::{BibRecord, Format, Role, merge_key};
use sportello_core::catalog::{Flavour, InputFormat, MarcReader, ReadError, Record};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/marc")
        .join(path)
}

fn read(path: &str) -> Vec<Result<Record, ReadError>> {
    MarcReader::open(File::open(fixture(path)).unwrap(), InputFormat::Auto)
        .unwrap()
        .collect()
}

fn records(path: &str) -> Vec<Record> {
    read(path).into_iter().map(Result::unwrap).collect()
}

#[test]
fn sbn_unimarc_record_with_a_newline_after_the_terminator() {
    let records = records("pymarc/testunimarc.dat");
    assert_eq!(records.len(), 1, "the trailing newline is not a record");
    let record = &records[0];
    assert_eq!(record.flavour, Flavour::Unimarc);
    let bib = BibRecord::from_marc(record);
    assert_eq!(bib.title, "L'altra faccia della spirale");
    assert_eq!(
        bib.sort_title, "altra faccia della spirale",
        "U+0088/U+0089 non-filing part"
    );
    assert_eq!(
        bib.isbns[0].as_str(),
        "9788804406822",
        "ISBN-10 88-04-40682-8 as ISBN-13"
    );
    assert_eq!(bib.sbn_bid(), Some("ANA0019370"));
    assert_eq!((bib.year, bib.language.as_deref()), (Some(1996), Some("ita")));
    assert_eq!(bib.publisher.as_deref(), Some("A. Mondadori"));
    assert_eq!(bib.authors[0].name, "Asimov, Isaac");
    assert_eq!(bib.authors[0].role, Role::Author);
    assert!(bib.authors.iter().any(|a| a.name == "Scaglia, Cesare"));
    assert!(bib.series.contains(&"Bestsellers".to_owned()));
    assert_eq!(bib.format, Format::Book);
    // SBN localisations: one per library, Liguria's among them.
    let mappings = HoldingsMapping::defaults(Flavour::Unimarc);
    let (mapping, list) = copies(record, &mappings);
    assert_eq!(mapping.unwrap().name, "sbn899");
    assert_eq!(list.len(), 40);
    let codes: Vec<_> = list.iter().filter_map(|c| c.library_code.as_deref()).collect();
    assert!(codes.contains(&"SP0022") && codes.contains(&"SV0070"));
    assert!(list.iter().all(|c| c.status == CopyStatus::Unknown));
}

#[test]
fn bncf_records_in_iso2709_and_unimarc_slim_agree() {
    let iso = records("bncf-unimarcxml/data.mrc");
    let xml = records("bncf-unimarcxml/unimarctest.xml");
    assert_eq!(iso.len(), 5);
    assert_eq!(xml.len(), 5);
    for (a, b) in iso.iter().zip(&xml) {
        assert_eq!(
            BibRecord::from_marc(a).merge_key(),
            BibRecord::from_marc(b).merge_key()
        );
    }
    let bib = BibRecord::from_marc(&iso[0]);
    assert_eq!(bib.title, "Lo Stato innovatore");
    assert_eq!(
        bib.sort_title, "Stato innovatore",
        "U+0098/U+009C non-filing part"
    );
    assert_eq!(
        bib.subtitle.as_deref(),
        Some("sfatare il mito del pubblico contro il privato")
    );
    assert_eq!(bib.sbn_bid(), Some("CFI0893220"));
    assert_eq!(bib.subjects, ["Innovazione tecnologica -- Interventi statali"]);
    assert_eq!(merge_key(&bib), "isbn:9788858111703");
    let translator = bib
        .authors
        .iter()
        .find(|a| a.name.starts_with("Galimberti"))
        .unwrap();
    assert_eq!(translator.role, Role::Contributor);
    let mappings = HoldingsMapping::defaults(Flavour::Unimarc);
    let (mapping, list) = copies(&iso[0], &mappings);
    assert_eq!(mapping.unwrap().name, "bncf960");
    let items: Vec<_> = list.iter().map(|c| c.item_id.clone().unwrap()).collect();
    assert_eq!(items, ["6430746", "6485669"]);
    assert_eq!(list[0].shelf_mark.as_deref(), Some("GEN B35 09807"));
}

#[test]
fn marc8_records_decode_diacritics() {
    let russian = records("pymarc/regression45.dat");
    assert_eq!(russian.len(), 12);
    let bib = BibRecord::from_marc(&russian[0]);
    assert!(
        bib.title.starts_with("Pokrov, podarennyĭ Dimitrīem"),
        "{}",
        bib.title
    );
    let marc = records("pymarc/marc.dat");
    let bib = BibRecord::from_marc(&marc[0]);
    assert_eq!(bib.title, "The pragmatic programmer");
    assert_eq!(
        bib.sort_title, "pragmatic programmer",
        "245 ind2 = 4 non-filing characters"
    );
    assert_eq!(bib.subtitle.as_deref(), Some("from journeyman to master"));
    assert_eq!(bib.language.as_deref(), Some("eng"));
    assert!(!bib.isbns.is_empty());
}

#[test]
fn mislabelled_and_broken_records_are_reported_not_mangled() {
    // Cyrillic in Windows-1251 under a MARC-8 leader: every record is refused with a reason.
    let results = read("pymarc/1251.dat");
    assert_eq!(results.len(), 6);
    for result in &results {
        let Err(ReadError::Record(error)) = result else {
            panic!("{result:?}")
        };
        assert!(error.reason.contains("MARC-8"), "{error}");
    }
    // One record of this file has a byte that is not UTF-8 under a UTF-8 leader.
    let results = read("marc4j/sample1.mrc");
    let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("record 7"), "{}", errors[0]);
}

#[test]
fn marcxml_from_koha_and_the_sbn_index() {
    let koha = records("marc4j/1474920681_KOHA_LFL_5.xml");
    let bib = BibRecord::from_marc(&koha[0]);
    assert_eq!(bib.title, "Cinema and architecture : from historical to digital");
    assert_eq!(bib.isbns[0].as_str(), "9780851705774");
    let sbn = records("sbn-offlineexport/ind.mrc.xml");
    assert_eq!(sbn.len(), 2);
    let bib = BibRecord::from_marc(&sbn[0]);
    assert_eq!(bib.sbn_bid(), Some("ABR0000164"));
    assert_eq!(bib.title, "The nineteenth century");
}
