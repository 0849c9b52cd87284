//! Ratios a noisy machine can trust: the real-socket benchmark measures
//! simnet and its baseline in alternation (A B, B A, A B, …), a batch of
//! iterations each, so both sides of a round share whatever else the
//! machine was doing at that moment. Each round gives one ratio; a run's
//! figure is the median round, its spread the quartiles around it.
//!
//! The benchmark writes one [`InterleavedRun`] per process as JSON under
//! [`DEFAULT_DIR`]; `simnet bench-report` reads the latest runs and sets the
//! last two side by side, so the report shows whether two full runs agree.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::BenchReportError;

/// Where the benchmark writes its runs, under the cargo target directory.
pub const DEFAULT_DIR: &str = "simnet-bench/interleaved";

/// How far two runs' medians may differ and still count as agreeing.
pub const AGREEMENT: f64 = 0.05;
/// The baseline name of the reference implementation (blueprint-networking,
/// `cargo bench --features reference`).
pub const REFERENCE_BASELINE: &str = "reference";

/// One process's interleaved comparisons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InterleavedRun {
    /// When the run started, seconds since the Unix epoch: orders the runs.
    pub started_unix: u64,
    /// A smoke run (`SIMNET_BENCH_QUICK`): too few rounds to report.
    pub quick: bool,
    /// Every comparison made.
    pub pairs: Vec<Pair>,
}

/// simnet against one baseline, on one parameter, round by round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The criterion group it belongs to (`direct`).
    pub group: String,
    /// The parameter (`64KiB-1`).
    pub parameter: String,
    /// The baseline's function name (`bare_rr`).
    pub baseline: String,
    /// Iterations each side ran per round.
    pub batch: u64,
    /// Each round's time per iteration, in order.
    pub rounds: Vec<Round>,
}

/// One round: both sides' mean wall time per iteration, in nanoseconds,
/// and the CPU time the process spent per iteration meanwhile (every
/// thread, user and system): the work, which other processes on the
/// machine disturb less than the wall time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// simnet's wall time.
    pub ours_ns: f64,
    /// The baseline's wall time.
    pub baseline_ns: f64,
    /// simnet's CPU time.
    #[serde(default)]
    pub ours_cpu_ns: f64,
    /// The baseline's CPU time.
    #[serde(default)]
    pub baseline_cpu_ns: f64,
}

/// A pair's figure: the median round's time ratio (simnet ÷ baseline, above
/// 1 is slower) and the quartiles of the rounds' ratios.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Median of the rounds' ratios.
    pub median: f64,
    /// First quartile.
    pub low: f64,
    /// Third quartile.
    pub high: f64,
    /// Rounds measured.
    pub rounds: usize,
}

impl Pair {
    /// The median and quartiles of the rounds' wall-time ratios; `None` without rounds.
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(self.rounds.iter().map(|r| (r.ours_ns, r.baseline_ns)))
    }

    /// The same of the rounds' CPU-time ratios; `None` when no CPU time was measured.
    pub fn cpu_summary(&self) -> Option<Summary> {
        Summary::of(
            self.rounds
                .iter()
                .map(|r| (r.ours_cpu_ns, r.baseline_cpu_ns)),
        )
    }

    /// Whether `other` measured the same comparison.
    pub fn same_comparison(&self, other: &Pair) -> bool {
        self.group == other.group
            && self.parameter == other.parameter
            && self.baseline == other.baseline
    }
}

impl Summary {
    /// The median and quartiles of `ours ÷ baseline` over `rounds`, leaving
    /// out rounds with nothing measured; `None` when none is left.
    fn of(rounds: impl Iterator<Item = (f64, f64)>) -> Option<Summary> {
        let mut ratios: Vec<f64> = rounds
            .filter(|(ours, baseline)| *ours > 0.0 && *baseline > 0.0)
            .map(|(ours, baseline)| ours / baseline)
            .collect();
        if ratios.is_empty() {
            return None;
        }
        ratios.sort_by(f64::total_cmp);
        Some(Summary {
            median: quantile(&ratios, 0.5),
            low: quantile(&ratios, 0.25),
            high: quantile(&ratios, 0.75),
            rounds: ratios.len(),
        })
    }
}

/// The `q` quantile of sorted, non-empty `values`, interpolated linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (below, above) = (at.floor() as usize, at.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (at - below as f64)
}

/// Writes `run` as `run-<started>.json` in `dir`; returns the file.
pub fn write_run(dir: &Path, run: &InterleavedRun) -> Result<PathBuf, BenchReportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |error| BenchReportError::Io { path, error }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(format!("run-{}.json", run.started_unix));
    let text = serde_json::to_string_pretty(run).map_err(|error| BenchReportError::Json {
        path: path.clone(),
        error,
    })?;
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(path)
}

/// Every full (not quick) run in `dir`, oldest first; none when `dir` does not exist.
pub fn read_runs(dir: &Path) -> Result<Vec<InterleavedRun>, BenchReportError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut runs = Vec::new();
    for path in entries.flatten().map(|e| e.path()) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|error| BenchReportError::Io {
            path: path.clone(),
            error,
        })?;
        let run: InterleavedRun =
            serde_json::from_str(&text).map_err(|error| BenchReportError::Json {
                path: path.clone(),
                error,
            })?;
        if !run.quick {
            runs.push(run);
        }
    }
    runs.sort_by_key(|r| r.started_unix);
    Ok(runs)
}

/// A comparison as the report shows it: the latest run's figure and, when
/// an earlier run measured the same comparison, that run's.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared {
    /// The comparison, from the latest run that made it.
    pub pair: Pair,
    /// Its figure there.
    pub latest: Summary,
    /// The figure of the run before that one, if it made the comparison.
    pub previous: Option<Summary>,
}

impl Compared {
    /// Whether the two runs' medians agree within [`AGREEMENT`]; `None` with one run.
    pub fn agrees(&self) -> Option<bool> {
        self.previous
            .map(|p| (p.median - self.latest.median).abs() <= AGREEMENT)
    }
}

/// Every comparison of the latest run, each beside the same comparison in
/// the latest earlier run that made it.
pub fn compare_latest(runs: &[InterleavedRun]) -> Vec<Compared> {
    let Some((latest, earlier)) = runs.split_last() else {
        return Vec::new();
    };
    latest
        .pairs
        .iter()
        .filter_map(|pair| {
            let previous = earlier
                .iter()
                .rev()
                .find_map(|run| run.pairs.iter().find(|p| p.same_comparison(pair)))
                .and_then(Pair::summary);
            Some(Compared {
                pair: pair.clone(),
                latest: pair.summary()?,
                previous,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(ratios: &[f64]) -> Pair {
        Pair {
            group: "direct".into(),
            parameter: "64KiB-1".into(),
            baseline: "bare_rr".into(),
            batch: 10,
            rounds: ratios
                .iter()
                .map(|r| Round {
                    ours_ns: r * 1000.0,
                    baseline_ns: 1000.0,
                    ours_cpu_ns: r * 500.0,
                    baseline_cpu_ns: 400.0,
                })
                .collect(),
        }
    }

    fn run(started_unix: u64, quick: bool, pairs: Vec<Pair>) -> InterleavedRun {
        InterleavedRun {
            started_unix,
            quick,
            pairs,
        }
    }

    #[test]
    fn the_figure_is_the_median_round_with_its_quartiles() {
        let s = pair(&[1.4, 1.0, 1.2, 1.1, 3.0]).summary().expect("rounds");
        assert!((s.median - 1.2).abs() < 1e-9, "{s:?}");
        assert!((s.low - 1.1).abs() < 1e-9, "{s:?}");
        assert!((s.high - 1.4).abs() < 1e-9, "{s:?}");
        assert_eq!(s.rounds, 5);
        assert_eq!(pair(&[]).summary(), None);
        let cpu = pair(&[1.2]).cpu_summary().expect("measured");
        assert!((cpu.median - 1.5).abs() < 1e-9, "{cpu:?}");
        let mut unmeasured = pair(&[1.2]);
        unmeasured.rounds[0].ours_cpu_ns = 0.0;
        assert_eq!(unmeasured.cpu_summary(), None);
    }

    #[test]
    fn the_latest_run_stands_beside_the_one_before_it() {
        let runs = vec![
            run(1, false, vec![pair(&[1.00])]),
            run(2, false, vec![pair(&[1.10])]),
            run(3, false, vec![pair(&[1.13])]),
        ];
        let compared = compare_latest(&runs);
        assert_eq!(compared.len(), 1);
        assert!((compared[0].latest.median - 1.13).abs() < 1e-9);
        let previous = compared[0].previous.expect("run 2");
        assert!((previous.median - 1.10).abs() < 1e-9);
        assert_eq!(compared[0].agrees(), Some(true));
        let apart = compare_latest(&runs[..2]);
        assert_eq!(
            apart[0].agrees(),
            Some(false),
            "1.00 and 1.10 differ by 0.10"
        );
        assert_eq!(compare_latest(&runs[..1])[0].agrees(), None);
    }

    #[test]
    fn runs_are_written_and_read_back_oldest_first_without_smoke_runs() {
        let dir = std::env::temp_dir().join(format!("simnet-interleaved-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for r in [
            run(20, false, vec![pair(&[1.0])]),
            run(10, false, vec![pair(&[0.9])]),
            run(30, true, vec![pair(&[5.0])]),
        ] {
            write_run(&dir, &r).expect("written");
        }
        let read = read_runs(&dir).expect("read");
        assert_eq!(
            read.iter().map(|r| r.started_unix).collect::<Vec<_>>(),
            [10, 20]
        );
        assert_eq!(read_runs(&dir.join("absent")).expect("none"), []);
        let _ = std::fs::remove_dir_all(dir);
    }
}
