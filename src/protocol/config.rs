//! Node configuration. Every default is listed where its field is, and the
//! defaults follow the protocol document and its reference implementation.

use std::{collections::HashSet, time::Duration};

use super::{
    bounds::RequestBounds,
    misbehaviour::Misbehaviour,
    peers::{BanPolicy, Limits},
    wire::InstanceMessageResponse,
};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: &str = "simnet/1.0";

/// How a node answers direct requests that reach its application.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Responder {
    /// The application answers through `Control::respond` after an
    /// `Event::Request`.
    #[default]
    Manual,
    /// Answer `Success` with the request's payload as data.
    Echo,
    /// Answer `Protocol` with the request's payload as data.
    Protocol,
    /// Answer with this fixed response.
    Fixed(InstanceMessageResponse),
    /// Never answer (the sender's request times out).
    Silent,
}

/// Gossipsub parameters (names as in the gossipsub spec).
///
/// ## Default values
/// - `heartbeat`: 1 s
/// - `mesh_n_low` / `mesh_n` / `mesh_n_high`: 2 / 4 / 8
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GossipConfig {
    /// Heartbeat interval.
    pub heartbeat: Duration,
    /// Fewest mesh peers per topic before grafting more (D_low).
    pub mesh_n_low: usize,
    /// Target mesh peers per topic (D).
    pub mesh_n: usize,
    /// Most mesh peers per topic before pruning (D_high).
    pub mesh_n_high: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(1),
            mesh_n_low: 2,
            mesh_n: 4,
            mesh_n_high: 8,
        }
    }
}

/// Dead-connection detection: every connection is pinged every `interval`,
/// the first time one `interval` after it opened, and one that answered no
/// ping for `interval + timeout` (counted from its opening) is closed. A
/// connection that died without a close (a half-open one, after a partition
/// or a crash, or one that lost data in the simulator) is therefore gone
/// within that time, and its session with it.
///
/// ## Default values
/// - `interval`: 2 s
/// - `timeout`: 3 s (so a connection silent for 5 s is closed)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    /// Time between pings on a connection.
    pub interval: Duration,
    /// Time a ping may wait for its answer.
    pub timeout: Duration,
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(3),
        }
    }
}

/// Everything that tunes one node.
///
/// ## Default values
/// - `protocol_version`: [`PROTOCOL_VERSION`]
/// - `handshake_timeout`: 30 s (from first connection to `Verified`)
/// - `freshness`: 30 s (largest accepted clock difference in a handshake)
/// - `request_timeout`: 30 s (one direct request attempt)
/// - `send_deadline`: 60 s (a send retries across lost connections until then)
/// - `redial_backoff`: 1 s, doubling to at most 8 s
/// - `bans`: 3 ban-worthy handshake failures within 600 s → banned for 300 s
/// - `limits`: see [`Limits`]
/// - `requests`: 100 requests per peer per 10 s, 64 unanswered per peer; see
///   [`RequestBounds`]
/// - `allow_list`: none (any instance key may verify)
/// - `max_message_size`: 16 MiB per direct request or response frame
/// - `max_broadcast_size`: 1 MiB per gossip message
/// - `responder`: [`Responder::Manual`]
/// - `idle_connection_timeout`: 1 hour
/// - `keep_alive`: a ping every 2 s, 3 s to answer; see [`KeepAlive`]
/// - `event_buffer`: 4096 events waiting in the node, beyond the 4096 in the
///   channel to the application, before the node stops reading the network
///   (backpressure; its deadlines wait meanwhile)
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Version presented in handshakes; peers must be compatible (see `version`).
    pub protocol_version: String,
    /// Time a peer has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Accepted clock difference for handshake timestamps.
    pub freshness: Duration,
    /// Time to wait for the response to one direct request.
    pub request_timeout: Duration,
    /// Time after which a send that keeps losing its connection gives up.
    pub send_deadline: Duration,
    /// First delay before redialing a peer that a pending send needs.
    pub redial_backoff: Duration,
    /// When handshake failures become a ban.
    pub bans: BanPolicy,
    /// Connection limits.
    pub limits: Limits,
    /// Per-peer bounds on inbound direct requests.
    pub requests: RequestBounds,
    /// When set, only these instance keys may verify.
    pub allow_list: Option<HashSet<[u8; 32]>>,
    /// Largest direct-message frame, in bytes, in either direction.
    pub max_message_size: u32,
    /// Largest broadcast payload, in bytes.
    pub max_broadcast_size: usize,
    /// How direct requests are answered.
    pub responder: Responder,
    /// Gossipsub parameters.
    pub gossip: GossipConfig,
    /// How long a connection with no open streams stays up.
    pub idle_connection_timeout: Duration,
    /// How dead connections are found.
    pub keep_alive: KeepAlive,
    /// Events the node queues once the channel to the application (of the
    /// same capacity) is full, before it stops reading the network: at most
    /// twice this many events wait for the application.
    pub event_buffer: usize,
    /// Deliberate protocol violations, for adversarial peers in tests.
    pub misbehaviour: Misbehaviour,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            protocol_version: PROTOCOL_VERSION.to_owned(),
            handshake_timeout: Duration::from_secs(30),
            freshness: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            send_deadline: Duration::from_secs(60),
            redial_backoff: Duration::from_secs(1),
            bans: BanPolicy::default(),
            limits: Limits::default(),
            requests: RequestBounds::default(),
            allow_list: None,
            max_message_size: 16 * 1024 * 1024,
            max_broadcast_size: 1024 * 1024,
            responder: Responder::default(),
            gossip: GossipConfig::default(),
            idle_connection_timeout: Duration::from_secs(3600),
            keep_alive: KeepAlive::default(),
            event_buffer: 4096,
            misbehaviour: Misbehaviour::default(),
        }
    }
}
