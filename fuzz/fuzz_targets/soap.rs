//! The SOAP request reader of `POST /pagopa/paForNode`, called as the server calls it: the
//! SOAPAction header through `Operation::from_action`, the body (at most the configured
//! `pagopa.body_limit_bytes`, 256 KiB by default) through `parse_request`, then the facets the
//! Node's operations read (ids, notice numbers, amounts), and the answer written for a refusal.
//! The input is the header value, a newline, and the body.
//!
//! Properties: no panic; a request read is a `paForNode` element of the operation the header
//! named (if it named one) within the reader's limits on depth, element count and text; every
//! fault answer, which echoes parts of the request, is a well-formed XML document that the
//! same reader reads back, with only characters XML 1.0 allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sportello_core::payments::soap::{
    self, Element, Fault, FaultCode, Operation, PAFN_NS, check_fiscal_code_pa, check_notice_number,
    format_amount, parse_st_amount,
};
use sportello_fuzz::is_xml_char;

const BODY_LIMIT: usize = 256 * 1024;

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    if body.len() > BODY_LIMIT {
        return;
    }
    // An HTTP header value that is not visible ASCII is dropped (`to_str` fails) by the handler.
    let header = std::str::from_utf8(header).ok().filter(|h| !h.is_empty());
    let action = header.and_then(Operation::from_action);
    let request = match soap::parse_request(body, action) {
        Ok(request) => request,
        Err((Some(operation), fault)) => {
            check_answer(&soap::fault_response(operation, &fault, "00856930102"));
            return;
        }
        Err((None, fault)) => {
            check_answer(&soap::soap_fault(&fault.description));
            return;
        }
    };
    let operation = request.operation;
    assert!(action.is_none_or(|a| a == operation));
    assert_eq!(request.body.name, operation.request_element());
    assert_eq!(request.body.ns.as_deref(), Some(PAFN_NS));
    check_limits(&request.body, 2);

    // The facets node.rs reads, in its order; each refusal is answered like node.rs does, with
    // idPA echoed when it has 1 to 35 bytes.
    let id_pa = request
        .body
        .child("idPA")
        .map(|e| e.text.trim())
        .filter(|t| (1..=35).contains(&t.len()))
        .unwrap_or("00856930102");
    let fault = facets(&request.body)
        .err()
        .unwrap_or_else(|| Fault::new(FaultCode::Semantica, "ok"));
    check_answer(&soap::fault_response(operation, &fault, id_pa));
});

fn facets(body: &Element) -> Result<(), Fault> {
    for id in ["idPA", "idBrokerPA", "idStation"] {
        body.text_max(id, 35)?;
    }
    let holder = body
        .child("qrCode")
        .or_else(|| body.child("receipt"))
        .unwrap_or(body);
    if let Some(text) = holder.child("noticeNumber").map(|e| e.text.trim()) {
        let notice = check_notice_number(text)?;
        assert!(notice.len() == 18 && notice.bytes().all(|b| b.is_ascii_digit()));
    }
    if let Some(text) = holder.child("fiscalCode").map(|e| e.text.trim()) {
        check_fiscal_code_pa(text)?;
    }
    for name in ["amount", "paymentAmount"] {
        if let Some(text) = holder.child(name).map(|e| e.text.trim()) {
            let cents = parse_st_amount(text)?;
            assert!((0..=99_999_999_999).contains(&cents));
            // stAmount has exactly two decimals, so only leading zeros of the euros may differ.
            let printed = format_amount(cents);
            assert_eq!(
                printed.trim_start_matches('0'),
                text.trim_start_matches('0'),
                "{text}"
            );
        }
    }
    Ok(())
}

/// The reader's limits: depth 24, text 64 KiB per element.
fn check_limits(element: &Element, depth: usize) {
    assert!(depth <= 24);
    assert!(element.text.len() <= 64 * 1024);
    for child in &element.children {
        check_limits(child, depth + 1);
    }
}

fn check_answer(xml: &str) {
    if let Some(bad) = xml.chars().find(|&c| !is_xml_char(c)) {
        panic!(
            "answer holds U+{:04X}, not allowed in XML 1.0: {xml:?}",
            u32::from(bad)
        );
    }
    let root = soap::parse_document(xml.as_bytes())
        .unwrap_or_else(|fault| panic!("answer is not well-formed ({fault:?}): {xml}"));
    assert_eq!(root.name, "Envelope");
}
