//! The scenario language: YAML files that script connections, handshakes,
//! messages, bans, broadcasts and faults at virtual times, with expectations.
//!
//! [`model`] is the file syntax; [`load`] validates a file into a [`plan::Plan`]
//! (errors name file:line:column); [`run()`] executes a plan in a [`Mode`] and
//! returns an [`outcome::Outcome`], checked against expectations, the global
//! [`invariants`] and its `never` patterns ([`violation`]). The runner drives any [`crate::sim::Network`]: the simulator,
//! or [`real::RealNetwork`] on 127.0.0.1 in real time (`--real`); [`suite`]
//! runs many files, [`shrink`] minimises a failing one.

pub mod applicability;
pub mod invariants;
pub mod load;
pub mod model;
pub mod oracle;
pub mod outcome;
pub mod plan;
pub mod replay;
pub mod rules;
pub mod run;
pub mod shrink;
pub mod snapshot;
pub mod suite;
pub mod time;
pub mod violation;

pub use load::{load_file, load_str, LoadError};
pub use outcome::Outcome;
pub use plan::Plan;
pub use run::{end_of, run, sim_only_step, Mode};
