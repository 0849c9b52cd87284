//! `simnet schema`: the JSON Schema of scenario files on stdout.

use super::EXIT_PASS;
use crate::Global;

/// Print the JSON Schema of scenario files, for editors and validators.
///
/// Scenario files name it on their first line
/// (`# yaml-language-server: $schema=scenario.schema.json`) so editors
/// validate and complete them.
///
/// Example: simnet schema > scenarios/scenario.schema.json
#[derive(clap::Args, Debug)]
pub(crate) struct SchemaArgs {}

impl SchemaArgs {
    /// Prints the schema; always exits 0.
    pub(crate) fn exec(self, _global: &Global) -> anyhow::Result<u8> {
        print!("{}", simnet::scenario::load::json_schema());
        Ok(EXIT_PASS)
    }
}
