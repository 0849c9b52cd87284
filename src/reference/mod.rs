//! The reference implementation, `blueprint-networking` 0.2.0-alpha.13, as
//! a simnet node (cargo feature `reference`, `--impl reference`).
//!
//! Its protocol core (`BlueprintProtocolBehaviour` and `PeerManager`,
//! unmodified) runs in a swarm over the same transport a simnet node gets,
//! simulated or loopback TCP, with the same seeded identity and a k256
//! instance key derived from the seed ([`keys`]). The adapter ([`node`])
//! takes simnet's node commands and emits simnet's node events, rebuilt from
//! swarm events, the crate's peer manager and its log ([`capture`]), so the
//! runner, invariants, snapshots and reports stay as they are.

pub mod adversary;
pub mod behaviour;
pub mod capture;
pub mod keys;
mod node;

use std::sync::Arc;

use blueprint_networking::{discovery::PeerManager, AllowedKeys};
use futures::FutureExt;
use libp2p::{swarm, Multiaddr, Swarm};
use tokio::sync::mpsc;
use tracing::instrument::WithSubscriber;

pub use keys::Directory;

use self::{
    adversary::Adversary,
    behaviour::{Parts, RefBehaviour, DEFAULT_TARGET_PEER_COUNT},
    capture::Capture,
    node::{RefNode, RefParts},
};
use crate::{
    implementation::StartedNode,
    protocol::{
        control::{Control, NodeHandle},
        peers::Limits,
        sends::SendIds,
        transport::BoxedTransport,
        NodeConfig, NodeError, NodeKeys,
    },
};

/// What the service's swarm gets from libp2p's builder: connections with
/// no open stream close after 10 s.
const IDLE_CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Commands waiting for the node, as for a simnet node.
const COMMAND_BUFFER: usize = 1024;

/// Runs one of the swarm's connection tasks as tokio would, with its log
/// dropped: it is libp2p's, inside the reference, and a flood (a request
/// storm logs one warning per refused stream) would bury what simnet
/// reports. The reference crate's own log, which the adapter reads, comes
/// from the node's task, not from these.
fn spawn_connection_task(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    tokio::spawn(task.with_subscriber(tracing::Dispatch::none()));
}

/// The blueprint protocol name for simnet's `protocol_version`: the service
/// names it `/{network}/{instance}`, and the name is all the reference has
/// of a version (peers must match it exactly).
pub fn protocol_name(config: &NodeConfig) -> String {
    format!("/{}", config.protocol_version)
}

/// The crate's one connection limit for simnet's limits: the blueprint
/// runner's default for default limits, otherwise the smaller of the
/// inbound and outbound limits (it applies one number to every limit).
pub fn target_peer_count(limits: &Limits) -> u32 {
    let default = Limits::default();
    if limits.max_inbound == default.max_inbound && limits.max_outbound == default.max_outbound {
        DEFAULT_TARGET_PEER_COUNT
    } else {
        limits.max_inbound.min(limits.max_outbound)
    }
}

/// Whether the reference can run a node configured so: every adversary
/// needs a reference-dialect counterpart ([`adversary`]).
pub fn admits(config: &NodeConfig) -> Result<(), String> {
    Adversary::supports(&config.misbehaviour)
}

/// Builds a reference node with `config` and `keys` on `transport`,
/// listening on `listen`, registered in `directory`.
pub fn start(
    config: NodeConfig,
    keys: NodeKeys,
    transport: BoxedTransport,
    listen: Multiaddr,
    directory: &Directory,
) -> Result<StartedNode, NodeError> {
    let instance = keys::instance_key(&keys)?;
    let adversary = Adversary::new(&config.misbehaviour, keys.peer_id(), &instance, directory)?;
    let allow_list = directory.join(&keys, &instance, config.allow_list.clone());
    let mut manager = PeerManager::new(AllowedKeys::InstancePublicKeys(Default::default()));
    manager.whitelisted_keys = allow_list;
    let peers = Arc::new(manager);
    let (messages_tx, messages) = crossbeam_channel::unbounded();
    let protocol_name = protocol_name(&config);
    let capture = Capture::default();
    let dispatch = capture.dispatch();
    let behaviour = tracing::dispatcher::with_default(&dispatch, || {
        RefBehaviour::new(Parts {
            identity: &keys.identity,
            instance: &instance,
            peers: peers.clone(),
            protocol_name: &protocol_name,
            messages: messages_tx,
            target_peer_count: target_peer_count(&config.limits),
            honest: adversary.is_none(),
            gossips: adversary.as_ref().is_some_and(Adversary::skips_handshake),
        })
    })?;
    let local = keys.peer_id();
    let mut swarm = Swarm::new(
        transport,
        behaviour,
        local,
        swarm::Config::with_executor(spawn_connection_task)
            .with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT),
    );
    // As the service does: every node joins the topic named after the
    // protocol, whose open gossipsub stream keeps connections alive.
    if let Some(protocol) = swarm.behaviour_mut().protocol.as_mut() {
        protocol
            .subscribe(&protocol_name)
            .map_err(|e| NodeError::Config(format!("subscribe: {e}")))?;
    }
    swarm
        .listen_on(listen)
        .map_err(|e| NodeError::Config(format!("listen: {e}")))?;
    let (commands_tx, commands) = mpsc::channel(COMMAND_BUFFER);
    let (events_tx, events_rx) = mpsc::channel(config.event_buffer.max(1));
    let send_ids = SendIds::default();
    let node = RefNode::new(RefParts {
        swarm,
        peers,
        messages,
        capture,
        directory: directory.clone(),
        commands,
        events: events_tx,
        protocol_name,
        send_ids: send_ids.clone(),
        adversary,
    });
    let control = Control::new(local, commands_tx, send_ids);
    Ok(StartedNode {
        run: node.run().with_subscriber(dispatch).boxed(),
        handle: NodeHandle::new(control, events_rx),
    })
}
