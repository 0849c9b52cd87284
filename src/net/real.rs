//! Real nodes on 127.0.0.1 with tokio TCP + noise + yamux, in real time: the
//! same [`Network`] the simulator is, for the same runner. Node identities
//! derive from the seed as in the simulator, so peer ids (and names in the
//! trace) match; times, and anything that depends on them, do not. It
//! injects no [`super::Faults`].

use std::{
    collections::BTreeMap,
    sync::mpsc,
    time::{Duration, Instant},
};

use libp2p::{Multiaddr, PeerId};

use super::{node_keys, Names, Network, NetworkError, Record, TraceEntry, WireStats};
use crate::{
    implementation::{Implementation, NodeBuilder},
    protocol::{loopback, transport, Control, Event, NodeConfig},
};

/// Longest a real node may take to answer a command.
const COMMAND_WAIT: Duration = Duration::from_secs(10);
/// Real timers fire late by scheduling noise, more so with runs in parallel.
const REAL_TIMING_SLACK: Duration = Duration::from_millis(250);

struct RealNode {
    peer_id: PeerId,
    control: Control,
    address: Multiaddr,
}

/// Real nodes on 127.0.0.1, driven from a plain thread through their own
/// tokio runtime; their events are gathered into a trace timed from `start`.
pub struct RealNetwork {
    runtime: tokio::runtime::Runtime,
    seed: u64,
    origin: Instant,
    /// The runner's clock: the time of the last wait or command issued. A
    /// command is stamped when it is issued, so its effects (a send's
    /// outcome arriving over loopback before the call returns) never come
    /// out earlier than the command itself.
    now: Duration,
    nodes: BTreeMap<String, RealNode>,
    names: Names,
    trace: Vec<TraceEntry>,
    events: mpsc::Receiver<(String, Instant, Event)>,
    events_tx: mpsc::Sender<(String, Instant, Event)>,
    builder: NodeBuilder,
}

impl RealNetwork {
    /// An empty network of simnet nodes whose identities derive from `seed`.
    pub fn new(seed: u64) -> Result<Self, NetworkError> {
        Self::with_implementation(seed, Implementation::Simnet)
    }

    /// An empty network of nodes on `implementation`, identities from `seed`.
    pub fn with_implementation(
        seed: u64,
        implementation: Implementation,
    ) -> Result<Self, NetworkError> {
        let builder = NodeBuilder::new(implementation)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| NetworkError::Real(format!("tokio runtime: {e}")))?;
        let (events_tx, events) = mpsc::channel();
        Ok(Self {
            runtime,
            seed,
            origin: Instant::now(),
            now: Duration::ZERO,
            nodes: BTreeMap::new(),
            names: Names::default(),
            trace: Vec::new(),
            events,
            events_tx,
            builder,
        })
    }

    fn node(&self, name: &str) -> Result<&RealNode, NetworkError> {
        self.nodes
            .get(name)
            .ok_or_else(|| NetworkError::UnknownNode(name.to_owned()))
    }

    /// Moves the events the nodes reported so far into the trace.
    fn collect(&mut self) {
        while let Ok((node, at, event)) = self.events.try_recv() {
            self.trace.push(TraceEntry {
                at: at.saturating_duration_since(self.origin),
                node,
                record: Record::Event(event),
            });
        }
        // Events arrive through per-node tasks and notes are written at once:
        // keep the trace in time order (stable, so same-time entries keep theirs).
        self.trace.sort_by_key(|e| e.at);
    }

    fn wait_until(&mut self, deadline: Instant) {
        let now = Instant::now();
        if deadline > now {
            let period = deadline - now;
            self.runtime
                .block_on(async move { tokio::time::sleep(period).await });
        }
        self.now = self.origin.elapsed();
        self.collect();
    }
}

impl Network for RealNetwork {
    fn seed(&self) -> u64 {
        self.seed
    }

    fn add_node(&mut self, name: &str, config: NodeConfig) -> Result<PeerId, NetworkError> {
        if self.nodes.contains_key(name) {
            return Err(NetworkError::DuplicateNode(name.to_owned()));
        }
        self.builder
            .admits(&config)
            .map_err(|why| NetworkError::NotApplicable(format!("{name}: {why}")))?;
        let keys = node_keys(self.seed, name);
        let peer_id = keys.peer_id();
        let events = self.events_tx.clone();
        let node_name = name.to_owned();
        let builder = self.builder.clone();
        let (control, address) = self.runtime.block_on(async move {
            let failed = |e: String| NetworkError::Real(format!("{node_name}: {e}"));
            let transport = transport::tcp(&keys.identity).map_err(|e| failed(e.to_string()))?;
            let node = builder
                .start(config, keys, transport, loopback::any_port())
                .map_err(|e| failed(e.to_string()))?;
            tokio::spawn(node.run);
            let mut handle = node.handle;
            let address = loopback::wait_listening(&mut handle)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let control = handle.control.clone();
            tokio::spawn(async move {
                while let Some(event) = handle.next_event().await {
                    if events
                        .send((node_name.clone(), Instant::now(), event))
                        .is_err()
                    {
                        break;
                    }
                }
            });
            Ok::<_, NetworkError>((control, address))
        })?;
        self.names.insert(peer_id, name.to_owned());
        self.trace.push(TraceEntry {
            at: Duration::ZERO,
            node: name.to_owned(),
            record: Record::Event(Event::Listening {
                address: address.clone(),
            }),
        });
        self.nodes.insert(
            name.to_owned(),
            RealNode {
                peer_id,
                control,
                address,
            },
        );
        Ok(peer_id)
    }

    fn start(&mut self) -> Result<(), NetworkError> {
        self.origin = Instant::now();
        self.now = Duration::ZERO;
        Ok(())
    }

    fn run_until(&mut self, at: Duration) -> Result<(), NetworkError> {
        self.wait_until(self.origin + at);
        Ok(())
    }

    fn run_for(&mut self, period: Duration) -> Result<(), NetworkError> {
        self.wait_until(Instant::now() + period);
        Ok(())
    }

    fn elapsed(&self) -> Duration {
        self.now
    }

    fn is_running(&self, name: &str) -> bool {
        self.nodes.contains_key(name)
    }

    fn note(&mut self, node: &str, text: String) {
        self.trace.push(TraceEntry {
            at: self.elapsed(),
            node: node.to_owned(),
            record: Record::Note(text),
        });
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
        WireStats::default()
    }

    fn control(&self, name: &str) -> Result<Control, NetworkError> {
        self.node(name).map(|n| n.control.clone())
    }

    /// Runs a command against a node, bounded by 10 s of real time.
    fn call<F: std::future::Future>(
        &mut self,
        node: &str,
        what: &'static str,
        command: F,
    ) -> Result<F::Output, NetworkError> {
        self.now = self.origin.elapsed();
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(COMMAND_WAIT, command).await })
            .map_err(|_| NetworkError::NoAnswer {
                node: node.to_owned(),
                what,
                waited: COMMAND_WAIT,
            });
        self.collect();
        result
    }

    fn address(&self, name: &str) -> Result<Multiaddr, NetworkError> {
        self.node(name).map(|n| n.address.clone())
    }

    fn timing_slack(&self) -> Duration {
        REAL_TIMING_SLACK
    }
}
