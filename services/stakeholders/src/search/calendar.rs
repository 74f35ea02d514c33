//! Calendar months for "not contacted for N months": the same instant N
//! calendar months earlier, in UTC (the day cut to the month's last day when
//! that month is shorter: 31 March minus one month is 28 or 29 February).

use jiff::tz::TimeZone;
use jiff::ToSpan;
use prost_types::Timestamp;

/// `now` moved back `months` calendar months (the earliest instant there is
/// when that lies beyond year -9999).
pub fn months_before(now: &Timestamp, months: u32) -> Timestamp {
    let before = jiff::Timestamp::new(now.seconds, now.nanos)
        .and_then(|at| {
            at.to_zoned(TimeZone::UTC)
                .checked_sub(i64::from(months).months())
        })
        .map(|zoned| zoned.timestamp())
        .unwrap_or(jiff::Timestamp::MIN);
    Timestamp {
        seconds: before.as_second(),
        nanos: before.subsec_nanosecond(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i16, month: i8, day: i8) -> Timestamp {
        let at = jiff::civil::date(year, month, day)
            .at(1, 0, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp();
        Timestamp {
            seconds: at.as_second(),
            nanos: 0,
        }
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(months_before(&at(2026, 9, 15), 6), at(2026, 3, 15));
        assert_eq!(months_before(&at(2026, 1, 10), 1), at(2025, 12, 10));
        assert_eq!(months_before(&at(2026, 3, 31), 1), at(2026, 2, 28));
        assert_eq!(months_before(&at(2024, 3, 31), 1), at(2024, 2, 29));
        assert_eq!(months_before(&at(2026, 5, 1), 24), at(2024, 5, 1));
        assert_eq!(months_before(&at(2026, 5, 1), 0), at(2026, 5, 1));
    }
}
