//! Deliberate protocol violations, so that adversarial peers in tests and
//! scenarios run the real node with exactly one fault.
//!
//! An honest node uses [`Misbehaviour::None`]. Each other variant changes one
//! thing the node does and nothing else, so a scenario that uses it shows how
//! honest peers react to that one fault.

use std::time::Duration;

use libp2p::PeerId;

use super::wire::HandshakeRequest;

/// A handshake taken off the wire: the credentials, and who made them for
/// whom (what another implementation needs to capture its own dialect of
/// the same handshake).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// The credentials as sent.
    pub credentials: HandshakeRequest,
    /// Who signed them.
    pub signer: PeerId,
    /// For whom.
    pub receiver: PeerId,
}

/// One deliberate fault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Follow the protocol.
    #[default]
    None,
    /// Present handshake signatures with a flipped bit.
    ForgeSignature,
    /// Present this captured handshake (someone else's) instead of our own,
    /// in requests and in responses.
    Replay(Box<Captured>),
    /// Sign handshakes with a timestamp this far in the past.
    StaleTimestamp(Duration),
    /// Never send a handshake request and never answer one.
    SilentHandshake,
    /// Never send a handshake request, and close every handshake stream
    /// unanswered (the requester reads end-of-stream at once).
    DropHandshake,
    /// Never handshake (like `SilentHandshake`) and send direct messages to
    /// peers anyway, as if they were verified.
    SkipHandshake,
    /// Handshake honestly, but send every direct request with a corrupted
    /// body (an unknown message tag), as a buggy or hostile peer would.
    MalformedRequests,
    /// Handshake honestly, then, once verified, send one more handshake
    /// request signed with a different instance key.
    ChangeKey,
    /// Ignore the local message size limit when sending, so requests larger
    /// than any peer accepts go out on the wire.
    IgnoreSizeLimit,
    /// A plain gossipsub relay: take part in handshakes only as a listener
    /// (answer requests on connections it did not dial, never start one), and
    /// accept and forward every broadcast at once, unvalidated, to and from
    /// every peer, verified or not.
    UncheckedRelay,
}
