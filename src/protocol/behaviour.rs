//! The composed libp2p behaviour: admission gate, handshake and instance
//! request-response, gossipsub broadcast, identify, and ping for finding dead
//! connections.

use std::time::Duration;

use tokio::sync::mpsc;

use libp2p::{
    gossipsub, identify, identity::Keypair, ping, request_response, swarm::NetworkBehaviour,
    StreamProtocol,
};

use super::{
    admission::Admission,
    after_verification::AfterVerification,
    codec::{Codec, Rejection},
    config::NodeConfig,
    delayed_start::DelayedStart,
    gate::Gate,
    gossip_links::GossipLinks,
    gossip_trust,
    misbehaviour::Misbehaviour,
    peers::PeerBook,
    wire::{HandshakeRequest, HandshakeResponse},
};

/// Stream protocol of the handshake.
pub const HANDSHAKE_PROTOCOL: StreamProtocol = StreamProtocol::new("/simnet/handshake/1");
/// Stream protocol of direct (instance) messages.
pub const INSTANCE_PROTOCOL: StreamProtocol = StreamProtocol::new("/simnet/instance/1");
/// Largest handshake frame: credentials are about 150 bytes.
pub const MAX_HANDSHAKE_FRAME: u32 = 4096;

/// The handshake's request-response behaviour.
pub type Handshake = request_response::Behaviour<Codec<HandshakeRequest, HandshakeResponse>>;
pub use super::instance::Instance;

/// Everything a node's swarm runs. The gate comes first so that a refused
/// connection never reaches the others.
#[derive(NetworkBehaviour)]
#[behaviour(prelude = "libp2p::swarm::derive_prelude")]
pub struct Behaviour {
    /// Bans and connection limits.
    pub gate: Gate,
    /// The mutual-authentication handshake.
    pub handshake: Handshake,
    /// Direct messages between verified peers.
    pub instance: Instance,
    /// Broadcast.
    pub gossipsub: GossipLinks,
    /// Address exchange, once the peer is verified.
    pub identify: AfterVerification<identify::Behaviour>,
    /// Keep-alive pings: a connection that stops answering is closed, so a
    /// half-open connection cannot keep a stale session or swallow traffic.
    /// The first goes out one interval after the connection opens.
    pub ping: DelayedStart<ping::Behaviour>,
}

/// Why the behaviour could not be built.
#[derive(Debug, thiserror::Error)]
#[error("invalid gossipsub configuration: {0}")]
pub struct BehaviourError(String);

/// Most control data (IHAVE, IWANT, GRAFT, PRUNE, subscriptions) a node
/// accepts in one gossipsub RPC, in bytes: gossipsub's default, stated so
/// that [`MAX_IHAVE_IDS`] follows it. A receiver refuses a larger RPC and
/// closes the stream it came on, and every broadcast queued behind it on
/// that stream is lost.
pub const MAX_CONTROL_BYTES: usize = 16 * 1024;
/// The longest message id on the wire: gossipsub's default id is the
/// author's peer id in base58 (at most 61 characters, for a multihash of at
/// most 44 bytes) followed by the sequence number in decimal (at most 20
/// digits), plus a byte each of field tag and length.
const MAX_ID_ON_WIRE: usize = 61 + 20 + 2;
/// Room kept in an IHAVE for the topic name and the message envelope.
const IHAVE_ENVELOPE: usize = 4 * 1024;
/// Most message ids in one IHAVE (gossipsub's `max_control_messages_sent`,
/// default 5000; 148 here), so that every IHAVE fits in
/// [`MAX_CONTROL_BYTES`]. With the default, a node that published or
/// forwarded more than about 200 messages in the gossip window sent IHAVEs
/// its peers refused, silently cutting off the broadcasts to every topic
/// peer outside its mesh. The same bound caps the ids a node asks for with
/// IWANT per heartbeat; IHAVE is only a repair path beside the mesh and
/// flood publishing.
pub const MAX_IHAVE_IDS: usize = (MAX_CONTROL_BYTES - IHAVE_ENVELOPE) / MAX_ID_ON_WIRE;
// Checked when compiling: every IHAVE fits, and it still carries a useful
// number of ids.
const _: () = assert!(
    MAX_IHAVE_IDS * MAX_ID_ON_WIRE + IHAVE_ENVELOPE <= MAX_CONTROL_BYTES && MAX_IHAVE_IDS >= 100
);

/// The gossipsub configuration of a node: its mesh parameters, strict
/// validation by the application, room for its largest broadcast, and
/// IHAVEs no larger than a peer accepts.
pub fn gossipsub_config(config: &NodeConfig) -> Result<gossipsub::Config, BehaviourError> {
    let gossip = config.gossip;
    gossipsub::ConfigBuilder::default()
        .heartbeat_interval(gossip.heartbeat)
        // A peer joins the mesh when it verifies only at the next heartbeat
        // (its subscription arrived while it was unverified, see
        // `gossip_trust`): start the heartbeat after one interval rather
        // than gossipsub's 5 s, so that bound holds from the start.
        .heartbeat_initial_delay(gossip.heartbeat)
        .mesh_n_low(gossip.mesh_n_low)
        .mesh_n(gossip.mesh_n)
        .mesh_n_high(gossip.mesh_n_high)
        .mesh_outbound_min(gossip.mesh_n_low.min(gossip.mesh_n / 2))
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        // Room for the payload plus the signed envelope and control data.
        .max_transmit_size(config.max_broadcast_size + 64 * 1024)
        .max_control_message_size(MAX_CONTROL_BYTES)
        .max_control_messages_sent(MAX_IHAVE_IDS)
        .build()
        .map_err(|e| BehaviourError(e.to_string()))
}

impl Behaviour {
    /// Builds the behaviour for `config`. Direct requests that fail to decode
    /// are reported on `rejections`; only peers in `admission` may send
    /// requests larger than [`super::admission::MAX_UNVERIFIED_FRAME`].
    pub fn new(
        keypair: &Keypair,
        config: &NodeConfig,
        rejections: mpsc::Sender<Rejection>,
        admission: Admission,
    ) -> Result<Self, BehaviourError> {
        let handshake = request_response::Behaviour::with_codec(
            Codec::new(MAX_HANDSHAKE_FRAME),
            [(HANDSHAKE_PROTOCOL, request_response::ProtocolSupport::Full)],
            // A little longer than the session timeout, so the session's own
            // timer decides when a silent peer has failed.
            request_response::Config::default()
                .with_request_timeout(config.handshake_timeout + Duration::from_secs(5)),
        );
        let instance = request_response::Behaviour::with_codec(
            Codec::new(config.max_message_size)
                .reporting_to(rejections)
                .admitting(admission.clone())
                .corrupting_requests(config.misbehaviour == Misbehaviour::MalformedRequests)
                .unbounded_writes(config.misbehaviour == Misbehaviour::IgnoreSizeLimit),
            [(INSTANCE_PROTOCOL, request_response::ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(config.request_timeout),
        );
        let instance = Instance::new(instance, admission.clone());
        let gossip_config = gossipsub_config(config)?;
        let mut gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(keypair.clone()),
            gossip_config,
        )
        .map_err(|e| BehaviourError(e.to_string()))?;
        // Peer scores keep unverified peers out of gossip (see `gossip_trust`).
        if gossip_trust::gates(config) {
            gossipsub
                .with_peer_score(gossip_trust::score_params(), gossip_trust::thresholds())
                .map_err(BehaviourError)?;
        }
        let identify = identify::Behaviour::new(
            identify::Config::new(config.protocol_version.clone(), keypair.public())
                .with_interval(Duration::from_secs(300)),
        );
        let ping = DelayedStart::new(
            ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(config.keep_alive.interval)
                    .with_timeout(config.keep_alive.timeout),
            ),
            config.keep_alive.interval,
        );
        Ok(Self {
            gate: Gate::new(
                PeerBook::new(config.limits, config.bans),
                config.limits.max_pending_connections,
            ),
            handshake,
            instance,
            gossipsub: GossipLinks::new(gossipsub),
            identify: AfterVerification::new(identify, admission),
            ping,
        })
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    #[test]
    fn an_ihave_of_the_longest_ids_fits_what_a_peer_accepts() {
        let author = Keypair::generate_ed25519().public().to_peer_id();
        let longest_id = format!("{}{}", author.to_base58(), u64::MAX);
        assert!(longest_id.len() + 2 <= MAX_ID_ON_WIRE);
        let gossip = gossipsub_config(&NodeConfig::default()).expect("valid");
        assert_eq!(gossip.max_control_messages_sent(), MAX_IHAVE_IDS);
        assert_eq!(gossip.max_control_message_size(), MAX_CONTROL_BYTES);
    }
}
