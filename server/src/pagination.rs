//! Cursor pagination, the same for every list of the API.
//!
//! A page is read with one row more than it shows (`limit + 1`): the extra row says whether a
//! next page exists, so a full last page hands out no cursor that leads to an empty page. The
//! cursor names the sort key and id of the last row shown (keyset pagination: stable while rows
//! are added) and is opaque to clients: base64url of a small JSON array.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::http::problem::{ApiError, Message};

/// Longest cursor accepted, in characters (a key and an id of a few dozen bytes each).
const MAX_CURSOR_LEN: usize = 512;

/// Where the next page starts: the sort key and the id of the last row given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key of the last row (a timestamp, a date, a search's fingerprint…).
    pub key: String,
    /// The id of the last row, which breaks ties between equal keys.
    pub id: String,
}

impl Cursor {
    /// A cursor after the row with this key and id.
    pub fn new(key: impl std::fmt::Display, id: impl Into<String>) -> Self {
        Self {
            key: key.to_string(),
            id: id.into(),
        }
    }

    /// The opaque form clients get as `next_cursor` and send back as `cursor`.
    pub fn encode(&self) -> String {
        let json = serde_json::to_string(&[&self.key, &self.id]).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a cursor a client sent back.
    pub fn decode(text: &str) -> Result<Self, PageError> {
        if text.len() > MAX_CURSOR_LEN {
            return Err(PageError::Cursor);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| PageError::Cursor)?;
        let [key, id]: [String; 2] = serde_json::from_slice(&bytes).map_err(|_| PageError::Cursor)?;
        Ok(Self { key, id })
    }

    /// The key as a number (stored milliseconds), for lists sorted by time.
    pub fn key_number(&self) -> Result<i64, PageError> {
        self.key.parse().map_err(|_| PageError::Cursor)
    }
}

/// What a client asked of a list: after which row, and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Start after this row; `None` for the first page.
    pub after: Option<Cursor>,
    /// Rows on the page.
    pub limit: usize,
}

impl PageRequest {
    /// Checks `cursor` and `limit` as the client sent them: `limit` defaults to `default` and
    /// must be from 1 to `max`.
    pub fn new(
        cursor: Option<&str>,
        limit: Option<i64>,
        default: usize,
        max: usize,
    ) -> Result<Self, PageError> {
        let limit = match limit {
            None => default,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or(PageError::Limit { max })?,
        };
        let after = cursor.map(Cursor::decode).transpose()?;
        Ok(Self { after, limit })
    }

    /// Rows to read: one more than the page shows, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::try_from(self.limit).unwrap_or(i64::MAX).saturating_add(1)
    }

    /// Cuts rows read with [`PageRequest::fetch_limit`] to the page, and gives the cursor of the
    /// next page when a further row exists.
    pub fn page<T>(&self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit);
        let next = rows.last().map(|last| cursor_of(last).encode());
        (rows, next)
    }
}

/// A page request the API refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Not a cursor this server handed out (or one of another list).
    #[error("invalid cursor")]
    Cursor,
    /// A limit out of range.
    #[error("limit must be from 1 to {max}")]
    Limit { max: usize },
}

impl From<PageError> for ApiError {
    fn from(error: PageError) -> Self {
        match error {
            PageError::Cursor => ApiError::field(
                "cursor",
                Message::new(
                    "Cursore non valido: usa il next_cursor di una pagina di questo elenco.",
                    "Invalid cursor: use the next_cursor of a page of this list.",
                ),
            ),
            PageError::Limit { max } => ApiError::field(
                "limit",
                Message::new(format!("Da 1 a {max}."), format!("From 1 to {max}.")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_whatever_its_key_and_id_hold() {
        let cursor = Cursor::new("2026-12-04|x", "id|with\"quotes");
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        assert_eq!(
            Cursor::new(1_764_806_400_000_i64, "a").key_number(),
            Ok(1_764_806_400_000)
        );
    }

    #[test]
    fn foreign_cursors_and_limits_are_refused() {
        assert_eq!(Cursor::decode("not base64!"), Err(PageError::Cursor));
        assert_eq!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode("[1,2,3]")),
            Err(PageError::Cursor)
        );
        assert_eq!(Cursor::decode(&"A".repeat(600)), Err(PageError::Cursor));
        assert_eq!(
            PageRequest::new(None, Some(0), 20, 100),
            Err(PageError::Limit { max: 100 })
        );
        assert_eq!(
            PageRequest::new(None, Some(101), 20, 100),
            Err(PageError::Limit { max: 100 })
        );
        assert_eq!(PageRequest::new(None, None, 20, 100).map(|p| p.limit), Ok(20));
    }

    #[test]
    fn a_full_last_page_has_no_next_cursor() {
        let request = PageRequest::new(None, Some(3), 20, 100).unwrap();
        assert_eq!(request.fetch_limit(), 4);
        let (rows, next) = request.page(vec![1, 2, 3], |n| Cursor::new(n, "id"));
        assert_eq!((rows, next), (vec![1, 2, 3], None));
        let (rows, next) = request.page(vec![1, 2, 3, 4], |n| Cursor::new(n, format!("id{n}")));
        assert_eq!(rows, vec![1, 2, 3]);
        assert_eq!(Cursor::decode(&next.unwrap()), Ok(Cursor::new(3, "id3")));
    }
}
