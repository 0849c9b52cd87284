//! Node identities: the keys of a named node derive from the run's seed and
//! its name, the same in every run and on either network, so a scenario can
//! name a node's instance key (an allow-list, a replayed handshake) before
//! the node starts, and peer ids in traces match across runs.

use crate::protocol::NodeKeys;

/// The keys of node `name` in a run seeded with `seed`.
pub fn node_keys(seed: u64, name: &str) -> NodeKeys {
    NodeKeys::from_seed(format!("{seed}/{name}").as_bytes())
}
