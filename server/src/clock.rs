//! Instants as the server stores and shows them: milliseconds since the Unix epoch (UTC) in the
//! database (the `Any` driver has no portable timestamp type, and integers sort the same on both
//! engines), RFC 3339 UTC on the wire.

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Formats stored milliseconds as RFC 3339 UTC (empty for an instant outside the calendar).
pub fn rfc3339_from_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The instant of stored milliseconds, for calendar arithmetic (legal clocks, due dates);
/// `None` outside the range jiff supports (a corrupt row).
pub fn timestamp_from_ms(ms: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_milliseconds_round_trip_through_both_forms() {
        assert_eq!(rfc3339_from_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_ms(1_764_806_400_123), "2025-12-04T00:00:00.123Z");
        let at = timestamp_from_ms(1_764_806_400_123).unwrap();
        assert_eq!(at.as_millisecond(), 1_764_806_400_123);
        assert!(timestamp_from_ms(i64::MAX).is_none());
        assert!(now_ms() > 1_764_806_400_000);
    }
}
