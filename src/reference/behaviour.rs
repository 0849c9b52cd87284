//! The reference's protocol core composed into a swarm behaviour, as its
//! `BlueprintBehaviour` composes it for users, minus discovery: kademlia,
//! mDNS, UPnP, relay and autonat are left out (UPnP and mDNS would use real
//! multicast, which simnet never starts), identify and ping kept with the
//! crate's settings. A send-only request-response `probe` on the same
//! protocol carries the application's direct messages, because the crate's
//! own sender never reports what became of a request.

use std::{sync::Arc, time::Duration};

use blueprint_networking::{
    blueprint_protocol::{
        BlueprintProtocolBehaviour, InstanceMessageRequest, InstanceMessageResponse,
    },
    discovery::PeerManager,
    types::ProtocolMessage,
};
use libp2p::{
    connection_limits::{self, ConnectionLimits},
    gossipsub, identify,
    identity::Keypair,
    ping, request_response,
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
    StreamProtocol,
};

use super::keys::Key;
use crate::protocol::NodeError;

/// What the reference's request-response carries.
pub type Request = InstanceMessageRequest<Key>;
/// What the reference's request-response answers.
pub type Response = InstanceMessageResponse<Key>;

/// Connections the blueprint runner allows by default (its
/// `target_peer_count`), for every limit at once.
pub const DEFAULT_TARGET_PEER_COUNT: u32 = 24;
/// The crate's request timeout and stream limit (`behaviour.rs:127-129`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_CONCURRENT_STREAMS: usize = 50;
/// The crate's ping interval (`behaviours.rs:91`).
const PING_INTERVAL: Duration = Duration::from_secs(30);
/// What the crate's identify presents (`discovery/config.rs`).
const IDENTIFY_PROTOCOL: &str = "blueprint/1.0.0";
const AGENT_VERSION: &str = "blueprint-0.2.0-alpha.13";

/// One reference node's behaviour.
#[derive(NetworkBehaviour)]
pub struct RefBehaviour {
    /// The crate's single-knob limits.
    pub limits: connection_limits::Behaviour,
    /// The code under test, unmodified (absent on an adversary).
    pub protocol: Toggle<BlueprintProtocolBehaviour<Key>>,
    /// Keep-alive, as the crate configures it.
    pub ping: ping::Behaviour,
    /// Tells peers which protocols this node speaks; the service bans peers
    /// whose list lacks the blueprint protocol.
    pub identify: identify::Behaviour,
    /// An adversary's gossip, signed and configured as the crate's (on an
    /// honest node the crate's behaviour holds its own).
    pub gossip: Toggle<gossipsub::Behaviour>,
    /// The application's direct messages and their outcomes; on an
    /// adversary, its whole handshake protocol.
    pub probe: request_response::cbor::Behaviour<Request, Response>,
}

/// What a reference node is built from.
pub struct Parts<'a> {
    /// The libp2p identity.
    pub identity: &'a Keypair,
    /// The k256 instance key.
    pub instance: &'a blueprint_crypto::k256::K256SigningKey,
    /// The peer manager (allow-list, bans, verified peers).
    pub peers: Arc<PeerManager<Key>>,
    /// The blueprint protocol name, `/{network}/{instance}` for the service.
    pub protocol_name: &'a str,
    /// Where the crate hands over received messages.
    pub messages: crossbeam_channel::Sender<ProtocolMessage>,
    /// Every connection limit (the crate's `target_peer_count`).
    pub target_peer_count: u32,
    /// False for an adversary, which runs the protocol itself.
    pub honest: bool,
    /// True for an adversary that gossips without a handshake.
    pub gossips: bool,
}

impl RefBehaviour {
    /// Composes the behaviour.
    pub fn new(parts: Parts<'_>) -> Result<Self, NodeError> {
        let name = StreamProtocol::try_from_owned(parts.protocol_name.to_owned())
            .map_err(|e| NodeError::Config(format!("protocol name: {e}")))?;
        let count = parts.target_peer_count;
        let limits = ConnectionLimits::default()
            .with_max_pending_incoming(Some(count))
            .with_max_pending_outgoing(Some(count))
            .with_max_established_incoming(Some(count))
            .with_max_established_outgoing(Some(count))
            .with_max_established_per_peer(Some(count));
        let protocol = parts.honest.then(|| {
            BlueprintProtocolBehaviour::new(
                parts.identity,
                parts.instance,
                parts.peers,
                parts.protocol_name,
                parts.messages,
                false,
            )
        });
        let support = if parts.honest {
            request_response::ProtocolSupport::Outbound
        } else {
            request_response::ProtocolSupport::Full
        };
        let probe = request_response::cbor::Behaviour::new(
            [(name, support)],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                .with_max_concurrent_streams(MAX_CONCURRENT_STREAMS),
        );
        let gossip = if parts.gossips {
            Some(adversary_gossip(parts.identity)?)
        } else {
            None
        };
        Ok(Self {
            limits: connection_limits::Behaviour::new(limits),
            gossip: gossip.into(),
            protocol: protocol.into(),
            ping: ping::Behaviour::new(ping::Config::new().with_interval(PING_INTERVAL)),
            identify: identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.into(), parts.identity.public())
                    .with_agent_version(AGENT_VERSION.into())
                    .with_push_listen_addr_updates(true),
            ),
            probe,
        })
    }
}

/// A gossipsub with the crate's settings (`behaviour.rs:108-119`: signed,
/// strict validation, 1 s heartbeat, mesh 2/4/8, lazy 3, history 10/3,
/// flood publishing), for an adversary that runs no crate behaviour.
fn adversary_gossip(identity: &Keypair) -> Result<gossipsub::Behaviour, NodeError> {
    let config = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(std::time::Duration::from_secs(1))
        .validation_mode(gossipsub::ValidationMode::Strict)
        .mesh_n_low(2)
        .mesh_n(4)
        .mesh_n_high(8)
        .gossip_lazy(3)
        .history_length(10)
        .history_gossip(3)
        .flood_publish(true)
        .build()
        .map_err(|e| NodeError::Config(format!("gossipsub: {e}")))?;
    gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(identity.clone()),
        config,
    )
    .map_err(|e| NodeError::Config(format!("gossipsub: {e}")))
}
