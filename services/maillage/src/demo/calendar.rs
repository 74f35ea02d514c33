//! The demo's calendar: fixed domain dates (mandates, contacts, schedules) so that a
//! seed always plays the same story. The services stamp `recorded_at` with the real
//! clock; the dates sent here all lie before the end of November 2026.

use jiff::civil::{date, DateTime};
use prost_types::Timestamp;

/// The Unix epoch as a civil date-time (UTC has no offset, so the civil
/// difference from it is the number of seconds since the epoch).
const EPOCH: DateTime = date(1970, 1, 1).at(0, 0, 0, 0);

/// A UTC instant of the demo's calendar.
pub fn at(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> Timestamp {
    let since_epoch = date(year, month, day)
        .at(hour, minute, 0, 0)
        .duration_since(EPOCH);
    Timestamp {
        seconds: since_epoch.as_secs(),
        nanos: 0,
    }
}

/// `start` shifted by a number of minutes.
pub fn plus_minutes(start: &Timestamp, minutes: i64) -> Timestamp {
    Timestamp {
        seconds: start.seconds + minutes * 60,
        nanos: start.nanos,
    }
}

/// A day of the demo's campaign: `day` days after 4 May 2026 (day 0), at `hour`.
pub fn campaign_day(day: i64, hour: i64) -> Timestamp {
    plus_minutes(&at(2026, 5, 4, 0, 0), day * 1_440 + hour * 60)
}

/// Days the campaign lasts (4 May → 13 November 2026).
pub const CAMPAIGN_DAYS: i64 = 193;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_instants() {
        assert_eq!(at(1970, 1, 1, 0, 0).seconds, 0);
        // 2026-05-04T00:00:00Z
        assert_eq!(at(2026, 5, 4, 0, 0).seconds, 1_777_852_800);
        assert_eq!(
            campaign_day(CAMPAIGN_DAYS, 0).seconds,
            at(2026, 11, 13, 0, 0).seconds
        );
    }
}
