//! Parses a scenario file and validates it into a [`Plan`]. Every error names
//! the file, line and column, says what was expected, and suggests the
//! closest valid word where there is one.
//!
//! [`syntax`] turns the YAML parser's errors into [`LoadError`]s;
//! [`validate`] checks the header, network and nodes; [`steps`] and
//! [`checks`] turn each step, expectation and `never` pattern into the plan's
//! typed values; [`suggest`] finds the word a typo meant; [`diagnostic`]
//! shows an error as a code frame on a terminal and as one compact line
//! elsewhere.

mod checks;
pub mod diagnostic;
mod steps;
pub mod suggest;
mod syntax;
mod validate;

use std::{path::Path, time::Duration};

pub use diagnostic::{LoadError, Position};

use super::{model::ScenarioFile, plan::Plan};

/// Most copies of one repeated send or broadcast.
pub const MAX_REPEAT: u32 = 10_000;
/// Largest `payload_size` of a send: 64 MiB, four times the default frame limit.
pub const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Default message latency of a scenario's network.
pub const DEFAULT_LATENCY: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_millis(20));

/// Reads and validates the scenario at `path`.
pub fn load_file(path: &Path) -> Result<Plan, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| LoadError {
        file: file.clone(),
        position: None,
        message: format!("cannot read the file: {e}"),
        help: None,
        source_line: None,
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]);
        let line = valid.matches('\n').count() as u64 + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        LoadError {
            file: file.clone(),
            position: Some(Position { line, column }),
            message: format!("the file is not UTF-8 text (invalid byte at offset {offset})"),
            help: None,
            source_line: None,
        }
    })?;
    load_str(&text, &file)
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn load_str(text: &str, file: &str) -> Result<Plan, LoadError> {
    parse_str(text, file)
        .and_then(|raw| validate::Validator::new(file).plan(raw))
        .map_err(|error| error.with_source(text))
}

/// Parses scenario text into the file model without validating it (what a
/// tool that edits or generates scenarios works on).
pub fn parse_str(text: &str, file: &str) -> Result<ScenarioFile, LoadError> {
    let blank = text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
    if blank {
        return Err(LoadError {
            file: file.to_owned(),
            position: Some(Position { line: 1, column: 1 }),
            message: "the file is empty; a scenario needs `name`, `about`, `nodes` and `steps`"
                .into(),
            help: None,
            source_line: None,
        });
    }
    serde_saphyr::from_str(text).map_err(|e| syntax::error(file, text, &e))
}

/// The JSON Schema of scenario files, for editors (`simnet schema`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Every action keyword a step can hold, in the order the file model lists
/// them: read off [`super::model::StepSpec`]'s fields, so the list exists once.
pub fn action_keywords() -> Vec<String> {
    let schema = schemars::schema_for!(super::model::StepSpec);
    schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().filter(|k| *k != "at").cloned().collect())
        .unwrap_or_default()
}
