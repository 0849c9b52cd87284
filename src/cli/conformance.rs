//! `simnet conformance`: every scenario, reports, exit code.

use std::path::{Path, PathBuf};

use simnet::scenario::suite::{self, FileResult, Options};

use super::{default_jobs, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};

/// Runs every scenario under `paths` and writes the reports; returns the exit code.
pub(crate) fn conformance(
    paths: &[PathBuf],
    jobs: Option<usize>,
    report_dir: &Path,
    seeds: u64,
    shard: Option<(usize, usize)>,
    options: Options,
) -> anyhow::Result<u8> {
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
    let entries = suite::run_all(&files, seeds, default_jobs(jobs), options, &|| {});
    let (mut passed, mut failed, mut invalid, mut skipped) = (0, 0, 0, 0);
    for entry in &entries {
        match &entry.result {
            FileResult::Ran(outcome) if entry.passed() => {
                passed += 1;
                println!("pass   {} (seed {})", outcome.scenario, outcome.seed);
                if let Some(accepted) = entry.snapshot.as_ref().filter(|c| !c.is_match()) {
                    println!("         {accepted}");
                }
            }
            FileResult::Ran(outcome) => {
                failed += 1;
                println!("FAIL   {} (seed {})", outcome.scenario, outcome.seed);
                for failure in outcome.failures() {
                    println!("         {failure}");
                }
                if let Some(snapshot) = entry.snapshot.as_ref().filter(|c| !c.passed()) {
                    for line in snapshot.to_string().lines() {
                        println!("         {line}");
                    }
                }
                let replay = entry.replay();
                if replay.is_exact() {
                    println!("         replay: {replay}");
                } else {
                    println!("         again: {replay} (real time: not exactly reproducible)");
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
