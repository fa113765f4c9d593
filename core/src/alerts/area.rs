//! The area of an alert as polygons, and the one decision the apps take on the device with it:
//! is this point inside? Geometry by the `geo` crate (georust): the containment test, the
//! distance from a point to an area and the simplification that makes an area fit in a push.

use geo::{Distance, Euclidean, Intersects, Simplify, Validation};

use crate::geo::Coordinates;

/// Most vertices of one polygon an officer or a CAP document may send.
pub const MAX_POLYGON_POINTS: usize = 1_000;
/// Most polygons of one alert.
pub const MAX_POLYGONS: usize = 20;
/// Kilometres per degree of latitude on the mean Earth sphere (IUGG radius 6371.0088 km).
const KM_PER_DEGREE: f64 = 111.195_08;

/// Why a polygon is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    /// Not `lat,lon lat,lon …`.
    #[error("a polygon is a list of `lat,lon` pairs separated by spaces: {0}")]
    Syntax(String),
    /// A vertex out of range.
    #[error("vertex {index}: {reason}")]
    Vertex {
        /// 0-based position in the list.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Fewer than three distinct vertices, or more than the limit.
    #[error("a polygon has 4 to {MAX_POLYGON_POINTS} vertices, the first repeated as the last")]
    Size,
    /// The first vertex is not repeated as the last (CAP 1.2 §3.2.4 requires it).
    #[error("the first and last vertices of a polygon must be the same")]
    NotClosed,
    /// The ring crosses itself or has no area.
    #[error("the polygon crosses itself or has no area")]
    Invalid,
}

/// A simple polygon (one outer ring, no holes) in WGS84, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon(geo::Polygon<f64>);

impl Polygon {
    /// A polygon from its vertices as (lat, lon); the ring is closed if it is not.
    pub fn new(vertices: &[(f64, f64)]) -> Result<Self, AreaError> {
        let mut ring = Vec::with_capacity(vertices.len() + 1);
        for (index, &(lat, lon)) in vertices.iter().enumerate() {
            Coordinates::new(lat, lon).map_err(|e| AreaError::Vertex {
                index,
                reason: e.to_string(),
            })?;
            ring.push(geo::coord! { x: lon, y: lat });
        }
        if ring.first() != ring.last() {
            ring.push(ring[0]);
        }
        if ring.len() < 4 || ring.len() > MAX_POLYGON_POINTS {
            return Err(AreaError::Size);
        }
        let polygon = geo::Polygon::new(geo::LineString::new(ring), Vec::new());
        if !polygon.is_valid() {
            return Err(AreaError::Invalid);
        }
        Ok(Self(polygon))
    }

    /// Reads a CAP 1.2 `<polygon>`: `lat,lon` pairs separated by spaces, closed.
    pub fn parse_cap(text: &str) -> Result<Self, AreaError> {
        let mut vertices = Vec::new();
        for pair in text.split_whitespace() {
            if vertices.len() > MAX_POLYGON_POINTS {
                return Err(AreaError::Size);
            }
            let (lat, lon) = crate::geo::parse_lat_lon(pair)
                .map_err(|_| AreaError::Syntax(pair.chars().take(40).collect()))?;
            vertices.push((lat, lon));
        }
        if vertices.len() < 4 {
            return Err(AreaError::Size);
        }
        if vertices.first() != vertices.last() {
            return Err(AreaError::NotClosed);
        }
        Self::new(&vertices)
    }

    /// The vertices as (lat, lon), the first repeated as the last.
    pub fn vertices(&self) -> Vec<(f64, f64)> {
        self.0.exterior().coords().map(|c| (c.y, c.x)).collect()
    }

    /// The CAP 1.2 text of the polygon (`lat,lon lat,lon …`).
    pub fn to_cap(&self) -> String {
        self.vertices()
            .iter()
            .map(|(lat, lon)| format!("{lat},{lon}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Whether the point is inside the polygon or on its border (a point on the border is
    /// warned rather than not).
    pub fn contains(&self, point: Coordinates) -> bool {
        self.0.intersects(&geo::Point::new(point.lon(), point.lat()))
    }

    /// Kilometres from the point to the polygon (0 inside), in a plane tangent at the point:
    /// within a few tenths of a percent for the tens of kilometres of a metropolitan area.
    pub fn distance_km(&self, point: Coordinates) -> f64 {
        if self.contains(point) {
            return 0.0;
        }
        let scale_x = point.lat().to_radians().cos() * KM_PER_DEGREE;
        let projected = geo::Polygon::new(
            self.0
                .exterior()
                .coords()
                .map(|c| {
                    geo::coord! {
                        x: (c.x - point.lon()) * scale_x,
                        y: (c.y - point.lat()) * KM_PER_DEGREE,
                    }
                })
                .collect(),
            Vec::new(),
        );
        Euclidean.distance(&geo::Point::new(0.0, 0.0), &projected)
    }

    /// Number of vertices, the closing one included.
    pub fn len(&self) -> usize {
        self.0.exterior().0.len()
    }

    /// Always false: a polygon has at least four vertices.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The polygon with vertices closer than `tolerance_deg` to the simplified outline dropped
    /// (Ramer–Douglas–Peucker), kept as it is if simplifying would break it.
    #[must_use]
    pub fn simplified(&self, tolerance_deg: f64) -> Polygon {
        let simpler = self.0.simplify(tolerance_deg);
        if simpler.exterior().0.len() >= 4 && simpler.is_valid() {
            Polygon(simpler)
        } else {
            self.clone()
        }
    }
}

/// Whether the point lies in any of the polygons: the decision "is this alert where I am" that
/// an app takes on the device, with the area the push carried, without telling the server where
/// it is.
pub fn point_in_area(polygons: &[Polygon], point: Coordinates) -> bool {
    polygons.iter().any(|polygon| polygon.contains(point))
}

/// Kilometres from the point to the nearest of the polygons; `None` without polygons.
pub fn distance_to_area_km(polygons: &[Polygon], point: Coordinates) -> Option<f64> {
    polygons
        .iter()
        .map(|polygon| polygon.distance_km(point))
        .min_by(f64::total_cmp)
}

/// The polygons simplified until they have at most `max_vertices` vertices together (tolerance
/// doubling from about 10 m), so that an area fits in a push (4 KB for Web Push and FCM).
pub fn simplify_to_fit(polygons: &[Polygon], max_vertices: usize) -> Vec<Polygon> {
    let mut tolerance = 0.000_1;
    let mut current = polygons.to_vec();
    while current.iter().map(Polygon::len).sum::<usize>() > max_vertices && tolerance < 1.0 {
        current = polygons.iter().map(|p| p.simplified(tolerance)).collect();
        tolerance *= 2.0;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: f64, lon: f64) -> Coordinates {
        Coordinates::new(lat, lon).unwrap()
    }

    /// Roughly the Bisagno valley's lower course, in Genova.
    fn bisagno() -> Polygon {
        Polygon::parse_cap(
            "44.4180,8.9450 44.4250,8.9520 44.4350,8.9600 44.4300,8.9700 44.4150,8.9620 44.4050,8.9520 44.4180,8.9450",
        )
        .unwrap()
    }

    #[test]
    fn points_inside_outside_and_on_the_border() {
        let area = bisagno();
        assert!(area.contains(point(44.42, 8.955)));
        assert!(
            !area.contains(point(44.40, 8.93)),
            "Piazza De Ferrari is west of it"
        );
        assert!(area.contains(point(44.4180, 8.9450)), "a vertex counts as inside");
        assert!(point_in_area(std::slice::from_ref(&area), point(44.42, 8.955)));
        assert!(!point_in_area(&[], point(44.42, 8.955)));
    }

    #[test]
    fn distances_are_zero_inside_and_plausible_outside() {
        let area = bisagno();
        assert!(area.distance_km(point(44.42, 8.955)).abs() < 1e-12);
        // Due west of the westernmost vertex (8.9450) by 0.01° of longitude at 44.418°N: 0.795 km.
        let d = area.distance_km(point(44.4180, 8.9350));
        assert!((0.77..0.82).contains(&d), "{d}");
        assert_eq!(distance_to_area_km(&[], point(44.0, 9.0)), None);
    }

    #[test]
    fn cap_polygons_round_trip_and_refusals() {
        let area = bisagno();
        assert_eq!(Polygon::parse_cap(&area.to_cap()).unwrap(), area);
        assert_eq!(
            Polygon::parse_cap("44.4,8.9 44.5,8.9 44.5,9.0 44.41,8.9"),
            Err(AreaError::NotClosed)
        );
        assert_eq!(
            Polygon::parse_cap("44.4,8.9 44.5,8.9 44.4,8.9"),
            Err(AreaError::Size)
        );
        assert!(matches!(
            Polygon::parse_cap("44.4;8.9 x"),
            Err(AreaError::Syntax(_))
        ));
        assert!(matches!(
            Polygon::new(&[(95.0, 8.9), (44.5, 8.9), (44.5, 9.0)]),
            Err(AreaError::Vertex { index: 0, .. })
        ));
        // A bow tie crosses itself.
        assert_eq!(
            Polygon::new(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]),
            Err(AreaError::Invalid)
        );
        let open = Polygon::new(&[(44.4, 8.9), (44.5, 8.9), (44.5, 9.0)]).unwrap();
        assert_eq!(open.len(), 4, "closed on construction");
    }

    #[test]
    fn simplification_fits_a_budget_and_keeps_the_shape() {
        // A circle of 720 vertices around Genova, radius about 2 km.
        let vertices: Vec<(f64, f64)> = (0..720)
            .map(|i| {
                let angle = f64::from(i).to_radians() / 2.0;
                (44.41 + 0.018 * angle.sin(), 8.93 + 0.025 * angle.cos())
            })
            .collect();
        let circle = Polygon::new(&vertices).unwrap();
        let fitted = simplify_to_fit(std::slice::from_ref(&circle), 100);
        assert!(fitted[0].len() <= 100, "{}", fitted[0].len());
        assert!(fitted[0].contains(point(44.41, 8.93)));
        assert!(!fitted[0].contains(point(44.45, 8.93)));
    }
}
