//! DAIA 1.0 (Document Availability Information API) JSON: the same availability as
//! `/v1/catalog/records/{id}/availability`, in the shape discovery tools such as VuFind read.
//!
//! Mapping of copy status to DAIA services: on the shelf: `loan` and `presentation` available;
//! reference only: `presentation` available, `loan` unavailable; on loan: `loan` unavailable with
//! the due date as `expected`; in transit: `loan` unavailable, expected `unknown`; status not
//! reported (SBN localisations): the item is listed with neither, which DAIA reads as unknown.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sportello_core::api;
use sportello_core::catalog::isbn::Isbn13;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{TantivyDocument, Term};

use super::CatalogError;
use crate::AppState;

/// Most records one ISBN may resolve to.
const PER_ISBN: usize = 10;

/// The DAIA documents for one requested id (none if it is unknown: DAIA omits those).
pub async fn documents(state: &AppState, public: &str, requested: &str) -> Result<Vec<Value>, CatalogError> {
    let record_ids = if let Some(isbn) = requested.strip_prefix("urn:isbn:") {
        match Isbn13::parse(isbn) {
            Some(isbn) => records_with_isbn(state, &isbn),
            None => Vec::new(),
        }
    } else {
        vec![
            requested
                .strip_prefix("urn:uuid:")
                .unwrap_or(requested)
                .to_owned(),
        ]
    };
    let mut documents = Vec::new();
    for id in record_ids {
        if uuid::Uuid::parse_str(&id).is_err() {
            continue;
        }
        match state.catalog.availability(&id, None).await {
            Ok(availability) => documents.push(document(public, requested, &availability)),
            Err(CatalogError::RecordNotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(documents)
}

fn records_with_isbn(state: &AppState, isbn: &Isbn13) -> Vec<String> {
    let index = state.catalog.index();
    let fields = index.fields();
    let query = TermQuery::new(
        Term::from_field_text(fields.isbn, isbn.as_str()),
        IndexRecordOption::Basic,
    );
    let searcher = index.searcher();
    let Ok(top) = searcher.search(&query, &TopDocs::with_limit(PER_ISBN).order_by_score()) else {
        return Vec::new();
    };
    top.into_iter()
        .filter_map(|(_, address)| searcher.doc::<TantivyDocument>(address).ok())
        .filter_map(|doc| {
            doc.get_first(fields.id)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect()
}

fn document(public: &str, requested: &str, availability: &api::RecordAvailability) -> Value {
    let record = &availability.record;
    let about = match record.authors.first() {
        Some(author) => format!("{} / {}", record.title, author.name),
        None => record.title.clone(),
    };
    let mut items = Vec::new();
    for library in &availability.libraries {
        let library_url = format!("{public}/v1/libraries/{}", library.library_id);
        for copy in &library.copies {
            let mut item = json!({
                "id": format!("{library_url}/items/{}", percent(&copy.item_id)),
                "department": { "id": library_url, "content": library.library_name },
            });
            if let Some(label) = &copy.shelf_mark {
                item["label"] = json!(label);
            }
            let (available, unavailable) = match copy.status.as_str() {
                "on_shelf" => (
                    vec![json!({"service": "loan"}), json!({"service": "presentation"})],
                    vec![],
                ),
                "reference_only" => (
                    vec![json!({"service": "presentation"})],
                    vec![json!({"service": "loan"})],
                ),
                "on_loan" => (
                    vec![],
                    vec![
                        json!({"service": "loan", "expected": copy.due_date.clone().unwrap_or_else(|| "unknown".to_owned())}),
                    ],
                ),
                "in_transit" => (vec![], vec![json!({"service": "loan", "expected": "unknown"})]),
                _ => (vec![], vec![]),
            };
            if !available.is_empty() {
                item["available"] = Value::Array(available);
            }
            if !unavailable.is_empty() {
                item["unavailable"] = Value::Array(unavailable);
            }
            items.push(item);
        }
    }
    json!({
        "id": format!("urn:uuid:{}", record.id),
        "requested": requested,
        "href": format!("{public}/v1/catalog/records/{}", record.id),
        "about": about,
        "item": items,
    })
}

/// Percent-encodes what is not unreserved in a URI path segment (inventory numbers have spaces).
fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
