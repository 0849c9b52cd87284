//! [`NetworkError`]: what can go wrong while driving a network of nodes, in
//! the simulator or on real sockets. It names what failed, never how the user
//! should call simnet (the command line adds that).

use std::time::Duration;

/// What can go wrong while driving a network of nodes.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NetworkError {
    /// Two nodes with one name.
    #[error("node {0:?} already exists")]
    DuplicateNode(String),
    /// No node has this name.
    #[error("no node named {0:?}")]
    UnknownNode(String),
    /// The node is crashed (or not started yet).
    #[error("node {0:?} is not running")]
    NodeDown(String),
    /// A node did not answer a command in time.
    #[error("node {node:?} did not answer {what} within {waited:?}")]
    NoAnswer {
        /// The node.
        node: String,
        /// The command.
        what: &'static str,
        /// How long the network waited (virtual time in the simulator).
        waited: Duration,
    },
    /// A step only a simulator can carry out, asked of a network that is not
    /// one (`line 3: \`partition\``).
    #[error("{0} needs the simulator")]
    NeedsSimulator(String),
    /// The simulator itself failed.
    #[error("simulation failed: {0}")]
    Simulation(String),
    /// The thread running a simulation panicked.
    #[error("simulation panicked: {0}")]
    Panicked(String),
    /// The implementation cannot run a node the scenario asks for (the
    /// reference has no counterpart of an adversary): the scenario does not
    /// apply to it.
    #[error("not applicable: {0}")]
    NotApplicable(String),
    /// The implementation asked for is not in this build.
    #[error(transparent)]
    NotBuilt(#[from] crate::implementation::NotBuilt),
    /// Real sockets or a real node failed.
    #[error("real network: {0}")]
    Real(String),
}
