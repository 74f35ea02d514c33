//! Inline SVG charts: horizontal bars (themes, audiences, survey answers), the monthly
//! series of contacts and actions, and progress bars. Every label is escaped.

use super::data::MonthFigures;
use super::dates::{month_label, month_short};
use super::html::escape;

const ACCENT: &str = "#1f6f8b";
const ACCENT2: &str = "#e07a2f";

/// One bar: its label, its value (the bar's length) and the text shown after it.
pub struct Bar {
    /// What the bar stands for, shown before it (escaped when drawn).
    pub label: String,
    /// Its value, in the chart's unit: the bar's length is this over the chart's maximum.
    pub value: f64,
    /// The text shown after the bar (e.g. the count and share).
    pub text: String,
}

/// A horizontal bar chart; `max` scales the bars (the largest value when None).
pub fn hbars(bars: &[Bar], max: Option<f64>, color: &str, title: &str) -> String {
    if bars.is_empty() {
        return "<p class=\"muted\">Aucune donnée.</p>".to_owned();
    }
    let label_width = 230.0;
    let bar_space = 240.0;
    let row = 24.0;
    let height = row * bars.len() as f64 + 6.0;
    let width = label_width + bar_space + 170.0;
    let largest = max.unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max));
    let mut out = format!(
        "<svg role=\"img\" aria-label=\"{}\" width=\"100%\" style=\"max-width:{width}px\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    for (index, bar) in bars.iter().enumerate() {
        let y = index as f64 * row + 3.0;
        let length = if largest > 0.0 {
            bar.value / largest * bar_space
        } else {
            0.0
        };
        out.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1d2733\">{}</text>",
            label_width - 8.0,
            y + 14.0,
            escape(&bar.label)
        ));
        out.push_str(&format!(
            "<rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"18\" rx=\"2\" fill=\"{color}\"><title>{}</title></rect>",
            escape(&format!("{} : {}", bar.label, bar.text))
        ));
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d2733\">{}</text>",
            label_width + length + 6.0,
            y + 14.0,
            escape(&bar.text)
        ));
    }
    out.push_str("</svg>");
    out
}

/// Contacts and actions by month: grouped vertical bars.
pub fn months(months: &[MonthFigures]) -> String {
    if months.is_empty() {
        return "<p class=\"muted\">Aucun contact ni action sur la période.</p>".to_owned();
    }
    let group = 64.0;
    let left = 40.0;
    let top = 28.0;
    let plot = 200.0;
    let width = left + group * months.len() as f64 + 20.0;
    let height = top + plot + 40.0;
    let largest = months
        .iter()
        .map(|m| m.contacts.max(m.actions))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut out = format!(
        "<svg role=\"img\" aria-label=\"Contacts et actions par mois\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    out.push_str(&format!(
        "<rect x=\"{left}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{ACCENT}\"/><text x=\"{}\" y=\"16\" font-size=\"12\">Contacts</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{ACCENT2}\"/><text x=\"{}\" y=\"16\" font-size=\"12\">Actions tenues</text>",
        left + 16.0,
        left + 90.0,
        left + 106.0
    ));
    out.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#9aa5b1\"/>",
        top + plot,
        width - 10.0,
        top + plot
    ));
    out.push_str(&format!(
        "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6776\">{}</text>",
        left - 4.0,
        top + 4.0,
        largest as u64
    ));
    for (index, month) in months.iter().enumerate() {
        let x = left + index as f64 * group + 8.0;
        for (offset, value, color, what) in [
            (0.0, month.contacts, ACCENT, "contacts"),
            (24.0, month.actions, ACCENT2, "actions tenues"),
        ] {
            let bar = value as f64 / largest * plot;
            let y = top + plot - bar;
            out.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"22\" height=\"{bar:.1}\" fill=\"{color}\"><title>{}</title></rect>",
                x + offset,
                escape(&format!("{} : {value} {what}", month_label(&month.month)))
            ));
            if value > 0 {
                out.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{value}</text>",
                    x + offset + 11.0,
                    y - 3.0
                ));
            }
        }
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1d2733\">{}</text>",
            x + 23.0,
            top + plot + 16.0,
            escape(&month_short(&month.month))
        ));
    }
    out.push_str("</svg>");
    out
}

/// A progress bar for a percentage (0 to 100).
pub fn progress(percent: u32) -> String {
    let percent = percent.min(100);
    let filled = f64::from(percent) * 1.6;
    format!(
        "<svg width=\"200\" height=\"14\" viewBox=\"0 0 200 14\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{percent} %\">\
         <rect x=\"0\" y=\"1\" width=\"160\" height=\"12\" rx=\"3\" fill=\"#e3e8ee\"/>\
         <rect x=\"0\" y=\"1\" width=\"{filled:.1}\" height=\"12\" rx=\"3\" fill=\"{ACCENT}\"/>\
         <text x=\"166\" y=\"11\" font-size=\"11\">{percent} %</text></svg>"
    )
}

/// The default bar colour.
pub const BAR: &str = ACCENT;
/// The second colour.
pub const BAR2: &str = ACCENT2;
