//! UTC instants as the tokens file writes them: RFC 3339 to the second
//! (`2027-06-30T00:00:00Z`); a bare date (`2027-06-30`, midnight UTC) is read
//! too, for files edited by hand.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2027-06-30T00:00:00Z` (whole seconds, UTC).
pub fn format(at: SystemTime) -> String {
    let seconds = match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    };
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let in_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60
    )
}

/// Reads what [`format`] writes, or a bare date; `None` for anything else.
pub fn parse(text: &str) -> Option<SystemTime> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z')?)),
        None => (text, None),
    };
    let [year, month, day] = fields::<3>(date, '-')?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year > 9_999 {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    if let Some(time) = time {
        let [hour, minute, second] = fields::<3>(time, ':')?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        seconds += hour * 3_600 + minute * 60 + second;
    }
    let seconds = u64::try_from(seconds).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

/// `N` numbers of ASCII digits separated by `separator`.
fn fields<const N: usize>(text: &str, separator: char) -> Option<[i64; N]> {
    let mut out = [0; N];
    let mut parts = text.split(separator);
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// Year, month, day of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Days since 1970-01-01 of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_dates() {
        let at = UNIX_EPOCH + Duration::from_secs(1_814_313_600); // 2027-06-30T00:00:00Z
        assert_eq!(format(at), "2027-06-30T00:00:00Z");
        assert_eq!(parse("2027-06-30T00:00:00Z"), Some(at));
        assert_eq!(parse("2027-06-30"), Some(at));
        let later = at + Duration::from_secs(13 * 3_600 + 5 * 60 + 9);
        assert_eq!(format(later), "2027-06-30T13:05:09Z");
        assert_eq!(parse(&format(later)), Some(later));
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse("2024-02-29"),
            Some(UNIX_EPOCH + Duration::from_secs(1_709_164_800))
        );
        for bad in [
            "",
            "2027-13-01",
            "2027-06-30T25:00:00Z",
            "2027-06-30T00:00:00",
            "2027-06-30T00:00:00+02:00",
            "30/06/2027",
            "2027-06-30-01",
            "+2027-06-30",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
