//! `simnet fuzz`: the bounded fuzzer, findings saved.

use std::{path::Path, time::Duration};

use super::{progress, EXIT_FAIL, EXIT_PASS};

/// Fuzzes the chosen targets, prints counts and saves findings; returns the exit code.
pub(crate) fn fuzz(
    seed: u64,
    max_inputs: u64,
    max_time: Duration,
    targets: Vec<simnet::fuzz::Target>,
    findings_dir: &Path,
    quiet: bool,
) -> anyhow::Result<u8> {
    let options = simnet::fuzz::FuzzOptions {
        seed,
        max_inputs,
        max_time,
        targets: if targets.is_empty() {
            simnet::fuzz::Target::ALL.to_vec()
        } else {
            targets
        },
    };
    let spinner = progress(quiet, None);
    // Panics are findings, caught and reported below; keep them off stderr.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let reports = simnet::fuzz::run(&options, &|target, inputs| {
        spinner.set_message(format!("{}: {inputs} inputs", target.name()));
        spinner.tick();
    });
    std::panic::set_hook(default_hook);
    spinner.finish_and_clear();
    let mut findings = 0;
    for report in &reports {
        let rate = report.inputs as f64 / report.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<10} {:>10} inputs in {:>7.1}s ({:>8.0}/s), {:>8} accepted, {} finding(s)",
            report.target.name(),
            report.inputs,
            report.elapsed.as_secs_f64(),
            rate,
            report.accepted,
            report.findings.len()
        );
        for finding in &report.findings {
            findings += 1;
            std::fs::create_dir_all(findings_dir)?;
            let path = findings_dir.join(format!(
                "{}-seed{seed}-input{}.bin",
                report.target.name(),
                finding.index
            ));
            std::fs::write(&path, &finding.input)?;
            println!(
                "  input {}: {} ({})",
                finding.index,
                finding.problem,
                path.display()
            );
        }
    }
    let total: u64 = reports.iter().map(|r| r.inputs).sum();
    println!("{total} inputs, {findings} finding(s)");
    Ok(if findings == 0 { EXIT_PASS } else { EXIT_FAIL })
}
