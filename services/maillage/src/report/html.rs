//! The HTML page's shell: escaping of every inserted text, the inline stylesheet, the
//! few lines of inline script that sort the communes table, and the page assembly.
//! Nothing is fetched from the network: the file works offline.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --accent: #1f6f8b; --accent2: #e07a2f; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); margin: 0; background: #f6f7f9; }
header { background: #17425a; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 2px 0; color: #d5e3ec; }
main { padding: 16px 40px 40px; max-width: 1200px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
h2 { font-size: 19px; margin: 0 0 12px; color: #17425a; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fbfcfd; }
.card .value { font-size: 24px; font-weight: 700; color: var(--accent); }
.card .label { font-size: 13px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; background: #eef2f6; }
table.sortable th::after { content: " ↕"; color: #9aa5b1; }
tr.niveau-0 { background: #ffffff; }
tr.niveau-0 td:first-child { border-left: 4px solid #c0392b; }
tr.niveau-1 { background: #e8f3f7; }
tr.niveau-2 { background: #c7e3ee; }
tr.niveau-3 { background: #9dcde0; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; border-radius: 4px; font-size: 12px; border: 1px solid var(--line); }
.tag { display: inline-block; padding: 1px 6px; border-radius: 4px; font-size: 12px; background: #eef2f6; }
.tag.late { background: #fbe3d6; color: #a04000; }
.tag.ok { background: #dff3e4; color: #1e7b3a; }
.tag.ko { background: #f8dcdc; color: #a52a2a; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.muted { color: var(--muted); font-size: 13px; }
svg text { font-family: inherit; }
ul.zones { columns: 3; }
footer { color: var(--muted); font-size: 12px; padding: 0 40px 30px; }
"#;

const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = th.getAttribute('data-order') !== 'asc';
      var numeric = th.classList.contains('n');
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-v'), y = b.cells[column].getAttribute('data-v');
        var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, 'fr');
        return ascending ? c : -c;
      });
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
      th.setAttribute('data-order', ascending ? 'asc' : 'desc');
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"#;

/// The whole page around its sections (already HTML).
pub fn page(title: &str, subtitle: &[String], sections: &[String], footer: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(title)));
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<header>\n"
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(title)));
    for line in subtitle {
        out.push_str(&format!("<p>{}</p>\n", escape(line)));
    }
    out.push_str("</header>\n<main>\n");
    for section in sections {
        out.push_str(section);
        out.push('\n');
    }
    out.push_str("</main>\n");
    out.push_str(&format!("<footer>{}</footer>\n", escape(footer)));
    out.push_str(&format!("<script>{SCRIPT}</script>\n</body>\n</html>\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
