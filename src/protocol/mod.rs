//! The networking protocol of `shared/seeds/networking-protocol.md` on
//! rust-libp2p. It knows nothing of simulation: a [`node::Node`] runs over
//! whatever transport it is given and reads time only through tokio and the
//! system clock.
//!
//! Layers, bottom-up: [`wire`] (messages and their bytes) → [`codec`] (framing
//! with size limits) → [`handshake`] (signing, verification, the per-peer state
//! machine) and [`peers`] (bans, limits) → [`gate`], [`gossip_links`],
//! [`instance`], [`after_verification`] and [`behaviour`] (libp2p behaviours;
//! [`admission`] tells each connection's instance codec whether its peer may
//! send full-size requests, and identify when it may start)
//! → [`node`] (the event loop) driven through [`control`].
//! The node's state is kept in owned types that make no swarm calls:
//! `handshakes` (every session of a node, with `signatures` made and
//! checked once per connection), `inbound` (requests held for the
//! application) and [`sends`]; `describe` words failures stably;
//! `gossip_trust` keeps unverified peers out of gossipsub.
//! [`loopback`] starts a node on real TCP at 127.0.0.1.

pub mod admission;
pub mod after_verification;
pub mod behaviour;
pub mod bounds;
pub mod close_deadline;
pub mod codec;
pub mod codes;
pub mod config;
pub mod control;
pub mod delayed_start;
pub(crate) mod describe;
pub mod event;
mod forward;
pub mod gate;
pub mod gossip_links;
mod gossip_trust;
pub mod handshake;
mod handshakes;
mod inbound;
pub mod instance;
pub mod keys;
mod liveness;
pub mod loopback;
pub mod misbehaviour;
pub mod node;
pub mod peers;
pub mod planted;
pub mod sends;
mod signatures;
#[cfg(test)]
mod test_handler;
pub mod transport;
pub mod version;
pub mod wire;

pub use config::{NodeConfig, Responder, PROTOCOL_VERSION};
pub use control::{CommandError, Control, NodeHandle, NodeState};
pub use event::{Event, InboundId, SendError, SendFailure, SendId};
pub use handshake::{HandshakeFailure, HandshakeState};
pub use keys::NodeKeys;
pub use misbehaviour::Misbehaviour;
pub use node::{Node, NodeError};
pub use wire::{
    HandshakeRequest, HandshakeResponse, InstanceMessageRequest, InstanceMessageResponse,
};
