//! Finds scenario files and runs them all, on parallel threads, in a stable
//! order: the conformance suite.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

pub use super::run::Mode;
use super::{
    load_file,
    replay::Replay,
    run,
    snapshot::{self, Comparison, Update},
    violation::mask_numbers,
    LoadError, Outcome,
};
use crate::{implementation::Implementation, net::NetworkError};

/// What happened to one scenario file.
#[derive(Debug)]
pub enum FileResult {
    /// The file is not a valid scenario.
    Invalid(LoadError),
    /// The simulation itself failed (a bug in simnet, not a protocol failure).
    Crashed(NetworkError),
    /// The scenario ran; `outcome.passed` tells whether it conformed.
    Ran(Box<Outcome>),
    /// Not run: a step needs the simulator and this was a real-socket run.
    Skipped(String),
}

/// One file and its result.
#[derive(Debug)]
pub struct SuiteEntry {
    /// The scenario file.
    pub path: PathBuf,
    /// Its result.
    pub result: FileResult,
    /// Where it ran.
    pub mode: Mode,
    /// What ran its nodes.
    pub implementation: Implementation,
    /// The seed it ran with, once its file loaded.
    pub seed: Option<u64>,
    /// How the outcome compared with its snapshot, when snapshots were
    /// checked (simulated runs of the file's own seed).
    pub snapshot: Option<Comparison>,
}

impl SuiteEntry {
    /// Whether the file conformed: it ran, passed, and matched its snapshot
    /// (when one was checked).
    pub fn passed(&self) -> bool {
        matches!(&self.result, FileResult::Ran(outcome) if outcome.passed)
            && self.snapshot.as_ref().is_none_or(Comparison::passed)
    }
}

impl SuiteEntry {
    /// The command that runs this file again as it ran.
    pub fn replay(&self) -> Replay {
        Replay {
            file: self.path.display().to_string(),
            seed: self.seed,
            mode: self.mode,
            implementation: self.implementation,
        }
    }
}

/// Why the suite could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A path could not be read.
    #[error("cannot read {path}: {error}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// No scenario file was found.
    #[error("no scenario files (*.yaml) found in {0}")]
    Empty(String),
}

/// Scenario files under `paths`: files as given, directories' `*.yaml`
/// (not recursive), sorted by path, each once.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SuiteError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|error| SuiteError::Unreadable {
            path: path.clone(),
            error,
        })?;
        if metadata.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|error| SuiteError::Unreadable {
                path: path.clone(),
                error,
            })?;
            for entry in entries.flatten() {
                let file = entry.path();
                if file.extension().and_then(|e| e.to_str()) == Some("yaml") {
                    files.push(file);
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(SuiteError::Empty(shown.join(", ")));
    }
    Ok(files)
}

/// What a suite run checks besides each file's own expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Where the files run.
    pub mode: Mode,
    /// Which implementation runs their nodes.
    pub implementation: Implementation,
    /// Snapshots: `None` to skip them, else what to write on a mismatch.
    /// Only runs of a file's own seed on the default simulator
    /// ([`Mode::SIMULATED`]) have a snapshot.
    pub snapshots: Option<Update>,
}

/// Loads one file, runs it with its own seed plus `seed_offset`, and compares
/// the outcome with its snapshot as `options` say.
pub fn run_file(path: &Path, seed_offset: u64, options: Options) -> SuiteEntry {
    let mode = options.mode;
    let entry = |result, seed, snapshot| SuiteEntry {
        path: path.to_owned(),
        result,
        mode,
        implementation: options.implementation,
        seed,
        snapshot,
    };
    let mut plan = match load_file(path) {
        Err(error) => return entry(FileResult::Invalid(error), None, None),
        Ok(plan) => plan,
    };
    plan.implementation = options.implementation;
    let seed = plan.seed.wrapping_add(seed_offset);
    let (result, snapshot) = match run(&plan, seed, mode) {
        Ok(outcome) => {
            let snapshot = options
                .snapshots
                .filter(|_| mode == Mode::SIMULATED && seed_offset == 0)
                .map(|update| snapshot::compare(&outcome, path, options.implementation, update));
            let result = if outcome.answers_nothing() {
                FileResult::Skipped(format!(
                    "not applicable: no check can be answered here ({})",
                    outcome.not_applicable().join("; ")
                ))
            } else {
                FileResult::Ran(Box::new(outcome))
            };
            (result, snapshot)
        }
        Err(NetworkError::NeedsSimulator(step)) => (
            FileResult::Skipped(format!("{step} needs the simulator")),
            None,
        ),
        Err(NetworkError::NotApplicable(why)) => {
            (FileResult::Skipped(format!("not applicable: {why}")), None)
        }
        Err(error) => (FileResult::Crashed(error), None),
    };
    entry(result, Some(seed), snapshot)
}

/// Runs `work` on every item on up to `jobs` threads; results come back in
/// item order. `done` is called after each item (from a worker thread), for
/// progress bars.
pub fn run_parallel<T, R>(
    items: &[T],
    jobs: usize,
    work: &(dyn Fn(&T) -> R + Sync),
    done: &(dyn Fn() + Sync),
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                    let index = *next;
                    *next += 1;
                    index
                };
                let Some(item) = items.get(index) else {
                    break;
                };
                let result = work(item);
                done();
                results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Runs every file `seeds` times (its own seed, then the next ones) on up to
/// `jobs` threads, in file order then seed order.
pub fn run_all(
    files: &[PathBuf],
    seeds: u64,
    jobs: usize,
    options: Options,
    done: &(dyn Fn() + Sync),
) -> Vec<SuiteEntry> {
    let items: Vec<(PathBuf, u64)> = files
        .iter()
        .flat_map(|f| (0..seeds.max(1)).map(move |offset| (f.clone(), offset)))
        .collect();
    run_parallel(
        &items,
        jobs,
        &|(path, offset)| run_file(path, *offset, options),
        done,
    )
}

/// Why a `K/N` shard specification is wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a shard is K/N with 1 <= K <= N, for example 2/4; got `{0}`")]
pub struct ShardError(pub String);

/// Parses `K/N`.
pub fn parse_shard(text: &str) -> Result<(usize, usize), ShardError> {
    let bad = || ShardError(text.to_owned());
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Shard `k` of `n` (1-based) of `files`: every `n`-th file starting at the
/// `k`-th, in sorted order, so the `n` shards cover each file exactly once.
pub fn shard(files: &[PathBuf], k: usize, n: usize) -> Vec<PathBuf> {
    files
        .iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, f)| f.clone())
        .collect()
}

/// How a run failed, independent of times, counts and repetitions: the set of
/// checks that failed (with their lines) and of invariants and `never`
/// patterns that broke, numbers masked. Runs with the same signature fail the
/// same way.
pub fn failure_signature(outcome: &Outcome) -> String {
    signature(outcome, true)
}

/// [`failure_signature`] without line numbers: stays the same when steps
/// around the failing check are removed (what `shrink` preserves).
pub fn failure_signature_ignoring_lines(outcome: &Outcome) -> String {
    signature(outcome, false)
}

fn signature(outcome: &Outcome, with_lines: bool) -> String {
    let mut parts: Vec<String> = outcome
        .checks
        .iter()
        .filter(|c| c.failure.is_some())
        .map(|c| match with_lines {
            true => format!("line {}: {}", c.line, mask_numbers(&c.check)),
            false => mask_numbers(&c.check),
        })
        .chain(outcome.violations.iter().map(|v| v.signature()))
        .collect();
    parts.sort();
    parts.dedup();
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_file_exactly_once() {
        let files: Vec<PathBuf> = (0..10)
            .map(|i| PathBuf::from(format!("{i:02}.yaml")))
            .collect();
        for n in 1..=4 {
            let mut seen: Vec<PathBuf> = (1..=n).flat_map(|k| shard(&files, k, n)).collect();
            seen.sort();
            assert_eq!(seen, files, "n = {n}");
        }
    }

    #[test]
    fn shard_specs() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
