//! QR codes as inline SVG (the `qrcode` crate): the printed notice of an
//! open survey carries one of its public link, so an inhabitant reaches the
//! questionnaire by pointing a phone at the paper. Inline, so the page still
//! loads nothing but the console's own stylesheet.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `text` as an `<svg>` element hidden from assistive
/// technologies (the template wraps it in an element with `role="img"` and
/// its French text alternative), or `None` when `text` is too long for a QR
/// code.
pub(super) fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // The renderer writes a standalone document: keep its `<svg …>` element.
    let element = &image[image.find("<svg")?..];
    Some(element.replacen("<svg", "<svg aria-hidden=\"true\" focusable=\"false\"", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_becomes_an_inline_svg() {
        let link = "https://maillage.example.org/enquete/mobilite-2026";
        let image = svg(link).unwrap();
        assert!(image.starts_with("<svg aria-hidden=\"true\" focusable=\"false\""));
        assert!(image.ends_with("</svg>"));
        assert!(!image.contains("<?xml"));
        // The same text, the same picture; another text, another one.
        assert_eq!(image, svg(link).unwrap());
        assert_ne!(
            image,
            svg("https://maillage.example.org/enquete/autre").unwrap()
        );
        assert!(svg(&"x".repeat(10_000)).is_none());
    }
}
