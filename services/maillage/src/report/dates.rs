//! Dates for reports: RFC 3339 in and out, French day and month labels, months of
//! instants. UTC throughout; no dependency on the clock.

use anyhow::anyhow;
use jiff::tz::TimeZone;
use prost_types::Timestamp;

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// The instant of a wire timestamp (the nearest jiff can hold beyond its years -9999 to 9999).
fn instant(timestamp: &Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::new(timestamp.seconds, timestamp.nanos).unwrap_or(if timestamp.seconds < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    })
}

/// `YYYY-MM` of an instant (seconds since the epoch).
pub fn month_of(seconds: i64) -> String {
    instant(&Timestamp { seconds, nanos: 0 })
        .strftime("%Y-%m")
        .to_string()
}

/// `mai 2026` for `2026-05` (the input itself if it is not a month).
pub fn month_label(month: &str) -> String {
    let parsed = month
        .split_once('-')
        .and_then(|(y, m)| Some((y, m.parse::<usize>().ok()?)));
    match parsed {
        Some((year, m)) if (1..=12).contains(&m) => format!("{} {year}", MONTHS[m - 1]),
        _ => month.to_owned(),
    }
}

/// Short month label for chart axes: `mai 26`.
pub fn month_short(month: &str) -> String {
    let parsed = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.get(2..)?, m.parse::<usize>().ok()?)));
    match parsed {
        Some((year, m)) if (1..=12).contains(&m) => {
            let name: String = MONTHS[m - 1].chars().take(4).collect();
            format!("{name} {year}")
        }
        _ => month.to_owned(),
    }
}

/// `16/10/2026` (UTC).
pub fn date_fr(timestamp: &Timestamp) -> String {
    instant(timestamp).strftime("%d/%m/%Y").to_string()
}

/// `2026-10-16T18:00:00Z`, with the fraction of a second when there is one.
pub fn rfc3339(timestamp: &Timestamp) -> String {
    instant(timestamp).to_string()
}

/// Parses an RFC 3339 instant (`2026-10-01T00:00:00Z`, `…+02:00`, fractions allowed),
/// or a bare date `2026-10-01` (midnight UTC).
pub fn parse_rfc3339(input: &str) -> anyhow::Result<Timestamp> {
    let text = input.trim();
    let parsed = match text.parse::<jiff::Timestamp>() {
        Ok(at) => Ok(at),
        Err(_) if text.len() == 10 => text
            .parse::<jiff::civil::Date>()
            .and_then(|date| date.to_zoned(TimeZone::UTC))
            .map(|zoned| zoned.timestamp()),
        Err(error) => Err(error),
    };
    let at = parsed.map_err(|_| {
        anyhow!("« {text} » n'est pas une date RFC 3339 (par exemple 2026-10-01T00:00:00Z)")
    })?;
    Ok(Timestamp {
        seconds: at.as_second(),
        nanos: at.subsec_nanosecond(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_labels() {
        let t = parse_rfc3339("2026-10-16T18:00:00Z").unwrap();
        assert_eq!(rfc3339(&t), "2026-10-16T18:00:00Z");
        assert_eq!(date_fr(&t), "16/10/2026");
        assert_eq!(month_of(t.seconds), "2026-10");
        assert_eq!(month_label("2026-05"), "mai 2026");
        assert_eq!(month_short("2026-02"), "févr 26");
        let offset = parse_rfc3339("2026-10-16T20:00:00.5+02:00").unwrap();
        assert_eq!((offset.seconds, offset.nanos), (t.seconds, 500_000_000));
        assert_eq!(
            parse_rfc3339("2026-10-16").unwrap().seconds,
            t.seconds - 18 * 3_600
        );
        assert!(parse_rfc3339("hier").is_err());
        assert!(parse_rfc3339("2026-13-01").is_err());
    }
}
