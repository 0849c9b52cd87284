//! The deterministic simulated network: the unmodified [`crate::protocol::Node`]
//! with virtual time, seeded randomness and faults. It knows how to run
//! nodes, not what the protocol's rules are.
//!
//! Two simulators carry it, picked by [`Simulator`]. The default,
//! [`engine::simulate`], runs every node on one paused tokio runtime over
//! simnet's own simulated streams ([`engine::net`]): time jumps to the next
//! event, so the cost follows events. [`world::simulate`] runs them on
//! turmoil, stepped every millisecond ([`transport`] carries the bytes over
//! turmoil's TCP). Both run on a fresh thread made deterministic by
//! [`determinism`], are one [`crate::net::Network`] (with
//! [`crate::net::Faults`]), and record a [`crate::net::trace`].

pub mod determinism;
pub mod engine;
pub mod transport;
pub mod workload;
pub mod world;

pub use world::{simulate, World, WorldConfig, SIMULATED_TIMING_SLACK};

/// Which simulated network runs the nodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Simulator {
    /// The event-driven engine ([`engine`]): the default, and the one
    /// snapshots are taken on.
    #[default]
    Events,
    /// turmoil 0.7, stepped every millisecond ([`world`]): a second,
    /// independent network model to cross-check the engine against.
    Turmoil,
}

impl Simulator {
    /// Every simulator, the default first.
    pub const ALL: [Simulator; 2] = [Simulator::Events, Simulator::Turmoil];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Simulator::Events => "events",
            Simulator::Turmoil => "turmoil",
        }
    }

    /// The simulator called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
