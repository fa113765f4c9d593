//! CAP 1.2, the OASIS Common Alerting Protocol (IT-Alert, MeteoAlarm, the WMO Alert Hub):
//! reading a document with the structural checks of the schema `CAP-v1.2.xsd` (element order,
//! required elements, enumerations, date-time pattern), and writing one that the schema accepts.
//!
//! The checks here are the schema's, written out (`libxml` needs the C library libxml2; the
//! pure-Rust `xmlschema` is 0.0.x and not evaluated yet: docs/alerts.md); the tests validate
//! every document read and written with `xmllint --schema` against the schema itself.

use std::fmt::Write as _;

use super::area::Polygon;
use crate::payments::soap::{Element, escape, parse_document};

/// The CAP 1.2 namespace.
pub const NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";
/// XML Signature's namespace, the only other one the schema allows (at the end of `alert`).
const XMLDSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Why a document is not CAP 1.2: the reason, naming the element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CapError(pub String);

fn error(reason: impl Into<String>) -> CapError {
    CapError(reason.into())
}

/// A CAP `alert`.
#[derive(Debug, Clone, PartialEq)]
pub struct CapAlert {
    /// Unique for the sender; no spaces, commas or restricted characters.
    pub identifier: String,
    /// Who sent it (no spaces or commas).
    pub sender: String,
    /// When, Unix milliseconds.
    pub sent_ms: i64,
    /// `Actual`, `Exercise`, `System`, `Test` or `Draft`.
    pub status: String,
    /// `Alert`, `Update`, `Cancel`, `Ack` or `Error`.
    pub msg_type: String,
    /// `Public`, `Restricted` or `Private`.
    pub scope: String,
    /// The earlier messages this one updates or cancels.
    pub references: Vec<CapReference>,
    /// One per language.
    pub infos: Vec<CapInfo>,
}

/// One `sender,identifier,sent` of `references`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapReference {
    /// The earlier message's sender.
    pub sender: String,
    /// Its identifier.
    pub identifier: String,
    /// Its `sent`, as written.
    pub sent: String,
}

/// A CAP `info` block (one language).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CapInfo {
    /// RFC 3066 language (`it-IT`); absent means `en-US`.
    pub language: String,
    /// `Met`, `Geo`, `Fire`, …
    pub categories: Vec<String>,
    /// What happens.
    pub event: String,
    /// `Immediate`, `Expected`, `Future`, `Past`, `Unknown`.
    pub urgency: String,
    /// `Extreme`, `Severe`, `Moderate`, `Minor`, `Unknown`.
    pub severity: String,
    /// `Observed`, `Likely`, `Possible`, `Unlikely`, `Unknown`.
    pub certainty: String,
    /// Beginning of the hazard, Unix milliseconds.
    pub onset_ms: Option<i64>,
    /// End of the information, Unix milliseconds.
    pub expires_ms: Option<i64>,
    /// Who issues it, for people.
    pub sender_name: String,
    /// Short text.
    pub headline: String,
    /// Long text.
    pub description: String,
    /// What to do.
    pub instruction: String,
    /// A page about it.
    pub web: String,
    /// `valueName`, `value` pairs.
    pub parameters: Vec<(String, String)>,
    /// Where.
    pub areas: Vec<CapArea>,
}

/// A CAP `area`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CapArea {
    /// Its description.
    pub description: String,
    /// Its polygons.
    pub polygons: Vec<Polygon>,
    /// `valueName`, `value` pairs (`ISTAT`, `010025`).
    pub geocodes: Vec<(String, String)>,
}

/// (element, at least, at most) in schema order.
type Sequence = &'static [(&'static str, usize, usize)];
const MANY: usize = usize::MAX;

const ALERT: Sequence = &[
    ("identifier", 1, 1),
    ("sender", 1, 1),
    ("sent", 1, 1),
    ("status", 1, 1),
    ("msgType", 1, 1),
    ("source", 0, 1),
    ("scope", 1, 1),
    ("restriction", 0, 1),
    ("addresses", 0, 1),
    ("code", 0, MANY),
    ("note", 0, 1),
    ("references", 0, 1),
    ("incidents", 0, 1),
    ("info", 0, MANY),
];
const INFO: Sequence = &[
    ("language", 0, 1),
    ("category", 1, MANY),
    ("event", 1, 1),
    ("responseType", 0, MANY),
    ("urgency", 1, 1),
    ("severity", 1, 1),
    ("certainty", 1, 1),
    ("audience", 0, 1),
    ("eventCode", 0, MANY),
    ("effective", 0, 1),
    ("onset", 0, 1),
    ("expires", 0, 1),
    ("senderName", 0, 1),
    ("headline", 0, 1),
    ("description", 0, 1),
    ("instruction", 0, 1),
    ("web", 0, 1),
    ("contact", 0, 1),
    ("parameter", 0, MANY),
    ("resource", 0, MANY),
    ("area", 0, MANY),
];
const AREA: Sequence = &[
    ("areaDesc", 1, 1),
    ("polygon", 0, MANY),
    ("circle", 0, MANY),
    ("geocode", 0, MANY),
    ("altitude", 0, 1),
    ("ceiling", 0, 1),
];
const PAIR: Sequence = &[("valueName", 1, 1), ("value", 1, 1)];
const RESOURCE: Sequence = &[
    ("resourceDesc", 1, 1),
    ("mimeType", 1, 1),
    ("size", 0, 1),
    ("uri", 0, 1),
    ("derefUri", 0, 1),
    ("digest", 0, 1),
];

/// CAP `category` values.
const CATEGORIES: &[&str] = &[
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
];
/// CAP `responseType` values.
const RESPONSES: &[&str] = &[
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None",
];

/// Checks that the children of `element` follow `sequence`, as the schema's `xs:sequence`.
fn check_sequence(element: &Element, sequence: Sequence, trailing_signature: bool) -> Result<(), CapError> {
    let unknown = element.children.iter().find(|child| {
        let ours =
            child.ns.as_deref() == Some(NAMESPACE) && sequence.iter().any(|(name, _, _)| *name == child.name);
        let signature = trailing_signature && child.ns.as_deref() == Some(XMLDSIG);
        !(ours || signature)
    });
    if let Some(child) = unknown {
        return Err(error(format!(
            "<{}>: <{}> is not allowed there",
            element.name, child.name
        )));
    }
    let mut children = element.children.iter().peekable();
    for &(name, min, max) in sequence {
        let mut count = 0;
        while children
            .peek()
            .is_some_and(|c| c.name == name && c.ns.as_deref() == Some(NAMESPACE))
        {
            children.next();
            count += 1;
        }
        if count < min {
            return Err(error(format!(
                "<{}>: <{name}> is missing or out of order",
                element.name
            )));
        }
        if count > max {
            return Err(error(format!(
                "<{}>: <{name}> appears more than once",
                element.name
            )));
        }
    }
    for child in children {
        let signature = trailing_signature && child.ns.as_deref() == Some(XMLDSIG);
        if !signature {
            return Err(error(format!(
                "<{}>: <{}> is not allowed there (unknown, repeated or out of order)",
                element.name, child.name
            )));
        }
    }
    Ok(())
}

fn text<'a>(element: &'a Element, name: &str) -> &'a str {
    element.child(name).map_or("", |c| c.text.trim())
}

fn one_of(element: &Element, name: &str, allowed: &[&str]) -> Result<String, CapError> {
    let value = text(element, name);
    if allowed.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(error(format!(
            "<{name}> `{}` is not one of {}",
            value.chars().take(40).collect::<String>(),
            allowed.join(", ")
        )))
    }
}

/// Reads a CAP date-time (`2026-11-20T10:00:00+01:00`; the schema forbids `Z`) as Unix ms.
pub fn parse_date_time(name: &str, value: &str) -> Result<i64, CapError> {
    let bytes = value.as_bytes();
    let shape = bytes.len() == 25
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 | 22 => *b == b':',
            19 => *b == b'+' || *b == b'-',
            _ => b.is_ascii_digit(),
        });
    let invalid = || {
        error(format!(
            "<{name}> `{}` is not a date-time like 2026-11-20T10:00:00+01:00",
            value.chars().take(40).collect::<String>()
        ))
    };
    if !shape {
        return Err(invalid());
    }
    let timestamp: jiff::Timestamp = value.parse().map_err(|_| invalid())?;
    Ok(timestamp.as_millisecond())
}

/// Writes Unix ms as a CAP date-time in UTC (`…+00:00`).
pub fn format_date_time(ms: i64) -> String {
    let timestamp = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{}+00:00", timestamp.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn optional_time(info: &Element, name: &str) -> Result<Option<i64>, CapError> {
    info.child(name)
        .map(|c| parse_date_time(name, c.text.trim()))
        .transpose()
}

fn pairs(element: &Element, name: &str) -> Result<Vec<(String, String)>, CapError> {
    element
        .children_named(name)
        .map(|pair| {
            check_sequence(pair, PAIR, false)?;
            Ok((text(pair, "valueName").to_owned(), text(pair, "value").to_owned()))
        })
        .collect()
}

fn read_area(area: &Element) -> Result<CapArea, CapError> {
    check_sequence(area, AREA, false)?;
    let polygons = area
        .children_named("polygon")
        .map(|p| Polygon::parse_cap(&p.text).map_err(|e| error(format!("<polygon>: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CapArea {
        description: text(area, "areaDesc").to_owned(),
        polygons,
        geocodes: pairs(area, "geocode")?,
    })
}

fn read_info(info: &Element) -> Result<CapInfo, CapError> {
    check_sequence(info, INFO, false)?;
    let categories = info
        .children_named("category")
        .map(|c| {
            let value = c.text.trim();
            if CATEGORIES.contains(&value) {
                Ok(value.to_owned())
            } else {
                Err(error(format!(
                    "<category> `{value}` is not one of {}",
                    CATEGORIES.join(", ")
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    for resource in info.children_named("resource") {
        check_sequence(resource, RESOURCE, false)?;
    }
    for response in info.children_named("responseType") {
        if !RESPONSES.contains(&response.text.trim()) {
            return Err(error(format!(
                "<responseType> is not one of {}",
                RESPONSES.join(", ")
            )));
        }
    }
    pairs(info, "eventCode")?;
    optional_time(info, "effective")?;
    Ok(CapInfo {
        language: text(info, "language").to_owned(),
        categories,
        event: text(info, "event").to_owned(),
        urgency: one_of(
            info,
            "urgency",
            &["Immediate", "Expected", "Future", "Past", "Unknown"],
        )?,
        severity: one_of(
            info,
            "severity",
            &["Extreme", "Severe", "Moderate", "Minor", "Unknown"],
        )?,
        certainty: one_of(
            info,
            "certainty",
            &["Observed", "Likely", "Possible", "Unlikely", "Unknown"],
        )?,
        onset_ms: optional_time(info, "onset")?,
        expires_ms: optional_time(info, "expires")?,
        sender_name: text(info, "senderName").to_owned(),
        headline: text(info, "headline").to_owned(),
        description: text(info, "description").to_owned(),
        instruction: text(info, "instruction").to_owned(),
        web: text(info, "web").to_owned(),
        parameters: pairs(info, "parameter")?,
        areas: info
            .children_named("area")
            .map(read_area)
            .collect::<Result<_, _>>()?,
    })
}

/// Reads a CAP 1.2 document, refusing what the schema refuses with the reason.
pub fn parse(xml: &[u8]) -> Result<CapAlert, CapError> {
    let root = parse_document(xml).map_err(|fault| error(fault.description))?;
    if root.name != "alert" || root.ns.as_deref() != Some(NAMESPACE) {
        return Err(error(format!(
            "the root element must be <alert> in the namespace {NAMESPACE}"
        )));
    }
    check_sequence(&root, ALERT, true)?;
    let references = text(&root, "references")
        .split_whitespace()
        .map(|triple| {
            let mut parts = triple.split(',');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(sender), Some(identifier), Some(sent), None) => Ok(CapReference {
                    sender: sender.to_owned(),
                    identifier: identifier.to_owned(),
                    sent: sent.to_owned(),
                }),
                _ => Err(error("<references>: each reference is sender,identifier,sent")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CapAlert {
        identifier: text(&root, "identifier").to_owned(),
        sender: text(&root, "sender").to_owned(),
        sent_ms: parse_date_time("sent", text(&root, "sent"))?,
        status: one_of(
            &root,
            "status",
            &["Actual", "Exercise", "System", "Test", "Draft"],
        )?,
        msg_type: one_of(&root, "msgType", &["Alert", "Update", "Cancel", "Ack", "Error"])?,
        scope: one_of(&root, "scope", &["Public", "Restricted", "Private"])?,
        references,
        infos: root
            .children_named("info")
            .map(read_info)
            .collect::<Result<_, _>>()?,
    })
}

fn element(out: &mut String, indent: &str, name: &str, value: &str) {
    let _ = writeln!(out, "{indent}<{name}>{}</{name}>", escape(value));
}

fn optional(out: &mut String, indent: &str, name: &str, value: &str) {
    if !value.is_empty() {
        element(out, indent, name, value);
    }
}

fn pair(out: &mut String, indent: &str, name: &str, (value_name, value): &(String, String)) {
    let _ = writeln!(out, "{indent}<{name}>");
    element(out, &format!("{indent}  "), "valueName", value_name);
    element(out, &format!("{indent}  "), "value", value);
    let _ = writeln!(out, "{indent}</{name}>");
}

/// Writes a CAP 1.2 document, elements in the schema's order.
pub fn write(alert: &CapAlert) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<alert xmlns=\"{NAMESPACE}\">");
    element(&mut out, "  ", "identifier", &alert.identifier);
    element(&mut out, "  ", "sender", &alert.sender);
    element(&mut out, "  ", "sent", &format_date_time(alert.sent_ms));
    element(&mut out, "  ", "status", &alert.status);
    element(&mut out, "  ", "msgType", &alert.msg_type);
    element(&mut out, "  ", "scope", &alert.scope);
    if !alert.references.is_empty() {
        let references: Vec<String> = alert
            .references
            .iter()
            .map(|r| format!("{},{},{}", r.sender, r.identifier, r.sent))
            .collect();
        element(&mut out, "  ", "references", &references.join(" "));
    }
    for info in &alert.infos {
        out.push_str("  <info>\n");
        let i = "    ";
        optional(&mut out, i, "language", &info.language);
        for category in &info.categories {
            element(&mut out, i, "category", category);
        }
        element(&mut out, i, "event", &info.event);
        element(&mut out, i, "urgency", &info.urgency);
        element(&mut out, i, "severity", &info.severity);
        element(&mut out, i, "certainty", &info.certainty);
        if let Some(onset) = info.onset_ms {
            element(&mut out, i, "onset", &format_date_time(onset));
        }
        if let Some(expires) = info.expires_ms {
            element(&mut out, i, "expires", &format_date_time(expires));
        }
        optional(&mut out, i, "senderName", &info.sender_name);
        optional(&mut out, i, "headline", &info.headline);
        optional(&mut out, i, "description", &info.description);
        optional(&mut out, i, "instruction", &info.instruction);
        optional(&mut out, i, "web", &info.web);
        for parameter in &info.parameters {
            pair(&mut out, i, "parameter", parameter);
        }
        for area in &info.areas {
            out.push_str("    <area>\n");
            element(&mut out, "      ", "areaDesc", &area.description);
            for polygon in &area.polygons {
                element(&mut out, "      ", "polygon", &polygon.to_cap());
            }
            for geocode in &area.geocodes {
                pair(&mut out, "      ", "geocode", geocode);
            }
            out.push_str("    </area>\n");
        }
        out.push_str("  </info>\n");
    }
    out.push_str("</alert>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>ARPAL-2026-11-20-001</identifier>
  <sender>allertaliguria@regione.liguria.it</sender>
  <sent>2026-11-20T10:00:00+01:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>it-IT</language>
    <category>Met</category>
    <event>Allerta idrogeologica</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>2026-11-20T14:00:00+01:00</onset>
    <expires>2026-11-21T08:00:00+01:00</expires>
    <headline>Allerta arancione zona B</headline>
    <parameter><valueName>awareness_level</valueName><value>3; orange; Severe</value></parameter>
    <area>
      <areaDesc>Genova</areaDesc>
      <polygon>44.40,8.90 44.45,8.90 44.45,9.00 44.40,9.00 44.40,8.90</polygon>
      <geocode><valueName>ISTAT</valueName><value>010025</value></geocode>
    </area>
  </info>
</alert>"#;

    #[test]
    fn reads_and_writes_the_same_alert() {
        let alert = parse(EXAMPLE.as_bytes()).unwrap();
        assert_eq!(alert.msg_type, "Alert");
        assert_eq!(alert.sent_ms, 1_795_165_200_000);
        let info = &alert.infos[0];
        assert_eq!(info.severity, "Severe");
        assert_eq!(info.areas[0].geocodes, vec![("ISTAT".into(), "010025".into())]);
        assert_eq!(info.areas[0].polygons.len(), 1);
        assert_eq!(parse(write(&alert).as_bytes()).unwrap(), alert);
    }

    #[test]
    fn refusals_name_the_reason() {
        let reason = |xml: &str| parse(xml.as_bytes()).unwrap_err().0;
        assert!(reason(&EXAMPLE.replace("<scope>Public</scope>", "")).contains("<scope> is missing"));
        assert!(reason(&EXAMPLE.replace("Severe</severity>", "Bad</severity>")).contains("<severity> `Bad`"));
        assert!(reason(&EXAMPLE.replace("+01:00</sent>", "Z</sent>")).contains("<sent>"));
        assert!(
            reason(&EXAMPLE.replace("<language>it-IT</language>", "<colour>x</colour>"))
                .contains("<colour> is not allowed")
        );
        assert!(
            reason(&EXAMPLE.replace("urn:oasis:names:tc:emergency:cap:1.2", "urn:x")).contains("namespace")
        );
        assert!(reason(&EXAMPLE.replace(" 44.40,8.90</polygon>", "</polygon>")).contains("<polygon>"));
        assert!(reason("<alert").contains("XML") || !reason("<alert").is_empty());
    }

    #[test]
    fn date_times_have_an_offset_and_no_z() {
        assert_eq!(
            parse_date_time("sent", "2026-01-01T01:00:00+01:00").unwrap(),
            parse_date_time("sent", "2026-01-01T00:00:00-00:00").unwrap()
        );
        assert_eq!(format_date_time(0), "1970-01-01T00:00:00+00:00");
        assert!(parse_date_time("sent", "2026-01-01T00:00:00Z").is_err());
        assert!(parse_date_time("sent", "2026-13-01T00:00:00+00:00").is_err());
    }
}
