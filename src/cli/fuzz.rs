//! `simnet fuzz`: the bounded fuzzer, findings saved.

use std::{path::PathBuf, time::Duration};

use simnet::scenario::time::parse_duration;

use super::{args::parse_target, progress, EXIT_FAIL, EXIT_PASS};
use crate::Global;

/// Fuzz what peers and files can send: the wire decoders, the frame
/// reader, the handshake verifier and the scenario loader.
///
/// Generates inputs from --seed (random bytes, bit flips, truncations,
/// extreme length fields, splices of valid messages) until --inputs per
/// target or --duration in all, whichever comes first. A panic, or a
/// property that breaks (a decoded message that re-encodes differently,
/// altered credentials that verify), is a finding: its input is written
/// to --findings-dir. Exits 0 with no findings, 1 otherwise.
///
/// Example: simnet fuzz --duration 10m --inputs 100000000
#[derive(clap::Args, Debug)]
pub(crate) struct FuzzArgs {
    /// Seed of every generated input.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stop after this many inputs per target.
    #[arg(long, default_value_t = 100_000)]
    inputs: u64,
    /// Stop after this much time in all, e.g. `30s`, `10m`.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Only these targets: wire, frame, handshake, scenario (default: all).
    #[arg(long, value_delimiter = ',', value_parser = parse_target)]
    target: Vec<simnet::fuzz::Target>,
    /// Where inputs that found something are written.
    #[arg(long, default_value = "reports/fuzz")]
    findings_dir: PathBuf,
}

impl FuzzArgs {
    /// Fuzzes the chosen targets, prints counts and saves findings; returns the exit code.
    pub(crate) fn exec(self, global: &Global) -> anyhow::Result<u8> {
        let options = simnet::fuzz::FuzzOptions {
            seed: self.seed,
            max_inputs: self.inputs,
            max_time: self.duration,
            targets: if self.target.is_empty() {
                simnet::fuzz::Target::ALL.to_vec()
            } else {
                self.target
            },
        };
        let spinner = progress(global.quiet, None);
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
                std::fs::create_dir_all(&self.findings_dir)?;
                let path = self.findings_dir.join(format!(
                    "{}-seed{}-input{}.bin",
                    report.target.name(),
                    options.seed,
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
}
