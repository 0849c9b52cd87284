//! A validated scenario: every name resolved, every duration parsed, one action
//! per step, steps in time order. The runner executes a plan without checking
//! anything again.
//!
//! An action's keyword (the YAML key that writes it) and whether it needs the
//! simulator are answered here, by exhaustive matches: a new [`Action`]
//! variant does not compile until both are given.

use std::{fmt, time::Duration};

use super::model::{FailureReason, NodeKind, RefusalRule, SendExpect, StateSpec};
use crate::{implementation::Implementation, protocol::NodeConfig};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The scenario's name (its snapshot is named after it).
    pub name: String,
    /// What the scenario proves, in a sentence.
    pub about: String,
    /// The seed the file names (a run may use another).
    pub seed: u64,
    /// Message latency range, min to max.
    pub latency: (Duration, Duration),
    /// Loss rate on every link.
    pub loss: f64,
    /// Nodes in creation order.
    pub nodes: Vec<PlannedNode>,
    /// Steps in time order (ties keep file order).
    pub steps: Vec<Step>,
    /// Patterns that must never occur.
    pub never: Vec<Never>,
    /// Explicit end of the run, if given.
    pub end: Option<Duration>,
    /// Which implementation runs every node: simnet's unless a command's
    /// `--impl` says otherwise (a file does not choose).
    pub implementation: Implementation,
}

/// A node and its configuration.
#[derive(Debug, Clone)]
pub struct PlannedNode {
    /// The node's name.
    pub name: String,
    /// Node configuration (misbehaviour filled in by the runner for `replay`).
    pub config: NodeConfig,
    /// Honest or adversarial.
    pub kind: NodeKind,
    /// For `replay`: whose handshake to whom.
    pub replays: Option<(String, String)>,
    /// Instance keys of these nodes form its allow-list.
    pub allow: Option<Vec<String>>,
}

/// One step: an action at a virtual time.
#[derive(Debug, Clone)]
pub struct Step {
    /// Virtual time since the start.
    pub at: Duration,
    /// Line in the file, for reports.
    pub line: u64,
    /// The action.
    pub action: Action,
}

/// A direct message to send.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// Sending node.
    pub from: String,
    /// Receiving node.
    pub to: String,
    /// Application protocol name.
    pub protocol: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Metadata bytes, if any.
    pub metadata: Option<Vec<u8>>,
    /// How the send must end, checked at the end of the run.
    pub expect: Option<SendExpect>,
    /// Expected error code for `expect: error`.
    pub code: Option<u16>,
    /// Copies sent at once.
    pub repeat: u32,
    /// The outcome must arrive within this time of the send.
    pub within: Option<Duration>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// `from` dials `to`.
    Dial { from: String, to: String },
    /// `node` closes its connections with `peer`.
    Disconnect { node: String, peer: String },
    /// A direct message.
    Send(SendPlan),
    /// `nodes` subscribe to `topic`.
    Subscribe { nodes: Vec<String>, topic: String },
    /// `from` publishes `data` on `topic`, `repeat` times at once.
    Broadcast {
        from: String,
        topic: String,
        data: Vec<u8>,
        repeat: u32,
    },
    /// `node` bans `peer` for `duration` (`None`: until lifted).
    Ban {
        node: String,
        peer: String,
        duration: Option<Duration>,
    },
    /// `node` lifts its ban on `peer`.
    Unban { node: String, peer: String },
    /// Drop all traffic between `a` and `b`.
    Partition { a: String, b: String },
    /// End a partition between `a` and `b`.
    Repair { a: String, b: String },
    /// Queue all traffic between `a` and `b`.
    Hold { a: String, b: String },
    /// Deliver traffic held between `a` and `b`.
    Release { a: String, b: String },
    /// Stop `node`, losing its state.
    Crash { node: String },
    /// Start a crashed `node` again with the same identity.
    Restart { node: String },
    /// Shift `node`'s wall clock by `offset_ms`.
    Clock { node: String, offset_ms: i64 },
    /// `node`'s application stops taking events.
    Stall { node: String },
    /// `node`'s application takes its events again.
    Resume { node: String },
    /// Latency range of the link between `a` and `b`.
    Latency {
        a: String,
        b: String,
        min: Duration,
        max: Duration,
    },
    /// Loss rate of the link between `a` and `b`.
    Loss { a: String, b: String, rate: f64 },
    /// Checks at this moment.
    Expect(Vec<Check>),
}

impl Action {
    /// The YAML key that writes this action in a step.
    pub fn keyword(&self) -> &'static str {
        match self {
            Action::Dial { .. } => "dial",
            Action::Disconnect { .. } => "disconnect",
            Action::Send(_) => "send",
            Action::Subscribe { .. } => "subscribe",
            Action::Broadcast { .. } => "broadcast",
            Action::Ban { .. } => "ban",
            Action::Unban { .. } => "unban",
            Action::Partition { .. } => "partition",
            Action::Repair { .. } => "repair",
            Action::Hold { .. } => "hold",
            Action::Release { .. } => "release",
            Action::Crash { .. } => "crash",
            Action::Restart { .. } => "restart",
            Action::Clock { .. } => "clock",
            Action::Stall { .. } => "stall",
            Action::Resume { .. } => "resume",
            Action::Latency { .. } => "latency",
            Action::Loss { .. } => "loss",
            Action::Expect(_) => "expect",
        }
    }

    /// Whether only the simulator can carry it out (real sockets cannot
    /// partition, hold, shape latency or loss, crash a node, shift a clock or
    /// stall an application).
    pub fn needs_simulator(&self) -> bool {
        match self {
            Action::Partition { .. }
            | Action::Repair { .. }
            | Action::Hold { .. }
            | Action::Release { .. }
            | Action::Crash { .. }
            | Action::Restart { .. }
            | Action::Clock { .. }
            | Action::Stall { .. }
            | Action::Resume { .. }
            | Action::Latency { .. }
            | Action::Loss { .. } => true,
            Action::Dial { .. }
            | Action::Disconnect { .. }
            | Action::Send(_)
            | Action::Subscribe { .. }
            | Action::Broadcast { .. }
            | Action::Ban { .. }
            | Action::Unban { .. }
            | Action::Expect(_) => false,
        }
    }
}

/// One check at a moment.
#[derive(Debug, Clone)]
pub enum Check {
    /// `a` and `b` have verified each other.
    Verified { a: String, b: String },
    /// Neither of `a` and `b` has verified the other.
    NotVerified { a: String, b: String },
    /// The latest handshake state of `node` with `peer`, its failure reason,
    /// and whose instance key the peer proved.
    Handshake {
        node: String,
        peer: String,
        state: StateSpec,
        reason: Option<FailureReason>,
        key: Option<String>,
    },
    /// A broadcast on `topic` (with `data`, if given) reached `node`.
    Delivered {
        topic: String,
        node: String,
        data: Option<Vec<u8>>,
    },
    /// No broadcast on `topic` (with `data`, if given) reached `node`.
    NotDelivered {
        topic: String,
        node: String,
        data: Option<Vec<u8>>,
    },
    /// Exactly `count` requests from `from` reached `node`'s application.
    Requests {
        node: String,
        from: String,
        count: usize,
    },
    /// At least `at_least` requests from `from` were answered `code` by `node`.
    Rejected {
        node: String,
        from: String,
        code: u16,
        at_least: usize,
    },
    /// `node` has an active ban on `peer`.
    Banned { node: String, peer: String },
    /// `node` has no active ban on `peer`.
    NotBanned { node: String, peer: String },
    /// `node` refused a connection with `peer` by `rule`, at least once and
    /// (if given) at most `at_most` times.
    Refused {
        node: String,
        peer: String,
        rule: RefusalRule,
        at_most: Option<usize>,
    },
    /// `node` has `count` established connections (with `peer`, if given).
    Connections {
        node: String,
        peer: Option<String>,
        count: u32,
    },
    /// Sends of `node` were interrupted and retried at least `at_least` times.
    Retried { node: String, at_least: usize },
    /// `node` dropped at least `at_least` malformed messages.
    Malformed { node: String, at_least: u64 },
    /// `node` held at most `at_most` items at its peak.
    Buffered { node: String, at_most: u64 },
    /// `a` and `b` agree: both verified each other, or neither did.
    Agree { a: String, b: String },
    /// A broadcast of `from` on `topic` (with `data`) reached each of `to`
    /// that `from` reaches through links verified on both sides, from its
    /// publication to the check without a break, among the honest nodes of
    /// `to` (a node with an allow-list only if it holds such a link to `from`:
    /// it accepts gossip only from authors it verified itself).
    Reached {
        from: String,
        topic: String,
        data: Option<Vec<u8>>,
        to: Vec<String>,
    },
}

impl Check {
    /// The expectation key that writes this check.
    pub fn keyword(&self) -> &'static str {
        match self {
            Check::Verified { .. } => "verified",
            Check::NotVerified { .. } => "not_verified",
            Check::Handshake { .. } => "handshake",
            Check::Delivered { .. } => "delivered",
            Check::NotDelivered { .. } => "not_delivered",
            Check::Requests { .. } => "requests",
            Check::Rejected { .. } => "rejected",
            Check::Banned { .. } => "banned",
            Check::NotBanned { .. } => "not_banned",
            Check::Refused { .. } => "refused",
            Check::Connections { .. } => "connections",
            Check::Retried { .. } => "retried",
            Check::Malformed { .. } => "malformed",
            Check::Buffered { .. } => "buffered",
            Check::Agree { .. } => "agree",
            Check::Reached { .. } => "reached",
        }
    }

    /// The nodes the check names, in the order it names them.
    pub fn nodes(&self) -> Vec<&str> {
        match self {
            Check::Verified { a, b } | Check::NotVerified { a, b } | Check::Agree { a, b } => {
                vec![a, b]
            }
            Check::Handshake { node, peer, .. }
            | Check::Banned { node, peer }
            | Check::NotBanned { node, peer }
            | Check::Refused { node, peer, .. } => vec![node, peer],
            Check::Requests { node, from, .. } | Check::Rejected { node, from, .. } => {
                vec![node, from]
            }
            Check::Connections { node, peer, .. } => std::iter::once(node)
                .chain(peer.as_ref())
                .map(String::as_str)
                .collect(),
            Check::Delivered { node, .. }
            | Check::NotDelivered { node, .. }
            | Check::Retried { node, .. }
            | Check::Malformed { node, .. }
            | Check::Buffered { node, .. } => vec![node],
            Check::Reached { from, to, .. } => std::iter::once(from)
                .chain(to)
                .map(String::as_str)
                .collect(),
        }
    }
}

/// What a check claims, in the words reports show.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = |d: &Option<Vec<u8>>| {
            d.as_ref()
                .map(|d| format!(" ({:?})", String::from_utf8_lossy(d)))
                .unwrap_or_default()
        };
        match self {
            Check::Verified { a, b } => write!(f, "{a} and {b} verified"),
            Check::NotVerified { a, b } => write!(f, "{a} and {b} not verified"),
            Check::Handshake {
                node,
                peer,
                state,
                reason,
                key,
            } => write!(
                f,
                "{node}'s handshake with {peer} is {state:?}{}{}",
                reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                key.as_ref()
                    .map(|k| format!(" with {k}'s instance key"))
                    .unwrap_or_default()
            ),
            Check::Delivered {
                topic,
                node,
                data: d,
            } => {
                write!(f, "broadcast on {topic}{} delivered to {node}", data(d))
            }
            Check::NotDelivered {
                topic,
                node,
                data: d,
            } => {
                write!(f, "broadcast on {topic}{} not delivered to {node}", data(d))
            }
            Check::Requests { node, from, count } => {
                write!(f, "{count} request(s) from {from} delivered to {node}")
            }
            Check::Rejected {
                node,
                from,
                code,
                at_least,
            } => write!(
                f,
                "at least {at_least} request(s) from {from} rejected by {node} with {code}"
            ),
            Check::Banned { node, peer } => write!(f, "{node} bans {peer}"),
            Check::NotBanned { node, peer } => write!(f, "{node} does not ban {peer}"),
            Check::Refused {
                node,
                peer,
                rule,
                at_most: None,
            } => write!(f, "{node} refused {peer} ({rule})"),
            Check::Refused {
                node,
                peer,
                rule,
                at_most: Some(most),
            } => write!(f, "{node} refused {peer} ({rule}) 1 to {most} time(s)"),
            Check::Retried { node, at_least } => {
                write!(f, "sends of {node} retried at least {at_least} time(s)")
            }
            Check::Malformed { node, at_least } => {
                write!(
                    f,
                    "at least {at_least} malformed message(s) dropped by {node}"
                )
            }
            Check::Buffered { node, at_most } => {
                write!(f, "{node} held at most {at_most} item(s) at its peak")
            }
            Check::Agree { a, b } => write!(f, "{a} and {b} agree on their session"),
            Check::Reached {
                from,
                topic,
                data: d,
                to,
            } => write!(
                f,
                "broadcast of {from} on {topic}{} reached every connected one of {}",
                data(d),
                to.join(", ")
            ),
            Check::Connections { node, peer, count } => write!(
                f,
                "{node} has {count} connection(s){}",
                peer.as_ref()
                    .map(|p| format!(" with {p}"))
                    .unwrap_or_default()
            ),
        }
    }
}

/// A forbidden event.
#[derive(Debug, Clone)]
pub enum Never {
    /// `node`'s handshake with `peer` reaching `state` (for `reason`, if given).
    Handshake {
        node: String,
        peer: String,
        state: StateSpec,
        reason: Option<FailureReason>,
    },
    /// A request from `from` reaching `node`'s application.
    Request { node: String, from: String },
    /// A broadcast forwarded by `from` reaching `node`'s application.
    Broadcast { node: String, from: String },
}

impl Never {
    /// The observing node and the peer the pattern is about.
    pub fn pair(&self) -> (&str, &str) {
        match self {
            Never::Handshake { node, peer, .. } => (node, peer),
            Never::Request { node, from } | Never::Broadcast { node, from } => (node, from),
        }
    }
}
