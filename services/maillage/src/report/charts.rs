//! Inline SVG charts: horizontal bars (themes, audiences, survey answers), the monthly
//! series of contacts and actions, and progress bars. Each chart is an askama template
//! (`templates/report/*.svg`): this file computes the geometry, the template writes
//! the markup and escapes every label.

use askama::Template;

use super::data::MonthFigures;
use super::dates::{month_label, month_short};

const ACCENT: &str = "#1f6f8b";
const ACCENT2: &str = "#e07a2f";

/// The default bar colour.
pub const BAR: &str = ACCENT;
/// The second colour.
pub const BAR2: &str = ACCENT2;

/// One bar: its label, its value (the bar's length) and the text shown after it.
pub struct Bar {
    /// What the bar stands for, shown before it.
    pub label: String,
    /// Its value, in the chart's unit: the bar's length is this over the chart's maximum.
    pub value: f64,
    /// The text shown after the bar (e.g. the count and share).
    pub text: String,
}

/// A bar placed on the chart.
pub struct PlacedBar {
    bar: Bar,
    /// Top of the bar.
    y: f64,
    /// Its length.
    length: f64,
}

/// A horizontal bar chart (`templates/report/hbars.svg`).
#[derive(Template)]
#[template(path = "report/hbars.svg")]
pub struct HBars {
    title: String,
    color: &'static str,
    bars: Vec<PlacedBar>,
    label_width: f64,
    width: f64,
    height: f64,
}

/// A horizontal bar chart; `max` scales the bars (the largest value when None).
pub fn hbars(bars: Vec<Bar>, max: Option<f64>, color: &'static str, title: &str) -> HBars {
    let label_width = 230.0;
    let bar_space = 240.0;
    let row = 24.0;
    let largest = max.unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let height = row * bars.len() as f64 + 6.0;
    let bars = bars
        .into_iter()
        .enumerate()
        .map(|(index, bar)| PlacedBar {
            y: index as f64 * row + 3.0,
            length: if largest > 0.0 {
                bar.value / largest * bar_space
            } else {
                0.0
            },
            bar,
        })
        .collect();
    HBars {
        title: title.to_owned(),
        color,
        bars,
        label_width,
        width: label_width + bar_space + 170.0,
        height,
    }
}

/// One bar of a month: its place, height, value and tooltip.
pub struct MonthBar {
    x: f64,
    y: f64,
    height: f64,
    value: u64,
    color: &'static str,
    tooltip: String,
}

/// One month on the chart: its two bars and its short label.
pub struct MonthColumn {
    bars: [MonthBar; 2],
    label_x: f64,
    label: String,
}

/// Contacts and actions by month: grouped vertical bars (`templates/report/months.svg`).
#[derive(Template)]
#[template(path = "report/months.svg")]
pub struct Months {
    columns: Vec<MonthColumn>,
    left: f64,
    top: f64,
    plot: f64,
    width: f64,
    height: f64,
    largest: u64,
    contacts_color: &'static str,
    actions_color: &'static str,
}

/// The chart of contacts and actions by month.
pub fn months(months: &[MonthFigures]) -> Months {
    let group = 64.0;
    let left = 40.0;
    let top = 28.0;
    let plot = 200.0;
    let largest = months
        .iter()
        .map(|m| m.contacts.max(m.actions))
        .max()
        .unwrap_or(1)
        .max(1);
    let bar = |x: f64, value: u64, color: &'static str, what: &str, month: &str| {
        let height = value as f64 / largest as f64 * plot;
        MonthBar {
            x,
            y: top + plot - height,
            height,
            value,
            color,
            tooltip: format!("{} : {value} {what}", month_label(month)),
        }
    };
    let columns = months
        .iter()
        .enumerate()
        .map(|(index, month)| {
            let x = left + index as f64 * group + 8.0;
            MonthColumn {
                bars: [
                    bar(x, month.contacts, ACCENT, "contacts", &month.month),
                    bar(
                        x + 24.0,
                        month.actions,
                        ACCENT2,
                        "actions tenues",
                        &month.month,
                    ),
                ],
                label_x: x + 23.0,
                label: month_short(&month.month),
            }
        })
        .collect();
    Months {
        columns,
        left,
        top,
        plot,
        width: left + group * months.len() as f64 + 20.0,
        height: top + plot + 40.0,
        largest,
        contacts_color: ACCENT,
        actions_color: ACCENT2,
    }
}

/// A progress bar for a percentage (`templates/report/progress.svg`).
#[derive(Template)]
#[template(path = "report/progress.svg")]
pub struct Progress {
    percent: u32,
    filled: f64,
    color: &'static str,
}

/// A progress bar for a percentage (0 to 100).
pub fn progress(percent: u32) -> Progress {
    let percent = percent.min(100);
    Progress {
        percent,
        filled: f64::from(percent) * 1.6,
        color: ACCENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_labels_are_escaped_and_scaled_to_the_largest() {
        let chart = hbars(
            vec![
                Bar {
                    label: "<b>\"A\" & 'B'</b>".into(),
                    value: 2.0,
                    text: "2".into(),
                },
                Bar {
                    label: "C".into(),
                    value: 1.0,
                    text: "1".into(),
                },
            ],
            None,
            BAR,
            "Titre <i>",
        )
        .render()
        .unwrap();
        assert!(
            chart.contains("&#60;b&#62;&#34;A&#34; &#38; &#39;B&#39;&#60;/b&#62;"),
            "{chart}"
        );
        assert!(
            chart.contains("aria-label=\"Titre &#60;i&#62;\""),
            "{chart}"
        );
        assert!(!chart.contains("<b>"));
        assert!(chart.contains("width=\"240.0\""), "{chart}");
        assert!(chart.contains("width=\"120.0\""), "{chart}");
    }

    #[test]
    fn an_empty_chart_says_so() {
        let chart = hbars(Vec::new(), None, BAR, "t").render().unwrap();
        assert_eq!(chart.trim(), "<p class=\"muted\">Aucune donnée.</p>");
        let chart = months(&[]).render().unwrap();
        assert_eq!(
            chart.trim(),
            "<p class=\"muted\">Aucun contact ni action sur la période.</p>"
        );
    }

    #[test]
    fn progress_is_capped_at_a_hundred() {
        let bar = progress(250).render().unwrap();
        assert!(bar.contains("aria-label=\"100 %\""));
        assert!(bar.contains("width=\"160.0\""));
    }
}
