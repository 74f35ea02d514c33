//! Dates for reports: RFC 3339 in and out, French day and month labels, months of
//! instants. UTC throughout; no dependency on the clock.

use anyhow::{bail, Context};
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

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
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
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `YYYY-MM` of an instant (seconds since the epoch).
pub fn month_of(seconds: i64) -> String {
    let (year, month, _) = civil_from_days(seconds.div_euclid(86_400));
    format!("{year:04}-{month:02}")
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
    let (year, month, day) = civil_from_days(timestamp.seconds.div_euclid(86_400));
    format!("{day:02}/{month:02}/{year:04}")
}

/// `2026-10-16T18:00:00Z` (whole seconds).
pub fn rfc3339(timestamp: &Timestamp) -> String {
    let days = timestamp.seconds.div_euclid(86_400);
    let rest = timestamp.seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let nanos = if timestamp.nanos > 0 {
        format!(".{:09}", timestamp.nanos)
            .trim_end_matches('0')
            .to_owned()
    } else {
        String::new()
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{nanos}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn number(text: &str, what: &str) -> anyhow::Result<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{what} invalide");
    }
    text.parse().with_context(|| format!("{what} invalide"))
}

/// Parses an RFC 3339 instant (`2026-10-01T00:00:00Z`, `…+02:00`, fractions allowed),
/// or a bare date `2026-10-01` (midnight UTC).
pub fn parse_rfc3339(input: &str) -> anyhow::Result<Timestamp> {
    let text = input.trim();
    let fail =
        || format!("« {text} » n'est pas une date RFC 3339 (par exemple 2026-10-01T00:00:00Z)");
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        bail!(fail());
    };
    let (year, month, day) = (
        number(year, "année").with_context(fail)?,
        number(month, "mois").with_context(fail)?,
        number(day, "jour").with_context(fail)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        bail!(fail());
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0;
    if let Some(time) = time {
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else {
            let split = time.rfind(['+', '-']).with_context(fail)?;
            let (clock, zone) = time.split_at(split);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = zone[1..].split_once(':').with_context(fail)?;
            (
                clock,
                sign * (number(hours, "fuseau")? * 3_600 + number(minutes, "fuseau")? * 60),
            )
        };
        let (clock, fraction) = clock.split_once('.').unwrap_or((clock, ""));
        let fields: Vec<&str> = clock.split(':').collect();
        let [hour, minute, second] = fields.as_slice() else {
            bail!(fail());
        };
        let (hour, minute, second) = (
            number(hour, "heure").with_context(fail)?,
            number(minute, "minute").with_context(fail)?,
            number(second, "seconde").with_context(fail)?,
        );
        if hour > 23 || minute > 59 || second > 60 {
            bail!(fail());
        }
        if !fraction.is_empty() {
            let digits: String = fraction
                .chars()
                .chain(std::iter::repeat('0'))
                .take(9)
                .collect();
            nanos = number(&digits, "fraction de seconde").with_context(fail)? as i32;
        }
        seconds += hour * 3_600 + minute * 60 + second - offset;
    }
    Ok(Timestamp { seconds, nanos })
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
