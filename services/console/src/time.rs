//! Dates as the pages show and take them: UTC, French order.

use std::time::SystemTime;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// `07/12/2026 14:30` (UTC); empty when unset.
pub(crate) fn show(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|at| Timestamp::new(at.seconds, 0).ok())
        .map(|at| at.strftime("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// `07/12/2026` (UTC); empty when unset.
pub(crate) fn show_date(at: Option<&prost_types::Timestamp>) -> String {
    at.and_then(|at| Timestamp::new(at.seconds, 0).ok())
        .map(|at| at.strftime("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// The start (00:00 UTC) of a `YYYY-MM-DD` date.
pub(crate) fn day_start(text: &str) -> Option<prost_types::Timestamp> {
    let date: Date = text.parse().ok()?;
    let at = date.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(prost_types::Timestamp::from(SystemTime::from(at)))
}

/// The end of a `YYYY-MM-DD` date: the start of the next day (an as-of date
/// includes the whole day).
pub(crate) fn day_end(text: &str) -> Option<prost_types::Timestamp> {
    let date: Date = text.parse().ok()?;
    let at = date
        .tomorrow()
        .ok()?
        .to_zoned(TimeZone::UTC)
        .ok()?
        .timestamp();
    Some(prost_types::Timestamp::from(SystemTime::from(at)))
}

/// A `YYYY-MM-DDTHH:MM` (a `datetime-local` input), read as UTC.
pub(crate) fn date_time(text: &str) -> Option<prost_types::Timestamp> {
    let at: DateTime = text.parse().ok()?;
    let at = at.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(prost_types::Timestamp::from(SystemTime::from(at)))
}

/// Now, as a `datetime-local` value (UTC, to the minute).
pub(crate) fn now_input(now: SystemTime) -> String {
    Timestamp::try_from(now)
        .map(|at| at.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}
