//! `simnet run`: one scenario, its checks, trace and diagram.

use std::path::PathBuf;

use simnet::{
    net::NetworkError,
    scenario::{run, Mode, Outcome},
};

use super::{
    args::{ImplementationArg, SimulatorArg},
    load_or_report, EXIT_FAIL, EXIT_PASS, EXIT_USAGE,
};
use crate::Global;

/// Run one scenario and print its checks, invariant violations and,
/// with --trace, every event.
///
/// Exits 0 when it passes, 1 when it fails, 2 when the file is invalid.
///
/// Example: simnet run scenarios/simultaneous-dial.yaml --seed 9 --trace --mermaid
///
/// Example: simnet run scenarios/handshake-basic.yaml --real
#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// The scenario file.
    file: PathBuf,
    /// Run with this seed instead of the file's.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the whole trace.
    #[arg(long)]
    trace: bool,
    /// Print the run as a mermaid sequence diagram: messages as arrows,
    /// states and faults as notes, repeats collapsed; a failing run shows
    /// the nodes and the window around its first failure.
    #[arg(long)]
    mermaid: bool,
    /// Run on real sockets (127.0.0.1) in real time instead of the
    /// simulator. Steps only a simulator can do (faults, crashes, clock
    /// offsets: scenarios/README.md marks them) are refused, exit 2.
    #[arg(long, conflicts_with = "simulator")]
    real: bool,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

impl RunArgs {
    /// Runs the scenario and prints its checks; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        let Some(mut plan) = load_or_report(&self.file, global) else {
            return Ok(EXIT_USAGE);
        };
        plan.implementation = self.implementation.implementation;
        let seed = self.seed.unwrap_or(plan.seed);
        let mode = if self.real {
            Mode::Real
        } else {
            Mode::Simulated(self.simulator.simulator)
        };
        let outcome = match run(&plan, seed, mode) {
            Err(error @ NetworkError::NeedsSimulator(_)) => {
                eprintln!(
                    "error: {}: {error}; run it without --real",
                    self.file.display()
                );
                return Ok(EXIT_USAGE);
            }
            other => other?,
        };
        print_outcome(&outcome, self.trace);
        if self.mermaid {
            let diagram = simnet::report::diagram::Diagram::of(&outcome);
            println!("```mermaid\n{}```", diagram.to_mermaid());
        }
        Ok(if outcome.passed { EXIT_PASS } else { EXIT_FAIL })
    }
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
        if let Some(why) = check.not_applicable {
            println!(
                "  n/a   line {} at {}: {}: {why}",
                check.line, check.at, check.check
            );
            continue;
        }
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
