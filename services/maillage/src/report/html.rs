//! The HTML page's shell (`templates/report/page.html`): the inline stylesheet, the
//! few lines of inline script that sort the communes table, and the sections, each
//! already rendered by its own template. Nothing is fetched from the network: the
//! file works offline.

use askama::Template;

use super::data::LogSource;

/// The whole page around its sections.
#[derive(Template)]
#[template(path = "report/page.html")]
pub struct Page<'a> {
    /// The page's title, also its heading.
    pub title: &'a str,
    /// The lines under the heading.
    pub subtitle: &'a [String],
    /// The sections, each the output of its own template (escaped there).
    pub sections: &'a [String],
    /// The closing line.
    pub footer: &'a str,
    /// What `maillage verify-report` needs to recompute the page: the territory
    /// (`level:code`), the instant replayed, the earlier instant of `--diff`, and
    /// where each log stood.
    pub provenance: Provenance<'a>,
}

/// What a report was computed from, written in the page (`<meta>` elements and
/// the footer) so that `maillage verify-report` can recompute it.
pub struct Provenance<'a> {
    /// The territory, `level:code`.
    pub scope: &'a str,
    /// The instant replayed (RFC 3339); None: live.
    pub as_of: Option<&'a str>,
    /// The earlier instant the report is compared with (`--diff --from`).
    pub diff_from: Option<&'a str>,
    /// Where each log stood.
    pub sources: &'a [LogSource],
}
