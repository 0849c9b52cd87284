//! `simnet shrink`: the smallest scenario that still fails the same way.

use std::path::PathBuf;

use super::{
    args::{ImplementationArg, SimulatorArg},
    load_or_report, progress, EXIT_PASS, EXIT_USAGE,
};
use crate::Global;

/// Make a failing scenario smaller while it keeps failing the same way.
///
/// Runs FILE at --seed, then tries removing nodes (with every step and
/// check that names them), runs of steps, single checks, `never`
/// patterns, flood repetitions, node settings and network faults, keeping
/// each cut only while the run still fails with the same failure (line
/// numbers aside). Writes the smallest scenario found, with the seed in
/// it, so `simnet run OUT` replays the failure. Exits 0 when it wrote the
/// scenario, 2 when FILE is invalid or passes at that seed.
///
/// Example: simnet shrink scenarios/near-simultaneous-dial.yaml --seed 3 --out /tmp/small.yaml
#[derive(clap::Args, Debug)]
pub(crate) struct ShrinkArgs {
    /// The failing scenario file.
    file: PathBuf,
    /// The failing seed (default: the file's own).
    #[arg(long)]
    seed: Option<u64>,
    /// Where to write the shrunk scenario (default:
    /// reports/shrunk/NAME-seedN.yaml).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Give up after this many simulation runs and keep the smallest so far.
    #[arg(long, default_value_t = 400)]
    max_runs: usize,
    /// Seeds tried per cut: removing a node shifts every later random
    /// draw, so a lost race may need a neighbouring seed to be lost again.
    /// The written scenario records the seed it fails with; 1 keeps the
    /// seed fixed.
    #[arg(long, default_value_t = 8)]
    reseed: u64,
    /// Never cut steps at or after this time: they belong to what is checked
    /// (for a file `simnet explore` wrote, its heal onwards: `20s`).
    #[arg(long, value_parser = simnet::scenario::time::parse_duration)]
    keep_from: Option<std::time::Duration>,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

impl ShrinkArgs {
    /// Shrinks the failing scenario and writes the result; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        use simnet::scenario::shrink::{self as shrinker, ShrinkError, ShrinkOptions};

        let Some(plan) = load_or_report(&self.file, global) else {
            return Ok(EXIT_USAGE);
        };
        let text = std::fs::read_to_string(&self.file)?;
        let seed = self.seed.unwrap_or(plan.seed);
        let out = self.out.unwrap_or_else(|| {
            PathBuf::from("reports/shrunk").join(format!("{}-seed{seed}.yaml", plan.name))
        });
        let spinner = progress(global.quiet, None);
        let options = ShrinkOptions {
            seed,
            simulator: self.simulator.simulator,
            implementation: self.implementation.implementation,
            max_runs: self.max_runs,
            seeds_per_candidate: self.reseed,
            keep_from: self.keep_from,
        };
        let result = shrinker::shrink(
            &text,
            &self.file.display().to_string(),
            &options,
            &|runs, size| {
                spinner.set_message(format!("{runs} runs, now {size}"));
                spinner.tick();
            },
        );
        spinner.finish_and_clear();
        let shrunk = match result {
            Ok(shrunk) => shrunk,
            Err(error @ (ShrinkError::Invalid(_) | ShrinkError::Passes { .. })) => {
                eprintln!("error: {error}");
                return Ok(EXIT_USAGE);
            }
            Err(error) => return Err(error.into()),
        };
        println!(
            "{} at seed {seed}: {} -> {} (fails at seed {}) in {} runs{}",
            plan.name,
            shrunk.original,
            shrunk.shrunk,
            shrunk.outcome.seed,
            shrunk.runs,
            if shrunk.budget_exhausted {
                " (run budget spent; --max-runs to go further)"
            } else {
                ""
            }
        );
        println!("  still fails the same way:");
        for line in shrunk.outcome.failures() {
            println!("    {line}");
        }
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let replay = simnet::scenario::replay::Replay {
            file: out.display().to_string(),
            seed: None,
            mode: simnet::scenario::Mode::Simulated(options.simulator),
            implementation: options.implementation,
        };
        let header = format!(
            "# Shrunk by `simnet shrink` from {} at seed {seed}; fails at seed {}.\n# {} -> {}.\n# Replay: {replay}\n",
            self.file.display(),
            shrunk.outcome.seed,
            shrunk.original,
            shrunk.shrunk,
        );
        std::fs::write(&out, header + &shrunk.yaml)?;
        println!("  wrote {}", out.display());
        println!("  replay: {replay}");
        Ok(EXIT_PASS)
    }
}
