//! Geography: WGS84 coordinates and great-circle distances.

use std::fmt;

/// Mean Earth radius in kilometres (IUGG), the usual constant for haversine distances.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A WGS84 point, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

/// Why a pair of numbers is not a valid WGS84 point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoError {
    /// Latitude outside -90..=90 or not a finite number.
    #[error("latitude {0} is outside -90..90")]
    Latitude(f64),
    /// Longitude outside -180..=180 or not a finite number.
    #[error("longitude {0} is outside -180..180")]
    Longitude(f64),
    /// Text that is not `lat,lon`.
    #[error("expected `lat,lon`, got `{0}`")]
    Syntax(String),
}

impl Coordinates {
    /// Builds a point, rejecting out-of-range or non-finite values.
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(GeoError::Latitude(lat));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(GeoError::Longitude(lon));
        }
        Ok(Self { lat, lon })
    }

    /// Latitude in decimal degrees.
    pub fn lat(self) -> f64 {
        self.lat
    }

    /// Longitude in decimal degrees.
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Great-circle (haversine) distance in kilometres.
    pub fn distance_km(self, other: Coordinates) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }

    /// The point as a unit vector from the Earth's centre (x towards 0°N 0°E, y towards 0°N
    /// 90°E, z towards the north pole).
    ///
    /// The squared chord between two such vectors, [`chord_squared`], grows with the
    /// great-circle distance: a store ranks points by distance with sums and products alone,
    /// which every SQL dialect has (SQLite, as built here, has no trigonometry).
    pub fn unit_vector(self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

/// The squared chord between two unit vectors of [`Coordinates::unit_vector`]: 0 for the same
/// point, 4 for antipodes.
pub fn chord_squared(a: [f64; 3], b: [f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// The great-circle distance in kilometres of a squared chord between unit vectors.
pub fn km_from_chord_squared(chord_squared: f64) -> f64 {
    2.0 * EARTH_RADIUS_KM * (chord_squared.max(0.0).sqrt() / 2.0).min(1.0).asin()
}

/// The squared chord between unit vectors of two points `km` apart on a great circle (the
/// inverse of [`km_from_chord_squared`] up to half the Earth's circumference).
pub fn chord_squared_from_km(km: f64) -> f64 {
    let angle = (km / EARTH_RADIUS_KM).clamp(0.0, std::f64::consts::PI);
    (2.0 * (angle / 2.0).sin()).powi(2)
}

impl std::str::FromStr for Coordinates {
    type Err = GeoError;

    /// Parses `lat,lon` as used in query strings (`near=44.4056,8.9463`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (lat, lon) = parse_lat_lon(text)?;
        Self::new(lat, lon)
    }
}

/// The two numbers of `lat,lon`, not yet checked for range.
pub fn parse_lat_lon(text: &str) -> Result<(f64, f64), GeoError> {
    let syntax = || GeoError::Syntax(text.chars().take(64).collect());
    let (lat, lon) = text.split_once(',').ok_or_else(syntax)?;
    let lat = lat.trim().parse().map_err(|_| syntax())?;
    let lon = lon.trim().parse().map_err(|_| syntax())?;
    Ok((lat, lon))
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.lat, self.lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genova_to_chiavari_is_about_31_km() {
        let genova = Coordinates::new(44.4072, 8.9338).unwrap();
        let chiavari = Coordinates::new(44.3172, 9.3224).unwrap();
        let d = genova.distance_km(chiavari);
        assert!((30.0..33.0).contains(&d), "{d}");
        assert!(genova.distance_km(genova).abs() < 1e-9);
    }

    #[test]
    fn rejects_out_of_range_and_garbage() {
        assert_eq!(Coordinates::new(91.0, 0.0), Err(GeoError::Latitude(91.0)));
        assert!(matches!(
            Coordinates::new(0.0, f64::NAN),
            Err(GeoError::Longitude(_))
        ));
        assert!("44.4".parse::<Coordinates>().is_err());
        assert!("a,b".parse::<Coordinates>().is_err());
        let p: Coordinates = " 44.4 , 8.9 ".parse().unwrap();
        assert_eq!((p.lat(), p.lon()), (44.4, 8.9));
    }

    #[test]
    fn the_chord_gives_the_haversine_distance_back() {
        let genova = Coordinates::new(44.4072, 8.9338).unwrap();
        let chiavari = Coordinates::new(44.3172, 9.3224).unwrap();
        let c2 = chord_squared(genova.unit_vector(), chiavari.unit_vector());
        assert!((km_from_chord_squared(c2) - genova.distance_km(chiavari)).abs() < 1e-6);
        assert!((chord_squared_from_km(genova.distance_km(chiavari)) - c2).abs() < 1e-15);
        assert!(chord_squared(genova.unit_vector(), genova.unit_vector()).abs() < 1e-30);
        let antipode = Coordinates::new(-44.4072, 8.9338 - 180.0).unwrap();
        let far = km_from_chord_squared(chord_squared(genova.unit_vector(), antipode.unit_vector()));
        assert!(
            (far - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6,
            "{far}"
        );
    }

    proptest::proptest! {
        /// Ranking by squared chord is ranking by great-circle distance, to the metre, and the
        /// distance read back from the chord is the haversine one, for points up to 60 km apart
        /// (the largest search radius is 50 km).
        #[test]
        fn chords_rank_as_distances(
            lat in -80.0f64..80.0, lon in -179.0f64..179.0,
            d1 in (-0.5f64..0.5, -0.5f64..0.5), d2 in (-0.5f64..0.5, -0.5f64..0.5),
        ) {
            let at = Coordinates::new(lat, lon).unwrap();
            let p = Coordinates::new(lat + d1.0, lon + d1.1).unwrap();
            let q = Coordinates::new(lat + d2.0, lon + d2.1).unwrap();
            let (hp, hq) = (at.distance_km(p), at.distance_km(q));
            let (cp, cq) = (
                chord_squared(at.unit_vector(), p.unit_vector()),
                chord_squared(at.unit_vector(), q.unit_vector()),
            );
            proptest::prop_assert!((km_from_chord_squared(cp) - hp).abs() < 1e-6);
            if (hp - hq).abs() > 0.001 {
                proptest::prop_assert_eq!(hp < hq, cp < cq);
            }
        }
    }
}
