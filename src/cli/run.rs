//! `simnet run`: one scenario, its checks, trace and diagram.

use std::path::Path;

use simnet::{
    scenario::{run, Mode, Outcome},
    sim::SimError,
};

use super::{load_or_report, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};

/// Runs one scenario and prints its checks; returns the exit code.
pub(crate) fn run_one(
    file: &Path,
    seed: Option<u64>,
    trace: bool,
    mermaid: bool,
    real: bool,
) -> anyhow::Result<u8> {
    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let seed = seed.unwrap_or(plan.seed);
    let mode = if real { Mode::Real } else { Mode::Simulated };
    let outcome = match run(&plan, seed, mode) {
        Err(error @ SimError::NeedsSimulator(_)) => {
            eprintln!("error: {}: {error}", file.display());
            return Ok(EXIT_USAGE);
        }
        other => other?,
    };
    print_outcome(&outcome, trace);
    if mermaid {
        println!(
            "```mermaid\n{}```",
            simnet::report::markdown::sequence_diagram(&outcome.trace)
        );
    }
    Ok(if outcome.passed { EXIT_PASS } else { EXIT_FAIL })
}

fn print_outcome(outcome: &Outcome, trace: bool) {
    println!(
        "{} (seed {}): {}",
        outcome.scenario, outcome.seed, outcome.about
    );
    if trace {
        for line in &outcome.trace {
            println!("  {line}");
        }
    }
    for check in &outcome.checks {
        match &check.failure {
            None => println!(
                "  ok    line {} at {}: {}",
                check.line, check.at, check.check
            ),
            Some(why) => println!(
                "  FAIL  line {} at {}: {}: {why}",
                check.line, check.at, check.check
            ),
        }
    }
    for violation in &outcome.violations {
        println!("  FAIL  {violation}");
    }
    println!("{}", if outcome.passed { "passed" } else { "FAILED" });
}
