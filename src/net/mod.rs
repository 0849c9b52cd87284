//! What the simulator and the real-socket runner share: the [`Network`] a
//! runner drives (with [`Faults`] where the network can inject them), the
//! [`trace`] both record, node identities ([`identity`]), [`NetworkError`],
//! and [`real::RealNetwork`], the network of real nodes on 127.0.0.1. The
//! simulator's [`crate::sim::World`] is the other implementation.
//!
//! It depends only on [`crate::protocol`]; the simulator and the scenario
//! runner depend on it.

pub mod error;
pub mod identity;
pub mod network;
pub mod real;
pub mod trace;

pub use error::NetworkError;
pub use identity::node_keys;
pub use network::{Faults, Network, WireStats};
pub use real::RealNetwork;
pub use trace::{Fault, Names, Record, TraceEntry, TraceLine};
