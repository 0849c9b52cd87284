//! [`Engine`]: an event-driven simulation (the spike of issue 15), beside the
//! turmoil [`super::World`], which stays the default.
//!
//! All nodes run on **one** paused, current-thread tokio runtime. Each node
//! is an ordinary [`Node`] over [`transport::EngineTcp`], whose bytes travel
//! through [`net::SimNet`]: one queue of segments ordered by delivery time,
//! drained by one driver task. tokio's timers (libp2p's through the
//! futures-timer patch, the node's own) and that queue are then the only
//! sources of future events, and because the clock is paused and
//! auto-advances, an idle runtime jumps straight to the next of them. There
//! is no tick: the cost follows events, not hosts × links × milliseconds.
//!
//! Time: the runtime's clock is the virtual clock. [`determinism`] reads it
//! on every `clock_gettime` (see [`determinism::set_clock_source`]), so
//! `Instant`/`SystemTime` are right in every task, including the connection
//! tasks libp2p spawns with `tokio::spawn`, which no simnet wrapper sees. A
//! node's wall-clock offset is applied while its own task (the swarm, the
//! behaviours, the handshake code that signs and checks timestamps) is
//! polled: [`determinism::WithWallOffset`].
//!
//! The trace: a collector task per node takes the node's events as they are
//! emitted and stamps them with the virtual time they were taken at, so the
//! world does not have to step to see them.

pub mod net;
pub mod transport;

use std::{
    cell::{Cell, RefCell},
    collections::BTreeMap,
    future::Future,
    net::Ipv4Addr,
    rc::Rc,
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use tokio::{runtime::Runtime, sync::Notify, task::JoinHandle, task::LocalSet, time::Instant};

use self::{
    net::{HostId, NetStats, SimNet},
    transport::EngineTcp,
};
use super::{
    determinism::{self, WithWallOffset},
    transport::{WireStats, WireTap},
    world::{listen_address, WorldConfig, LISTEN_PORT, SIMULATED_TIMING_SLACK},
};
use crate::{
    implementation::{NodeBuilder, StartedNode},
    net::{node_keys, Fault, Faults, Names, Network, NetworkError, Record, TraceEntry},
    protocol::{transport::upgrade, Control, NodeConfig, NodeHandle, NodeKeys},
};

/// How long the engine waits (virtual time) for a node to answer a command.
const COMMAND_WAIT: Duration = Duration::from_secs(60);

thread_local! {
    /// The runtime's instant at virtual time zero, on the engine's thread.
    static ORIGIN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The virtual time: the paused runtime's clock since [`ORIGIN`]. `None`
/// outside the runtime, where the last answer stands.
fn runtime_elapsed() -> Option<Duration> {
    let origin = ORIGIN.with(|o| o.get())?;
    tokio::runtime::Handle::try_current().ok()?;
    Some(Instant::now().saturating_duration_since(origin))
}

/// Runs `body` against a new engine on a fresh OS thread made deterministic
/// for `config.seed`, and returns what it returns. Only `seed`, `latency`
/// and `epoch` of `config` apply (there is no tick).
pub fn simulate<T, F>(config: WorldConfig, body: F) -> Result<T, NetworkError>
where
    T: Send + 'static,
    F: FnOnce(&mut Engine) -> T + Send + 'static,
{
    let name = format!("simnet-engine-seed-{}", config.seed);
    let (seed, epoch) = (config.seed, config.epoch);
    determinism::on_fresh_thread(name, seed, epoch, move || {
        let mut engine = Engine::new(config)?;
        let result = body(&mut engine);
        drop(engine);
        ORIGIN.with(|o| o.set(None));
        Ok(result)
    })?
}

/// Whether a node's application takes events ([`Faults::stall`]).
#[derive(Default)]
struct Stall {
    stalled: Cell<bool>,
    resumed: Notify,
}

struct EngineNode {
    peer_id: PeerId,
    keys: NodeKeys,
    config: NodeConfig,
    host: HostId,
    ip: Ipv4Addr,
    wall_offset_ms: Arc<AtomicI64>,
    stall: Rc<Stall>,
    /// While it runs: its control and its two tasks (node, collector).
    running: Option<(Control, JoinHandle<()>, JoinHandle<()>)>,
}

/// An event-driven simulated network of nodes. Created by [`simulate`].
pub struct Engine {
    // Field order: tasks go before the runtime that owns their timers.
    local: LocalSet,
    rt: Runtime,
    origin: Instant,
    now: Duration,
    config: WorldConfig,
    net: SimNet,
    tap: WireTap,
    nodes: BTreeMap<String, EngineNode>,
    names: Names,
    trace: Vec<TraceEntry>,
    /// Where collector tasks put events; moved into `trace` after each run.
    sink: Rc<RefCell<Vec<TraceEntry>>>,
    builder: NodeBuilder,
}

/// Takes `handle`'s events as they come, stamped with virtual time.
async fn collect(
    name: String,
    mut handle: NodeHandle,
    sink: Rc<RefCell<Vec<TraceEntry>>>,
    stall: Rc<Stall>,
    origin: Instant,
) {
    loop {
        while stall.stalled.get() {
            stall.resumed.notified().await;
        }
        let Some(event) = handle.next_event().await else {
            return;
        };
        sink.borrow_mut().push(TraceEntry {
            at: Instant::now().saturating_duration_since(origin),
            node: name.clone(),
            record: Record::Event(event),
        });
    }
}

impl Engine {
    fn new(config: WorldConfig) -> Result<Self, NetworkError> {
        let builder = NodeBuilder::new(config.implementation)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .map_err(|e| NetworkError::Simulation(format!("runtime: {e}")))?;
        let origin = {
            let _enter = rt.enter();
            Instant::now()
        };
        ORIGIN.with(|o| o.set(Some(origin)));
        determinism::set_clock_source(Some(runtime_elapsed));
        let tap = WireTap::default();
        let net = SimNet::new(config.seed, config.latency, tap.clone());
        let local = LocalSet::new();
        {
            let _enter = rt.enter();
            local.spawn_local(net.driver());
        }
        Ok(Self {
            local,
            rt,
            origin,
            now: Duration::ZERO,
            config,
            net,
            tap,
            nodes: BTreeMap::new(),
            names: Names::default(),
            trace: Vec::new(),
            sink: Rc::new(RefCell::new(Vec::new())),
            builder,
        })
    }

    fn node(&self, name: &str) -> Result<&EngineNode, NetworkError> {
        self.nodes
            .get(name)
            .ok_or_else(|| NetworkError::UnknownNode(name.to_owned()))
    }

    fn host(&self, name: &str) -> Result<HostId, NetworkError> {
        self.node(name).map(|n| n.host)
    }

    /// Counters of the simulated network.
    pub fn net_stats(&self) -> NetStats {
        self.net.stats()
    }

    /// Tasks alive on the runtime: nodes, collectors, the network driver
    /// and the connection tasks libp2p spawned. A crash must not leave any
    /// behind.
    pub fn alive_tasks(&self) -> usize {
        self.rt.metrics().num_alive_tasks()
    }

    /// Runs the runtime until `future` completes; time jumps over idle gaps.
    fn drive<F: Future>(&mut self, future: F) -> F::Output {
        let output = self.local.block_on(&self.rt, future);
        self.now = {
            let _enter = self.rt.enter();
            Instant::now().saturating_duration_since(self.origin)
        };
        determinism::set_elapsed(self.now);
        self.trace.append(&mut self.sink.borrow_mut());
        output
    }

    fn record(&mut self, node: &str, record: Record) {
        self.trace.append(&mut self.sink.borrow_mut());
        self.trace.push(TraceEntry {
            at: self.now,
            node: node.to_owned(),
            record,
        });
    }

    /// Builds `name`'s node on its host and spawns its task and collector.
    fn spawn_node(&mut self, name: &str) -> Result<(), NetworkError> {
        let node = self
            .nodes
            .get(name)
            .ok_or_else(|| NetworkError::UnknownNode(name.to_owned()))?;
        let failed = |e: String| NetworkError::Simulation(format!("{name}: {e}"));
        let _enter = self.rt.enter();
        let raw = EngineTcp::new(self.net.clone(), node.host, node.ip);
        let transport = upgrade(raw, &node.keys.identity).map_err(|e| failed(e.to_string()))?;
        let StartedNode { run, handle } = self
            .builder
            .start(
                node.config.clone(),
                node.keys.clone(),
                transport,
                listen_address(),
            )
            .map_err(|e| failed(e.to_string()))?;
        let control = handle.control.clone();
        let task = self.local.spawn_local(WithWallOffset {
            offset_ms: node.wall_offset_ms.clone(),
            inner: Box::pin(run),
        });
        let collector = self.local.spawn_local(collect(
            name.to_owned(),
            handle,
            self.sink.clone(),
            node.stall.clone(),
            self.origin,
        ));
        if let Some(node) = self.nodes.get_mut(name) {
            node.running = Some((control, task, collector));
        }
        Ok(())
    }

    /// Checks both nodes exist, applies `apply` to their hosts and records
    /// `fault` under `world`.
    fn link_fault(
        &mut self,
        a: &str,
        b: &str,
        fault: impl FnOnce(String, String) -> Fault,
        apply: impl FnOnce(&SimNet, HostId, HostId),
    ) -> Result<(), NetworkError> {
        let (ha, hb) = (self.host(a)?, self.host(b)?);
        apply(&self.net, ha, hb);
        let fault = fault(a.to_owned(), b.to_owned());
        self.record("world", Record::Fault(fault));
        Ok(())
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        determinism::set_clock_source(None);
    }
}

impl Network for Engine {
    fn seed(&self) -> u64 {
        self.config.seed
    }

    /// Adds and starts a node named `name`, keys from the seed and the name.
    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, NetworkError> {
        if self.nodes.contains_key(name) {
            return Err(NetworkError::DuplicateNode(name.to_owned()));
        }
        self.builder
            .admits(&config)
            .map_err(|why| NetworkError::NotApplicable(format!("{name}: {why}")))?;
        // As turmoil numbers its hosts: 192.168.0.1, 192.168.0.2, …
        let index = self.nodes.len() + 1;
        let ip = Ipv4Addr::new(192, 168, (index >> 8) as u8, index as u8);
        let host = self.net.add_host(ip);
        let keys = node_keys(self.config.seed, name);
        let peer_id = keys.peer_id();
        self.names.insert(peer_id, name.to_owned());
        self.nodes.insert(
            name.to_owned(),
            EngineNode {
                peer_id,
                keys,
                config,
                host,
                ip,
                wall_offset_ms: Arc::new(AtomicI64::new(0)),
                stall: Rc::new(Stall::default()),
                running: None,
            },
        );
        self.spawn_node(name)?;
        Ok(peer_id)
    }

    fn start(&mut self) -> Result<(), NetworkError> {
        // Nodes are built in `add_node`; let them bind and settle for 1 ms.
        self.run_for(Duration::from_millis(1))
    }

    fn run_until(&mut self, at: Duration) -> Result<(), NetworkError> {
        if at > self.now {
            let deadline = self.origin + at;
            self.drive(async move { tokio::time::sleep_until(deadline).await });
        }
        Ok(())
    }

    fn run_for(&mut self, period: Duration) -> Result<(), NetworkError> {
        self.run_until(self.now + period)
    }

    fn elapsed(&self) -> Duration {
        self.now
    }

    fn is_running(&self, name: &str) -> bool {
        self.nodes.get(name).is_some_and(|n| n.running.is_some())
    }

    fn note(&mut self, node: &str, text: String) {
        self.record(node, Record::Note(text));
    }

    fn peer_id(&self, name: &str) -> Result<PeerId, NetworkError> {
        self.node(name).map(|n| n.peer_id)
    }

    fn names(&self) -> &Names {
        &self.names
    }

    fn node_names(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    fn wire(&self) -> WireStats {
        self.tap.stats()
    }

    fn faults(&mut self) -> Option<&mut dyn Faults> {
        Some(self)
    }

    fn timing_slack(&self) -> Duration {
        SIMULATED_TIMING_SLACK
    }

    fn control(&self, name: &str) -> Result<Control, NetworkError> {
        self.node(name)?
            .running
            .as_ref()
            .map(|(control, _, _)| control.clone())
            .ok_or_else(|| NetworkError::NodeDown(name.to_owned()))
    }

    fn address(&self, name: &str) -> Result<Multiaddr, NetworkError> {
        let ip = self.node(name)?.ip;
        Ok(Multiaddr::from(ip).with(Protocol::Tcp(LISTEN_PORT)))
    }

    /// Runs the network until `future` has its answer, or for
    /// [`COMMAND_WAIT`] of virtual time.
    fn call<F: Future>(
        &mut self,
        node: &str,
        what: &'static str,
        future: F,
    ) -> Result<F::Output, NetworkError> {
        let answer = self.drive(async {
            tokio::select! {
                biased;
                output = future => Some(output),
                () = tokio::time::sleep(COMMAND_WAIT) => None,
            }
        });
        answer.ok_or_else(|| NetworkError::NoAnswer {
            node: node.to_owned(),
            what,
            waited: COMMAND_WAIT,
        })
    }
}

impl Faults for Engine {
    fn partition(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        let fault = |a, b| Fault::Partition { a, b };
        self.link_fault(a, b, fault, SimNet::partition)
    }

    fn repair(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(a, b, |a, b| Fault::Repair { a, b }, SimNet::repair)
    }

    fn hold(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        self.link_fault(a, b, |a, b| Fault::Hold { a, b }, SimNet::hold)
    }

    fn release(&mut self, a: &str, b: &str) -> Result<(), NetworkError> {
        let (ha, hb) = (self.host(a)?, self.host(b)?);
        {
            // Releasing reads the runtime's clock.
            let _enter = self.rt.enter();
            self.net.release(ha, hb);
        }
        let fault = Fault::Release {
            a: a.to_owned(),
            b: b.to_owned(),
        };
        self.record("world", Record::Fault(fault));
        Ok(())
    }

    fn set_latency(
        &mut self,
        a: &str,
        b: &str,
        min: Duration,
        max: Duration,
    ) -> Result<(), NetworkError> {
        let fault = |a, b| Fault::Latency { a, b, min, max };
        self.link_fault(a, b, fault, |net, ha, hb| net.set_latency(ha, hb, min, max))
    }

    fn set_loss(&mut self, a: &str, b: &str, rate: f64) -> Result<(), NetworkError> {
        let fault = |a, b| Fault::Loss { a, b, rate };
        self.link_fault(a, b, fault, |net, ha, hb| net.set_loss(ha, hb, rate))
    }

    fn set_global_loss(&mut self, rate: f64) {
        self.net.set_global_loss(rate);
        self.record("world", Record::Fault(Fault::GlobalLoss { rate }));
    }

    /// Aborts the node's tasks; its connections are reset (peers get an
    /// RST), so the connection tasks libp2p spawned end too.
    fn crash(&mut self, node: &str) -> Result<(), NetworkError> {
        let host = self.host(node)?;
        self.trace.append(&mut self.sink.borrow_mut());
        if let Some((_, task, collector)) = self.nodes.get_mut(node).and_then(|n| n.running.take())
        {
            task.abort();
            collector.abort();
        }
        {
            // The RSTs leave at the runtime's time.
            let _enter = self.rt.enter();
            self.net.crash(host);
        }
        self.record(node, Record::Crashed);
        Ok(())
    }

    /// Starts the node again with the same identity and address.
    fn restart(&mut self, node: &str) -> Result<(), NetworkError> {
        self.node(node)?;
        if self.is_running(node) {
            return Ok(());
        }
        self.record(node, Record::Restarted);
        self.spawn_node(node)
    }

    fn set_clock_offset(&mut self, node: &str, offset_ms: i64) -> Result<(), NetworkError> {
        self.node(node)?
            .wall_offset_ms
            .store(offset_ms, Ordering::Relaxed);
        self.record(node, Record::Fault(Fault::Clock { offset_ms }));
        Ok(())
    }

    fn stall(&mut self, node: &str) -> Result<(), NetworkError> {
        self.node(node)?.stall.stalled.set(true);
        self.record(node, Record::Fault(Fault::Stall));
        Ok(())
    }

    fn resume(&mut self, node: &str) -> Result<(), NetworkError> {
        let stall = self.node(node)?.stall.clone();
        stall.stalled.set(false);
        stall.resumed.notify_one();
        self.record(node, Record::Fault(Fault::Resume));
        Ok(())
    }
}
