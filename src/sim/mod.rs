//! The deterministic simulated network: the unmodified [`crate::protocol::Node`]
//! on turmoil's simulated TCP, with virtual time, seeded randomness and faults.
//! It knows how to run nodes, not what the protocol's rules are.
//!
//! [`world::simulate`] runs a [`world::World`] on a fresh thread made
//! deterministic by [`determinism`]; [`transport`] carries the nodes' bytes
//! over turmoil and digests them. The world is one [`crate::net::Network`]
//! (with [`crate::net::Faults`]); what it records is a [`crate::net::trace`].

pub mod determinism;
pub mod engine;
pub mod transport;
pub mod workload;
pub mod world;

pub use world::{simulate, World, WorldConfig, SIMULATED_TIMING_SLACK};
