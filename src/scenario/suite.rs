//! Finds scenario files and runs them all, on parallel threads, in a stable
//! order: the conformance suite.

use std::{
    path::{Path, PathBuf},
    sync::Mutex,
};

use super::{load_file, run, LoadError, Outcome};
use crate::sim::SimError;

/// What happened to one scenario file.
#[derive(Debug)]
pub enum FileResult {
    /// The file is not a valid scenario.
    Invalid(LoadError),
    /// The simulation itself failed (a bug in simnet, not a protocol failure).
    Crashed(SimError),
    /// The scenario ran; `outcome.passed` tells whether it conformed.
    Ran(Box<Outcome>),
}

/// One file and its result.
#[derive(Debug)]
pub struct SuiteEntry {
    /// The scenario file.
    pub path: PathBuf,
    /// Its result.
    pub result: FileResult,
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

/// Loads and runs one file.
pub fn run_file(path: &Path) -> FileResult {
    match load_file(path) {
        Err(error) => FileResult::Invalid(error),
        Ok(plan) => match run(&plan) {
            Ok(outcome) => FileResult::Ran(Box::new(outcome)),
            Err(error) => FileResult::Crashed(error),
        },
    }
}

/// Runs `files` on up to `jobs` threads; results come back in file order.
/// `progress` is called after each file finishes (from the worker thread).
pub fn run_all(
    files: &[PathBuf],
    jobs: usize,
    progress: &(dyn Fn(&SuiteEntry) + Sync),
) -> Vec<SuiteEntry> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<SuiteEntry>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, files.len().max(1)) {
            scope.spawn(|| loop {
                let index = {
                    let mut next = next.lock().unwrap_or_else(|p| p.into_inner());
                    let index = *next;
                    *next += 1;
                    index
                };
                let Some(path) = files.get(index) else {
                    break;
                };
                let entry = SuiteEntry {
                    path: path.clone(),
                    result: run_file(path),
                };
                progress(&entry);
                results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(entry);
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
