//! Errors of the YAML parser, worded for someone writing a scenario: read
//! from the parser's typed error (never from its message text), with the
//! closest valid word for an unknown one, and none of the parser's advice
//! about its own options.

use serde_saphyr::{Error, Location, MessageFormatter, UserMessageFormatter};

use super::{suggest::did_you_mean, LoadError, Position};

/// The [`LoadError`] for a YAML error in `text`.
pub(super) fn error(file: &str, text: &str, error: &Error) -> LoadError {
    let error = unwrapped(error);
    let position = error
        .location()
        .filter(|l| *l != Location::UNKNOWN)
        .map(|l| Position {
            line: l.line(),
            column: l.column(),
        });
    let (message, help) = match error {
        Error::InvalidScalar { ty, .. } => {
            // "invalid u32" → "expected a whole number, found `-1`".
            let wanted = match *ty {
                "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number",
                "i8" | "i16" | "i32" | "i64" => "an integer",
                "floating point" | "f32" | "f64" => "a number",
                "bool" | "boolean" => "true or false",
                other => other,
            };
            let found = position.and_then(|p| token_at(text, p));
            let message = match found {
                Some(token) => format!("expected {wanted}, found `{token}`"),
                None => format!("expected {wanted}"),
            };
            (message, None)
        }
        Error::SerdeUnknownField {
            field, expected, ..
        } => (
            format!(
                "unknown field `{field}`, expected one of {}",
                expected.join(", ")
            ),
            did_you_mean(field, expected.iter().copied()),
        ),
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            format!(
                "unknown variant `{variant}`, expected one of {}",
                expected.join(", ")
            ),
            did_you_mean(variant, expected.iter().copied()),
        ),
        Error::DuplicateMappingKey { key, .. } => (
            match key {
                Some(key) => format!("duplicate mapping key `{key}`: a key may appear once"),
                None => "duplicate mapping key: a key may appear once".to_owned(),
            },
            Some("keep one of the two entries".to_owned()),
        ),
        other => (
            UserMessageFormatter.format_message(other).into_owned(),
            None,
        ),
    };
    LoadError {
        file: file.to_owned(),
        position,
        message: single_line(message),
        help,
        source_line: None,
    }
}

/// The error inside the parser's snippet and alias wrappers.
fn unwrapped(error: &Error) -> &Error {
    match error {
        Error::WithSnippet { error, .. } => unwrapped(error),
        other => other,
    }
}

/// Messages are shown after a location on one line.
fn single_line(message: String) -> String {
    message
        .lines()
        .next()
        .map_or_else(String::new, |line| line.trim().to_owned())
}

/// The scalar starting at `position` of `text`.
fn token_at(text: &str, position: Position) -> Option<String> {
    let line = text
        .lines()
        .nth(usize::try_from(position.line).ok()?.checked_sub(1)?)?;
    let start = usize::try_from(position.column).ok()?.checked_sub(1)?;
    let rest: String = line.chars().skip(start).collect();
    let token: String = rest
        .chars()
        .take_while(|c| !matches!(c, ',' | '}' | ']' | '#'))
        .collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.chars().take(40).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_error(text: &str) -> LoadError {
        let parsed: Result<super::super::ScenarioFile, _> = serde_saphyr::from_str(text);
        match parsed {
            Err(e) => error("t.yaml", text, &e),
            Ok(_) => panic!("{text} parsed"),
        }
    }

    #[test]
    fn an_unknown_field_gets_the_closest_one() {
        let e = load_error("name: a\nabout: b\nnodse: {}\nsteps: []\n");
        assert!(e.message.starts_with("unknown field `nodse`"), "{e}");
        assert_eq!(e.help.as_deref(), Some("did you mean `nodes`?"));
    }

    #[test]
    fn a_duplicate_key_gets_no_advice_about_parser_options() {
        let e = load_error("name: a\nname: b\n");
        assert!(e.message.contains("duplicate mapping key"), "{e}");
        assert!(!e.to_string().contains("DuplicateKeyPolicy"), "{e}");
    }

    #[test]
    fn a_bad_number_names_what_was_expected_and_found() {
        let e = load_error("name: a\nabout: b\nseed: -1\nnodes: {}\nsteps: []\n");
        assert_eq!(e.message, "expected a whole number, found `-1`");
    }
}
