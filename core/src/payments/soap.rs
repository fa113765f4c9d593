//! The SOAP side of `paForNode`: reading the Node's requests and writing schema-valid
//! responses (document/literal, SOAP 1.1, the official `paForNode.xsd`).
//!
//! Parsing uses quick-xml, a pull parser that never reads a DTD: a `<!DOCTYPE` is refused
//! outright and only the five predefined entities and character references are resolved, so
//! external entities (XXE) and entity bombs cannot happen. The request is read into a small
//! tree with limits on depth, element count and text size (the body is already size-limited)
//! and then checked against the facets of the XSD types we read (lengths, patterns), so a
//! schema-invalid request gets `PAA_SINTASSI_XSD` instead of a half-understood answer.
//! Responses are written by hand with escaping; their validity is tested with xmllint against
//! the official XSD (server/tests/pagopa.rs).
//!
//! It lives in core, although only the server speaks SOAP, because it is pure and reads bytes
//! from outside: the fuzz targets (fuzz/) call it without building the server.

use std::fmt::Write as _;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Namespace of the request and response elements.
pub const PAFN_NS: &str = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd";
/// SOAP 1.1 envelope namespace (what the Node speaks).
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (accepted too).
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

const MAX_DEPTH: usize = 24;
const MAX_ELEMENTS: usize = 2_000;
const MAX_TEXT: usize = 64 * 1024;

/// The operations of `paForNode` that Sportello answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Is this notice payable, and for how much?
    VerifyPaymentNotice,
    /// The payment's details, v1 (IBAN transfers only).
    GetPayment,
    /// The payment's details, v2 (IBAN or digital stamp).
    GetPaymentV2,
    /// The receipt, v1.
    SendRt,
    /// The receipt, v2.
    SendRtV2,
}

impl Operation {
    const ALL: [Operation; 5] = [
        Operation::VerifyPaymentNotice,
        Operation::GetPayment,
        Operation::GetPaymentV2,
        Operation::SendRt,
        Operation::SendRtV2,
    ];

    /// The SOAPAction (the WSDL operation name).
    pub fn action(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNotice",
            Operation::GetPayment => "paGetPayment",
            Operation::GetPaymentV2 => "paGetPaymentV2",
            Operation::SendRt => "paSendRT",
            Operation::SendRtV2 => "paSendRTV2",
        }
    }

    /// The request element in the body.
    pub fn request_element(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNoticeReq",
            Operation::GetPayment => "paGetPaymentReq",
            Operation::GetPaymentV2 => "paGetPaymentV2Request",
            Operation::SendRt => "paSendRTReq",
            Operation::SendRtV2 => "paSendRTV2Request",
        }
    }

    /// The response element.
    pub fn response_element(self) -> &'static str {
        match self {
            Operation::VerifyPaymentNotice => "paVerifyPaymentNoticeRes",
            Operation::GetPayment => "paGetPaymentRes",
            Operation::GetPaymentV2 => "paGetPaymentV2Response",
            Operation::SendRt => "paSendRTRes",
            Operation::SendRtV2 => "paSendRTV2Response",
        }
    }

    /// The operation of a SOAPAction header value (quotes and a namespace prefix tolerated).
    pub fn from_action(action: &str) -> Option<Self> {
        let action = action.trim().trim_matches('"');
        let action = action.rsplit(['/', '#']).next().unwrap_or(action);
        Self::ALL.into_iter().find(|op| op.action() == action)
    }

    fn from_request_element(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.request_element() == name)
    }
}

/// The fault codes of the EC interface (pagoPA SANP, "codici di errore").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// Unparseable or schema-invalid request.
    SintassiXsd,
    /// idPA (or the QR code's creditor) is not a creditor served here.
    IdDominioErrato,
    /// idBrokerPA is not this installation's broker.
    IdIntermediarioErrato,
    /// idStation is not the creditor's station.
    StazioneIntErrata,
    /// No such notice (or not yet payable).
    PagamentoSconosciuto,
    /// The notice has expired.
    PagamentoScaduto,
    /// Already paid.
    PagamentoDuplicato,
    /// Withdrawn by the creditor.
    PagamentoAnnullato,
    /// Well-formed, but contradicts what we know (amounts, check digits, IUV).
    Semantica,
    /// Our failure; the Node retries.
    SystemError,
}

impl FaultCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultCode::SintassiXsd => "PAA_SINTASSI_XSD",
            FaultCode::IdDominioErrato => "PAA_ID_DOMINIO_ERRATO",
            FaultCode::IdIntermediarioErrato => "PAA_ID_INTERMEDIARIO_ERRATO",
            FaultCode::StazioneIntErrata => "PAA_STAZIONE_INT_ERRATA",
            FaultCode::PagamentoSconosciuto => "PAA_PAGAMENTO_SCONOSCIUTO",
            FaultCode::PagamentoScaduto => "PAA_PAGAMENTO_SCADUTO",
            FaultCode::PagamentoDuplicato => "PAA_PAGAMENTO_DUPLICATO",
            FaultCode::PagamentoAnnullato => "PAA_PAGAMENTO_ANNULLATO",
            FaultCode::Semantica => "PAA_SEMANTICA",
            FaultCode::SystemError => "PAA_SYSTEM_ERROR",
        }
    }

    /// The standard fault string of the pagoPA specification.
    pub fn fault_string(self) -> &'static str {
        match self {
            FaultCode::SintassiXsd => "Errore di sintassi XSD",
            FaultCode::IdDominioErrato => "La PAA non corrisponde al Dominio indicato",
            FaultCode::IdIntermediarioErrato => "Identificativo intermediario non corrispondente",
            FaultCode::StazioneIntErrata => "Stazione intermediario non corrispondente",
            FaultCode::PagamentoSconosciuto => "Pagamento in attesa risulta sconosciuto all’Ente Creditore",
            FaultCode::PagamentoScaduto => "Pagamento in attesa risulta scaduto all’Ente Creditore",
            FaultCode::PagamentoDuplicato => "Pagamento in attesa risulta concluso all’Ente Creditore",
            FaultCode::PagamentoAnnullato => "Pagamento in attesa risulta annullato all’Ente Creditore",
            FaultCode::Semantica => "Errore semantico",
            FaultCode::SystemError => "Errore generico",
        }
    }
}

/// A fault to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The code.
    pub code: FaultCode,
    /// What exactly was wrong (for the Node's operators; no personal data).
    pub description: String,
}

impl Fault {
    /// A fault with a description.
    pub fn new(code: FaultCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    fn syntax(description: impl Into<String>) -> Self {
        Self::new(FaultCode::SintassiXsd, description)
    }
}

/// An element of the request: namespace, local name, text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, if bound.
    pub ns: Option<String>,
    /// Local name.
    pub name: String,
    /// Text content (concatenated).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// A required child.
    pub fn required(&self, name: &str) -> Result<&Element, Fault> {
        self.child(name)
            .ok_or_else(|| Fault::syntax(format!("{}: missing <{name}>", self.name)))
    }

    /// The trimmed text of a required child.
    pub fn text_of(&self, name: &str) -> Result<&str, Fault> {
        Ok(self.required(name)?.text.trim())
    }

    /// A required `stText<N>` child: 1..=max characters.
    pub fn text_max(&self, name: &str, max: usize) -> Result<&str, Fault> {
        let text = self.text_of(name)?;
        let count = text.chars().count();
        if count == 0 || count > max {
            return Err(Fault::syntax(format!("<{name}> must have 1 to {max} characters")));
        }
        Ok(text)
    }
}

/// A parsed request: the operation and its body element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Which operation.
    pub operation: Operation,
    /// The request element.
    pub body: Element,
}

/// The operation a SOAPAction header names. Absent, or empty (`""`, SOAP 1.1's "the URI says
/// it"), is `None`: the body names the operation. Present but naming no operation served here
/// is refused, so a request is never answered under another name than the one it was sent as.
pub fn read_action(header: Option<&str>) -> Result<Option<Operation>, Fault> {
    let Some(header) = header else {
        return Ok(None);
    };
    if header.trim().trim_matches('"').is_empty() {
        return Ok(None);
    }
    Operation::from_action(header).map(Some).ok_or_else(|| {
        let shown: String = header.chars().take(60).collect();
        Fault::syntax(format!("unknown SOAPAction `{shown}`"))
    })
}

/// Reads a SOAP envelope. `action` is the SOAPAction header, used to name the response when
/// the body cannot be read (the caller checks that it names the body's operation). Errors carry
/// the operation when it is known.
pub fn parse_request(xml: &[u8], action: Option<Operation>) -> Result<Request, (Option<Operation>, Fault)> {
    let root = parse_tree(xml).map_err(|fault| (action, fault))?;
    let envelope_ok = root.name == "Envelope" && matches!(root.ns.as_deref(), Some(SOAP11_NS | SOAP12_NS));
    if !envelope_ok {
        return Err((action, Fault::syntax("the document is not a SOAP envelope")));
    }
    let body = root
        .child("Body")
        .filter(|b| b.ns == root.ns)
        .ok_or_else(|| (action, Fault::syntax("the envelope has no Body")))?;
    let [element] = body.children.as_slice() else {
        return Err((
            action,
            Fault::syntax("the Body must hold exactly one request element"),
        ));
    };
    let operation = Operation::from_request_element(&element.name);
    if element.ns.as_deref() != Some(PAFN_NS) {
        return Err((
            operation.or(action),
            Fault::syntax(format!("<{}> is not in the namespace {PAFN_NS}", element.name)),
        ));
    }
    let Some(operation) = operation else {
        return Err((
            action,
            Fault::syntax(format!("unknown request <{}>", element.name)),
        ));
    };
    Ok(Request {
        operation,
        body: element.clone(),
    })
}

/// The five predefined XML entities; any other entity is refused (no DTD is ever read).
fn predefined(name: &str) -> Option<&'static str> {
    match name {
        "lt" => Some("<"),
        "gt" => Some(">"),
        "amp" => Some("&"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}

/// Reads any XML document (requests, or the responses the Node simulator receives) into a tree
/// of elements, with the same limits and refusals as requests.
pub fn parse_document(xml: &[u8]) -> Result<Element, Fault> {
    parse_tree(xml)
}

/// Builds the element tree with limits; refuses DTDs and unknown entities.
fn parse_tree(xml: &[u8]) -> Result<Element, Fault> {
    let mut reader = NsReader::from_reader(xml);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| Fault::syntax(format!("malformed XML: {e}")))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => Some(ns.0.to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(Fault::syntax(format!("undeclared namespace prefix `{prefix}`")));
            }
        };
        match event {
            Event::Start(start) => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH || root.is_some() {
                    return Err(Fault::syntax("too many or too deeply nested elements"));
                }
                stack.push(Element {
                    ns,
                    name: start.local_name().as_ref().to_owned(),
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(Fault::syntax("too many or too deeply nested elements"));
                }
                let element = Element {
                    ns,
                    name: start.local_name().as_ref().to_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let Some(element) = stack.pop() else {
                    return Err(Fault::syntax("unbalanced end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => push_text(&mut stack, &text.xml10_content())?,
            Event::CData(data) => push_text(&mut stack, &data)?,
            Event::GeneralRef(reference) => {
                let name = reference.xml10_content();
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => predefined(&name)
                        .ok_or_else(|| Fault::syntax(format!("entity `&{name};` is not allowed")))?
                        .to_owned(),
                    Err(_) => return Err(Fault::syntax(format!("invalid character reference `&{name};`"))),
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::DocType(_) => {
                return Err(Fault::syntax("DTDs are not accepted"));
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(Fault::syntax("the document ends inside an element"));
    }
    root.ok_or_else(|| Fault::syntax("empty document"))
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), Fault> {
    if let Some(current) = stack.last_mut() {
        if current.text.len() + text.len() > MAX_TEXT {
            return Err(Fault::syntax("text too long"));
        }
        current.text.push_str(text);
    } else if !text.trim().is_empty() {
        return Err(Fault::syntax("text outside the root element"));
    }
    Ok(())
}

/// Escapes text for element content.
/// A character XML 1.0 does not allow at all (most C0 controls, U+FFFE, U+FFFF) becomes U+FFFD:
/// fault descriptions quote the request, and a control character copied from it would make
/// the whole answer ill-formed for the Node (found by fuzzing: fuzz/corpus/soap/).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            _ => out.push(c),
        }
    }
    out
}

/// The `Char` production of XML 1.0: what a document may contain, even escaped.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Wraps a response element's content in the envelope. The `pafn` prefix is declared on the
/// response element itself, so the body element is a standalone document for validation.
pub fn envelope(operation: Operation, content: &str) -> String {
    let element = operation.response_element();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\"><soapenv:Body>\
         <pafn:{element} xmlns:pafn=\"{PAFN_NS}\">{content}</pafn:{element}>\
         </soapenv:Body></soapenv:Envelope>"
    )
}

/// A request envelope as the Node sends it (the simulator's side).
pub fn request_envelope(operation: Operation, content: &str) -> String {
    let element = operation.request_element();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\" xmlns:pafn=\"{PAFN_NS}\"><soapenv:Body>\
         <pafn:{element}>{content}</pafn:{element}></soapenv:Body></soapenv:Envelope>"
    )
}

/// A KO response with a fault; `id` is the creditor (idPA) or, when unknown, the broker.
pub fn fault_response(operation: Operation, fault: &Fault, id: &str) -> String {
    let mut content = String::from("<outcome>KO</outcome><fault>");
    let _ = write!(
        content,
        "<faultCode>{}</faultCode><faultString>{}</faultString><id>{}</id>",
        fault.code.as_str(),
        escape(fault.code.fault_string()),
        escape(id)
    );
    if !fault.description.is_empty() {
        let description: String = fault.description.chars().take(1000).collect();
        let _ = write!(content, "<description>{}</description>", escape(&description));
    }
    content.push_str("</fault>");
    envelope(operation, &content)
}

/// A SOAP 1.1 Fault, for a body so broken that no operation can be named.
pub fn soap_fault(description: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\"><soapenv:Body><soapenv:Fault>\
         <faultcode>soapenv:Client</faultcode><faultstring>{}</faultstring>\
         <detail><faultCode>PAA_SINTASSI_XSD</faultCode></detail>\
         </soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        escape(description)
    )
}

/// The SOAP 1.1 Fault of a request the channel refuses (source network, shared key), sent with
/// HTTP 403. No PAA_* code is about access, so none is given.
pub fn access_denied() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\"><soapenv:Body><soapenv:Fault>\
         <faultcode>soapenv:Client</faultcode><faultstring>access denied</faultstring>\
         </soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
}

/// Checks `stAmount` (`\d+\.\d{2}`, at most 999999999.99) and returns cents.
pub fn parse_st_amount(text: &str) -> Result<i64, Fault> {
    let bad = || Fault::syntax(format!("`{}` is not an amount with two decimals", truncate(text)));
    let (euros, cents) = text.split_once('.').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(euros) || cents.len() != 2 || !digits(cents) || euros.len() > 12 {
        return Err(bad());
    }
    let euros: i64 = euros.parse().map_err(|_| bad())?;
    let cents: i64 = cents.parse().map_err(|_| bad())?;
    let total = euros
        .checked_mul(100)
        .and_then(|e| e.checked_add(cents))
        .ok_or_else(bad)?;
    if total > 99_999_999_999 {
        return Err(bad());
    }
    Ok(total)
}

/// Cents as an `stAmount`.
pub fn format_amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Checks `stFiscalCodePA` (11 digits).
pub fn check_fiscal_code_pa(text: &str) -> Result<&str, Fault> {
    if text.len() == 11 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(Fault::syntax(format!(
            "`{}` is not an 11-digit fiscal code",
            truncate(text)
        )))
    }
}

/// Checks `stNoticeNumber` (18 digits); the check digits are verified later (a semantic matter).
pub fn check_notice_number(text: &str) -> Result<&str, Fault> {
    if text.len() == 18 && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text)
    } else {
        Err(Fault::syntax(format!(
            "`{}` is not an 18-digit notice number",
            truncate(text)
        )))
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_with(body: &str) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"{SOAP11_NS}\" xmlns:pafn=\"{PAFN_NS}\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        )
    }

    #[test]
    fn reads_a_request_with_its_operation() {
        let xml = envelope_with(
            "<pafn:paVerifyPaymentNoticeReq><idPA>00856930102</idPA><idBrokerPA>b</idBrokerPA>\
             <idStation>s &amp; t&#33;</idStation><qrCode><fiscalCode>00856930102</fiscalCode>\
             <noticeNumber>301000000000000105</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq>",
        );
        let request = parse_request(xml.as_bytes(), Some(Operation::VerifyPaymentNotice)).unwrap();
        assert_eq!(request.operation, Operation::VerifyPaymentNotice);
        assert_eq!(request.body.text_of("idStation").unwrap(), "s & t!");
        assert_eq!(
            request
                .body
                .required("qrCode")
                .unwrap()
                .text_of("noticeNumber")
                .unwrap(),
            "301000000000000105"
        );
    }

    #[test]
    fn refuses_dtds_entities_wrong_namespaces_and_garbage() {
        let xxe = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
            envelope_with("<pafn:paVerifyPaymentNoticeReq><idPA>&e;</idPA></pafn:paVerifyPaymentNoticeReq>")
        );
        let (op, fault) = parse_request(xxe.as_bytes(), Some(Operation::VerifyPaymentNotice)).unwrap_err();
        assert_eq!(
            (op, fault.code),
            (Some(Operation::VerifyPaymentNotice), FaultCode::SintassiXsd)
        );
        let entity =
            envelope_with("<pafn:paVerifyPaymentNoticeReq><idPA>&e;</idPA></pafn:paVerifyPaymentNoticeReq>");
        assert!(parse_request(entity.as_bytes(), None).is_err());
        let wrong_ns = envelope_with(
            "<paVerifyPaymentNoticeReq xmlns=\"urn:other\"><idPA>1</idPA></paVerifyPaymentNoticeReq>",
        );
        let (op, fault) = parse_request(wrong_ns.as_bytes(), None).unwrap_err();
        assert_eq!(op, Some(Operation::VerifyPaymentNotice));
        assert!(fault.description.contains("namespace"), "{fault:?}");
        for garbage in ["", "not xml", "<a><b></a>", "<soapenv:Envelope>", "<x/>"] {
            assert!(parse_request(garbage.as_bytes(), None).is_err(), "{garbage}");
        }
        let deep = envelope_with(&format!("{}{}", "<a>".repeat(40), "</a>".repeat(40)));
        assert!(parse_request(deep.as_bytes(), None).is_err());
    }

    #[test]
    fn amounts_follow_st_amount() {
        assert_eq!(parse_st_amount("30.00"), Ok(3000));
        assert_eq!(parse_st_amount("0.05"), Ok(5));
        assert_eq!(parse_st_amount("999999999.99"), Ok(99_999_999_999));
        for bad in [
            "30",
            "30.0",
            "30.000",
            "-1.00",
            "1,00",
            "1000000000.00",
            " 1.00",
            "1.0a",
        ] {
            assert!(parse_st_amount(bad).is_err(), "{bad}");
        }
        assert_eq!(format_amount(3000), "30.00");
        assert_eq!(format_amount(5), "0.05");
    }

    #[test]
    fn actions_are_read_leniently() {
        assert_eq!(
            Operation::from_action("\"paSendRTV2\""),
            Some(Operation::SendRtV2)
        );
        assert_eq!(
            Operation::from_action("http://pagopa-api.pagopa.gov.it/paForNode/paGetPaymentV2"),
            Some(Operation::GetPaymentV2)
        );
        assert_eq!(Operation::from_action("paDemandPaymentNotice"), None);
        assert_eq!(read_action(None), Ok(None));
        assert_eq!(read_action(Some("\"\"")), Ok(None));
        assert_eq!(read_action(Some("\"paSendRTV2\"")), Ok(Some(Operation::SendRtV2)));
        let fault = read_action(Some("paDemandPaymentNotice")).unwrap_err();
        assert_eq!(fault.code, FaultCode::SintassiXsd);
        assert!(fault.description.contains("paDemandPaymentNotice"), "{fault:?}");
    }

    #[test]
    fn answers_quoting_a_control_character_stay_well_formed() {
        // Found by the `soap` fuzz target: a closing tag with U+0010 in its name is quoted by
        // the parser's error, and the fault used to carry it into the answer unescapable.
        let request = "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
                       <soapenv:Body><a></a\u{10}A></soapenv:Body></soapenv:Envelope>";
        let (operation, fault) = parse_request(request.as_bytes(), Some(Operation::SendRtV2)).unwrap_err();
        assert!(fault.description.contains('\u{10}'), "{fault:?}");
        let answer = fault_response(operation.unwrap(), &fault, "00856930102");
        assert!(answer.chars().all(is_xml_char), "{answer:?}");
        assert!(answer.contains("a\u{FFFD}A"), "{answer}");
        assert_eq!(parse_document(answer.as_bytes()).unwrap().name, "Envelope");
        let answer = soap_fault(&fault.description);
        assert!(answer.chars().all(is_xml_char), "{answer:?}");
        assert_eq!(
            escape("\u{0}\t\u{FFFE}é\u{1F600}"),
            "\u{FFFD}\t\u{FFFD}é\u{1F600}"
        );
    }

    #[test]
    fn faults_escape_their_text() {
        let xml = fault_response(
            Operation::SendRtV2,
            &Fault::new(FaultCode::Semantica, "a < b & c"),
            "00856930102",
        );
        assert!(
            xml.contains("<description>a &lt; b &amp; c</description>"),
            "{xml}"
        );
        assert!(xml.contains("<faultCode>PAA_SEMANTICA</faultCode>"));
    }
}
