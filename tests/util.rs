//! Helpers shared by the integration tests.

use std::time::Duration;

use libp2p::{multiaddr::Protocol, Multiaddr, PeerId};
use simnet::protocol::{loopback, Event, HandshakeState, NodeConfig, NodeHandle, NodeKeys};

/// Longest a loopback test waits for any one expected event (wall time).
pub const EVENT_WAIT: Duration = Duration::from_secs(15);

/// A node on 127.0.0.1 with its event stream and a log of events seen so far.
pub struct LoopbackNode {
    pub handle: NodeHandle,
    pub address: Multiaddr,
    pub keys: NodeKeys,
    pub seen: Vec<Event>,
}

impl LoopbackNode {
    /// Starts a node on 127.0.0.1 (ephemeral port) and waits until it listens.
    pub async fn start(config: NodeConfig) -> Self {
        Self::start_with_keys(config, NodeKeys::generate()).await
    }

    /// As [`Self::start`], with given keys.
    pub async fn start_with_keys(config: NodeConfig, keys: NodeKeys) -> Self {
        init_logging();
        let (handle, address) = loopback::spawn(config, keys.clone())
            .await
            .expect("a loopback node");
        assert!(
            address
                .iter()
                .any(|p| p == Protocol::Ip4([127, 0, 0, 1].into())),
            "loopback only: {address}"
        );
        LoopbackNode {
            handle,
            address,
            keys,
            seen: Vec::new(),
        }
    }

    pub fn peer_id(&self) -> PeerId {
        self.handle.peer_id()
    }

    /// Reads events until one matches, failing the test after [`EVENT_WAIT`].
    pub async fn wait_for(&mut self, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + EVENT_WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.handle.next_event()).await;
            match next {
                Ok(Some(event)) => {
                    self.seen.push(event.clone());
                    if pred(&event) {
                        return event;
                    }
                }
                Ok(None) => panic!(
                    "node stopped while waiting for {what}; saw {:#?}",
                    self.seen
                ),
                Err(_) => panic!("timed out waiting for {what}; saw {:#?}", self.seen),
            }
        }
    }

    /// Reads every event that arrives within `period`.
    pub async fn drain_for(&mut self, period: Duration) {
        let deadline = tokio::time::Instant::now() + period;
        while let Ok(Some(event)) =
            tokio::time::timeout_at(deadline, self.handle.next_event()).await
        {
            self.seen.push(event);
        }
    }

    /// Waits until the handshake with `peer` reaches `state`; returns the event.
    pub async fn wait_handshake(&mut self, peer: PeerId, state: HandshakeState) -> Event {
        self.wait_for(&format!("handshake {state:?} with {peer}"), |e| {
            matches!(e, Event::Handshake { peer: p, state: s, .. } if *p == peer && *s == state)
        })
        .await
    }

    /// The peers this node has verified, from its state.
    pub async fn verified(&self) -> Vec<PeerId> {
        self.handle
            .state()
            .await
            .expect("node state")
            .verified_peers()
    }

    /// Waits until the last connection with `peer` has closed.
    pub async fn wait_disconnected(&mut self, peer: PeerId) {
        self.wait_for(
            &format!("the last connection with {peer} to close"),
            |e| matches!(e, Event::ConnectionClosed { peer: p, remaining: 0, .. } if *p == peer),
        )
        .await;
    }

    /// Waits for the next refused connection and returns the event.
    pub async fn wait_refused(&mut self) -> Event {
        self.wait_for("a refused connection", |e| {
            matches!(e, Event::ConnectionRefused { .. })
        })
        .await
    }

    /// Handshake events for `peer` seen so far, in order.
    pub fn handshake_states(&self, peer: PeerId) -> Vec<HandshakeState> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::Handshake { peer: p, state, .. } if *p == peer => Some(*state),
                _ => None,
            })
            .collect()
    }
}

/// Logs to the test's captured output, filtered by `RUST_LOG`.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// `a` dials `b` and both wait until they have verified each other.
pub async fn connect(a: &mut LoopbackNode, b: &mut LoopbackNode) {
    a.handle.dial(b.address.clone()).await.expect("dial");
    a.wait_handshake(b.peer_id(), HandshakeState::Verified)
        .await;
    b.wait_handshake(a.peer_id(), HandshakeState::Verified)
        .await;
}
