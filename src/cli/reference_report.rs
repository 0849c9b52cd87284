//! `simnet reference-report`: the suite on the reference implementation,
//! judged rule by rule against the protocol document.

use std::path::{Path, PathBuf};

use simnet::{
    implementation::{Implementation, NotBuilt},
    report::{junit, rules, Report},
    scenario::{
        rules::{BEYOND, RULES},
        snapshot::{in_ci, Update},
        suite::{self, Mode, Options},
    },
};

use super::{default_jobs, progress, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};
use crate::Global;

/// The implementation the report names.
const REFERENCE: &str = "blueprint-networking 0.2.0-alpha.13";

/// Run every scenario with every node on the reference implementation
/// (blueprint-networking 0.2.0-alpha.13) and write the deviation report:
/// summary.md (every rule of the protocol document: pass, deviates or not
/// applicable, each deviation with its replay command and sequence diagram)
/// and junit.xml, with each run's snapshot in
/// scenarios/snapshots/reference/, and results.json with every run's full
/// trace (not committed).
///
/// Needs a build with `--features reference`. Under CI (the CI environment
/// variable set) nothing is written: the report and the snapshots are
/// compared with the committed ones (results.json is not written). Exits 0
/// when they match (or were written), 1 when one differs, 2 on bad usage;
/// deviations themselves do not fail it, a change in them does.
///
/// Example: cargo run --features reference -- reference-report
#[derive(clap::Args, Debug)]
pub(crate) struct ReferenceReportArgs {
    /// Scenario files or directories.
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// Where the report is kept.
    #[arg(long, default_value = "reports/reference")]
    report_dir: PathBuf,
    /// Write each changed snapshot instead of a pending `.snap.new` (never
    /// under CI).
    #[arg(long)]
    accept: bool,
    /// Simulations run at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
}

impl ReferenceReportArgs {
    /// Runs the suite on the reference and writes or compares the report.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        if !Implementation::Reference.is_built() {
            eprintln!("error: {NotBuilt}");
            return Ok(EXIT_USAGE);
        }
        let files = match suite::discover(&self.paths) {
            Ok(files) => files,
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(EXIT_USAGE);
            }
        };
        let options = Options {
            mode: Mode::SIMULATED,
            implementation: Implementation::Reference,
            snapshots: Some(Update::from_environment(self.accept)),
        };
        let bar = progress(global.quiet, Some(files.len() as u64));
        let mut entries = suite::run_parallel(
            &files,
            default_jobs(self.jobs),
            &|path| suite::run_file(path, 0, options),
            &|| bar.inc(1),
        );
        bar.finish_and_clear();
        let mut changed = false;
        for entry in &mut entries {
            // A snapshot records the run; the verdict is the run's alone.
            if let Some(comparison) = entry.snapshot.take().filter(|c| !c.passed()) {
                println!("{}: {comparison}", entry.path.display());
                changed = true;
            }
        }
        let report = Report::from_suite(&entries);
        let tables = rules::Tables {
            document: RULES,
            beyond: BEYOND,
        };
        let files = [
            ("summary.md", rules::render(REFERENCE, &tables, &report)),
            ("junit.xml", junit::render(&report)?),
        ];
        for (name, text) in &files {
            changed |= !keep(&self.report_dir.join(name), text)?;
        }
        if !in_ci() {
            // Every run's full trace, which the diagrams point to; too large
            // and too detailed to commit (the snapshots keep what a change
            // in behaviour shows).
            report.write_json(&self.report_dir)?;
        }
        let verdicts = rules::judge(RULES, &report);
        let count = |v: rules::Verdict| verdicts.iter().filter(|r| r.verdict == v).count();
        println!(
            "{} rules: {} pass, {} deviate, {} not applicable; reports: {}/{{summary.md, junit.xml{}}}",
            verdicts.len(),
            count(rules::Verdict::Pass),
            count(rules::Verdict::Deviates),
            count(rules::Verdict::NotApplicable),
            self.report_dir.display(),
            if in_ci() { "" } else { ", results.json" }
        );
        Ok(if changed { EXIT_FAIL } else { EXIT_PASS })
    }
}

/// Writes `text` to `path`, or under CI compares it with what is there.
/// Returns whether the file holds `text` afterwards.
fn keep(path: &Path, text: &str) -> anyhow::Result<bool> {
    if in_ci() {
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        if committed != text {
            println!("{} differs from this run:", path.display());
            let diff = similar::TextDiff::from_lines(committed.as_str(), text);
            print!("{}", diff.unified_diff().context_radius(2));
            return Ok(false);
        }
        return Ok(true);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(true)
}
