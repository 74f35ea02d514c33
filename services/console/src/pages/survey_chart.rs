//! A survey question's counts as a horizontal bar chart: the bars laid out
//! here, drawn by the `survey_chart.svg` template the results page includes
//! (presentation attributes only: the console's CSP allows no inline style).

/// Width of the drawing, in SVG units.
const WIDTH: f64 = 640.0;
/// Room for the labels, left of the bars.
const LABEL_WIDTH: f64 = 220.0;
/// Room for the count, right of the longest bar.
const VALUE_WIDTH: f64 = 60.0;
/// Height of a bar and the gap below it.
const BAR: f64 = 18.0;
const GAP: f64 = 8.0;
/// Longest label shown in full (longer ones are cut, the table has them).
const MAX_LABEL: usize = 32;

/// One bar, placed.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: String,
    pub(crate) y: String,
    pub(crate) text_y: String,
    pub(crate) length: String,
    pub(crate) value_x: String,
}

/// A chart: its accessible name and its bars.
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) width: String,
    pub(crate) height: String,
    pub(crate) label_x: String,
    pub(crate) bar_x: String,
    pub(crate) bars: Vec<Bar>,
}

impl Chart {
    /// `counts` as (label, count), each bar's length proportional to its
    /// count; `None` when there is nothing to draw.
    pub(crate) fn of(title: String, counts: &[(String, u64)]) -> Option<Self> {
        if counts.is_empty() {
            return None;
        }
        let most = counts
            .iter()
            .map(|(_, count)| *count)
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let room = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        let bars = counts
            .iter()
            .enumerate()
            .map(|(index, (label, count))| {
                let y = GAP + index as f64 * (BAR + GAP);
                let length = room * *count as f64 / most;
                let label = if label.chars().count() > MAX_LABEL {
                    format!("{}…", label.chars().take(MAX_LABEL - 1).collect::<String>())
                } else {
                    label.clone()
                };
                Bar {
                    label,
                    value: crate::labels::count(*count),
                    y: format!("{y:.1}"),
                    text_y: format!("{:.1}", y + BAR - 4.0),
                    length: format!("{length:.1}"),
                    value_x: format!("{:.1}", LABEL_WIDTH + length + 6.0),
                }
            })
            .collect();
        Some(Self {
            title,
            width: format!("{WIDTH:.0}"),
            height: format!("{:.0}", GAP + counts.len() as f64 * (BAR + GAP)),
            label_x: format!("{:.0}", LABEL_WIDTH - 8.0),
            bar_x: format!("{LABEL_WIDTH:.0}"),
            bars,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_to_their_counts_and_long_labels_cut() {
        let chart = Chart::of(
            "Q".into(),
            &[("Oui".into(), 4), ("Non".into(), 2), ("x".repeat(40), 0)],
        )
        .unwrap();
        let lengths: Vec<&str> = chart.bars.iter().map(|bar| bar.length.as_str()).collect();
        assert_eq!(lengths, ["360.0", "180.0", "0.0"]);
        assert_eq!(chart.bars[2].label.chars().count(), MAX_LABEL);
        assert_eq!(chart.height, "86");
        assert!(Chart::of("Q".into(), &[]).is_none());
    }
}
