//! Instants as the read models hold them: microseconds since the Unix epoch
//! (UTC), converted from and to `google.protobuf.Timestamp` and `SystemTime`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost_types::Timestamp;

/// Microseconds since the epoch of a wire timestamp (sub-microsecond digits dropped).
pub fn micros(timestamp: &Timestamp) -> i64 {
    timestamp
        .seconds
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(timestamp.nanos) / 1_000)
}

/// [`micros`] of an optional timestamp.
pub fn opt_micros(timestamp: Option<&Timestamp>) -> Option<i64> {
    timestamp.map(micros)
}

/// The wire timestamp of `micros` since the epoch.
pub fn timestamp(micros: i64) -> Timestamp {
    Timestamp {
        seconds: micros.div_euclid(1_000_000),
        // In 0..1_000_000_000 by construction of rem_euclid.
        nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
    }
}

/// [`timestamp`] of an optional instant.
pub fn opt_timestamp(micros: Option<i64>) -> Option<Timestamp> {
    micros.map(timestamp)
}

/// Microseconds since the epoch of a system time (negative before 1970).
pub fn system_micros(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

/// The system time of `micros` since the epoch.
pub fn system_time(micros: i64) -> SystemTime {
    if micros >= 0 {
        UNIX_EPOCH + Duration::from_micros(micros.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
    }
}

/// An RFC 3339 UTC rendering with microseconds (`2026-03-01T09:30:00.000000Z`),
/// fixed-width so that exports sort and compare byte for byte.
pub fn rfc3339(micros: i64) -> String {
    let at = jiff::Timestamp::from_microsecond(micros).unwrap_or(if micros < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    at.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_renders() {
        let at = 1_772_357_400_123_456; // 2026-03-01T09:30:00.123456Z
        assert_eq!(micros(&timestamp(at)), at);
        assert_eq!(system_micros(system_time(at)), at);
        assert_eq!(rfc3339(at), "2026-03-01T09:30:00.123456Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
    }
}
