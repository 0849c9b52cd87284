//! `reports/bench.md` and `reports/bench-throughput.svg` from criterion's
//! results and the interleaved comparisons (`simnet bench-report`): medians,
//! each simnet figure's ratio to every baseline measured beside it (same
//! group, same parameter), the interleaved ratios of the last two runs,
//! whether the benchmark issues' targets hold, the simulator's cost by
//! network size, and a chart of direct-message throughput by payload size.
//!
//! [`criterion`] reads criterion's results, [`interleaved`] the
//! interleaved runs, [`targets`] pairs and checks them, [`scale`] checks the
//! simulator's scale,
//! [`markdown`](mod@markdown) and [`chart`] render them. The caller names
//! the date and the [`Machine`], so the same results always give the same
//! report.

pub mod chart;
pub mod criterion;
pub mod interleaved;
pub mod markdown;
pub mod scale;
pub mod targets;

use std::path::{Path, PathBuf};

pub use chart::Chart;
pub use criterion::BenchResult;
pub use markdown::Machine;
pub use scale::ScaleOutcome;
pub use targets::{Source, Target, TargetOutcome, TARGETS};

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchReportError {
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// A criterion file is not what criterion writes.
    #[error("{path}: {error}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        error: serde_json::Error,
    },
    /// No results were found.
    #[error("no criterion results under {0}; run `cargo bench` first")]
    Empty(PathBuf),
}

/// Every target the report checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// The ratios to baselines.
    pub targets: Vec<TargetOutcome>,
    /// The simulator's wall times and rates.
    pub scale: Vec<ScaleOutcome>,
}

/// Reads criterion's results under `criterion_dir` and the interleaved runs
/// under `interleaved_dir`, and writes `bench.md` and `bench-throughput.svg`
/// to `out_dir`, dated `date`, naming `machine`; returns every target checked.
pub fn write_bench_report(
    criterion_dir: &Path,
    interleaved_dir: &Path,
    out_dir: &Path,
    date: &str,
    machine: &Machine,
) -> Result<Checked, BenchReportError> {
    let results = criterion::collect(criterion_dir)?;
    let interleaved = interleaved::compare_latest(&interleaved::read_runs(interleaved_dir)?);
    let io = |path: PathBuf| move |error| BenchReportError::Io { path, error };
    std::fs::create_dir_all(out_dir).map_err(io(out_dir.to_owned()))?;
    let md = out_dir.join("bench.md");
    let checked = Checked {
        targets: targets::check_targets(&targets::ratios(&results), &interleaved),
        scale: scale::check(&results),
    };
    let mut text = markdown::markdown(&results, &interleaved, &checked, machine, date);
    text.push_str("![Direct-message throughput by payload size](bench-throughput.svg)\n");
    std::fs::write(&md, text).map_err(io(md.clone()))?;
    let svg = out_dir.join("bench-throughput.svg");
    std::fs::write(&svg, Chart::THROUGHPUT.throughput_svg(&results)).map_err(io(svg.clone()))?;
    Ok(checked)
}
