//! Reads: the procedures a municipality offers, one application in full, the caller's
//! applications and the officers' queue (pages of `crate::pagination`). The service hands out
//! what it read; [`super::wire`] writes it in the caller's language.

use std::collections::BTreeMap;

use jiff::civil::Date;
use sportello_core::calendar;
use sportello_core::identity::{Office, may_operate};
use sportello_core::permits::{Catalogue, ClockStatus, DoublingFacts, PermitsError, Status};
use sportello_core::tenant::IstatCode;
use sqlx::AnyConnection;

use super::access::allowed_actions;
use super::draft::fields_of;
use super::error::{bad_instant, invalid};
use super::loaded::{Loaded, catalogue_of};
use super::store::{self, DocumentRow, FeeRow, PermitRow, QueueFilter};
use super::{PermitError, Permits};
use crate::clock::timestamp_from_ms;
use crate::identity::Principal;
use crate::pagination::{Cursor, PageRequest};

/// The procedures of a municipality, with the facts that set their terms there.
pub struct ProcedureCatalogue {
    pub(super) catalogue: Catalogue,
    pub(super) facts: DoublingFacts,
}

/// An application in full, as someone who may see it sees it now.
pub struct PermitView {
    pub(super) loaded: Loaded,
    pub(super) fields: BTreeMap<String, String>,
    pub(super) documents: Vec<DocumentRow>,
    pub(super) fees: Vec<FeeRow>,
    pub(super) clock: Option<ClockStatus>,
    pub(super) actions: Vec<String>,
}

/// A page of applications, with the catalogues that name their procedures.
pub struct SummaryPage {
    pub(super) rows: Vec<PermitRow>,
    pub(super) catalogues: BTreeMap<String, Catalogue>,
    /// Today in Rome, for the days left.
    pub(super) today: Date,
    pub(super) next_cursor: Option<String>,
}

/// Filters of the operator queue, as the API takes them.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub municipality: String,
    pub statuses: Vec<String>,
    pub procedure: Option<String>,
    pub deadline_within_days: Option<i64>,
    pub overdue: Option<bool>,
    pub page: PageRequest,
}

/// Where the next page of the caller's applications starts: most recently changed first.
fn mine_cursor(row: &PermitRow) -> Cursor {
    Cursor::new(row.updated_at, row.id.clone())
}

/// Where the next page of the queue starts: nearest deadline first, none last (the order of
/// `store::queue`).
fn queue_cursor(row: &PermitRow) -> Cursor {
    Cursor::new(
        row.deadline.as_deref().unwrap_or(store::NO_DEADLINE),
        row.id.clone(),
    )
}

/// The store's filter for `query` as of `today`: the days are Rome dates.
fn queue_filter(
    query: &QueueQuery,
    municipality: &IstatCode,
    today: Date,
) -> Result<QueueFilter, PermitError> {
    let day = |offset: i64| {
        calendar::add_days(today, offset)
            .map(|d| d.to_string())
            .ok_or(PermitError::Rule(PermitsError::DateOutOfRange))
    };
    let mut filter = QueueFilter {
        municipality: municipality.as_str().to_owned(),
        statuses: query.statuses.clone(),
        procedure: query.procedure.clone(),
        ..QueueFilter::default()
    };
    if let Some(days) = query.deadline_within_days {
        filter.deadline_from = Some(day(0)?);
        filter.deadline_until = Some(day(days)?);
        filter.closed = Some(false);
    }
    match query.overdue {
        Some(true) => {
            filter.deadline_until = Some(day(-1)?);
            filter.closed = Some(false);
        }
        Some(false) => filter.not_overdue_on = Some(day(0)?),
        None => {}
    }
    Ok(filter)
}

impl Permits {
    /// The procedures of a municipality served here.
    pub async fn procedures(&self, municipality: &IstatCode) -> Result<ProcedureCatalogue, PermitError> {
        let large = self.is_large(municipality)?;
        let mut conn = self.conn().await?;
        Ok(ProcedureCatalogue {
            catalogue: catalogue_of(&mut conn, municipality.as_str()).await?,
            facts: DoublingFacts {
                large_municipality: large,
                complex_project: false,
            },
        })
    }

    /// An application in full, for someone who may see it.
    pub async fn get(&self, principal: &Principal, id: &str) -> Result<PermitView, PermitError> {
        let mut conn = self.conn().await?;
        let (loaded, relations) = self.visible(&mut conn, principal, id).await?;
        let documents = store::documents(&mut conn, id).await?;
        let fees = store::fees(&mut conn, id).await?;
        let now_ms = self.now_ms();
        let now = timestamp_from_ms(now_ms).ok_or_else(|| bad_instant(now_ms))?;
        Ok(PermitView {
            clock: loaded.permit.clock(&loaded.procedure, now)?,
            actions: allowed_actions(&loaded, &relations, now),
            fields: fields_of(&loaded.row)?,
            loaded,
            documents,
            fees,
        })
    }

    /// The caller's applications (as applicant or as the filing professional), most recently
    /// changed first.
    pub async fn mine(&self, principal: &Principal, page: &PageRequest) -> Result<SummaryPage, PermitError> {
        let after = page
            .after
            .as_ref()
            .map(|c| Ok::<_, PermitError>((c.key_number()?, c.id.clone())))
            .transpose()?;
        let mut conn = self.conn().await?;
        let rows = store::list_for_person(
            &mut conn,
            &principal.user_id,
            &principal.fiscal_code,
            after,
            page.fetch_limit(),
        )
        .await?;
        let (rows, next_cursor) = page.page(rows, mine_cursor);
        self.summaries(&mut conn, rows, next_cursor).await
    }

    /// The work queue of a municipality's permits office, nearest deadline first.
    pub async fn queue(&self, principal: &Principal, query: &QueueQuery) -> Result<SummaryPage, PermitError> {
        let municipality = IstatCode::parse(&query.municipality)
            .map_err(|e| invalid("municipality", e.to_string(), e.to_string()))?;
        if !may_operate(&principal.roles, &municipality, Office::Permits) {
            return Err(PermitError::Forbidden);
        }
        for status in &query.statuses {
            Status::parse(status)?;
        }
        let filter = queue_filter(query, &municipality, self.today()?)?;
        let after = query.page.after.as_ref().map(|c| (c.key.clone(), c.id.clone()));
        let mut conn = self.conn().await?;
        let rows = store::queue(&mut conn, &filter, after, query.page.fetch_limit()).await?;
        let (rows, next_cursor) = query.page.page(rows, queue_cursor);
        self.summaries(&mut conn, rows, next_cursor).await
    }

    /// Today in Rome, as the permits clock sees it.
    fn today(&self) -> Result<Date, PermitError> {
        let now_ms = self.now_ms();
        Ok(calendar::rome_date(
            timestamp_from_ms(now_ms).ok_or_else(|| bad_instant(now_ms))?,
        ))
    }

    /// A page of `rows`, with the catalogues of their municipalities.
    async fn summaries(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<PermitRow>,
        next_cursor: Option<String>,
    ) -> Result<SummaryPage, PermitError> {
        let mut catalogues = BTreeMap::new();
        for row in &rows {
            if !catalogues.contains_key(&row.municipality) {
                let catalogue = catalogue_of(conn, &row.municipality).await?;
                catalogues.insert(row.municipality.clone(), catalogue);
            }
        }
        Ok(SummaryPage {
            rows,
            catalogues,
            today: self.today()?,
            next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::super::loaded::testing::draft;
    use super::*;
    use crate::pagination::PageError;

    fn query(deadline_within_days: Option<i64>, overdue: Option<bool>) -> QueueQuery {
        QueueQuery {
            municipality: "010025".to_owned(),
            statuses: vec!["submitted".to_owned()],
            procedure: Some("pdc".to_owned()),
            deadline_within_days,
            overdue,
            page: PageRequest::new(None, None, 50, 200).unwrap(),
        }
    }

    #[test]
    fn cursors_carry_the_sort_key_of_each_list() {
        let mut row = draft("pdc").row;
        row.updated_at = 1_772_366_400_123;
        let mine = mine_cursor(&row);
        let decoded = Cursor::decode(&mine.encode()).unwrap();
        assert_eq!(
            (decoded.key_number(), decoded.id.as_str()),
            (Ok(1_772_366_400_123), "permit-1")
        );
        // Without a deadline an application sorts last in the queue, as the store orders it.
        assert_eq!(queue_cursor(&row), Cursor::new("9999-12-31", "permit-1"));
        row.deadline = Some("2026-05-30".to_owned());
        assert_eq!(queue_cursor(&row), Cursor::new("2026-05-30", "permit-1"));
        // A queue cursor is no cursor of the caller's list.
        assert_eq!(queue_cursor(&row).key_number(), Err(PageError::Cursor));
    }

    #[test]
    fn a_full_page_hands_out_the_cursor_of_its_last_row() {
        let rows: Vec<PermitRow> = (0..3)
            .map(|i| {
                let mut row = draft("pdc").row;
                row.id = format!("permit-{i}");
                row.deadline = Some(format!("2026-05-0{}", i + 1));
                row
            })
            .collect();
        let page = PageRequest::new(None, Some(2), 50, 200).unwrap();
        assert_eq!(page.fetch_limit(), 3);
        let (shown, next) = page.page(rows.clone(), queue_cursor);
        assert_eq!(shown.len(), 2);
        let next = Cursor::decode(&next.unwrap()).unwrap();
        assert_eq!((next.key.as_str(), next.id.as_str()), ("2026-05-02", "permit-1"));
        let (shown, next) = page.page(rows[..2].to_vec(), queue_cursor);
        assert_eq!((shown.len(), next), (2, None));
    }

    #[test]
    fn queue_filters_are_rome_days_around_today() {
        let genova = IstatCode::parse("010025").unwrap();
        let today = date(2026, 3, 31);
        let plain = queue_filter(&query(None, None), &genova, today).unwrap();
        assert_eq!(
            (
                plain.municipality.as_str(),
                plain.statuses.as_slice(),
                plain.procedure.as_deref()
            ),
            ("010025", &["submitted".to_owned()][..], Some("pdc"))
        );
        assert_eq!(
            (
                plain.deadline_from,
                plain.deadline_until,
                plain.closed,
                plain.not_overdue_on
            ),
            (None, None, None, None)
        );
        let soon = queue_filter(&query(Some(7), None), &genova, today).unwrap();
        assert_eq!(
            (
                soon.deadline_from.as_deref(),
                soon.deadline_until.as_deref(),
                soon.closed
            ),
            (Some("2026-03-31"), Some("2026-04-07"), Some(false))
        );
        let overdue = queue_filter(&query(None, Some(true)), &genova, today).unwrap();
        assert_eq!(
            (overdue.deadline_until.as_deref(), overdue.closed),
            (Some("2026-03-30"), Some(false))
        );
        let on_time = queue_filter(&query(None, Some(false)), &genova, today).unwrap();
        assert_eq!(
            (on_time.not_overdue_on.as_deref(), on_time.closed),
            (Some("2026-03-31"), None)
        );
    }
}

/// How many applications a municipality received for a procedure in one month (Rome time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyCount {
    pub municipality: String,
    pub procedure: String,
    /// `YYYY-MM`.
    pub month: String,
    pub applications: u64,
}

impl Permits {
    /// Applications past their draft, counted by municipality, procedure and month of creation:
    /// open data without personal data (no applicant, no address, only counts).
    pub async fn monthly_counts(&self) -> Result<Vec<MonthlyCount>, PermitError> {
        let mut counts: BTreeMap<(String, String, String), u64> = BTreeMap::new();
        let mut conn = self.conn().await?;
        store::for_each_filed(&mut conn, |municipality, procedure, created_at| {
            let month = timestamp_from_ms(created_at).map_or_else(String::new, |at| {
                calendar::rome_date(at).strftime("%Y-%m").to_string()
            });
            *counts.entry((municipality, procedure, month)).or_default() += 1;
        })
        .await?;
        Ok(counts
            .into_iter()
            .map(|((municipality, procedure, month), applications)| MonthlyCount {
                municipality,
                procedure,
                month,
                applications,
            })
            .collect())
    }
}
