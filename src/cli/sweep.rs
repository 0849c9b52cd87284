//! `simnet sweep`: one scenario over a seed range, failures grouped.

use std::path::PathBuf;

use simnet::scenario::{replay::Replay, run, suite, Mode};

use super::{
    args::{parse_seed_range, ImplementationArg, SimulatorArg},
    default_jobs, load_or_report, progress, EXIT_FAIL, EXIT_PASS, EXIT_USAGE,
};
use crate::Global;

/// Run one scenario over a range of seeds and group the failures.
///
/// Shows a progress bar (on a terminal, unless --quiet), then each distinct
/// failure with the number of seeds that hit it and a command that replays
/// one of them exactly. Exits 0 when every seed passes, 1 otherwise.
///
/// Example: simnet sweep scenarios/simultaneous-dial.yaml --seeds 0..200
///
/// Example: simnet sweep scenarios/crash-restart.yaml --seeds 0..50 --simulator turmoil
#[derive(clap::Args, Debug)]
pub(crate) struct SweepArgs {
    /// The scenario file.
    file: PathBuf,
    /// Seeds to run, `A..B` (B excluded).
    #[arg(long, value_parser = parse_seed_range)]
    seeds: std::ops::Range<u64>,
    /// Simulations run at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

impl SweepArgs {
    /// Runs the scenario over the seed range and groups the failures; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        let Some(mut plan) = load_or_report(&self.file, global) else {
            return Ok(EXIT_USAGE);
        };
        plan.implementation = self.implementation.implementation;
        let seeds: Vec<u64> = self.seeds.collect();
        let mode = Mode::Simulated(self.simulator.simulator);
        let bar = progress(global.quiet, Some(seeds.len() as u64));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} seeds, {elapsed} elapsed, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let outcomes = suite::run_parallel(
            &seeds,
            default_jobs(self.jobs),
            &|seed| run(&plan, *seed, mode),
            &|| bar.inc(1),
        );
        bar.finish_and_clear();
        // Failures grouped by signature, in order of first appearance.
        let mut groups: Vec<(String, Vec<u64>, Vec<String>)> = Vec::new();
        for (seed, outcome) in seeds.iter().zip(&outcomes) {
            let (signature, failures) = match outcome {
                Ok(outcome) if outcome.passed => continue,
                Ok(outcome) => (suite::failure_signature(outcome), outcome.failures()),
                Err(error) => {
                    let line = format!("the simulation failed: {error}");
                    (line.clone(), vec![line])
                }
            };
            match groups.iter_mut().find(|(s, _, _)| *s == signature) {
                Some((_, hits, _)) => hits.push(*seed),
                None => groups.push((signature, vec![*seed], failures)),
            }
        }
        let failing: usize = groups.iter().map(|(_, hits, _)| hits.len()).sum();
        println!(
            "{} ({} seeds): {} passed, {failing} failed",
            plan.name,
            seeds.len(),
            seeds.len() - failing
        );
        for (i, (_, hits, failures)) in groups.iter().enumerate() {
            let shown: Vec<String> = hits.iter().take(10).map(u64::to_string).collect();
            println!(
                "\nfailure {} — {} seed(s): {}{}",
                i + 1,
                hits.len(),
                shown.join(" "),
                if hits.len() > 10 { " …" } else { "" }
            );
            println!("  as seed {} failed:", hits[0]);
            for line in failures {
                println!("    {line}");
            }
            let replay = Replay {
                file: self.file.display().to_string(),
                seed: Some(hits[0]),
                mode,
                implementation: plan.implementation,
            };
            println!("  replay: {replay}");
        }
        Ok(if failing == 0 { EXIT_PASS } else { EXIT_FAIL })
    }
}
