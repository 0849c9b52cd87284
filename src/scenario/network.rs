//! What the scenario runner needs from a network of nodes: the simulator's
//! [`World`] provides it, and so does [`super::real::RealNetwork`] over
//! 127.0.0.1 in real time. Faults only a simulator can inject are reached
//! through [`Network::simulator`].

use std::time::Duration;

use libp2p::PeerId;

use crate::{
    protocol::{CommandError, InstanceMessageRequest, NodeConfig, NodeState, SendError, SendId},
    sim::{trace::Names, SimError, TraceEntry, WireStats, World},
};

/// A network of named nodes the runner drives through a scenario.
pub trait Network {
    /// The seed of the run (node identities derive from it).
    fn seed(&self) -> u64;
    /// Adds a node; its identity derives from the seed and the name.
    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, SimError>;
    /// Starts every node added so far.
    fn start(&mut self) -> Result<(), SimError>;
    /// Lets time pass until `at` since the start.
    fn run_until(&mut self, at: Duration) -> Result<(), SimError>;
    /// Lets `period` pass.
    fn run_for(&mut self, period: Duration) -> Result<(), SimError>;
    /// Time since the start.
    fn elapsed(&self) -> Duration;
    /// `from` dials `to`.
    fn dial(&mut self, from: &str, to: &str) -> Result<Result<(), CommandError>, SimError>;
    /// `from` sends a direct message to `to`.
    fn send(
        &mut self,
        from: &str,
        to: &str,
        request: InstanceMessageRequest,
    ) -> Result<Result<SendId, SendError>, SimError>;
    /// `node` subscribes to `topic`.
    fn subscribe(&mut self, node: &str, topic: &str) -> Result<Result<(), CommandError>, SimError>;
    /// `node` broadcasts `data` on `topic`.
    fn broadcast(
        &mut self,
        node: &str,
        topic: &str,
        data: Vec<u8>,
    ) -> Result<Result<(), CommandError>, SimError>;
    /// `node` bans `peer`.
    fn ban(&mut self, node: &str, peer: &str, duration: Option<Duration>) -> Result<(), SimError>;
    /// `node` lifts its ban on `peer`.
    fn unban(&mut self, node: &str, peer: &str) -> Result<(), SimError>;
    /// `node` closes its connections with `peer`.
    fn disconnect(&mut self, node: &str, peer: &str) -> Result<(), SimError>;
    /// A snapshot of `node`'s state.
    fn state(&mut self, node: &str) -> Result<NodeState, SimError>;
    /// Whether `name` is running.
    fn is_running(&self, name: &str) -> bool;
    /// Adds a line of the runner's own to the trace, under `node`.
    fn note(&mut self, node: &str, text: String);
    /// The peer id of node `name`.
    fn peer_id(&self, name: &str) -> Result<PeerId, SimError>;
    /// Peer-id ↔ name mapping.
    fn names(&self) -> &Names;
    /// Node names, in order.
    fn node_names(&self) -> Vec<String>;
    /// Everything recorded so far.
    fn trace(&self) -> &[TraceEntry];
    /// The trace, one rendered line per entry.
    fn trace_lines(&self) -> Vec<String>;
    /// Digest and size of the bytes on the wire (zero where not observed).
    fn wire(&self) -> WireStats;
    /// The simulator, for faults only it can inject; an error elsewhere.
    fn simulator(&mut self) -> Result<&mut World, SimError>;
    /// How late past its timeout a handshake may be recorded as finished
    /// before the invariant calls it late.
    fn timing_slack(&self) -> Duration {
        crate::scenario::invariants::TIMEOUT_SLACK
    }
}

impl Network for World {
    fn seed(&self) -> u64 {
        World::seed(self)
    }
    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, SimError> {
        World::add_node(self, name, config)
    }
    fn start(&mut self) -> Result<(), SimError> {
        World::start(self)
    }
    fn run_until(&mut self, at: Duration) -> Result<(), SimError> {
        World::run_until(self, at)
    }
    fn run_for(&mut self, period: Duration) -> Result<(), SimError> {
        World::run_for(self, period)
    }
    fn elapsed(&self) -> Duration {
        World::elapsed(self)
    }
    fn dial(&mut self, from: &str, to: &str) -> Result<Result<(), CommandError>, SimError> {
        World::dial(self, from, to)
    }
    fn send(
        &mut self,
        from: &str,
        to: &str,
        request: InstanceMessageRequest,
    ) -> Result<Result<SendId, SendError>, SimError> {
        World::send(self, from, to, request)
    }
    fn subscribe(&mut self, node: &str, topic: &str) -> Result<Result<(), CommandError>, SimError> {
        World::subscribe(self, node, topic)
    }
    fn broadcast(
        &mut self,
        node: &str,
        topic: &str,
        data: Vec<u8>,
    ) -> Result<Result<(), CommandError>, SimError> {
        World::broadcast(self, node, topic, data)
    }
    fn ban(&mut self, node: &str, peer: &str, duration: Option<Duration>) -> Result<(), SimError> {
        World::ban(self, node, peer, duration)
    }
    fn unban(&mut self, node: &str, peer: &str) -> Result<(), SimError> {
        World::unban(self, node, peer)
    }
    fn disconnect(&mut self, node: &str, peer: &str) -> Result<(), SimError> {
        World::disconnect(self, node, peer)
    }
    fn state(&mut self, node: &str) -> Result<NodeState, SimError> {
        World::state(self, node)
    }
    fn is_running(&self, name: &str) -> bool {
        World::is_running(self, name)
    }
    fn note(&mut self, node: &str, text: String) {
        World::note(self, node, text)
    }
    fn peer_id(&self, name: &str) -> Result<PeerId, SimError> {
        World::peer_id(self, name)
    }
    fn names(&self) -> &Names {
        World::names(self)
    }
    fn node_names(&self) -> Vec<String> {
        World::node_names(self)
    }
    fn trace(&self) -> &[TraceEntry] {
        World::trace(self)
    }
    fn trace_lines(&self) -> Vec<String> {
        World::trace_lines(self)
    }
    fn wire(&self) -> WireStats {
        World::wire(self)
    }
    fn simulator(&mut self) -> Result<&mut World, SimError> {
        Ok(self)
    }
}
