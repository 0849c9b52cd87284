//! The result of running a scenario: what was checked, what failed, the trace
//! and every node's final state. It is what snapshots hold and reports render,
//! and it contains nothing that differs between two runs of one seed.

use std::{collections::BTreeMap, time::Duration};

use serde::Serialize;

use super::violation::Violation;
use crate::{
    net::{
        trace::{Names, TraceEntry, TraceLine},
        WireStats,
    },
    protocol::control::Counters,
};

/// One expectation and whether it held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Virtual time of the check, rendered (`2.000s`).
    pub at: String,
    /// Line of the step in the scenario file.
    pub line: u64,
    /// What was checked.
    pub check: String,
    /// The expectation's keyword (`verified`, `agree`, `send`, …), for
    /// grouping failures by kind; snapshots show the sentence instead.
    #[serde(skip)]
    pub kind: &'static str,
    /// Why it failed; absent when it held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Why the implementation that ran cannot answer it (see
    /// [`super::applicability`]): then it neither held nor failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<&'static str>,
    /// When it was judged (a send's check: when its outcome arrived, or the
    /// end of the run), for placing it in a diagram; snapshots show `at`.
    #[serde(skip)]
    pub time: Duration,
    /// The nodes the check names, for drawing it over them.
    #[serde(skip)]
    pub nodes: Vec<String>,
}

/// A node's state at the end of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinalNode {
    /// Whether the node was running at the end (not crashed).
    pub running: bool,
    /// Peers it has verified.
    pub verified: Vec<String>,
    /// Every peer it has a session with: handshake state, failure, connections.
    pub peers: BTreeMap<String, String>,
    /// Active bans: peer → reason.
    pub bans: BTreeMap<String, String>,
    /// Rejection and refusal counters.
    pub counters: Counters,
}

/// Everything a run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Scenario name.
    pub scenario: String,
    /// What it proves.
    pub about: String,
    /// Seed it ran with.
    pub seed: u64,
    /// Every check held and no invariant was violated.
    pub passed: bool,
    /// Expectations, in the order they were checked.
    pub checks: Vec<CheckResult>,
    /// Violated invariants and `never` patterns, with the trace line that broke them.
    pub violations: Vec<Violation>,
    /// The trace, one line per event.
    pub trace: Vec<TraceLine>,
    /// The same trace as recorded (typed events, peers as ids), for reports
    /// that draw it; snapshots hold the lines above.
    #[serde(skip)]
    pub entries: Vec<TraceEntry>,
    /// The node name of each peer id in `entries`.
    #[serde(skip)]
    pub names: Names,
    /// Final state of every node.
    pub nodes: BTreeMap<String, FinalNode>,
    /// Digest and size of everything written to the simulated wire.
    pub wire: WireStats,
}

impl Outcome {
    /// Whether the implementation that ran could answer none of the
    /// checks (each is not applicable) and nothing broke: the run says
    /// nothing about it, pass or fail.
    pub fn answers_nothing(&self) -> bool {
        self.violations.is_empty()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| c.not_applicable.is_some())
    }

    /// The checks the implementation that ran cannot answer, with why, one
    /// line each.
    pub fn not_applicable(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter_map(|c| {
                let why = c.not_applicable?;
                Some(format!("line {} at {}: {}: {why}", c.line, c.at, c.check))
            })
            .collect()
    }

    /// The failed checks and violations, one line each.
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter_map(|c| {
                c.failure
                    .as_ref()
                    .map(|f| format!("line {} at {}: {}: {f}", c.line, c.at, c.check))
            })
            .chain(self.violations.iter().map(ToString::to_string))
            .collect()
    }
}
