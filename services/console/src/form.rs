//! Submitted forms and query strings as name/value pairs (a name may repeat:
//! checkboxes, several participants).

/// The pairs of an `application/x-www-form-urlencoded` body or query string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses `bytes`.
    pub(crate) fn parse(bytes: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(bytes)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub(crate) fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` as typed (not trimmed: notes keep their lines).
    pub(crate) fn raw(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    /// The non-empty lines of the textarea `name`, trimmed, in order (one
    /// statement per line).
    pub(crate) fn lines(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every pair, in order.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Every non-empty value of `name`, trimmed, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    }
}
