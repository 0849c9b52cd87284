//! Conformance reports of a `simnet conformance` run: one [`Report`] value
//! rendered as JUnit XML (for CI systems), Markdown with sequence diagrams of
//! failing runs (for people reading a pull request) and JSON (for tools).

pub mod diagram;
pub mod junit;
pub mod markdown;
pub mod rules;

use std::{collections::HashMap, io, path::Path};

use serde::Serialize;

use crate::{
    net::trace::TraceLine,
    scenario::{
        replay::Replay,
        suite::{FileResult, SuiteEntry},
    },
};

/// How one scenario ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check held and no invariant broke.
    Passed,
    /// A check or an invariant failed.
    Failed,
    /// The file is not a valid scenario.
    Invalid,
    /// The simulation itself failed.
    Crashed,
    /// Not run: it needs the simulator and this was a real-socket run.
    Skipped,
}

/// One scenario's result.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioResult {
    /// The scenario file.
    pub file: String,
    /// The scenario's name (the file name when it could not be loaded).
    pub name: String,
    /// What it proves.
    pub about: String,
    /// The seed it ran with.
    pub seed: Option<u64>,
    /// How it ended.
    pub status: Status,
    /// Failed checks, violations, or the load error.
    pub failures: Vec<String>,
    /// Checks the implementation that ran cannot answer, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<String>,
    /// The command that runs it again (exactly, in the simulator); absent
    /// when it passed.
    pub replay: Option<Replay>,
    /// The trace, one line per event (empty unless it ran, and for a
    /// passing seed of a scenario that ran at several).
    pub trace: Vec<TraceLine>,
    /// The sequence diagram of a failing run (condensed around its first
    /// failure); `summary.md` draws it, `results.json` holds the trace instead.
    #[serde(skip)]
    pub diagram: Option<diagram::Diagram>,
}

/// A whole conformance run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// simnet's version.
    pub simnet: String,
    /// Scenarios that passed.
    pub passed: usize,
    /// Scenarios that failed, crashed or could not be loaded.
    pub failed: usize,
    /// Scenarios not run (they need the simulator; `--real` runs only).
    pub skipped: usize,
    /// Every scenario, in file order.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// Builds the report of a suite run.
    /// A scenario run at several seeds keeps the traces of the seeds that
    /// did not pass only: 250 seeds of the whole suite would otherwise
    /// write about 220 MB of traces of passing runs.
    pub fn from_suite(entries: &[SuiteEntry]) -> Report {
        let mut runs: HashMap<&Path, usize> = HashMap::new();
        for entry in entries {
            *runs.entry(entry.path.as_path()).or_default() += 1;
        }
        let results: Vec<ScenarioResult> = entries
            .iter()
            .map(|entry| {
                let mut result = result_of(entry);
                if result.status == Status::Passed && runs[entry.path.as_path()] > 1 {
                    result.trace = Vec::new();
                }
                result
            })
            .collect();
        let count = |status: Status| results.iter().filter(|r| r.status == status).count();
        let (passed, skipped) = (count(Status::Passed), count(Status::Skipped));
        Report {
            simnet: env!("CARGO_PKG_VERSION").to_owned(),
            passed,
            failed: results.len() - passed - skipped,
            skipped,
            results,
        }
    }

    /// Writes `junit.xml`, `summary.md` and `results.json` into `dir`.
    pub fn write_all(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(
            dir.join("junit.xml"),
            junit::render(self).map_err(io::Error::other)?,
        )?;
        std::fs::write(dir.join("summary.md"), markdown::render(self))?;
        self.write_json(dir)
    }

    /// Writes `results.json` (everything, with the traces) into `dir`.
    pub fn write_json(&self, dir: &Path) -> io::Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(dir.join("results.json"), json + "\n")
    }
}

fn result_of(entry: &SuiteEntry) -> ScenarioResult {
    let file = entry.path.display().to_string();
    let stem = entry
        .path
        .file_stem()
        .map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned());
    let unrun = |status: Status, failure: String| ScenarioResult {
        file: file.clone(),
        name: stem.clone(),
        about: String::new(),
        seed: entry.seed,
        status,
        failures: vec![failure],
        not_applicable: Vec::new(),
        replay: None,
        trace: Vec::new(),
        diagram: None,
    };
    match &entry.result {
        FileResult::Ran(outcome) => ScenarioResult {
            replay: (!entry.passed()).then(|| entry.replay()),
            name: outcome.scenario.clone(),
            about: outcome.about.clone(),
            seed: Some(outcome.seed),
            status: if entry.passed() {
                Status::Passed
            } else {
                Status::Failed
            },
            failures: outcome
                .failures()
                .into_iter()
                .chain(
                    entry
                        .snapshot
                        .iter()
                        .filter(|c| !c.passed())
                        .map(ToString::to_string),
                )
                .collect(),
            not_applicable: outcome.not_applicable(),
            trace: outcome.trace.clone(),
            diagram: (!entry.passed()).then(|| diagram::Diagram::of(outcome)),
            ..unrun(Status::Passed, String::new())
        },
        FileResult::Invalid(error) => ScenarioResult {
            seed: None,
            ..unrun(Status::Invalid, error.to_string())
        },
        FileResult::Skipped(reason) => ScenarioResult {
            seed: None,
            ..unrun(Status::Skipped, reason.clone())
        },
        FileResult::Crashed(error) => ScenarioResult {
            replay: Some(entry.replay()),
            ..unrun(Status::Crashed, error.to_string())
        },
    }
}
