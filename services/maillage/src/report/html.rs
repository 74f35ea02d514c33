//! The HTML page's shell (`templates/report/page.html`): the inline stylesheet, the
//! few lines of inline script that sort the communes table, and the sections, each
//! already rendered by its own template. Nothing is fetched from the network: the
//! file works offline.

use askama::Template;

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
}
