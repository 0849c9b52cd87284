//! Sequence diagrams of a run, drawn from its typed trace in the style of the
//! protocol document: protocol messages as arrows between the nodes that
//! exchanged them, state changes as notes over a node, faults as notes over
//! the nodes they touch, and each failed check or broken invariant as a
//! highlighted note at its time.
//!
//! The pipeline: [`messages`] turns trace entries into [`Step`]s (what each
//! event lets us honestly draw), [`failures`] adds the failed checks and
//! violations, [`condense`] collapses repeats and, for a failing run, keeps
//! the window around the first failure, and [`mermaid`] writes the text
//! (escaped; [`grammar`] checks what it writes).

pub mod condense;
pub mod failures;
pub mod grammar;
pub mod mermaid;
pub mod messages;

use std::time::Duration;

use crate::scenario::Outcome;

/// How an arrow is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrow {
    /// A request or a one-way message (`->>`).
    Request,
    /// A response (`-->>`).
    Response,
    /// A message that was refused or rejected on arrival (`-x`).
    Refused,
    /// A response that refuses (`--x`).
    Rejection,
}

/// What one step of the diagram shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A message from one node to another.
    Message {
        /// Sender.
        from: String,
        /// Receiver.
        to: String,
        /// How it is drawn.
        arrow: Arrow,
        /// What it carried.
        text: String,
    },
    /// A state change, local event or fault, over one or more nodes.
    Note {
        /// The nodes it spans (drawn from the first to the last; none: every
        /// participant).
        over: Vec<String>,
        /// Other nodes it is about (the peer of a state change), which a
        /// diagram must show to show the note.
        about: Vec<String>,
        /// What happened.
        text: String,
    },
    /// A failed check or broken invariant, drawn highlighted.
    Failure {
        /// The nodes it names.
        over: Vec<String>,
        /// What failed and why.
        text: String,
        /// Whether it is the run's first failure (the one a condensed
        /// diagram is centred on).
        first: bool,
    },
}

impl Mark {
    /// The nodes the mark is drawn over or between.
    pub fn drawn(&self) -> Vec<&str> {
        match self {
            Mark::Message { from, to, .. } => vec![from, to],
            Mark::Note { over, .. } | Mark::Failure { over, .. } => {
                over.iter().map(String::as_str).collect()
            }
        }
    }

    /// The nodes the mark concerns: those it is drawn over and those it is about.
    pub fn concerns(&self) -> Vec<&str> {
        let mut nodes = self.drawn();
        if let Mark::Note { about, .. } = self {
            nodes.extend(about.iter().map(String::as_str));
        }
        nodes
    }
}

/// One thing the diagram shows, at its virtual time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Virtual time of the event it was drawn from.
    pub at: Duration,
    /// How many trace entries it stands for (0 for a failure note).
    pub entries: usize,
    /// The index of the trace entry it was drawn from, or for a broken
    /// invariant the entry that broke it (drawn just after that entry's
    /// steps); `None` for a failed check, placed by its time.
    pub entry: Option<usize>,
    /// What it shows.
    pub mark: Mark,
}

/// One line (or block) of a condensed diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A step drawn as it is.
    Step(Step),
    /// A run of steps made of a few marks repeated over and over: drawn once
    /// each, with its count, inside a `loop` block.
    Repeat {
        /// `Some(n)` when the body repeats exactly `n` times in this order;
        /// `None` when its steps interleave in no fixed order.
        times: Option<usize>,
        /// Time of the run's first step.
        first: Duration,
        /// Time of the run's last step.
        last: Duration,
        /// Each distinct step, in order of first appearance, with how often
        /// it occurs in the run.
        body: Vec<(usize, Step)>,
        /// The trace entries the run stands for.
        entries: usize,
    },
    /// Trace entries that are not drawn.
    LeftOut {
        /// How many.
        entries: usize,
        /// Whether they come before the drawn window (else after it).
        earlier: bool,
    },
}

impl Line {
    /// The trace entries the line stands for.
    pub fn entries(&self) -> usize {
        match self {
            Line::Step(step) => step.entries,
            Line::Repeat { entries, .. } => *entries,
            Line::LeftOut { .. } => 0,
        }
    }

    /// How many lines of mermaid text it takes.
    pub fn height(&self) -> usize {
        match self {
            Line::Step(Step {
                mark: Mark::Failure { .. },
                ..
            }) => 3,
            Line::Step(_) | Line::LeftOut { .. } => 1,
            Line::Repeat { body, .. } => body.len() + 2,
        }
    }
}

/// A sequence diagram: its participants, in order, and its lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagram {
    /// Node names, in the order they first appear in the trace.
    pub participants: Vec<String>,
    /// What is drawn, in time order.
    pub lines: Vec<Line>,
}

/// At most this many lines of mermaid text for a failing run.
pub const FAILING_LINES: usize = 60;
/// At most this many lines of mermaid text for a passing run.
pub const PASSING_LINES: usize = 150;

impl Diagram {
    /// The diagram of `outcome`: for a failing run, its first failure and the
    /// exchange around it between the nodes it names, within
    /// [`FAILING_LINES`]; for a passing run, the whole exchange within
    /// [`PASSING_LINES`]. Repeats are collapsed either way, and what is left
    /// out is said in a note.
    pub fn of(outcome: &Outcome) -> Diagram {
        let participants = participants(outcome);
        let mut steps = messages::steps(&outcome.entries, &outcome.names);
        let failures = failures::steps(outcome);
        let focus = failures.iter().find_map(|s| match &s.mark {
            Mark::Failure {
                over, first: true, ..
            } => Some(over.clone()),
            _ => None,
        });
        failures::merge(&mut steps, failures);
        let times: Vec<Duration> = outcome.entries.iter().map(|e| e.at).collect();
        match focus {
            Some(focus) => condense::around_failure(&participants, &focus, steps, &times),
            None => condense::whole(participants, steps, times.len(), PASSING_LINES),
        }
    }

    /// The diagram as mermaid text, ending in a newline.
    pub fn to_mermaid(&self) -> String {
        mermaid::render(self)
    }
}

/// Every node of the run, in the order it first appears in the trace (`world`
/// is no node), then any that never appeared.
fn participants(outcome: &Outcome) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let known = outcome
        .entries
        .iter()
        .map(|e| &e.node)
        .chain(outcome.nodes.keys());
    for node in known {
        if node != "world" && !out.contains(node) {
            out.push(node.clone());
        }
    }
    out
}
