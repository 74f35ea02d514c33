//! The demo's calendar: fixed domain dates (mandates, contacts, schedules) so that a
//! seed always plays the same story. The services stamp `recorded_at` with the real
//! clock; the dates sent here all lie before the end of November 2026.

use prost_types::Timestamp;

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A UTC instant of the demo's calendar.
pub fn at(year: i64, month: i64, day: i64, hour: i64, minute: i64) -> Timestamp {
    let days = days_from_civil(year, month, day);
    Timestamp {
        seconds: days * 86_400 + hour * 3_600 + minute * 60,
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
