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
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:06}Z",
        in_day / 3_600,
        (in_day % 3_600) / 60,
        in_day % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
