//! `simnet conformance`: every scenario, reports, exit code.

use std::path::PathBuf;

use simnet::scenario::suite::{self, FileResult, Mode};

use super::{args::parse_shard_arg, default_jobs, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};
use crate::Global;

/// Run every scenario in the simulator and report which conform.
///
/// Prints one line per scenario and a closing `N passed, N failed` line,
/// and writes junit.xml, summary.md (with a sequence diagram of each
/// failing run) and results.json to --report-dir.
/// Exits 0 when all pass, 1 when a scenario fails, 2 when a file is not a
/// valid scenario (its error names file:line:column) or a path is unreadable.
///
/// Example: simnet conformance scenarios/
///
/// Example: simnet conformance --real   # the same scenarios over 127.0.0.1
#[derive(clap::Args, Debug)]
pub(crate) struct ConformanceArgs {
    /// Scenario files or directories of `*.yaml` files.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Scenarios run at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Where to write junit.xml, summary.md and results.json.
    #[arg(long, default_value = "reports/latest")]
    report_dir: PathBuf,
    /// Run each scenario with this many seeds: its own, then the next ones.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
    /// Run only slice K of N (1-based) of the sorted files, so N CI
    /// machines together run each scenario exactly once.
    #[arg(long, value_parser = parse_shard_arg)]
    shard: Option<(usize, usize)>,
    /// Run on real sockets (127.0.0.1) in real time instead of the
    /// simulator; scenarios with simulator-only steps are skipped.
    #[arg(long)]
    real: bool,
}

impl ConformanceArgs {
    /// Runs every scenario under the paths and writes the reports; returns the exit code.
    pub(crate) fn exec(self, _global: &Global) -> anyhow::Result<u8> {
        let mode = if self.real {
            Mode::Real
        } else {
            Mode::Simulated
        };
        conformance(&self, mode)
    }
}

fn conformance(args: &ConformanceArgs, mode: Mode) -> anyhow::Result<u8> {
    let ConformanceArgs {
        ref paths,
        jobs,
        ref report_dir,
        seeds,
        shard,
        real: _,
    } = *args;
    let mut files = match suite::discover(paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(EXIT_USAGE);
        }
    };
    if let Some((k, n)) = shard {
        files = suite::shard(&files, k, n);
        println!("shard {k}/{n}: {} scenario file(s)", files.len());
    }
    let entries = suite::run_all(&files, seeds, default_jobs(jobs), mode, &|| {});
    let (mut passed, mut failed, mut invalid, mut skipped) = (0, 0, 0, 0);
    for entry in &entries {
        match &entry.result {
            FileResult::Ran(outcome) if outcome.passed => {
                passed += 1;
                println!("pass   {} (seed {})", outcome.scenario, outcome.seed);
            }
            FileResult::Ran(outcome) => {
                failed += 1;
                println!("FAIL   {} (seed {})", outcome.scenario, outcome.seed);
                for failure in outcome.failures() {
                    println!("         {failure}");
                }
                match mode {
                    Mode::Simulated => println!(
                        "         replay: simnet run {} --seed {} --trace",
                        entry.path.display(),
                        outcome.seed
                    ),
                    Mode::Real => println!(
                        "         again: simnet run {} --real --trace (real time: not exactly reproducible)",
                        entry.path.display()
                    ),
                }
            }
            FileResult::Crashed(error) => {
                failed += 1;
                println!(
                    "FAIL   {}: the simulation failed: {error}",
                    entry.path.display()
                );
            }
            FileResult::Invalid(error) => {
                invalid += 1;
                println!("ERROR  {error}");
            }
            FileResult::Skipped(reason) => {
                skipped += 1;
                println!("skip   {}: {reason}", entry.path.display());
            }
        }
    }
    let report = simnet::report::Report::from_suite(&entries);
    if let Err(error) = report.write_all(report_dir) {
        eprintln!(
            "error: cannot write reports to {}: {error}",
            report_dir.display()
        );
        return Ok(EXIT_USAGE);
    }
    println!(
        "reports: {}/{{junit.xml, summary.md, results.json}}",
        report_dir.display()
    );
    if skipped > 0 {
        println!(
            "{passed} passed, {} failed, {skipped} skipped",
            failed + invalid
        );
    } else {
        println!("{passed} passed, {} failed", failed + invalid);
    }
    Ok(if invalid > 0 {
        EXIT_USAGE
    } else if failed > 0 {
        EXIT_FAIL
    } else {
        EXIT_PASS
    })
}
