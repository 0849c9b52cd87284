//! A validated scenario: every name resolved, every duration parsed, one action
//! per step, steps in time order. The runner executes a plan without checking
//! anything again.

use std::time::Duration;

use crate::protocol::NodeConfig;

use super::model::{NodeKind, SendExpect, StateSpec};

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Name (the snapshot's name).
    pub name: String,
    /// What it proves.
    pub about: String,
    /// Seed.
    pub seed: u64,
    /// Message latency range.
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
}

/// A node and its configuration.
#[derive(Debug, Clone)]
pub struct PlannedNode {
    /// Name.
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

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    /// When.
    pub at: Duration,
    /// Line in the file, for reports.
    pub line: u64,
    /// What.
    pub action: Action,
}

/// A direct message to send.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Protocol name.
    pub protocol: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// Metadata.
    pub metadata: Option<Vec<u8>>,
    /// Expected ending.
    pub expect: Option<SendExpect>,
    /// Expected error code for `expect: error`.
    pub code: Option<u16>,
    /// Copies sent at once.
    pub repeat: u32,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// `from` dials `to`.
    Dial(String, String),
    /// `node` disconnects `peer`.
    Disconnect(String, String),
    /// A direct message.
    Send(SendPlan),
    /// Nodes subscribe to a topic.
    Subscribe(Vec<String>, String),
    /// `from` broadcasts `data` on `topic`.
    Broadcast(String, String, Vec<u8>),
    /// `node` bans `peer`.
    Ban(String, String, Option<Duration>),
    /// `node` unbans `peer`.
    Unban(String, String),
    /// Partition two nodes.
    Partition(String, String),
    /// Repair a partition.
    Repair(String, String),
    /// Hold traffic.
    Hold(String, String),
    /// Release held traffic.
    Release(String, String),
    /// Crash a node.
    Crash(String),
    /// Restart a node.
    Restart(String),
    /// Shift a node's clock (ms).
    Clock(String, i64),
    /// Link latency range.
    Latency(String, String, Duration, Duration),
    /// Link loss rate.
    Loss(String, String, f64),
    /// Checks.
    Expect(Vec<Check>),
}

/// One check at a moment.
#[derive(Debug, Clone)]
pub enum Check {
    /// Both sides verified.
    Verified(String, String),
    /// Neither side verified.
    NotVerified(String, String),
    /// Latest handshake state of `node` with `peer`, and the failure reason.
    Handshake(String, String, StateSpec, Option<String>),
    /// Broadcast on topic (with data) reached `to`.
    Delivered(String, String, Option<Vec<u8>>),
    /// Broadcast on topic (with data) did not reach `to`.
    NotDelivered(String, String, Option<Vec<u8>>),
    /// Requests from `from` delivered to `node`'s application.
    Requests(String, String, usize),
    /// Requests from `from` rejected by `node` with `code`, at least `count`.
    Rejected(String, String, u16, usize),
    /// `node` has an active ban on `peer`.
    Banned(String, String),
    /// `node` has no active ban on `peer`.
    NotBanned(String, String),
    /// `node` refused a connection with `peer` by `rule`.
    Refused(String, String, String),
    /// Established connections of `node` (with `peer`).
    Connections(String, Option<String>, u32),
    /// Sends of `node` interrupted and retried, at least this many times.
    Retried(String, usize),
    /// Malformed messages dropped by `node`, at least this many.
    Malformed(String, u64),
    /// Items `node` held at its peak, at most this many.
    Buffered(String, u64),
}

/// A forbidden event.
#[derive(Debug, Clone)]
pub enum Never {
    /// `node`'s handshake with `peer` reaching a state.
    Handshake(String, String, StateSpec),
    /// A request from `from` reaching `node`'s application.
    Request(String, String),
    /// A broadcast forwarded by `from` reaching `node`'s application.
    Broadcast(String, String),
}
