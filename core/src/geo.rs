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
}
