//! What a node reports. Every event is something a test, a trace or a scenario
//! expectation can observe; none carries libp2p's process-wide connection ids
//! (connections are numbered per node instead), so the same run gives the same
//! events.

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

use super::{
    handshake::{HandshakeFailure, HandshakeState},
    peers::{Direction, Refusal},
    wire::{InstanceMessageRequest, InstanceMessageResponse},
};

/// Identifies one accepted send; its outcome arrives as [`Event::SendOutcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendId(pub u64);

/// Identifies one inbound request awaiting the application's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InboundId(pub u64);

/// Why a send ended without a response.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendFailure {
    /// Every attempt lost its connection or went unanswered until the send's
    /// deadline. It is not known whether an earlier attempt was received.
    #[error("deadline passed after {attempts} attempts; last error: {last_error}")]
    DeadlineExceeded {
        /// Attempts made.
        attempts: u32,
        /// The last transport failure.
        last_error: String,
    },
    /// The send's one attempt failed, and the implementation does not try
    /// again (the reference implementation sends each message once).
    #[error("the only attempt failed: {0}")]
    AttemptFailed(String),
    /// The peer was banned while the send was pending.
    #[error("peer banned")]
    PeerBanned,
    /// The remote does not speak the instance-message protocol.
    #[error("peer does not support instance messages")]
    UnsupportedProtocol,
    /// The remote's response could not be decoded or was too large.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// The node shut down first.
    #[error("node shut down")]
    Shutdown,
    /// The node refused a submitted send before sending anything (see
    /// [`super::Control::submit`]); [`super::Control::send`] returns the
    /// same refusal directly instead.
    #[error("refused: {0}")]
    Refused(SendError),
}

/// Why a send was refused before anything was sent.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// Direct messages need a verified peer.
    #[error("peer {0} is not verified")]
    NotVerified(PeerId),
    /// The peer is banned.
    #[error("peer {0} is banned")]
    PeerBanned(PeerId),
    /// The encoded request would exceed the maximum message size.
    #[error("request of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Configured limit.
        max: u32,
    },
    /// A field is longer than every peer's decoder accepts.
    #[error("{field} of {len} bytes exceeds the limit of {max} every peer decodes")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The decoders' limit.
        max: usize,
    },
    /// The node is gone.
    #[error("node shut down")]
    Shutdown,
}

/// An event from a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The node listens on a new address.
    Listening {
        /// The address.
        address: Multiaddr,
    },
    /// A connection was established (and admitted by bans and limits).
    ConnectionEstablished {
        /// Remote peer.
        peer: PeerId,
        /// Per-node connection number.
        connection: u64,
        /// Who dialed.
        direction: Direction,
    },
    /// A connection closed.
    ConnectionClosed {
        /// Remote peer.
        peer: PeerId,
        /// Per-node connection number.
        connection: u64,
        /// Connections with the peer still open.
        remaining: u32,
    },
    /// A connection stopped answering keep-alive pings and is being closed
    /// (its `ConnectionClosed` follows).
    ConnectionLost {
        /// Remote peer.
        peer: PeerId,
        /// Per-node connection number.
        connection: u64,
        /// What the ping saw.
        error: String,
    },
    /// A connection was refused by a ban or limit.
    ConnectionRefused {
        /// Remote peer, when known.
        peer: Option<PeerId>,
        /// Who dialed.
        direction: Direction,
        /// Which rule refused it.
        reason: Refusal,
    },
    /// A dial failed for another reason (unreachable, transport error).
    DialFailed {
        /// Peer being dialed, when known.
        peer: Option<PeerId>,
        /// What went wrong.
        error: String,
    },
    /// A peer's handshake changed state.
    Handshake {
        /// The peer.
        peer: PeerId,
        /// Its new state.
        state: HandshakeState,
        /// Why, when the new state is `Failed`.
        failure: Option<HandshakeFailure>,
        /// When the new state is `Verified`: the instance public key the peer
        /// proved (its ed25519 key, as presented on the wire). Without an
        /// allow-list any key verifies, so this is what an application pins
        /// or compares to know who the peer is beyond its peer id.
        key: Option<[u8; 32]>,
    },
    /// A direct request from a verified peer reached the application. With
    /// `Responder::Manual` it must be answered with `Control::respond`.
    Request {
        /// The sender.
        peer: PeerId,
        /// Answer with this id.
        id: InboundId,
        /// The request.
        request: InstanceMessageRequest,
    },
    /// A direct request was answered with an error and never reached the
    /// application (for example, the sender was not verified: code 403).
    RequestRejected {
        /// The sender.
        peer: PeerId,
        /// The error code sent back.
        code: u16,
    },
    /// An attempt of a send failed (connection lost, unanswered, stream
    /// error); the send goes again after a backoff, over a verified
    /// connection, until its deadline.
    SendRetrying {
        /// The send.
        id: SendId,
        /// Destination.
        peer: PeerId,
        /// Attempts made so far.
        attempts: u32,
        /// The failure that interrupted it.
        error: String,
    },
    /// The single outcome of an accepted send.
    SendOutcome {
        /// The send.
        id: SendId,
        /// Destination.
        peer: PeerId,
        /// The response, or why there is none.
        result: Result<InstanceMessageResponse, SendFailure>,
    },
    /// A verified peer subscribed to a topic (so broadcasts on it reach it).
    /// A subscription that arrives before the handshake completes is reported
    /// when the peer verifies.
    Subscribed {
        /// The peer.
        peer: PeerId,
        /// The topic.
        topic: String,
    },
    /// A broadcast from a verified peer was accepted and delivered.
    Broadcast {
        /// Topic.
        topic: String,
        /// The original author, when the message is signed.
        author: Option<PeerId>,
        /// The peer that forwarded it to us.
        from: PeerId,
        /// Payload.
        data: Vec<u8>,
    },
    /// A broadcast was rejected and not delivered.
    BroadcastRejected {
        /// Topic.
        topic: String,
        /// The peer that forwarded it to us.
        from: PeerId,
        /// Why.
        reason: String,
    },
    /// A peer was banned.
    Banned {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
        /// How long, or `None` for permanent.
        duration: Option<Duration>,
    },
    /// A ban ended.
    Unbanned {
        /// The peer.
        peer: PeerId,
        /// True when it lapsed, false when lifted explicitly.
        expired: bool,
    },
    /// A peer sent bytes that did not decode, or a frame over the size limit.
    /// The message was dropped and counted.
    Malformed {
        /// The sender, when known (libp2p does not say who sent an inbound
        /// direct request that failed to decode).
        peer: Option<PeerId>,
        /// Which protocol: `handshake` or `instance`.
        protocol: &'static str,
        /// What was wrong.
        error: String,
    },
}

impl Event {
    /// The remote peer the event is about, when there is one: the connection's
    /// or session's peer, or the peer that forwarded a broadcast.
    pub fn peer(&self) -> Option<PeerId> {
        match self {
            Event::Listening { .. } => None,
            Event::ConnectionRefused { peer, .. }
            | Event::DialFailed { peer, .. }
            | Event::Malformed { peer, .. } => *peer,
            Event::ConnectionEstablished { peer, .. }
            | Event::ConnectionClosed { peer, .. }
            | Event::ConnectionLost { peer, .. }
            | Event::Handshake { peer, .. }
            | Event::Request { peer, .. }
            | Event::RequestRejected { peer, .. }
            | Event::SendRetrying { peer, .. }
            | Event::SendOutcome { peer, .. }
            | Event::Subscribed { peer, .. }
            | Event::Banned { peer, .. }
            | Event::Unbanned { peer, .. } => Some(*peer),
            Event::Broadcast { from, .. } | Event::BroadcastRejected { from, .. } => Some(*from),
        }
    }
}
