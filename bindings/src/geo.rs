//! Geography on the device: distances and nearest-first ranking, so a precise location need not
//! leave the phone.

use sportello_core::api::Coordinates;
use sportello_core::geo;

use crate::error::SportelloError;

/// A point the apps gave, checked on the device: a bad one is `InvalidInput` on `coordinates`.
pub(crate) fn checked(point: Coordinates) -> Result<geo::Coordinates, SportelloError> {
    geo::Coordinates::try_from(point).map_err(|error| SportelloError::invalid("coordinates", &error))
}

/// Great-circle (haversine) distance between two points, in kilometres.
#[uniffi::export]
pub fn distance_km(origin: Coordinates, destination: Coordinates) -> Result<f64, SportelloError> {
    Ok(checked(origin)?.distance_km(checked(destination)?))
}

/// Sorts `items` by distance from `origin`, nearest first, ties in their original order. Items
/// whose point is not a valid coordinate are left out; `limit` keeps only the nearest ones.
pub(crate) fn rank_by_distance<T>(
    items: Vec<T>,
    origin: Coordinates,
    point: impl Fn(&T) -> Coordinates,
    limit: Option<u32>,
) -> Result<Vec<(T, f64)>, SportelloError> {
    let origin = checked(origin)?;
    let mut ranked: Vec<(T, f64)> = items
        .into_iter()
        .filter_map(|item| {
            let at = checked(point(&item)).ok()?;
            let distance = origin.distance_km(at);
            Some((item, distance))
        })
        .collect();
    // Stable, so equal distances keep the caller's order (e.g. alphabetical from the server).
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    if let Some(limit) = limit {
        ranked.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENOVA: Coordinates = Coordinates {
        lat: 44.4072,
        lon: 8.9338,
    };
    const CHIAVARI: Coordinates = Coordinates {
        lat: 44.3172,
        lon: 9.3224,
    };

    #[test]
    fn distances_use_core_haversine_and_refuse_bad_points() {
        let d = distance_km(GENOVA, CHIAVARI).unwrap();
        assert!((30.0..33.0).contains(&d), "{d}");
        let error = distance_km(GENOVA, Coordinates { lat: 91.0, lon: 0.0 }).unwrap_err();
        assert!(matches!(error, SportelloError::InvalidInput { ref field, .. } if field == "coordinates"));
    }

    #[test]
    fn ranking_is_nearest_first_stable_and_skips_bad_points() {
        let items = vec![
            ("chiavari", CHIAVARI),
            (
                "nowhere",
                Coordinates {
                    lat: f64::NAN,
                    lon: 0.0,
                },
            ),
            ("genova", GENOVA),
            ("genova again", GENOVA),
        ];
        let ranked = rank_by_distance(items.clone(), GENOVA, |item| item.1, None).unwrap();
        let names: Vec<_> = ranked.iter().map(|(item, _)| item.0).collect();
        assert_eq!(names, ["genova", "genova again", "chiavari"]);
        let nearest = rank_by_distance(items, CHIAVARI, |item| item.1, Some(1)).unwrap();
        assert_eq!(nearest.len(), 1);
        assert_eq!(nearest[0].0.0, "chiavari");
        assert!(
            rank_by_distance(
                Vec::<()>::new(),
                Coordinates { lat: 0.0, lon: 200.0 },
                |()| GENOVA,
                None
            )
            .is_err()
        );
    }
}
