//! `simnet conformance`: every scenario, reports, exit code.

use std::path::PathBuf;

use simnet::scenario::{
    snapshot::Update,
    suite::{self, FileResult, Mode, Options},
};

use super::{
    args::{parse_shard_arg, ImplementationArg, SimulatorArg},
    default_jobs, progress,
    suite_lines::{lines, OrderedPrinter},
    EXIT_FAIL, EXIT_PASS, EXIT_USAGE,
};
use crate::Global;

/// Run every scenario in the simulator and report which conform.
///
/// Prints one line per scenario and a closing `N passed, N failed` line
/// (with --seeds above 1: only the failures, as they happen, unless -v,
/// then which seeds of each scenario failed), with a progress bar on a
/// terminal,
/// and writes junit.xml, summary.md (with a sequence diagram of each
/// failing run) and results.json to --report-dir. Each run of a file's own
/// seed on the default simulator is also compared with its snapshot,
/// `snapshots/NAME.snap` beside the file (insta's format): a missing or
/// changed one fails with a diff and leaves `NAME.snap.new` for review
/// (`cargo insta review`, or --accept); with CI set nothing is written.
/// Exits 0 when all pass, 1 when a scenario fails, 2 when a file is not a
/// valid scenario (its error names file:line:column) or a path is unreadable.
///
/// Example: simnet conformance scenarios/
///
/// Example: simnet conformance --real   # the same scenarios over 127.0.0.1
///
/// Example: simnet conformance their/scenarios --accept   # write new snapshots
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
    #[arg(long, conflicts_with = "simulator")]
    real: bool,
    /// Write each missing or changed snapshot (`snapshots/NAME.snap`
    /// beside its scenario) instead of failing. Never writes when the
    /// CI environment variable is set.
    #[arg(long, conflicts_with = "no_snapshots")]
    accept: bool,
    /// Check only each scenario's expectations and invariants, not its
    /// snapshot.
    #[arg(long)]
    no_snapshots: bool,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

impl ConformanceArgs {
    /// Runs every scenario under the paths and writes the reports; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        let options = Options {
            mode: if self.real {
                Mode::Real
            } else {
                Mode::Simulated(self.simulator.simulator)
            },
            implementation: self.implementation.implementation,
            snapshots: (!self.no_snapshots).then(|| Update::from_environment(self.accept)),
        };
        conformance(&self, options, global)
    }
}

fn conformance(args: &ConformanceArgs, options: Options, global: &Global) -> anyhow::Result<u8> {
    let ConformanceArgs {
        ref paths,
        jobs,
        ref report_dir,
        seeds,
        shard,
        real: _,
        accept: _,
        no_snapshots: _,
        simulator: _,
        implementation: _,
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
    let items: Vec<(usize, &PathBuf, u64)> = files
        .iter()
        .flat_map(|f| (0..seeds.max(1)).map(move |offset| (f, offset)))
        .enumerate()
        .map(|(i, (f, offset))| (i, f, offset))
        .collect();
    let show_pass = seeds <= 1 || global.verbose > 0;
    let bar = progress(global.quiet, Some(items.len() as u64));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs, {elapsed} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let printer = OrderedPrinter::new(&bar);
    let entries = suite::run_parallel(
        &items,
        default_jobs(jobs),
        &|(index, path, offset)| {
            let entry = suite::run_file(path, *offset, options);
            printer.finished(*index, lines(&entry, show_pass));
            entry
        },
        &|| {},
    );
    bar.finish_and_clear();
    let (mut passed, mut failed, mut invalid, mut skipped) = (0, 0, 0, 0);
    for entry in &entries {
        match &entry.result {
            FileResult::Ran(_) if entry.passed() => passed += 1,
            FileResult::Ran(_) | FileResult::Crashed(_) => failed += 1,
            FileResult::Invalid(_) => invalid += 1,
            FileResult::Skipped(_) => skipped += 1,
        }
    }
    if seeds > 1 {
        print_failing_seeds(&entries, seeds);
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

/// For each scenario with a failing seed: how many of its seeds failed, and which.
fn print_failing_seeds(entries: &[suite::SuiteEntry], seeds: u64) {
    let mut by_file: Vec<(&PathBuf, Vec<String>)> = Vec::new();
    for entry in entries.iter().filter(|e| !e.passed()) {
        if matches!(entry.result, FileResult::Skipped(_)) {
            continue;
        }
        let seed = entry.seed.map_or("?".to_owned(), |s| s.to_string());
        match by_file.iter_mut().find(|(p, _)| **p == entry.path) {
            Some((_, failing)) => failing.push(seed),
            None => by_file.push((&entry.path, vec![seed])),
        }
    }
    for (path, failing) in by_file {
        let shown: Vec<&str> = failing.iter().take(10).map(String::as_str).collect();
        println!(
            "{}: {} of {seeds} seeds failed: {}{}",
            path.display(),
            failing.len(),
            shown.join(" "),
            if failing.len() > 10 { " …" } else { "" }
        );
    }
}
