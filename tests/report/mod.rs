//! The sequence diagrams of `run --mermaid` and `summary.md`: snapshots of
//! five scenarios' diagrams and of a failing flood's, and a parse check of
//! every diagram the suite's runs (and the planted bugs' failing runs) draw.

mod diagrams;
mod parse;

use std::path::Path;

use simnet::{
    report::diagram::Diagram,
    scenario::{load_file, run, Mode, Outcome},
};

/// Runs the scenario file at `path` (relative to the crate root) at its own seed.
fn outcome_of(path: &str) -> Outcome {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let plan = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
    run(&plan, plan.seed, Mode::SIMULATED).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The mermaid text of the diagram of the scenario file at `path`.
fn diagram_of(path: &str) -> String {
    Diagram::of(&outcome_of(path)).to_mermaid()
}

/// The mermaid block that `simnet run … --mermaid` printed, without its fences.
fn mermaid_block(stdout: &str) -> Option<String> {
    let start = stdout.find("```mermaid\n")? + "```mermaid\n".len();
    let end = stdout[start..].find("```")? + start;
    Some(stdout[start..end].to_owned())
}
