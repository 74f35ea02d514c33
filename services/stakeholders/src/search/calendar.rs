//! Calendar months for "not contacted for N months": the same instant N
//! calendar months earlier, in UTC (the day cut to the month's last day when
//! that month is shorter: 31 March minus one month is 28 or 29 February).

use prost_types::Timestamp;

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let next = if month == 12 {
        days_from_civil(year + 1, 1, 1)
    } else {
        days_from_civil(year, month + 1, 1)
    };
    next - days_from_civil(year, month, 1)
}

/// `now` moved back `months` calendar months.
pub fn months_before(now: &Timestamp, months: u32) -> Timestamp {
    let days = now.seconds.div_euclid(86_400);
    let time_of_day = now.seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + (month - 1) - i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let day = day.min(days_in_month(year, month));
    Timestamp {
        seconds: days_from_civil(year, month, day) * 86_400 + time_of_day,
        nanos: now.nanos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i64, month: i64, day: i64) -> Timestamp {
        Timestamp {
            seconds: days_from_civil(year, month, day) * 86_400 + 3_600,
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
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
