//! [`World`]: a turmoil simulation with one host per node, stepped by simnet.
//!
//! The world owns the `turmoil::Sim` and steps it itself (one tick, 1 ms by
//! default, per step). Between steps it drains every node's events into the
//! trace, applies faults, and hands commands to nodes. Commands are ordinary
//! [`Control`] futures, polled between steps until the node answers, so the
//! protocol code runs exactly as it does on real sockets.
//!
//! A world only exists inside [`simulate`], which runs it on a fresh OS thread
//! with seeded randomness and a virtual clock (see [`super::determinism`]).

use std::{
    collections::BTreeMap,
    future::Future,
    pin::pin,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};

use super::{
    determinism::{self, WithWallOffset},
    transport::{SimTcp, WireStats, WireTap},
};
use crate::{
    implementation::{Implementation, NodeBuilder},
    net::{node_keys, Fault, Faults, Names, Network, NetworkError, Record, TraceEntry},
    protocol::{transport::upgrade, Control, NodeConfig, NodeHandle, NodeKeys},
};

/// How late past its timeout a handshake may be recorded as finished in the
/// simulator: the trace's 1 ms resolution plus the event loop noticing.
pub const SIMULATED_TIMING_SLACK: Duration = Duration::from_millis(5);

/// The port every simulated node listens on.
pub const LISTEN_PORT: u16 = 4000;

/// How long the world waits (virtual time) for a node to answer a command.
const COMMAND_WAIT: Duration = Duration::from_secs(60);

/// Settings of one simulation.
///
/// ## Default values
/// - `seed`: 0
/// - `tick`: 1 ms of virtual time per step
/// - `latency`: 1 ms to 20 ms per message, drawn from the seeded generator
/// - `epoch`: 2026-01-01T00:00:00Z as virtual wall-clock time zero
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// Seeds every random choice: latencies, keys, gossip peer selection.
    pub seed: u64,
    /// Virtual time per step.
    pub tick: Duration,
    /// Range of one message's latency.
    pub latency: (Duration, Duration),
    /// Virtual wall-clock time at the start, since the Unix epoch.
    pub epoch: Duration,
    /// Which implementation runs every node.
    pub implementation: Implementation,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            tick: Duration::from_millis(1),
            latency: (Duration::from_millis(1), Duration::from_millis(20)),
            epoch: determinism::DEFAULT_EPOCH,
            implementation: Implementation::default(),
        }
    }
}

/// Runs `body` against a new world on a fresh OS thread made deterministic for
/// `config.seed`, and returns what it returns.
pub fn simulate<T, F>(config: WorldConfig, body: F) -> Result<T, NetworkError>
where
    T: Send + 'static,
    F: FnOnce(&mut World) -> T + Send + 'static,
{
    let name = format!("simnet-seed-{}", config.seed);
    let (seed, epoch) = (config.seed, config.epoch);
    determinism::on_fresh_thread(name, seed, epoch, move || {
        let mut world = World::new(config)?;
        Ok(body(&mut world))
    })?
}

/// A node of the world: its fixed identity and, while it runs, its handle.
struct SimNode {
    peer_id: PeerId,
    handle: Option<NodeHandle>,
    /// Filled by the host each time it (re)starts; taken by the world.
    new_handle: Arc<Mutex<Option<NodeHandle>>>,
    wall_offset_ms: Arc<AtomicI64>,
    crashed: bool,
    /// Its application takes no events ([`Faults::stall`]).
    stalled: bool,
}

/// A simulated network of nodes. Created by [`simulate`].
pub struct World {
    sim: turmoil::Sim<'static>,
    config: WorldConfig,
    nodes: BTreeMap<String, SimNode>,
    names: Names,
    trace: Vec<TraceEntry>,
    tap: WireTap,
    builder: NodeBuilder,
}

/// Where every simulated node listens: all its addresses, [`LISTEN_PORT`].
pub(crate) fn listen_address() -> Multiaddr {
    Multiaddr::empty()
        .with(Protocol::Ip4([0, 0, 0, 0].into()))
        .with(Protocol::Tcp(LISTEN_PORT))
}

/// What a turmoil host needs to (re)start its node.
#[derive(Clone)]
struct Host {
    name: String,
    keys: NodeKeys,
    config: NodeConfig,
    builder: NodeBuilder,
    slot: Arc<Mutex<Option<NodeHandle>>>,
    wall_offset_ms: Arc<AtomicI64>,
    tap: WireTap,
}

async fn run_host(host: Host) -> turmoil::Result {
    let ip = turmoil::lookup(host.name.as_str());
    let transport = upgrade(SimTcp::new(ip, host.tap), &host.keys.identity)?;
    let node = host
        .builder
        .start(host.config, host.keys, transport, listen_address())?;
    *host.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(node.handle);
    WithWallOffset {
        offset_ms: host.wall_offset_ms,
        inner: Box::pin(node.run),
    }
    .await;
    Ok(())
}

impl World {
    fn new(config: WorldConfig) -> Result<Self, NetworkError> {
        let builder = NodeBuilder::new(config.implementation)?;
        let sim = turmoil::Builder::new()
            .rng_seed(config.seed)
            .tick_duration(config.tick)
            .min_message_latency(config.latency.0)
            .max_message_latency(config.latency.1)
            .simulation_duration(Duration::from_secs(365 * 86_400))
            .build();
        Ok(Self {
            sim,
            config,
            nodes: BTreeMap::new(),
            names: Names::default(),
            trace: Vec::new(),
            tap: WireTap::default(),
            builder,
        })
    }

    fn node(&self, name: &str) -> Result<&SimNode, NetworkError> {
        self.nodes
            .get(name)
            .ok_or_else(|| NetworkError::UnknownNode(name.to_owned()))
    }

    /// Advances the simulation by one tick and records what the nodes reported.
    pub fn step(&mut self) -> Result<(), NetworkError> {
        determinism::set_elapsed(self.sim.elapsed());
        self.sim
            .step()
            .map_err(|e| NetworkError::Simulation(e.to_string()))?;
        self.collect();
        Ok(())
    }

    fn collect(&mut self) {
        let at = self.sim.elapsed();
        for (name, node) in self.nodes.iter_mut() {
            let restarted = node
                .new_handle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(handle) = restarted {
                node.handle = Some(handle);
            }
            if node.stalled {
                continue;
            }
            let Some(handle) = node.handle.as_mut() else {
                continue;
            };
            while let Some(event) = handle.try_next_event() {
                self.trace.push(TraceEntry {
                    at,
                    node: name.clone(),
                    record: Record::Event(event),
                });
            }
        }
    }

    /// Runs until `done` holds (checked after every step) or `limit` of
    /// virtual time passes; returns whether `done` held.
    pub fn run_until_condition(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&World) -> bool,
    ) -> Result<bool, NetworkError> {
        let end = self.sim.elapsed() + limit;
        while !done(self) {
            if self.sim.elapsed() >= end {
                return Ok(false);
            }
            self.step()?;
        }
        Ok(true)
    }

    /// Marks whether `node`'s application takes events and records `fault`.
    fn set_stalled(&mut self, node: &str, stalled: bool, fault: Fault) -> Result<(), NetworkError> {
        self.collect();
        self.nodes
            .get_mut(node)
            .ok_or_else(|| NetworkError::UnknownNode(node.to_owned()))?
            .stalled = stalled;
        self.record(node, Record::Fault(fault));
        Ok(())
    }

    fn record(&mut self, node: &str, record: Record) {
        self.trace.push(TraceEntry {
            at: self.sim.elapsed(),
            node: node.to_owned(),
            record,
        });
    }

    /// Checks both nodes exist, applies a fault to turmoil's link between
    /// them and records it under `world` (`fault` gets the two names).
    fn link_fault(
        &mut self,
        a: &str,
        b: &str,
        fault: impl FnOnce(String, String) -> Fault,
        apply: impl FnOnce(&mut turmoil::Sim<'static>),
    ) -> Result<(), NetworkError> {
        self.node(a)?;
        self.node(b)?;
        apply(&mut self.sim);
        let fault = fault(a.to_owned(), b.to_owned());
        self.record("world", Record::Fault(fault));
        Ok(())
    }

    /// Partitions every node of `left` from every node of `right` (a split
    /// network); links inside each group keep working.
    pub fn partition_groups(&mut self, left: &[&str], right: &[&str]) -> Result<(), NetworkError> {
        for a in left {
            for b in right {
                self.partition(a, b)?;
            }
        }
        Ok(())
    }

    /// Repairs every link between `left` and `right`.
    pub fn repair_groups(&mut self, left: &[&str], right: &[&str]) -> Result<(), NetworkError> {
        for a in left {
            for b in right {
                self.repair(a, b)?;
            }
        }
        Ok(())
    }
}

impl Network for World {
    /// The seed this world runs with.
    fn seed(&self) -> u64 {
        self.config.seed
    }
    /// Adds a node named `name`. Its keys derive from the seed and the name,
    /// so it has the same peer id in every run of the same seed.
    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, NetworkError> {
        if self.nodes.contains_key(name) {
            return Err(NetworkError::DuplicateNode(name.to_owned()));
        }
        self.builder
            .admits(&config)
            .map_err(|why| NetworkError::NotApplicable(format!("{name}: {why}")))?;
        let keys = node_keys(self.config.seed, name);
        let peer_id = keys.peer_id();
        let slot = Arc::new(Mutex::new(None));
        let wall_offset_ms = Arc::new(AtomicI64::new(0));
        let host = Host {
            name: name.to_owned(),
            keys,
            config,
            builder: self.builder.clone(),
            slot: slot.clone(),
            wall_offset_ms: wall_offset_ms.clone(),
            tap: self.tap.clone(),
        };
        self.sim.host(name, move || run_host(host.clone()));
        self.names.insert(peer_id, name.to_owned());
        self.nodes.insert(
            name.to_owned(),
            SimNode {
                peer_id,
                handle: None,
                new_handle: slot,
                wall_offset_ms,
                crashed: false,
                stalled: false,
            },
        );
        Ok(peer_id)
    }
    /// Node names, in order.
    fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }
    /// The peer id of node `name`.
    fn peer_id(&self, name: &str) -> Result<PeerId, NetworkError> {
        self.node(name).map(|n| n.peer_id)
    }
    /// Peer-id ↔ name mapping.
    fn names(&self) -> &Names {
        &self.names
    }
    /// Virtual time since the start.
    fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }
    /// Everything recorded so far.
    fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }
    /// Digest and size of everything written to the simulated wire so far.
    fn wire(&self) -> WireStats {
        self.tap.stats()
    }
    /// Runs until `elapsed() >= at`.
    fn run_until(&mut self, at: Duration) -> Result<(), NetworkError> {
        while self.sim.elapsed() < at {
            self.step()?;
        }
        Ok(())
    }
    /// Runs for `period` of virtual time.
    fn run_for(&mut self, period: Duration) -> Result<(), NetworkError> {
        self.run_until(self.sim.elapsed() + period)
    }
    /// Makes sure every node has started, so commands can reach it.
    fn start(&mut self) -> Result<(), NetworkError> {
        let limit = Duration::from_secs(1);
        let started = self.run_until_condition(limit, |w| {
            w.nodes.values().all(|n| n.crashed || n.handle.is_some())
        })?;
        if started {
            return Ok(());
        }
        let missing = self
            .nodes
            .iter()
            .find(|(_, n)| !n.crashed && n.handle.is_none())
            .map(|(name, _)| name.clone())
            .unwrap_or_default();
        Err(NetworkError::NodeDown(missing))
    }
    /// Whether `name` is running (started and not crashed).
    fn is_running(&self, name: &str) -> bool {
        self.nodes
            .get(name)
            .is_some_and(|n| !n.crashed && n.handle.is_some())
    }
    /// Adds a line of the runner's own to the trace, under `node`.
    fn note(&mut self, node: &str, text: String) {
        self.record(node, Record::Note(text));
    }

    fn faults(&mut self) -> Option<&mut dyn Faults> {
        Some(self)
    }

    fn timing_slack(&self) -> Duration {
        SIMULATED_TIMING_SLACK
    }

    /// The address other nodes dial to reach `name`.
    fn address(&self, name: &str) -> Result<Multiaddr, NetworkError> {
        self.node(name)?;
        let ip = self.sim.lookup(name);
        Ok(Multiaddr::from(ip).with(Protocol::Tcp(LISTEN_PORT)))
    }

    fn control(&self, name: &str) -> Result<Control, NetworkError> {
        let node = self.node(name)?;
        node.handle
            .as_ref()
            .map(|h| h.control.clone())
            .ok_or_else(|| NetworkError::NodeDown(name.to_owned()))
    }

    /// Drives `future` (a command to a node) to completion, stepping the
    /// simulation while it waits.
    fn call<F: Future>(
        &mut self,
        node: &str,
        what: &'static str,
        future: F,
    ) -> Result<F::Output, NetworkError> {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        let end = self.sim.elapsed() + COMMAND_WAIT;
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Ok(output);
            }
            if self.sim.elapsed() >= end {
                return Err(NetworkError::NoAnswer {
                    node: node.to_owned(),
                    what,
                    waited: COMMAND_WAIT,
                });
            }
            self.step()?;
        }
    }
}

impl Faults for World {
    // turmoil's TCP does not retransmit: a stream that loses a segment to a
    // partition is broken, as a real one would be after its retransmissions
    // ran out.
    fn partition(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(
            a,
            b,
            |a, b| Fault::Partition { a, b },
            |sim| sim.partition(a, b),
        )
    }

    fn repair(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(a, b, |a, b| Fault::Repair { a, b }, |sim| sim.repair(a, b))
    }

    fn hold(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(a, b, |a, b| Fault::Hold { a, b }, |sim| sim.hold(a, b))
    }

    fn release(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(
            a,
            b,
            |a, b| Fault::Release { a, b },
            |sim| sim.release(a, b),
        )
    }

    fn set_latency(
        &mut self,
        a: &str,
        b: &str,
        min: Duration,
        max: Duration,
    ) -> Result<(), NetworkError> {
        let fault = |a, b| Fault::Latency { a, b, min, max };
        self.link_fault(a, b, fault, |sim| {
            sim.set_link_latency(a, b, min);
            sim.set_link_max_message_latency(a, b, max);
        })
    }

    // turmoil draws the loss for each message enqueued on the link; a hit
    // drops everything in flight on it, and the next message repairs it
    // (its repair rate is 1).
    fn set_loss(&mut self, a: &str, b: &str, rate: f64) -> Result<(), NetworkError> {
        let fault = |a, b| Fault::Loss { a, b, rate };
        self.link_fault(a, b, fault, |sim| {
            sim.set_link_fail_rate(a, b, rate.clamp(0.0, 1.0))
        })
    }

    fn set_global_loss(&mut self, rate: f64) {
        self.sim.set_fail_rate(rate.clamp(0.0, 1.0));
        self.record("world", Record::Fault(Fault::GlobalLoss { rate }));
    }

    fn crash(&mut self, node: &str) -> Result<(), NetworkError> {
        self.node(node)?;
        self.collect();
        self.sim.crash(node);
        if let Some(n) = self.nodes.get_mut(node) {
            n.handle = None;
            n.crashed = true;
        }
        self.record(node, Record::Crashed);
        Ok(())
    }

    fn restart(&mut self, node: &str) -> Result<(), NetworkError> {
        self.node(node)?;
        self.sim.bounce(node);
        if let Some(n) = self.nodes.get_mut(node) {
            n.crashed = false;
        }
        self.record(node, Record::Restarted);
        let limit = Duration::from_secs(1);
        let up = self.run_until_condition(limit, |w| {
            w.nodes.get(node).is_some_and(|n| n.handle.is_some())
        })?;
        if up {
            Ok(())
        } else {
            Err(NetworkError::NodeDown(node.to_owned()))
        }
    }

    fn set_clock_offset(&mut self, node: &str, offset_ms: i64) -> Result<(), NetworkError> {
        self.node(node)?
            .wall_offset_ms
            .store(offset_ms, Ordering::Relaxed);
        self.record(node, Record::Fault(Fault::Clock { offset_ms }));
        Ok(())
    }

    fn stall(&mut self, node: &str) -> Result<(), NetworkError> {
        self.set_stalled(node, true, Fault::Stall)
    }

    fn resume(&mut self, node: &str) -> Result<(), NetworkError> {
        self.set_stalled(node, false, Fault::Resume)
    }
}
