//! Availability: the copies of a record summarised per library, nearest first. Pure, so the
//! phone can rank libraries itself and keep the user's position on the device.

use std::cmp::Ordering;

use super::holdings::CopyStatus;
use crate::api;
use crate::geo::Coordinates;

/// One copy's live state, as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyState {
    /// Library holding the copy.
    pub library_id: String,
    /// Status now.
    pub status: CopyStatus,
    /// Due date of a lent copy (`YYYY-MM-DD`).
    pub due_date: Option<String>,
}

/// The copies of one record in one library, counted by status.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LibraryCounts {
    /// Library id.
    pub library_id: String,
    /// On the shelf, loanable.
    pub on_shelf: u32,
    /// Lent out.
    pub on_loan: u32,
    /// Between branches.
    pub in_transit: u32,
    /// For consultation in the library only.
    pub reference_only: u32,
    /// Held, status unknown.
    pub unknown: u32,
    /// The earliest due date among lent copies, when known.
    pub earliest_due: Option<String>,
}

impl LibraryCounts {
    /// Whether a copy can be taken or read there now.
    pub fn available(&self) -> bool {
        self.on_shelf + self.reference_only > 0
    }
}

/// A record's copies in one library, as whoever ranks libraries holds them: the server's
/// counts, the wire's holdings, the apps' holdings.
pub trait OnShelf {
    /// Whether a copy is on the shelf there now, to borrow or to read in the library.
    fn has_copy_on_shelf(&self) -> bool;
}

impl OnShelf for LibraryCounts {
    fn has_copy_on_shelf(&self) -> bool {
        self.available()
    }
}

impl OnShelf for api::LibraryHoldings {
    fn has_copy_on_shelf(&self) -> bool {
        self.on_shelf + self.reference_only > 0
    }
}

impl<T: OnShelf + ?Sized> OnShelf for &T {
    fn has_copy_on_shelf(&self) -> bool {
        (**self).has_copy_on_shelf()
    }
}

/// Counts copies per library (withdrawn and missing copies are not counted), ordered by
/// library id; at most `limit` libraries.
pub fn summarise<'a>(copies: impl IntoIterator<Item = &'a CopyState>, limit: usize) -> Vec<LibraryCounts> {
    let mut by_library: std::collections::BTreeMap<&str, LibraryCounts> = std::collections::BTreeMap::new();
    for copy in copies {
        if matches!(copy.status, CopyStatus::Withdrawn | CopyStatus::Missing) {
            continue;
        }
        if by_library.len() >= limit && !by_library.contains_key(copy.library_id.as_str()) {
            continue;
        }
        let counts = by_library
            .entry(copy.library_id.as_str())
            .or_insert_with(|| LibraryCounts {
                library_id: copy.library_id.clone(),
                ..LibraryCounts::default()
            });
        match copy.status {
            CopyStatus::OnShelf => counts.on_shelf += 1,
            CopyStatus::OnLoan => {
                counts.on_loan += 1;
                if let Some(due) = &copy.due_date
                    && counts.earliest_due.as_ref().is_none_or(|d| due < d)
                {
                    counts.earliest_due = Some(due.clone());
                }
            }
            CopyStatus::InTransit => counts.in_transit += 1,
            CopyStatus::ReferenceOnly => counts.reference_only += 1,
            CopyStatus::Unknown => counts.unknown += 1,
            CopyStatus::Withdrawn | CopyStatus::Missing => {}
        }
    }
    by_library.into_values().collect()
}

/// The order of "nearest first" wherever it is used (libraries, a record's holdings, search
/// hits by their nearest copy): shorter distances first, an unknown distance (no usable
/// location, no copy on the shelf) after every known one. With a stable sort, ties keep their
/// order.
pub fn nearer(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The nearest of `libraries` with a copy on the shelf from `from`, with its distance in km: a
/// search hit's "nearest copy on the shelf". Libraries without a usable `location` are passed
/// over; of equally near ones the first wins.
pub fn nearest_on_shelf<T: OnShelf>(
    from: Coordinates,
    libraries: impl IntoIterator<Item = T>,
    location: impl Fn(&T) -> Option<Coordinates>,
) -> Option<(T, f64)> {
    libraries
        .into_iter()
        .filter(OnShelf::has_copy_on_shelf)
        .filter_map(|library| {
            let distance = from.distance_km(location(&library)?);
            Some((library, distance))
        })
        // `min_by` keeps the first of equal minima.
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Sorts items nearest first from `from` (items without a location last, in their order), and
/// returns the distances in km in the new order.
pub fn nearest_first<T>(
    items: &mut Vec<T>,
    from: Coordinates,
    location: impl Fn(&T) -> Option<Coordinates>,
) -> Vec<Option<f64>> {
    let mut keyed: Vec<(Option<f64>, T)> = items
        .drain(..)
        .map(|item| (location(&item).map(|l| from.distance_km(l)), item))
        .collect();
    keyed.sort_by(|a, b| nearer(a.0, b.0));
    let (distances, sorted): (Vec<_>, Vec<_>) = keyed.into_iter().unzip();
    *items = sorted;
    distances
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(library: &str, status: CopyStatus, due: Option<&str>) -> CopyState {
        CopyState {
            library_id: library.to_owned(),
            status,
            due_date: due.map(str::to_owned),
        }
    }

    #[test]
    fn counts_per_library_skip_withdrawn() {
        let copies = [
            copy("b", CopyStatus::OnLoan, Some("2026-12-10")),
            copy("b", CopyStatus::OnLoan, Some("2026-12-01")),
            copy("a", CopyStatus::OnShelf, None),
            copy("a", CopyStatus::Withdrawn, None),
            copy("c", CopyStatus::Missing, None),
        ];
        let summary = summarise(&copies, 100);
        assert_eq!(summary.len(), 2);
        assert_eq!((summary[0].library_id.as_str(), summary[0].on_shelf), ("a", 1));
        assert!(summary[0].available() && !summary[1].available());
        assert_eq!(summary[1].earliest_due.as_deref(), Some("2026-12-01"));
        assert_eq!(summarise(&copies, 1).len(), 1, "bounded");
    }

    #[test]
    fn nearest_first_puts_unknown_locations_last() {
        let genova = Coordinates::new(44.4072, 8.9338).unwrap();
        let chiavari = Coordinates::new(44.3172, 9.3224).unwrap();
        let mut items = vec![
            ("nowhere", None),
            ("chiavari", Some(chiavari)),
            ("genova", Some(genova)),
        ];
        let distances = nearest_first(&mut items, genova, |i| i.1);
        assert_eq!(
            items.iter().map(|i| i.0).collect::<Vec<_>>(),
            ["genova", "chiavari", "nowhere"]
        );
        assert!(distances[0].unwrap() < 0.001 && distances[2].is_none());
    }

    #[test]
    fn the_nearest_copy_on_the_shelf_skips_lent_out_and_unplaced_libraries() {
        let genova = Coordinates::new(44.4072, 8.9338).unwrap();
        let chiavari = Coordinates::new(44.3172, 9.3224).unwrap();
        let counts = |id: &str, on_shelf, reference_only| LibraryCounts {
            library_id: id.to_owned(),
            on_shelf,
            reference_only,
            on_loan: 1,
            ..LibraryCounts::default()
        };
        let libraries = [
            counts("lent-out-in-genova", 0, 0),
            counts("nowhere", 3, 0),
            counts("chiavari", 1, 0),
            counts("reference-in-genova", 0, 1),
            counts("also-in-genova", 2, 0),
        ];
        let place = |c: &&LibraryCounts| match c.library_id.as_str() {
            "nowhere" => None,
            "chiavari" => Some(chiavari),
            _ => Some(genova),
        };
        let (nearest, km) = nearest_on_shelf(genova, &libraries, place).unwrap();
        assert_eq!(nearest.library_id, "reference-in-genova", "the first of equals");
        assert!(km < 0.001);
        let (far, km) = nearest_on_shelf(genova, &libraries[..3], place).unwrap();
        assert_eq!(far.library_id, "chiavari");
        assert!((30.0..33.0).contains(&km), "{km}");
        assert!(nearest_on_shelf(genova, &libraries[..2], place).is_none());
    }

    #[test]
    fn nearer_puts_unknown_distances_last() {
        let mut distances = vec![None, Some(3.0), Some(f64::INFINITY), None, Some(0.5)];
        distances.sort_by(|a, b| nearer(*a, *b));
        assert_eq!(distances, [Some(0.5), Some(3.0), Some(f64::INFINITY), None, None]);
    }
}
