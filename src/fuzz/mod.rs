//! A bounded fuzzer for everything a peer or a file can send: the wire
//! decoders, the frame reader, the handshake verifier and the scenario
//! loader. `simnet fuzz` runs it for as long as asked; `cargo test` runs a
//! short fixed-seed pass. Every input is generated from the seed, so a finding
//! is reproduced by the same seed and input number, and its bytes are kept.

pub mod mutate;
pub mod targets;

use std::{
    panic::{self, AssertUnwindSafe},
    time::{Duration, Instant},
};

pub use targets::Target;

use mutate::Mutator;

/// How long and what to fuzz.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// Seed of every generated input.
    pub seed: u64,
    /// Stop after this many inputs per target.
    pub max_inputs: u64,
    /// Stop after this much wall time in all.
    pub max_time: Duration,
    /// The targets, fuzzed in turn.
    pub targets: Vec<Target>,
}

/// An input that panicked or broke a property.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Which input of its target (0-based).
    pub index: u64,
    /// What went wrong.
    pub problem: String,
    /// The input.
    pub input: Vec<u8>,
}

/// What fuzzing one target found.
#[derive(Clone, Debug)]
pub struct TargetReport {
    /// The target.
    pub target: Target,
    /// Inputs tried.
    pub inputs: u64,
    /// Inputs the target accepted (decoded, verified, loaded).
    pub accepted: u64,
    /// Panics and broken properties.
    pub findings: Vec<Finding>,
    /// Wall time spent.
    pub elapsed: Duration,
}

/// Fuzzes each target in turn, sharing the time budget equally among the
/// targets not yet run; `progress` is called every 1024 inputs with the
/// target and the inputs so far.
pub fn run(options: &FuzzOptions, progress: &dyn Fn(Target, u64)) -> Vec<TargetReport> {
    let started = Instant::now();
    let mut reports = Vec::new();
    for (i, target) in options.targets.iter().enumerate() {
        let left = options.max_time.saturating_sub(started.elapsed());
        let share = left / (options.targets.len() - i) as u32;
        reports.push(fuzz_target(*target, options, share, progress));
    }
    reports
}

fn fuzz_target(
    target: Target,
    options: &FuzzOptions,
    budget: Duration,
    progress: &dyn Fn(Target, u64),
) -> TargetReport {
    let started = Instant::now();
    let seeds = targets::seeds(target);
    let mut mutator = Mutator::new(options.seed ^ (target as u64).wrapping_mul(0x9e37_79b9));
    let mut report = TargetReport {
        target,
        inputs: 0,
        accepted: 0,
        findings: Vec::new(),
        elapsed: Duration::ZERO,
    };
    while report.inputs < options.max_inputs {
        if report.inputs.is_multiple_of(1024) {
            progress(target, report.inputs);
            if started.elapsed() >= budget {
                break;
            }
        }
        let input = mutator.next_input(&seeds);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| targets::check(target, &input)));
        match outcome {
            Ok(Ok(true)) => report.accepted += 1,
            Ok(Ok(false)) => {}
            Ok(Err(problem)) => report.findings.push(Finding {
                index: report.inputs,
                problem,
                input,
            }),
            Err(payload) => report.findings.push(Finding {
                index: report.inputs,
                problem: format!("panic: {}", panic_text(&*payload)),
                input,
            }),
        }
        report.inputs += 1;
    }
    report.elapsed = started.elapsed();
    report
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}
