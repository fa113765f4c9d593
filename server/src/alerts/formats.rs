//! Alerts as CAP 1.2 documents (out, and in as drafts) and the Atom feed of the active ones,
//! each entry with its CAP document inline, as CAP feeds are published.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sportello_core::alerts::cap::{CapAlert, CapArea, CapInfo, CapReference};
use sportello_core::alerts::{Hazard, Level, MsgType, Zone};
use sportello_core::api;
use sportello_core::payments::soap::escape;

use super::store::AlertRow;
use super::{AlertsError, Draft, wire};
use crate::clock::rfc3339_from_ms;

/// Geocode naming a municipality by its ISTAT code.
const GEOCODE_ISTAT: &str = "ISTAT";
/// Geocode naming one of Liguria's alert zones.
const GEOCODE_ZONE: &str = "ZONA_ALLERTA_LIGURIA";
/// Parameter carrying the hazard as Sportello names it.
const PARAMETER_HAZARD: &str = "hazard";
/// MeteoAlarm's parameter carrying the colour.
const PARAMETER_AWARENESS: &str = "awareness_level";

/// The CAP language of an API language tag.
fn cap_language(lang: &str) -> String {
    match lang {
        "it" => "it-IT".to_owned(),
        "en" => "en-GB".to_owned(),
        other => other.to_owned(),
    }
}

/// The CAP document of a stored alert; `names` gives the municipalities' names for the area's
/// description.
pub fn cap(row: &AlertRow, public_url: &str, names: &dyn Fn(&str) -> String) -> CapAlert {
    let level: Level = row.level.parse().unwrap_or(Level::Notice);
    let hazard: Hazard = row.hazard.parse().unwrap_or(Hazard::Other);
    let msg_type: MsgType = row.msg_type.parse().unwrap_or(MsgType::Alert);
    let zones: Vec<&str> = row.zones.split_whitespace().collect();
    let mut description: Vec<String> = row.municipalities.iter().map(|code| names(code)).collect();
    description.extend(zones.iter().map(|zone| format!("zona {zone}")));
    let mut geocodes: Vec<(String, String)> = row
        .municipalities
        .iter()
        .map(|code| (GEOCODE_ISTAT.to_owned(), code.clone()))
        .collect();
    geocodes.extend(
        zones
            .iter()
            .map(|zone| (GEOCODE_ZONE.to_owned(), (*zone).to_owned())),
    );
    let area = CapArea {
        description: description.join(", "),
        polygons: wire::polygons(row),
        geocodes,
    };
    let infos = wire::texts(row)
        .into_iter()
        .map(|(lang, text)| {
            let event = if lang == "it" {
                hazard.event().0
            } else {
                hazard.event().1
            };
            CapInfo {
                language: cap_language(&lang),
                categories: vec![hazard.cap_category().to_owned()],
                event: event.to_owned(),
                urgency: if row.onset > row.sent {
                    "Expected"
                } else {
                    "Immediate"
                }
                .to_owned(),
                severity: level.cap_severity().to_owned(),
                certainty: "Likely".to_owned(),
                onset_ms: Some(row.onset),
                expires_ms: Some(row.expires),
                sender_name: "Protezione civile, Città Metropolitana di Genova".to_owned(),
                headline: text.headline,
                description: text.description,
                instruction: text.instruction,
                web: format!("{public_url}/v1/alerts/{}", row.id),
                parameters: vec![
                    (PARAMETER_AWARENESS.to_owned(), level.awareness_level().to_owned()),
                    (PARAMETER_HAZARD.to_owned(), hazard.as_str().to_owned()),
                ],
                areas: vec![area.clone()],
            }
        })
        .collect();
    let references = row
        .cap_references
        .as_deref()
        .and_then(|text| {
            let mut parts = text.splitn(3, ',');
            Some(CapReference {
                sender: parts.next()?.to_owned(),
                identifier: parts.next()?.to_owned(),
                sent: parts.next()?.to_owned(),
            })
        })
        .into_iter()
        .collect();
    CapAlert {
        identifier: row.identifier.clone(),
        sender: row.sender.clone(),
        sent_ms: row.sent,
        status: "Actual".to_owned(),
        msg_type: msg_type.cap().to_owned(),
        scope: "Public".to_owned(),
        references,
        infos,
    }
}

fn cap_error(reason: &str) -> AlertsError {
    AlertsError::Cap(reason.to_owned())
}

/// A draft from a CAP document: only public, actual alerts, updates and cancellations; the
/// municipalities from `ISTAT` geocodes, zones from `ZONA_ALLERTA_LIGURIA`, polygons as they
/// are; the colour from MeteoAlarm's `awareness_level`, else the severity; texts by language
/// (Italian and English; one language fills in for the other when only one is sent).
pub fn draft_from_cap(alert: CapAlert) -> Result<Draft, AlertsError> {
    if alert.status != "Actual" {
        return Err(cap_error(
            "only alerts with <status>Actual</status> are published",
        ));
    }
    if alert.scope != "Public" {
        return Err(cap_error("only alerts with <scope>Public</scope> are published"));
    }
    let msg_type = match alert.msg_type.as_str() {
        "Alert" => MsgType::Alert,
        "Update" => MsgType::Update,
        "Cancel" => MsgType::Cancel,
        other => {
            return Err(AlertsError::Cap(format!(
                "<msgType>{other}</msgType> is not an alert"
            )));
        }
    };
    if alert.identifier.is_empty()
        || alert.identifier.len() > 200
        || alert.sender.is_empty()
        || alert.sender.len() > 200
    {
        return Err(cap_error(
            "<identifier> and <sender> must have 1 to 200 characters",
        ));
    }
    let cap_reference = alert
        .references
        .last()
        .map(|r| (r.sender.clone(), r.identifier.clone()));
    if msg_type != MsgType::Alert && cap_reference.is_none() {
        return Err(cap_error(
            "an Update or Cancel must name the earlier alert in <references>",
        ));
    }
    let mut draft = Draft::new(msg_type, "cap");
    draft.identifier = Some(alert.identifier);
    draft.sender = Some(alert.sender);
    draft.sent = Some(alert.sent_ms);
    draft.cap_reference = cap_reference;
    draft.texts = texts_of(&alert.infos);
    let Some(info) = alert.infos.first() else {
        if msg_type == MsgType::Cancel {
            return Ok(draft);
        }
        return Err(cap_error("an alert needs an <info> block"));
    };
    let parameter = |name: &str| {
        info.parameters
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    draft.level = Some(
        parameter(PARAMETER_AWARENESS)
            .and_then(Level::from_awareness_level)
            .unwrap_or_else(|| Level::from_cap_severity(&info.severity)),
    );
    draft.hazard = Some(
        parameter(PARAMETER_HAZARD)
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| Hazard::from_cap_event(&info.event)),
    );
    draft.onset = info.onset_ms.or(Some(alert.sent_ms));
    draft.expires = info.expires_ms;
    read_areas(&alert.infos, &mut draft)?;
    Ok(draft)
}

/// Texts by language from the `it` and `en` infos (the first of each); one language fills in
/// for the other when only one is sent.
fn texts_of(infos: &[CapInfo]) -> BTreeMap<String, api::AlertText> {
    let mut texts = BTreeMap::new();
    for info in infos {
        let lang = info
            .language
            .split('-')
            .next()
            .unwrap_or("en")
            .to_ascii_lowercase();
        let lang = if lang.is_empty() { "en".to_owned() } else { lang };
        if !["it", "en"].contains(&lang.as_str()) || texts.contains_key(&lang) {
            continue;
        }
        let headline = if info.headline.is_empty() {
            info.event.clone()
        } else {
            info.headline.clone()
        };
        texts.insert(
            lang,
            api::AlertText {
                headline,
                description: info.description.clone(),
                instruction: info.instruction.clone(),
            },
        );
    }
    if let Some(only) = texts.values().next().cloned()
        && texts.len() == 1
    {
        texts.entry("it".to_owned()).or_insert_with(|| only.clone());
        texts.entry("en".to_owned()).or_insert(only);
    }
    texts
}

/// Municipalities, zones and polygons of every area of every info, without repetitions.
fn read_areas(infos: &[CapInfo], draft: &mut Draft) -> Result<(), AlertsError> {
    for area in infos.iter().flat_map(|info| &info.areas) {
        for (name, value) in &area.geocodes {
            if name.eq_ignore_ascii_case(GEOCODE_ISTAT) && !draft.municipalities.contains(value) {
                draft.municipalities.push(value.clone());
            } else if name.eq_ignore_ascii_case(GEOCODE_ZONE) {
                let zone: Zone = value.parse().map_err(|_| {
                    AlertsError::Cap(format!("geocode {GEOCODE_ZONE} `{value}` is not a zone A–E"))
                })?;
                if !draft.zones.contains(&zone) {
                    draft.zones.push(zone);
                }
            }
        }
        for polygon in &area.polygons {
            if !draft.polygons.contains(polygon) {
                draft.polygons.push(polygon.clone());
            }
        }
    }
    Ok(())
}

/// The Atom feed (RFC 4287) of active alerts, each entry with its CAP document as content.
pub fn atom(entries: &[(AlertRow, String)], public_url: &str, now: i64) -> String {
    let self_url = format!("{public_url}/v1/alerts/feed.atom");
    let updated = entries.iter().map(|(row, _)| row.sent).max().unwrap_or(now);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <id>{}</id>", escape(&self_url));
    out.push_str("  <title>Allerte di protezione civile – Città Metropolitana di Genova</title>\n");
    let _ = writeln!(out, "  <updated>{}</updated>", rfc3339_from_ms(updated));
    let _ = writeln!(out, "  <link rel=\"self\" href=\"{}\"/>", escape(&self_url));
    out.push_str("  <author><name>Città Metropolitana di Genova</name></author>\n");
    for (row, cap) in entries {
        let url = format!("{public_url}/v1/alerts/{}", row.id);
        let texts = wire::texts(row);
        let text = texts.get("it").or_else(|| texts.values().next());
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>{}</id>", escape(&url));
        let _ = writeln!(
            out,
            "    <title>{}</title>",
            escape(text.map_or(row.level.as_str(), |t| t.headline.as_str()))
        );
        let _ = writeln!(out, "    <updated>{}</updated>", rfc3339_from_ms(row.sent));
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>",
            escape(&url)
        );
        if let Some(text) = text.filter(|t| !t.description.is_empty()) {
            let _ = writeln!(out, "    <summary>{}</summary>", escape(&text.description));
        }
        out.push_str("    <content type=\"application/cap+xml\">\n");
        let document = cap
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .unwrap_or(cap);
        out.push_str(document);
        out.push_str("    </content>\n  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}
