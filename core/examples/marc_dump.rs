//! Prints what the MARC readers see in a file, one JSON object per record, so an independent
//! decoder (pymarc, see `tests/marc-crosscheck/`) can be compared with ours; `--count` only
//! counts records and fields (for the parse-speed benchmark).
//!
//! Usage: `cargo run -p sportello-core --example marc_dump -- [--count] FILE...`

use std::fs::File;
use std::process::ExitCode;
use std::time::Instant;

use sportello_core::catalog::marc::FieldContent;
use sportello_core::catalog::record::BibRecord;
use sportello_core::catalog::{InputFormat, MarcReader, ReadError};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let count_only = args.first().is_some_and(|a| a == "--count");
    if count_only {
        args.remove(0);
    }
    if args.is_empty() {
        eprintln!("usage: marc_dump [--count] FILE...");
        return ExitCode::from(2);
    }
    for path in args {
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) => {
                eprintln!("{path}: {error}");
                return ExitCode::FAILURE;
            }
        };
        let Ok(reader) = MarcReader::open(file, InputFormat::Auto) else {
            eprintln!("{path}: cannot read");
            return ExitCode::FAILURE;
        };
        let started = Instant::now();
        let (mut records, mut fields, mut errors) = (0u64, 0u64, 0u64);
        for (index, result) in reader.enumerate() {
            match result {
                Ok(record) => {
                    records += 1;
                    fields += record.fields.len() as u64;
                    if count_only {
                        continue;
                    }
                    let layout: Vec<serde_json::Value> = record
                        .fields
                        .iter()
                        .map(|f| match &f.content {
                            FieldContent::Control(_) => serde_json::json!([f.tag, -1]),
                            FieldContent::Data { subfields, .. } => {
                                serde_json::json!([f.tag, subfields.len()])
                            }
                        })
                        .collect();
                    let title_tag = if record.field("245").is_some() {
                        "245"
                    } else {
                        "200"
                    };
                    let normalised = BibRecord::from_marc(&record);
                    println!(
                        "{}",
                        serde_json::json!({
                            "file": path, "index": index + 1, "leader": record.leader,
                            "flavour": record.flavour.as_str(), "fields": layout,
                            "title_a": record.first(title_tag, 'a'),
                            "title": normalised.title,
                            "isbns": normalised.isbns.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        })
                    );
                }
                Err(ReadError::Record(error)) => {
                    errors += 1;
                    if !count_only {
                        println!(
                            "{}",
                            serde_json::json!({"file": path, "index": index + 1, "error": error.reason})
                        );
                    }
                }
                Err(ReadError::Input(error)) => {
                    errors += 1;
                    eprintln!("{path}: {error}");
                }
            }
        }
        if count_only {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{{\"file\": {path:?}, \"records\": {records}, \"fields\": {fields}, \"errors\": {errors}, \"seconds\": {seconds:.6}}}"
            );
        }
    }
    ExitCode::SUCCESS
}
