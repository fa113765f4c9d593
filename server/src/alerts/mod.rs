//! Civil-protection alerts: written by the `operator:<istat>:civil-protection` officers of each
//! municipality (admins for several) or imported as CAP 1.2; public as JSON, CAP and an Atom
//! feed; delivered through the notifications outbox to the people with an alert area where the
//! alert is, each update replacing the earlier push and a cancellation withdrawing it.
//!
//! [`Alerts`] owns its tables: `store.rs` holds the SQL, `formats.rs` CAP and Atom, `wire.rs`
//! the API's view and the push's data, `zones.rs` Liguria's alert zones, `http.rs` the handlers.

pub mod demo;
mod draft;
mod error;
mod formats;
pub mod http;
pub mod store;
mod wire;
pub mod zones;

use std::sync::Arc;

use sportello_core::alerts::{self, MsgType, Zone, area, cap};
use sportello_core::api;
use sportello_core::geo::Coordinates;
use sportello_core::identity::{Office, Role, may_operate};

pub use self::draft::Draft;
pub use self::error::AlertsError;
use self::store::{ActiveFilter, AlertRow};
use self::zones::Zones;
use crate::clock::now_ms;
use crate::db::Db;
use crate::notify::Notifier;
use crate::notify::store::{NewAlertBroadcast, create_alert_broadcast};
use crate::pagination::{Cursor, PageRequest};
use crate::tenant::Municipalities;

/// Most active alerts a list or the feed considers (far more than a region ever has at once).
const MAX_ACTIVE: i64 = 500;

/// A public list of active alerts.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub municipality: Option<String>,
    pub zone: Option<String>,
    pub near: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// The alerts service.
pub struct Alerts {
    db: Db,
    municipalities: Arc<Municipalities>,
    zones: Zones,
    notifier: Arc<Notifier>,
    public_url: String,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts").finish_non_exhaustive()
    }
}

fn parse_instant(field: &str, text: &str) -> Result<i64, AlertsError> {
    text.parse::<jiff::Timestamp>()
        .map(jiff::Timestamp::as_millisecond)
        .map_err(|_| {
            AlertsError::invalid(
                field,
                "Data e ora RFC 3339 con fuso (2026-11-20T14:00:00+01:00).",
                "An RFC 3339 date-time with offset (2026-11-20T14:00:00+01:00).",
            )
        })
}

impl Alerts {
    /// The service; the zones come from the embedded table, checked against the municipalities.
    pub fn new(
        db: Db,
        municipalities: Arc<Municipalities>,
        notifier: Arc<Notifier>,
        public_url: String,
    ) -> anyhow::Result<Self> {
        let zones = Zones::load(&municipalities)?;
        Ok(Self {
            db,
            municipalities,
            zones,
            notifier,
            public_url,
        })
    }

    /// A draft from the JSON an officer sent.
    fn draft_from_input(input: &api::AlertInput) -> Result<Draft, AlertsError> {
        let msg_type: MsgType = input.msg_type.as_deref().unwrap_or("alert").parse()?;
        let mut draft = Draft::new(msg_type, "api");
        draft.references.clone_from(&input.references);
        draft.level = input.level.as_deref().map(str::parse).transpose()?;
        draft.hazard = input.hazard.as_deref().map(str::parse).transpose()?;
        for zone in &input.zones {
            let zone: Zone = zone.parse()?;
            if !draft.zones.contains(&zone) {
                draft.zones.push(zone);
            }
        }
        draft.municipalities.clone_from(&input.municipalities);
        draft.polygons = alerts::polygons_from_wire("polygons", &input.polygons)?;
        draft.onset = input
            .onset
            .as_deref()
            .map(|t| parse_instant("onset", t))
            .transpose()?;
        draft.expires = input
            .expires
            .as_deref()
            .map(|t| parse_instant("expires", t))
            .transpose()?;
        draft.texts.clone_from(&input.texts);
        Ok(draft)
    }

    /// Writes an alert, update or cancellation from the JSON an officer sent.
    pub async fn issue(
        &self,
        roles: &[Role],
        author: &str,
        input: &api::AlertInput,
    ) -> Result<api::Alert, AlertsError> {
        let draft = Self::draft_from_input(input)?;
        let row = self.publish(roles, author, draft).await?;
        Ok(wire::alert(&row, now_ms(), None))
    }

    /// Imports a CAP 1.2 document: publishes it, or answers the stored alert when the sender
    /// sent this identifier before (`false`).
    pub async fn import_cap(
        &self,
        roles: &[Role],
        author: &str,
        xml: &[u8],
    ) -> Result<(bool, api::Alert), AlertsError> {
        let document = cap::parse(xml).map_err(|e| AlertsError::Cap(e.0))?;
        if let Some(existing) = store::by_identifier(&self.db, &document.sender, &document.identifier).await?
        {
            // Only who could have sent it learns that it arrived before.
            for code in &existing.municipalities {
                self.authorise(roles, code)?;
            }
            return Ok((false, wire::alert(&existing, now_ms(), None)));
        }
        let mut draft = formats::draft_from_cap(document)?;
        if let Some((sender, identifier)) = draft.cap_reference.take() {
            let earlier = store::by_identifier(&self.db, &sender, &identifier)
                .await?
                .ok_or_else(|| {
                    AlertsError::Cap(format!(
                        "<references> names {sender},{identifier}, which Sportello has not received"
                    ))
                })?;
            draft.references = Some(earlier.id);
        }
        let row = self.publish(roles, author, draft).await?;
        Ok((true, wire::alert(&row, now_ms(), None)))
    }

    /// Loads demo alerts (see `demo.rs`) as an admin would write them.
    pub(crate) async fn publish_demo(&self, input: &api::AlertInput) -> Result<api::Alert, AlertsError> {
        let mut draft = Self::draft_from_input(input)?;
        draft.demo = true;
        let row = self.publish(&[Role::Admin], "demo", draft).await?;
        Ok(wire::alert(&row, now_ms(), None))
    }

    /// The municipalities an alert covers: those named, each in one of the zones named; else
    /// every municipality of the zones.
    fn resolve_area(&self, draft: &Draft) -> Result<(Vec<String>, Vec<Zone>), AlertsError> {
        if draft.municipalities.len() > 67 {
            return Err(AlertsError::invalid(
                "municipalities",
                "Al massimo 67 comuni.",
                "At most 67 municipalities.",
            ));
        }
        let mut municipalities = Vec::new();
        for code in &draft.municipalities {
            let municipality = self.municipalities.require(code).map_err(|e| {
                AlertsError::invalid(
                    "municipalities",
                    format!("Comune non valido: {e}."),
                    format!("Not a municipality served here: {e}."),
                )
            })?;
            let code = municipality.istat_code.as_str().to_owned();
            let zone = self.zones.of(&code);
            if !draft.zones.is_empty() && !zone.is_some_and(|z| draft.zones.contains(&z)) {
                return Err(AlertsError::invalid(
                    "municipalities",
                    format!("{} non è in nessuna delle zone indicate.", municipality.name),
                    format!("{} is in none of the zones given.", municipality.name),
                ));
            }
            if !municipalities.contains(&code) {
                municipalities.push(code);
            }
        }
        if municipalities.is_empty() {
            municipalities = draft
                .zones
                .iter()
                .flat_map(|zone| self.zones.municipalities_of(*zone))
                .collect();
        }
        if municipalities.is_empty() {
            return Err(AlertsError::invalid(
                "municipalities",
                "Indica almeno un comune o una zona con comuni di questa area.",
                "Give at least one municipality, or a zone with municipalities of this area.",
            ));
        }
        municipalities.sort();
        let mut zones: Vec<Zone> = municipalities
            .iter()
            .filter_map(|code| self.zones.of(code))
            .collect();
        zones.sort();
        zones.dedup();
        Ok((municipalities, zones))
    }

    /// Checks a draft against the alert it references, authorises it, and writes it with its
    /// pushes in one transaction.
    async fn publish(&self, roles: &[Role], author: &str, mut draft: Draft) -> Result<AlertRow, AlertsError> {
        let now = now_ms();
        let earlier = match (&draft.references, draft.msg_type) {
            (None, MsgType::Alert) => None,
            (Some(_), MsgType::Alert) => {
                return Err(AlertsError::invalid(
                    "references",
                    "Solo un aggiornamento o una revoca si riferisce a un'allerta.",
                    "Only an update or a cancellation references an alert.",
                ));
            }
            (None, _) => {
                return Err(AlertsError::invalid(
                    "references",
                    "Indica l'allerta da aggiornare o revocare.",
                    "Name the alert to update or cancel.",
                ));
            }
            (Some(id), _) => Some(store::get(&self.db, id).await?.ok_or(AlertsError::NotFound)?),
        };
        if let Some(earlier) = &earlier {
            // Only who may alert every municipality of the earlier alert may replace or withdraw it.
            for code in &earlier.municipalities {
                self.authorise(roles, code)?;
            }
            draft.inherit(earlier, now);
        }
        let (municipalities, zones) = self.resolve_area(&draft)?;
        for code in &municipalities {
            self.authorise(roles, code)?;
        }
        let (level, hazard, onset, expires) = draft.checked(now)?;
        let id = uuid::Uuid::now_v7().to_string();
        let sender = draft.sender.take().unwrap_or_else(|| self.sender());
        let row = AlertRow {
            identifier: draft.identifier.take().unwrap_or_else(|| id.clone()),
            sender,
            chain_id: earlier
                .as_ref()
                .map_or_else(|| id.clone(), |e| e.chain_id.clone()),
            msg_type: draft.msg_type.as_str().to_owned(),
            references_id: earlier.as_ref().map(|e| e.id.clone()),
            cap_references: earlier
                .as_ref()
                .map(|e| format!("{},{},{}", e.sender, e.identifier, cap::format_date_time(e.sent))),
            status: if draft.msg_type == MsgType::Cancel {
                "cancelled"
            } else {
                "active"
            }
            .to_owned(),
            level: level.as_str().to_owned(),
            hazard: hazard.as_str().to_owned(),
            zones: zones.iter().map(|z| z.as_str()).collect::<Vec<_>>().join(" "),
            polygons: serde_json::to_string(&alerts::polygons_to_wire(&draft.polygons, 6))
                .unwrap_or_default(),
            texts: serde_json::to_string(&draft.texts).unwrap_or_default(),
            onset,
            expires,
            sent: draft.sent.unwrap_or(now),
            source: draft.source.to_owned(),
            created_by: author.to_owned(),
            demo: draft.demo,
            created_at: now,
            municipalities,
            id,
        };
        self.write(&row, earlier.as_ref(), now).await?;
        tracing::info!(alert = %row.id, msg_type = %row.msg_type, level = %row.level, "alert published");
        Ok(row)
    }

    /// The alert row, the earlier one retired and the pushes, in one transaction.
    async fn write(&self, row: &AlertRow, earlier: Option<&AlertRow>, now: i64) -> Result<(), AlertsError> {
        let push = wire::push_json(row);
        let texts = wire::texts(row);
        let text = |lang: &str| {
            texts.get(lang).cloned().unwrap_or_else(|| api::AlertText {
                headline: row.level.clone(),
                description: String::new(),
                instruction: String::new(),
            })
        };
        let (it, en) = (text("it"), text("en"));
        let body = |t: &api::AlertText| {
            [t.description.as_str(), t.instruction.as_str()]
                .join("\n\n")
                .trim()
                .to_owned()
        };
        let (body_it, body_en) = (body(&it), body(&en));
        let collapse_key = wire::collapse_key(&row.chain_id);
        let ttl_ms = (row.expires - now).clamp(60_000, self.notifier.ttl_ms());
        let mut tx = self.db.pool().begin().await?;
        if let Some(earlier) = earlier {
            let status = if row.msg_type == "cancel" {
                "cancelled"
            } else {
                "replaced"
            };
            if !store::retire(&mut tx, &earlier.id, status, now).await? {
                return Err(AlertsError::NotActive);
            }
        }
        store::insert(&mut tx, row).await?;
        let broadcast = NewAlertBroadcast {
            id: &row.id,
            created_by: &row.created_by,
            subject: [&it.headline, &en.headline],
            body: [&body_it, &body_en],
            municipalities: &row.municipalities,
            collapse_key: &collapse_key,
            push_data: &push,
            ttl_ms,
        };
        let (recipients, pushes) = create_alert_broadcast(&mut tx, &broadcast).await?;
        tx.commit().await?;
        metrics::counter!("sportello_push_queued_total").increment(pushes);
        tracing::info!(alert = %row.id, recipients, pushes, "alert pushes queued");
        self.notifier.wake();
        Ok(())
    }

    /// Whether the roles may alert the municipality.
    fn authorise(&self, roles: &[Role], code: &str) -> Result<(), AlertsError> {
        let municipality = self.municipalities.require(code)?;
        if may_operate(roles, &municipality.istat_code, Office::CivilProtection) {
            Ok(())
        } else {
            Err(AlertsError::Forbidden)
        }
    }

    /// The CAP sender of the alerts written here.
    fn sender(&self) -> String {
        let host = url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        format!("sportello@{host}")
    }

    /// One alert (any status).
    pub async fn get(&self, id: &str) -> Result<api::Alert, AlertsError> {
        let row = store::get(&self.db, id).await?.ok_or(AlertsError::NotFound)?;
        Ok(wire::alert(&row, now_ms(), None))
    }

    /// One alert as a CAP 1.2 document.
    pub async fn get_cap(&self, id: &str) -> Result<String, AlertsError> {
        let row = store::get(&self.db, id).await?.ok_or(AlertsError::NotFound)?;
        Ok(cap::write(&self.cap_of(&row)))
    }

    fn cap_of(&self, row: &AlertRow) -> cap::CapAlert {
        let names = |code: &str| {
            self.municipalities
                .require(code)
                .map_or_else(|_| code.to_owned(), |m| m.name.clone())
        };
        formats::cap(row, &self.public_url, &names)
    }

    /// Active alerts, most recent first: of a municipality, of a zone, or where a point is (in a
    /// drawn area, or in the municipality whose representative point is nearest).
    pub async fn list(&self, request: &ListRequest) -> Result<api::AlertPage, AlertsError> {
        let page = PageRequest::new(request.cursor.as_deref(), request.limit, 20, 100)?;
        let municipality = request
            .municipality
            .as_deref()
            .map(|code| {
                self.municipalities
                    .require(code)
                    .map(|m| m.istat_code.as_str().to_owned())
            })
            .transpose()?;
        let zone = request.zone.as_deref().map(str::parse::<Zone>).transpose()?;
        let near = request
            .near
            .as_deref()
            .map(|text| {
                text.parse::<Coordinates>().map_err(|e| {
                    AlertsError::invalid(
                        "near",
                        format!("Posizione non valida: {e}."),
                        format!("Invalid position: {e}."),
                    )
                })
            })
            .transpose()?;
        let after = page
            .after
            .as_ref()
            .map(|cursor| Ok::<_, AlertsError>((cursor.key_number()?, cursor.id.clone())))
            .transpose()?;
        let filter = ActiveFilter {
            municipality: municipality.as_deref(),
            zone: zone.map(Zone::as_str),
            after,
        };
        let now = now_ms();
        let limit = if near.is_some() {
            MAX_ACTIVE
        } else {
            page.fetch_limit()
        };
        let rows = store::active(&self.db, &filter, now, limit).await?;
        let mut items: Vec<(AlertRow, Option<f64>)> = Vec::new();
        for row in rows {
            let Some(point) = near else {
                items.push((row, None));
                continue;
            };
            let nearest = self
                .municipalities
                .all()
                .iter()
                .min_by(|a, b| {
                    point
                        .distance_km(a.location)
                        .total_cmp(&point.distance_km(b.location))
                })
                .map(|m| m.istat_code.as_str().to_owned());
            let polygons = wire::polygons(&row);
            let inside = area::point_in_area(&polygons, point);
            let distance = area::distance_to_area_km(&polygons, point);
            let in_municipality = nearest.is_some_and(|code| row.municipalities.contains(&code));
            if inside || in_municipality {
                items.push((row, distance));
            }
            if items.len() > page.limit {
                break;
            }
        }
        let (items, next_cursor) = page.page(items, |(row, _)| Cursor::new(row.sent, row.id.clone()));
        Ok(api::AlertPage {
            items: items.iter().map(|(row, d)| wire::alert(row, now, *d)).collect(),
            next_cursor,
        })
    }

    /// The Atom feed of the active alerts (at most 500), each with its CAP document.
    pub async fn feed(&self) -> Result<String, AlertsError> {
        let now = now_ms();
        let rows = store::active(&self.db, &ActiveFilter::default(), now, MAX_ACTIVE).await?;
        let entries: Vec<(AlertRow, String)> = rows
            .into_iter()
            .map(|row| {
                let document = cap::write(&self.cap_of(&row));
                (row, document)
            })
            .collect();
        Ok(formats::atom(&entries, &self.public_url, now))
    }
}
