//! A network of named nodes, as the scenario runner and the workload drive
//! it: the simulator's [`World`] is one, and so is
//! `scenario::real::RealNetwork` over 127.0.0.1 in real time. An
//! implementation provides nodes, time, a way to reach a node's [`Control`]
//! and to wait for a command's answer; the commands themselves are written
//! once, here. Faults only a simulator can inject are reached through
//! [`Network::simulator`].

use std::{future::Future, time::Duration};

use libp2p::{Multiaddr, PeerId};

use super::{
    trace::{render, Names},
    SimError, TraceEntry, WireStats, World,
};
use crate::protocol::{
    CommandError, Control, InstanceMessageRequest, NodeConfig, NodeState, SendError, SendId,
};

/// How late past its timeout a handshake may be recorded as finished in the
/// simulator: the trace's 1 ms resolution plus the event loop noticing.
pub const SIMULATED_TIMING_SLACK: Duration = Duration::from_millis(5);

/// A network of named nodes that the runner and the workload drive.
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
    /// Digest and size of the bytes on the wire (zero where not observed).
    fn wire(&self) -> WireStats;
    /// The simulator, for faults only it can inject; an error elsewhere.
    fn simulator(&mut self) -> Result<&mut World, SimError>;
    /// How late past its timeout a handshake may be recorded as finished
    /// before the invariant calls it late.
    fn timing_slack(&self) -> Duration {
        SIMULATED_TIMING_SLACK
    }
    /// The command handle of running node `name`.
    fn control(&self, name: &str) -> Result<Control, SimError>;
    /// The address other nodes dial to reach `name`.
    fn address(&self, name: &str) -> Result<Multiaddr, SimError>;
    /// Lets the network run until `command` (a [`Control`] call to `node`)
    /// has its answer, or gives up with [`SimError::NoAnswer`].
    fn call<F: Future>(
        &mut self,
        node: &str,
        what: &'static str,
        command: F,
    ) -> Result<F::Output, SimError>;

    /// The trace, one rendered line per entry.
    fn trace_lines(&self) -> Vec<String> {
        self.trace()
            .iter()
            .map(|e| render(e, self.names()))
            .collect()
    }

    /// `from` dials `to`.
    fn dial(&mut self, from: &str, to: &str) -> Result<Result<(), CommandError>, SimError> {
        let control = self.control(from)?;
        let address = self.address(to)?;
        self.call(from, "dial", async move { control.dial(address).await })
    }

    /// `from` sends a direct message to `to`.
    fn send(
        &mut self,
        from: &str,
        to: &str,
        request: InstanceMessageRequest,
    ) -> Result<Result<SendId, SendError>, SimError> {
        let control = self.control(from)?;
        let peer = self.peer_id(to)?;
        self.call(
            from,
            "send",
            async move { control.send(peer, request).await },
        )
    }

    /// `node` subscribes to `topic`.
    fn subscribe(&mut self, node: &str, topic: &str) -> Result<Result<(), CommandError>, SimError> {
        let control = self.control(node)?;
        let topic = topic.to_owned();
        self.call(
            node,
            "subscribe",
            async move { control.subscribe(topic).await },
        )
    }

    /// `node` broadcasts `data` on `topic`.
    fn broadcast(
        &mut self,
        node: &str,
        topic: &str,
        data: Vec<u8>,
    ) -> Result<Result<(), CommandError>, SimError> {
        let control = self.control(node)?;
        let topic = topic.to_owned();
        self.call(node, "broadcast", async move {
            control.broadcast(topic, data).await
        })
    }

    /// `node` bans `peer` for `duration` (`None`: until unbanned).
    fn ban(&mut self, node: &str, peer: &str, duration: Option<Duration>) -> Result<(), SimError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(node, "ban", async move {
            control.ban(peer, "banned by the scenario", duration).await
        })?;
        result.map_err(|_| SimError::NodeDown(node.to_owned()))
    }

    /// `node` lifts its ban on `peer`.
    fn unban(&mut self, node: &str, peer: &str) -> Result<(), SimError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(node, "unban", async move { control.unban(peer).await })?;
        result.map_err(|_| SimError::NodeDown(node.to_owned()))
    }

    /// `node` closes its connections with `peer`.
    fn disconnect(&mut self, node: &str, peer: &str) -> Result<(), SimError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(
            node,
            "disconnect",
            async move { control.disconnect(peer).await },
        )?;
        result.map_err(|_| SimError::NodeDown(node.to_owned()))
    }

    /// A snapshot of `node`'s state.
    fn state(&mut self, node: &str) -> Result<NodeState, SimError> {
        let control = self.control(node)?;
        let result = self.call(node, "state", async move { control.state().await })?;
        result.map_err(|_| SimError::NodeDown(node.to_owned()))
    }
}
