//! The deterministic simulated network: the unmodified [`crate::protocol::Node`]
//! on turmoil's simulated TCP, with virtual time, seeded randomness and faults.
//! It knows how to run nodes, not what the protocol's rules are.
//!
//! [`world::simulate`] runs a [`world::World`] on a fresh thread made
//! deterministic by [`determinism`]; [`transport`] carries the nodes' bytes
//! over turmoil and digests them; [`trace`] records what happened;
//! [`network::Network`] is what drives a network of named nodes, here or on
//! real sockets, with the node commands written once.

pub mod determinism;
pub mod network;
pub mod trace;
pub mod transport;
pub mod workload;
pub mod world;

pub use network::Network;
pub use trace::{Record, TraceEntry};
pub use transport::WireStats;
pub use world::{simulate, SimError, World, WorldConfig};
