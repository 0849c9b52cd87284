//! `simnet sweep`: one scenario over a seed range, failures grouped.

use std::path::Path;

use simnet::scenario::{replay::Replay, run, suite, Mode};

use super::{default_jobs, load_or_report, progress, EXIT_FAIL, EXIT_PASS, EXIT_USAGE};

/// Runs a scenario over a seed range and groups the failures; returns the exit code.
pub(crate) fn sweep(
    file: &Path,
    seeds: std::ops::Range<u64>,
    jobs: Option<usize>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let seeds: Vec<u64> = seeds.collect();
    let bar = progress(quiet, Some(seeds.len() as u64));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} seeds, {elapsed} elapsed, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let outcomes = suite::run_parallel(
        &seeds,
        default_jobs(jobs),
        &|seed| run(&plan, *seed, Mode::Simulated),
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
            file: file.display().to_string(),
            seed: Some(hits[0]),
            mode: Mode::Simulated,
        };
        println!("  replay: {replay}");
    }
    Ok(if failing == 0 { EXIT_PASS } else { EXIT_FAIL })
}
