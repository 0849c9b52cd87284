//! `simnet explore`: generated runs, failures written, grouped and shrunk.

use std::{path::PathBuf, time::Duration};

use simnet::{
    explore::{self, Options, Profile},
    report::Report,
    scenario::{
        replay::Replay,
        suite::{FileResult, SuiteEntry},
        Mode,
    },
};

use super::{
    args::{parse_shard_arg, ImplementationArg, SimulatorArg},
    default_jobs, progress, EXIT_FAIL, EXIT_PASS, EXIT_USAGE,
};
use crate::Global;

/// Generate scenarios from seeds, run them, and hand back each failure as a
/// small YAML scenario.
///
/// Each run's seed draws 2–6 nodes (honest, and adversaries of every kind,
/// with settings), a chaos phase of dials, sends of every response kind and
/// size, gossip, bans, partitions, holds, latency, loss, crashes, clock
/// offsets and disconnects; then every fault is healed, the network is left
/// quiet for 65 s, and probes check the liveness oracles: every pair of
/// honest nodes agrees on its session, fresh sends between honest nodes that
/// may talk end as the responder answers, and fresh broadcasts reach every
/// connected honest subscriber. Through the chaos, honest nodes that may
/// talk never refuse each other's handshake or time out on each other, and
/// no honest node verifies an adversary with invalid credentials. The
/// global invariants are checked on every event. Failing runs are written to --out (replay with `simnet run FILE`),
/// grouped by how they failed, and the first of each group is shrunk.
/// Profiles: all (everything), faults (honest nodes, many network faults),
/// adversaries (one to three adversaries), gossip (subscriptions and
/// broadcasts), churn (crashes, restarts, disconnects, bans).
/// Exits 0 when every run passed, 1 when one failed.
///
/// Example: simnet explore --runs 200 --profile all
///
/// Example: simnet explore --duration 10m --shard 2/4 --report-dir reports/explore-2
#[derive(clap::Args, Debug)]
pub(crate) struct ExploreArgs {
    /// Runs to make (default 100 unless --duration is given).
    #[arg(long, conflicts_with = "duration")]
    runs: Option<u64>,
    /// Keep exploring for this long (wall time), e.g. `10m`.
    #[arg(long, value_parser = simnet::scenario::time::parse_duration)]
    duration: Option<Duration>,
    /// The first seed; runs take the seeds after it.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How the generator weights what it draws: all, faults, adversaries,
    /// gossip, churn.
    #[arg(long, default_value = "all", value_parser = parse_profile)]
    profile: Profile,
    /// Runs at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only slice K of N (1-based) of the seeds, so N machines explore
    /// disjoint seeds.
    #[arg(long, value_parser = parse_shard_arg)]
    shard: Option<(usize, usize)>,
    /// Where failing scenarios (and their shrunk forms) are written.
    #[arg(long, default_value = "reports/explore")]
    out: PathBuf,
    /// Where to write junit.xml, summary.md and results.json.
    #[arg(long, default_value = "reports/explore")]
    report_dir: PathBuf,
    /// Simulation runs the shrink of each failure group may spend (0: none).
    #[arg(long, default_value_t = 150)]
    shrink_runs: usize,
    /// Start no new run once one has failed: find a failing seed and stop.
    #[arg(long)]
    first_failure: bool,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

fn parse_profile(text: &str) -> Result<Profile, String> {
    text.parse()
        .map_err(|e: explore::profile::UnknownProfile| e.to_string())
}

impl ExploreArgs {
    /// Explores, prints the groups and writes the reports; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        let options = Options {
            profile: self.profile,
            simulator: self.simulator.simulator,
            implementation: self.implementation.implementation,
            seed: self.seed,
            runs: match (self.runs, self.duration) {
                (None, None) => Some(100),
                (runs, _) => runs,
            },
            duration: self.duration,
            jobs: default_jobs(self.jobs),
            shard: self.shard.map(|(k, n)| (k as u64, n as u64)),
            out: self.out.clone(),
            shrink_runs: self.shrink_runs,
            first_failure: self.first_failure,
        };
        let bar = progress(global.quiet, options.runs);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos} runs, {msg}, {elapsed} elapsed",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let failed = std::sync::atomic::AtomicU64::new(0);
        let summary = explore::explore(&options, &|run| {
            if run.failed() {
                let n = failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(format!("{n} failed"));
                bar.println(format!("FAIL   seed {}", run.seed));
            }
            bar.inc(1);
        });
        bar.finish_and_clear();
        let summary = match summary {
            Ok(summary) => summary,
            Err(error) => {
                eprintln!("error: cannot write to {}: {error}", self.out.display());
                return Ok(EXIT_USAGE);
            }
        };
        let failing: usize = summary.groups.iter().map(|g| g.seeds.len()).sum();
        let not_applicable = summary
            .runs
            .iter()
            .filter(|r| r.not_applicable.is_some())
            .count();
        println!(
            "explore (profile {}): {} runs, {} passed, {failing} failed in {} group(s){}",
            self.profile,
            summary.runs.len(),
            summary.runs.len() - failing - not_applicable,
            summary.groups.len(),
            if not_applicable > 0 {
                format!(", {not_applicable} not applicable")
            } else {
                String::new()
            }
        );
        for (i, group) in summary.groups.iter().enumerate() {
            let shown: Vec<String> = group.seeds.iter().take(10).map(u64::to_string).collect();
            println!(
                "\ngroup {} — {} run(s), seeds {}{}\n  {}",
                i + 1,
                group.seeds.len(),
                shown.join(" "),
                if group.seeds.len() > 10 { " …" } else { "" },
                group.signature
            );
            let smallest = group.shrunk.as_ref().unwrap_or(&group.file);
            println!("  smallest: {} ({} steps)", smallest.display(), group.steps);
            let replay = Replay {
                file: smallest.display().to_string(),
                seed: None,
                mode: Mode::Simulated(options.simulator),
                implementation: options.implementation,
            };
            println!("  replay: {replay}");
        }
        let report = Report::from_suite(&entries(&summary, &options));
        if let Err(error) = report.write_all(&self.report_dir) {
            eprintln!(
                "error: cannot write reports to {}: {error}",
                self.report_dir.display()
            );
            return Ok(EXIT_USAGE);
        }
        println!(
            "reports: {}/{{junit.xml, summary.md, results.json}}",
            self.report_dir.display()
        );
        Ok(if failing == 0 { EXIT_PASS } else { EXIT_FAIL })
    }
}

/// The runs as suite entries for the reports: a failing run under its
/// written file, with its trace; a passing one as its seed (its trace was
/// not kept).
fn entries(summary: &explore::Summary, options: &Options) -> Vec<SuiteEntry> {
    summary
        .runs
        .iter()
        .map(|run| {
            let passed = run.passed();
            let path = if passed {
                PathBuf::from(format!("seed {}", run.seed))
            } else {
                explore::failing_file(&options.out, options.profile, run.seed)
            };
            let result = match (&run.outcome, &run.not_applicable) {
                (_, Some(why)) => FileResult::Skipped(format!("not applicable: {why}")),
                // A passing run's trace was dropped when it finished.
                (Ok(outcome), None) => FileResult::Ran(Box::new(outcome.clone())),
                (Err(error), None) => {
                    FileResult::Crashed(simnet::net::NetworkError::Simulation(error.clone()))
                }
            };
            SuiteEntry {
                path,
                result,
                mode: Mode::Simulated(options.simulator),
                implementation: options.implementation,
                seed: Some(run.seed),
                snapshot: None,
            }
        })
        .collect()
}
