//! Input checked once, at the edge, into values that cannot be wrong afterwards. Every problem
//! with a request is reported together, each under the field that caused it.

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Keeps the value when it is valid, records the problem under `field` when it is not.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn merge(&mut self, other: ValidationErrors) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Trimmed text of 1..=`max_chars` characters, without control characters other than line breaks
/// and tabs.
pub fn required_text(value: &str, max_chars: usize) -> Result<String, String> {
    // The limit counts what was sent, spaces around it included, as the contract's maxLength does.
    within(value, max_chars)?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    bounded_text(trimmed, max_chars)
}

fn within(value: &str, max_chars: usize) -> Result<(), String> {
    let count = value.chars().count();
    if count > max_chars {
        return Err(format!(
            "must be at most {max_chars} characters, got {count}"
        ));
    }
    Ok(())
}

/// Like [`required_text`], but blank text means "not given".
pub fn optional_text(value: Option<&str>, max_chars: usize) -> Result<Option<String>, String> {
    if let Some(value) = value {
        within(value, max_chars)?;
    }
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => bounded_text(text, max_chars).map(Some),
    }
}

/// Like [`required_text`], on one line: no line breaks and no tabs (names, titles, addresses).
pub fn single_line(value: &str, max_chars: usize) -> Result<String, String> {
    let text = required_text(value, max_chars)?;
    one_line(&text)?;
    Ok(text)
}

/// Like [`optional_text`], on one line.
pub fn optional_single_line(
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, String> {
    let text = optional_text(value, max_chars)?;
    if let Some(text) = &text {
        one_line(text)?;
    }
    Ok(text)
}

fn one_line(text: &str) -> Result<(), String> {
    if text.contains(['\n', '\r', '\t']) {
        return Err("must be a single line".into());
    }
    Ok(())
}

fn bounded_text(text: &str, max_chars: usize) -> Result<String, String> {
    within(text, max_chars)?;
    if has_control_characters(text) {
        return Err(CONTROL_CHARACTERS.into());
    }
    Ok(text.to_owned())
}

pub const CONTROL_CHARACTERS: &str = "must not contain control characters";

/// Whether text holds a control character other than a tab or a line break: nothing a person
/// types, and a NUL that PostgreSQL cannot even store.
pub fn has_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Deserializes a field that may be absent (`None`), `null` (`Some(None)`) or a value
/// (`Some(Some(v))`), so that an edit can tell "leave it" from "clear it".
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Deserializes a field that may be left out (`None`) or given a value (`Some(v)`), but not set
/// to `null`: an edit of something that cannot be empty must not read `null` as "leave it".
/// Use with `#[serde(default, deserialize_with = "not_null")]`.
pub fn not_null<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_bounds() {
        assert_eq!(required_text("  路灯不亮 ", 10).unwrap(), "路灯不亮");
        assert_eq!(required_text("   ", 10).unwrap_err(), "must not be empty");
        assert!(
            required_text("一二三四五六", 5)
                .unwrap_err()
                .contains("at most 5")
        );
        assert!(required_text("a\u{0}b", 5).is_err());
        assert_eq!(
            required_text("第一行\n第二行", 20).unwrap(),
            "第一行\n第二行"
        );
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(optional_text(None, 5).unwrap(), None);
        assert_eq!(optional_text(Some("  "), 5).unwrap(), None);
        assert_eq!(optional_text(Some(" x "), 5).unwrap(), Some("x".into()));
        assert!(optional_text(Some("toolong"), 3).is_err());
        assert!(
            required_text(" ab ", 3).is_err(),
            "the spaces around count towards the limit"
        );
    }

    #[test]
    fn errors_accumulate_in_order() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<i32>("b", Err("bad".into())), None);
        errors.add("c", "worse");
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["b", "c"]);
        assert!(errors.finish().is_err());
        assert!(ValidationErrors::new().finish().is_ok());
    }

    #[test]
    fn not_null_refuses_null_and_keeps_absent() {
        #[derive(Debug, Deserialize)]
        struct Edit {
            #[serde(default, deserialize_with = "not_null")]
            title: Option<String>,
        }
        assert_eq!(serde_json::from_str::<Edit>("{}").unwrap().title, None);
        assert_eq!(
            serde_json::from_str::<Edit>(r#"{"title":"x"}"#)
                .unwrap()
                .title,
            Some("x".into())
        );
        assert!(serde_json::from_str::<Edit>(r#"{"title":null}"#).is_err());
    }

    #[test]
    fn nullable_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Edit {
            #[serde(default, deserialize_with = "nullable")]
            address: Option<Option<String>>,
        }
        let absent: Edit = serde_json::from_str("{}").unwrap();
        let null: Edit = serde_json::from_str(r#"{"address":null}"#).unwrap();
        let set: Edit = serde_json::from_str(r#"{"address":"x"}"#).unwrap();
        assert_eq!(absent.address, None);
        assert_eq!(null.address, Some(None));
        assert_eq!(set.address, Some(Some("x".into())));
    }
}
