//! `simnet shrink`: the smallest scenario that still fails the same way.

use std::path::{Path, PathBuf};

use super::{load_or_report, progress, EXIT_PASS, EXIT_USAGE};

/// Shrinks a failing scenario and writes the result; returns the exit code.
pub(crate) fn shrink(
    file: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    (max_runs, seeds_per_candidate): (usize, u64),
    quiet: bool,
) -> anyhow::Result<u8> {
    use simnet::scenario::shrink::{self as shrinker, ShrinkError, ShrinkOptions};

    let Some(plan) = load_or_report(file) else {
        return Ok(EXIT_USAGE);
    };
    let text = std::fs::read_to_string(file)?;
    let seed = seed.unwrap_or(plan.seed);
    let out = out.unwrap_or_else(|| {
        PathBuf::from("reports/shrunk").join(format!("{}-seed{seed}.yaml", plan.name))
    });
    let spinner = progress(quiet, None);
    let options = ShrinkOptions {
        seed,
        max_runs,
        seeds_per_candidate,
    };
    let result = shrinker::shrink(
        &text,
        &file.display().to_string(),
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
        mode: simnet::scenario::Mode::Simulated,
    };
    let header = format!(
        "# Shrunk by `simnet shrink` from {} at seed {seed}; fails at seed {}.\n# {} -> {}.\n# Replay: {replay}\n",
        file.display(),
        shrunk.outcome.seed,
        shrunk.original,
        shrunk.shrunk,
    );
    std::fs::write(&out, header + &shrunk.yaml)?;
    println!("  wrote {}", out.display());
    println!("  replay: {replay}");
    Ok(EXIT_PASS)
}
