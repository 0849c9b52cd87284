//! A network of named nodes, as the scenario runner and the workload drive
//! it: the simulator's `World` is one, and so is [`super::RealNetwork`]
//! over 127.0.0.1 in real time. An implementation provides nodes, time, a
//! way to reach a node's [`Control`] and to wait for a command's answer; the
//! commands themselves are written once, here. Faults only a simulator can
//! inject are reached through [`Network::faults`].

use std::{future::Future, hash::Hasher, time::Duration};

use fnv::FnvHasher;
use libp2p::{Multiaddr, PeerId};

use super::{
    trace::{render, Names},
    NetworkError, TraceEntry,
};
use crate::protocol::{
    CommandError, Control, InstanceMessageRequest, NodeConfig, NodeState, SendError, SendId,
};

/// Running FNV-1a digest and byte count of everything written to the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WireStats {
    /// FNV-1a 64 over every written byte, in write order.
    pub digest: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl Default for WireStats {
    fn default() -> Self {
        Self {
            digest: FnvHasher::default().finish(),
            bytes: 0,
        }
    }
}

impl WireStats {
    /// Adds `bytes`, written after everything counted so far.
    pub fn absorb(&mut self, bytes: &[u8]) {
        let mut hasher = FnvHasher::with_key(self.digest);
        hasher.write(bytes);
        self.digest = hasher.finish();
        self.bytes += bytes.len() as u64;
    }
}

/// Faults a simulated network can inject: links cut, held, slowed or made
/// lossy, nodes crashed and restarted, clocks shifted. Each is recorded in
/// the trace as a [`super::Fault`] (or a crash or restart).
pub trait Faults {
    /// Drops every message between `a` and `b`, both ways, until [`Self::repair`].
    fn partition(&mut self, a: &str, b: &str) -> Result<(), NetworkError>;
    /// Ends a partition between `a` and `b`.
    fn repair(&mut self, a: &str, b: &str) -> Result<(), NetworkError>;
    /// Queues every message between `a` and `b` until [`Self::release`]; nothing is lost.
    fn hold(&mut self, a: &str, b: &str) -> Result<(), NetworkError>;
    /// Delivers the messages held between `a` and `b` and lets new ones flow.
    fn release(&mut self, a: &str, b: &str) -> Result<(), NetworkError>;
    /// Sets the latency range of messages between `a` and `b`.
    fn set_latency(
        &mut self,
        a: &str,
        b: &str,
        min: Duration,
        max: Duration,
    ) -> Result<(), NetworkError>;
    /// Makes the link between `a` and `b` lossy with probability `rate`:
    /// the event engine loses each segment with it (breaking the stream it
    /// belongs to: nothing retransmits); turmoil drops everything in flight
    /// on the link with it, once per message sent.
    fn set_loss(&mut self, a: &str, b: &str, rate: f64) -> Result<(), NetworkError>;
    /// Makes every link lossy with `rate`, as [`Self::set_loss`].
    fn set_global_loss(&mut self, rate: f64);
    /// Stops `node` at once: its tasks, connections and state are gone.
    fn crash(&mut self, node: &str) -> Result<(), NetworkError>;
    /// Starts a crashed `node` again with the same identity and empty state.
    fn restart(&mut self, node: &str) -> Result<(), NetworkError>;
    /// Shifts `node`'s wall clock by `offset_ms` (its handshake timestamps and
    /// freshness checks use the shifted clock).
    fn set_clock_offset(&mut self, node: &str, offset_ms: i64) -> Result<(), NetworkError>;
    /// Stops taking `node`'s events, as a slow application would: they queue
    /// in the node until it applies backpressure, until [`Self::resume`].
    fn stall(&mut self, node: &str) -> Result<(), NetworkError>;
    /// Takes `node`'s events again, the queued ones first.
    fn resume(&mut self, node: &str) -> Result<(), NetworkError>;
}

/// A network of named nodes that the runner and the workload drive.
pub trait Network {
    /// The seed of the run (node identities derive from it).
    fn seed(&self) -> u64;
    /// Adds a node; its identity derives from the seed and the name.
    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, NetworkError>;
    /// Starts every node added so far.
    fn start(&mut self) -> Result<(), NetworkError>;
    /// Lets time pass until `at` since the start.
    fn run_until(&mut self, at: Duration) -> Result<(), NetworkError>;
    /// Lets `period` pass.
    fn run_for(&mut self, period: Duration) -> Result<(), NetworkError>;
    /// Time since the start.
    fn elapsed(&self) -> Duration;
    /// Whether `name` is running.
    fn is_running(&self, name: &str) -> bool;
    /// Adds a line of the runner's own to the trace, under `node`.
    fn note(&mut self, node: &str, text: String);
    /// The peer id of node `name`.
    fn peer_id(&self, name: &str) -> Result<PeerId, NetworkError>;
    /// Peer-id ↔ name mapping.
    fn names(&self) -> &Names;
    /// Node names, in order.
    fn node_names(&self) -> Vec<String>;
    /// Everything recorded so far.
    fn trace(&self) -> &[TraceEntry];
    /// Digest and size of the bytes on the wire (zero where not observed).
    fn wire(&self) -> WireStats;
    /// The faults this network can inject, if it can.
    fn faults(&mut self) -> Option<&mut dyn Faults> {
        None
    }
    /// How late past its timeout a handshake may be recorded as finished
    /// before the invariant calls it late.
    fn timing_slack(&self) -> Duration;
    /// The command handle of running node `name`.
    fn control(&self, name: &str) -> Result<Control, NetworkError>;
    /// The address other nodes dial to reach `name`.
    fn address(&self, name: &str) -> Result<Multiaddr, NetworkError>;
    /// Lets the network run until `command` (a [`Control`] call to `node`)
    /// has its answer, or gives up with [`NetworkError::NoAnswer`].
    fn call<F: Future>(
        &mut self,
        node: &str,
        what: &'static str,
        command: F,
    ) -> Result<F::Output, NetworkError>;

    /// The trace, one rendered line per entry.
    fn trace_lines(&self) -> Vec<String> {
        self.trace()
            .iter()
            .map(|e| render(e, self.names()))
            .collect()
    }

    /// `from` dials `to`.
    fn dial(&mut self, from: &str, to: &str) -> Result<Result<(), CommandError>, NetworkError> {
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
    ) -> Result<Result<SendId, SendError>, NetworkError> {
        let control = self.control(from)?;
        let peer = self.peer_id(to)?;
        self.call(
            from,
            "send",
            async move { control.send(peer, request).await },
        )
    }

    /// `node` subscribes to `topic`.
    fn subscribe(
        &mut self,
        node: &str,
        topic: &str,
    ) -> Result<Result<(), CommandError>, NetworkError> {
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
    ) -> Result<Result<(), CommandError>, NetworkError> {
        let control = self.control(node)?;
        let topic = topic.to_owned();
        self.call(node, "broadcast", async move {
            control.broadcast(topic, data).await
        })
    }

    /// `node` bans `peer` for `duration` (`None`: until unbanned).
    fn ban(
        &mut self,
        node: &str,
        peer: &str,
        duration: Option<Duration>,
    ) -> Result<(), NetworkError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(node, "ban", async move {
            control.ban(peer, "banned by the scenario", duration).await
        })?;
        result.map_err(|_| NetworkError::NodeDown(node.to_owned()))
    }

    /// `node` lifts its ban on `peer`.
    fn unban(&mut self, node: &str, peer: &str) -> Result<(), NetworkError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(node, "unban", async move { control.unban(peer).await })?;
        result.map_err(|_| NetworkError::NodeDown(node.to_owned()))
    }

    /// `node` closes its connections with `peer`.
    fn disconnect(&mut self, node: &str, peer: &str) -> Result<(), NetworkError> {
        let control = self.control(node)?;
        let peer = self.peer_id(peer)?;
        let result = self.call(
            node,
            "disconnect",
            async move { control.disconnect(peer).await },
        )?;
        result.map_err(|_| NetworkError::NodeDown(node.to_owned()))
    }

    /// A snapshot of `node`'s state.
    fn state(&mut self, node: &str) -> Result<NodeState, NetworkError> {
        let control = self.control(node)?;
        let result = self.call(node, "state", async move { control.state().await })?;
        result.map_err(|_| NetworkError::NodeDown(node.to_owned()))
    }
}
