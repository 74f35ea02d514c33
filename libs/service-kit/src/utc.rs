//! UTC instants as the tokens file writes them: RFC 3339 to the second
//! (`2027-06-30T00:00:00Z`); a bare date (`2027-06-30`, midnight UTC) is read
//! too, for files edited by hand.

use std::time::SystemTime;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// `2027-06-30T00:00:00Z` (whole seconds, UTC).
pub fn format(at: SystemTime) -> String {
    let at = Timestamp::try_from(at).unwrap_or(if at < SystemTime::UNIX_EPOCH {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads what [`format()`] writes (any RFC 3339 instant in UTC, `Z`), or a bare
/// date; `None` for anything else.
pub fn parse(text: &str) -> Option<SystemTime> {
    let at = if text.contains('T') {
        if !text.ends_with('Z') {
            return None;
        }
        text.parse::<Timestamp>().ok()?
    } else {
        let date: Date = text.parse().ok()?;
        date.to_zoned(TimeZone::UTC).ok()?.timestamp()
    };
    Some(SystemTime::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

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
