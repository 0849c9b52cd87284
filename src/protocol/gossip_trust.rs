//! Which peers gossipsub may exchange broadcasts with: only peers whose
//! handshake is verified, in both directions.
//!
//! Gossipsub knows nothing of the handshake. Its one per-peer switch that
//! works on a live connection is the peer score: the node gives every peer the
//! application score [`UNVERIFIED`] when its session starts and [`VERIFIED`]
//! once the handshake completes. Every other score component is switched off,
//! so a peer's score is exactly that value, and the thresholds below sit
//! between the two. A peer below them:
//! - gets none of our broadcasts: flood-publish and fanout skip peers below
//!   the publish threshold, the mesh admits no peer with a negative score
//!   (on subscription, GRAFT or heartbeat), and IHAVE goes only to peers at or
//!   above the gossip threshold, whose IWANT alone is served;
//! - is graylisted: gossipsub drops every message and control message it
//!   sends before looking at it, so a copy it forwards never enters the
//!   duplicate cache and cannot shadow the copy a verified peer forwards later.
//!
//! Its subscriptions are still recorded (gossipsub reads them before the
//! graylist check), and ours were sent when the connection opened, so the
//! moment the handshake completes the peer is a full gossip peer again, with
//! no re-announcement. Gossipsub's blacklist is not used for this: it filters
//! only what a peer sends, not what is sent to it, and a peer blacklisted when
//! its connection opens never receives our subscriptions.

use libp2p::gossipsub::{PeerScoreParams, PeerScoreThresholds};

use super::{
    config::NodeConfig,
    misbehaviour::Misbehaviour,
    planted::{self, PlantedBug},
};

/// The application score of a verified peer: no effect on routing.
pub(crate) const VERIFIED: f64 = 0.0;
/// The application score of every other connected peer: below every
/// threshold.
pub(crate) const UNVERIFIED: f64 = -1_000.0;
/// The gossip, publish and graylist thresholds: any negative score is below.
const THRESHOLD: f64 = -1.0;

/// Whether a node with `config` keeps unverified peers out of gossip. The
/// adversaries that gossip regardless of the handshake (an unchecked relay,
/// a node that skips the handshake) do not, nor does a node with the planted
/// bug that accepts gossip from unverified peers.
pub(crate) fn gates(config: &NodeConfig) -> bool {
    !matches!(
        config.misbehaviour,
        Misbehaviour::UncheckedRelay | Misbehaviour::SkipHandshake
    ) && !planted::active(PlantedBug::GossipFromUnverified)
}

/// Scoring by the application score alone (weight 1): no topic scores, no IP
/// colocation, behaviour or slow-peer penalties, so an honest verified peer is
/// never demoted by gossipsub's own heuristics.
pub(crate) fn score_params() -> PeerScoreParams {
    PeerScoreParams {
        app_specific_weight: 1.0,
        ip_colocation_factor_weight: 0.0,
        behaviour_penalty_weight: 0.0,
        slow_peer_weight: 0.0,
        ..PeerScoreParams::default()
    }
}

/// Thresholds between [`UNVERIFIED`] and [`VERIFIED`]. Opportunistic grafting
/// (for meshes whose median score is below its threshold) is off: with a
/// threshold of 0 the median of verified peers is never below it.
pub(crate) fn thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        gossip_threshold: THRESHOLD,
        publish_threshold: THRESHOLD,
        graylist_threshold: THRESHOLD,
        opportunistic_graft_threshold: 0.0,
        ..PeerScoreThresholds::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_are_valid() {
        assert_eq!(score_params().validate(), Ok(()));
        assert_eq!(thresholds().validate(), Ok(()));
    }

    #[test]
    fn unverified_is_below_every_threshold_and_verified_above() {
        let t = thresholds();
        for threshold in [
            t.gossip_threshold,
            t.publish_threshold,
            t.graylist_threshold,
        ] {
            assert!(UNVERIFIED < threshold);
            assert!(VERIFIED >= threshold);
        }
    }
}
