//! The pure parts of the liveness oracles that `simnet explore` writes into
//! its scenarios as checks (`agree`, `reached`), so each can be tested on
//! made-up states without running a network.

use std::{
    collections::{BTreeSet, VecDeque},
    time::Duration,
};

use libp2p::PeerId;

use crate::{
    net::{Record, TraceEntry},
    protocol::{Event, HandshakeState},
};

/// Whether two sides agree on their session: both verified, or neither.
pub fn sessions_agree(a_verified_b: bool, b_verified_a: bool) -> bool {
    a_verified_b == b_verified_a
}

/// Whether `node` held `peer` verified from `start` to `end` without a
/// break, as its trace shows: verified by `start` (its latest handshake state
/// then was `Verified`, with a connection left), and no state change, last
/// connection closed or crash of `node` until `end`. A broadcast published at
/// `start` must cross only such links.
pub fn verified_throughout(
    trace: &[TraceEntry],
    node: &str,
    peer: PeerId,
    start: Duration,
    end: Duration,
) -> bool {
    let mut at_start = false;
    for entry in trace.iter().filter(|e| e.node == node && e.at <= end) {
        let now = match &entry.record {
            Record::Event(Event::Handshake { peer: p, state, .. }) if *p == peer => {
                *state == HandshakeState::Verified
            }
            Record::Event(Event::ConnectionClosed {
                peer: p,
                remaining: 0,
                ..
            }) if *p == peer => false,
            Record::Crashed => false,
            _ => continue,
        };
        if entry.at <= start {
            at_start = now;
        } else if !now {
            return false;
        }
    }
    at_start
}

/// The members `from` reaches through `linked` pairs (links verified on both
/// sides), moving only through members: who a broadcast must reach.
pub fn reachable<'a>(
    from: &'a str,
    members: &[&'a str],
    linked: &BTreeSet<(&'a str, &'a str)>,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        for next in members {
            let link = linked.contains(&(node, *next)) || linked.contains(&(*next, node));
            if link && seen.insert(*next) {
                queue.push_back(next);
            }
        }
    }
    seen.remove(from);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_open_session_disagrees() {
        assert!(sessions_agree(true, true));
        assert!(sessions_agree(false, false));
        assert!(!sessions_agree(true, false));
        assert!(!sessions_agree(false, true));
    }

    #[test]
    fn only_members_linked_to_the_publisher_must_be_reached() {
        // a - b - c, d alone; e linked to c but not a member.
        let linked = BTreeSet::from([("a", "b"), ("c", "b"), ("c", "e")]);
        let members = ["a", "b", "c", "d"];
        assert_eq!(
            reachable("a", &members, &linked),
            BTreeSet::from(["b", "c"])
        );
        assert_eq!(reachable("d", &members, &linked), BTreeSet::new());
        // Through a non-member the path does not count.
        let via_outsider = BTreeSet::from([("a", "x"), ("x", "b")]);
        assert_eq!(reachable("a", &["a", "b"], &via_outsider), BTreeSet::new());
    }

    fn entry(ms: u64, node: &str, record: Record) -> TraceEntry {
        TraceEntry {
            at: Duration::from_millis(ms),
            node: node.into(),
            record,
        }
    }

    fn state(peer: PeerId, state: HandshakeState) -> Record {
        Record::Event(Event::Handshake {
            peer,
            state,
            failure: None,
            key: None,
        })
    }

    #[test]
    fn a_link_counts_only_if_verified_from_the_publication_to_the_check() {
        let peer = libp2p::identity::Keypair::generate_ed25519()
            .public()
            .to_peer_id();
        let ms = Duration::from_millis;
        let verified_at_10 = [
            entry(0, "a", state(peer, HandshakeState::Connected)),
            entry(10, "a", state(peer, HandshakeState::Verified)),
        ];
        assert!(verified_throughout(
            &verified_at_10,
            "a",
            peer,
            ms(20),
            ms(90)
        ));
        assert!(
            !verified_throughout(&verified_at_10, "a", peer, ms(5), ms(90)),
            "not yet at the publication"
        );
        let lost_at_50 = [
            entry(10, "a", state(peer, HandshakeState::Verified)),
            entry(
                50,
                "a",
                Record::Event(Event::ConnectionClosed {
                    peer,
                    connection: 0,
                    remaining: 0,
                }),
            ),
            entry(60, "a", state(peer, HandshakeState::Verified)),
        ];
        assert!(!verified_throughout(&lost_at_50, "a", peer, ms(20), ms(90)));
        assert!(verified_throughout(&lost_at_50, "a", peer, ms(70), ms(90)));
        let crashed = [
            entry(10, "a", state(peer, HandshakeState::Verified)),
            entry(30, "a", Record::Crashed),
        ];
        assert!(!verified_throughout(&crashed, "a", peer, ms(20), ms(90)));
        assert!(
            !verified_throughout(&verified_at_10, "b", peer, ms(20), ms(90)),
            "another node"
        );
    }
}
