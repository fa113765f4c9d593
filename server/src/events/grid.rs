//! The grid the occurrences are indexed by, and the order in which a search around a point
//! reads it.
//!
//! A cell is 0.01° of latitude by 0.01° of longitude, about 1.1 × 0.8 km in Liguria. A search
//! near a point reads the cells in widening rings, nearest first, and stops as soon as it holds
//! a page of events closer than any cell it has not read. In the centre of Genova a page is
//! found in the dozen cells around the point; with the 0.1° cells of the first version every
//! search there read the whole city's occurrences of the window (about 3,000 for a weekend at
//! 100,000 events) to rank them, and the server served 464 searches a second at 1,000 offered.

use sportello_core::geo::Coordinates;

/// Cells per degree, both ways.
const PER_DEGREE: f64 = 100.0;
/// A row's number is multiplied by this: more than the 36,000 columns of a row.
const ROW: i64 = 100_000;
/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.32;
/// Most cells a search ranks by rings: a 50 km radius in Liguria is about 11,500; near the
/// poles a box widens to every longitude, and such a search reads the window unranked instead.
const MAX_CELLS: i64 = 40_000;

/// The grid cell of a point: `row * 100,000 + column`, rows and columns counted from the
/// south pole and the antimeridian. Migration 0013 computes the same in SQL.
#[allow(
    clippy::cast_possible_truncation,
    reason = "validated coordinates: at most 36,000 columns and 18,000 rows"
)]
pub fn cell(lat: f64, lon: f64) -> i64 {
    ((lat + 90.0) * PER_DEGREE).floor() as i64 * ROW + ((lon + 180.0) * PER_DEGREE).floor() as i64
}

/// A cell to read and a distance no point of it is closer than, km.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearCell {
    pub nearest_km: f64,
    pub cell: i64,
}

/// Every cell with a point within `radius_km` of `at`, nearest first; `None` when the radius'
/// box holds more than [`MAX_CELLS`] cells (only near the poles).
///
/// `nearest_km` is a lower bound: the great-circle distance to the cell's point nearest in
/// latitude and longitude, less 1% and 10 m. On a sphere the true nearest point of a cell can
/// be a little closer than that one; ranking must never read a cell too late, while reading one
/// a ring early only costs an index seek.
pub fn cells_within(at: Coordinates, radius_km: f64) -> Option<Vec<NearCell>> {
    let dlat = radius_km / KM_PER_DEGREE * 1.01;
    let dlon = radius_km / (KM_PER_DEGREE * at.lat().to_radians().cos().max(0.01)) * 1.01;
    let (south, north) = ((at.lat() - dlat).max(-90.0), (at.lat() + dlat).min(89.999_999));
    let (west, east) = ((at.lon() - dlon).max(-180.0), (at.lon() + dlon).min(179.999_999));
    let (first, last) = (cell(south, west), cell(north, east));
    let (row_first, row_last) = (first.div_euclid(ROW), last.div_euclid(ROW));
    let (col_first, col_last) = (first.rem_euclid(ROW), last.rem_euclid(ROW));
    if (row_last - row_first + 1) * (col_last - col_first + 1) > MAX_CELLS {
        return None;
    }
    let mut cells = Vec::new();
    for row in row_first..=row_last {
        let (cell_south, cell_north) = edges(row, 90.0);
        let nearest_lat = at.lat().clamp(cell_south, cell_north);
        for col in col_first..=col_last {
            let (cell_west, cell_east) = edges(col, 180.0);
            let nearest_lon = at.lon().clamp(cell_west, cell_east);
            let Ok(point) = Coordinates::new(nearest_lat, nearest_lon) else {
                continue;
            };
            let nearest_km = (point.distance_km(at) * 0.99 - 0.01).max(0.0);
            if nearest_km <= radius_km {
                cells.push(NearCell {
                    nearest_km,
                    cell: row * ROW + col,
                });
            }
        }
    }
    cells.sort_by(|a, b| a.nearest_km.total_cmp(&b.nearest_km).then(a.cell.cmp(&b.cell)));
    Some(cells)
}

/// The two edges, in degrees, of row or column `index` of an axis starting at `-offset`.
#[allow(clippy::cast_precision_loss, reason = "indexes below 36,000")]
fn edges(index: i64, offset: f64) -> (f64, f64) {
    let low = index as f64 / PER_DEGREE - offset;
    (low, low + 1.0 / PER_DEGREE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_points_share_a_cell_and_cells_are_distinct() {
        // Palazzo Ducale and Teatro Carlo Felice, 150 m apart, both in 44.40-44.41, 8.93-8.94.
        assert_eq!(cell(44.4074, 8.9335), cell(44.4077, 8.9339));
        assert_ne!(cell(44.4074, 8.9335), cell(44.3172, 9.3224));
        assert_eq!(cell(44.415, 8.935) - cell(44.405, 8.935), ROW);
        assert_eq!(cell(44.405, 8.945) - cell(44.405, 8.935), 1);
        assert_eq!(cell(-90.0, -180.0), 0);
    }

    #[test]
    fn every_point_within_the_radius_lies_in_a_cell_no_nearer_than_it() {
        let ducale = Coordinates::new(44.4074, 8.9335).unwrap();
        let cells = cells_within(ducale, 10.0).unwrap();
        let bound: std::collections::HashMap<i64, f64> =
            cells.iter().map(|c| (c.cell, c.nearest_km)).collect();
        // A lattice of points over the radius' box: each within 10 km is in a listed cell whose
        // bound does not exceed its distance.
        for i in 0..=200 {
            for j in 0..=200 {
                let lat = 44.4074 - 0.1 + f64::from(i) * 0.001;
                let lon = 8.9335 - 0.13 + f64::from(j) * 0.0013;
                let p = Coordinates::new(lat, lon).unwrap();
                let d = p.distance_km(ducale);
                if d <= 10.0 {
                    let nearest = bound
                        .get(&cell(lat, lon))
                        .unwrap_or_else(|| panic!("{lat},{lon}"));
                    assert!(*nearest <= d, "{lat},{lon}: {nearest} > {d}");
                }
            }
        }
        // Nearest first, the point's own cell at 0.
        assert_eq!(cells[0].cell, cell(44.4074, 8.9335));
        assert!(cells[0].nearest_km <= 0.0);
        assert!(cells.windows(2).all(|w| w[0].nearest_km <= w[1].nearest_km));
        // A disc, not its box: about π·10²/(1.11·0.795) cells.
        assert!((330..420).contains(&cells.len()), "{}", cells.len());
    }

    #[test]
    fn the_grid_ends_at_the_antimeridian_and_gives_up_near_the_poles() {
        let corner = Coordinates::new(44.005, 179.9999).unwrap();
        let cells = cells_within(corner, 5.0).unwrap();
        assert_eq!(cells[0].cell, cell(44.005, 179.9999));
        assert!(cells.iter().all(|c| c.cell.rem_euclid(ROW) < 36_000));
        // The largest radius in Liguria is ranked by rings; at the pole it is not.
        let ducale = Coordinates::new(44.4074, 8.9335).unwrap();
        assert!(cells_within(ducale, 50.0).is_some());
        assert!(cells_within(Coordinates::new(89.99, 0.0).unwrap(), 50.0).is_none());
    }
}
