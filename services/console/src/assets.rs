//! The console's one stylesheet, compiled into the binary and served at
//! `/static/console.css` (no CDN, no external resource).

use axum::http::header;
use axum::response::IntoResponse;

/// The stylesheet.
const CSS: &str = include_str!("../assets/console.css");

/// `GET /static/console.css`.
pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}
