//! Global safety and liveness rules, checked on every trace of every scenario
//! (and so on every seed of every sweep), whatever the scenario expects:
//!
//! 1. No direct message or broadcast reaches an application from a peer that
//!    is not verified, or that is banned, at that moment; and no broadcast
//!    whose *author* the receiver has banned, or does not allow, reaches it
//!    through any forwarder.
//! 2. Every handshake ends `Verified` or `Failed` within its node's timeout
//!    (unless the run ends or the node crashes first).
//! 3. A session is never verified twice, nor while its node bans the peer.
//! 4. Connection counts never exceed a node's limits.
//! 5. Every accepted direct send ends in at most one outcome, and in exactly
//!    one if its node was still running when the run ended.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use libp2p::PeerId;

use crate::{
    net::{
        trace::{render, Names, TraceLine},
        Record, TraceEntry,
    },
    protocol::{peers::Direction, Event, HandshakeState, Misbehaviour, NodeConfig, SendId},
    scenario::violation::{Rule, Violation},
};

#[derive(Default)]
struct Session {
    started: Duration,
    verified: u32,
    finished: bool,
}

#[derive(Default)]
struct NodeView {
    sessions: BTreeMap<PeerId, Session>,
    banned: BTreeSet<PeerId>,
    connections: BTreeMap<u64, (PeerId, Direction)>,
    sends: BTreeMap<SendId, u32>,
}

/// What the rules need to know besides the trace.
pub struct Context<'a> {
    /// Peer id ↔ node name.
    pub names: &'a Names,
    /// Each node's configuration (timeouts, limits).
    pub configs: &'a BTreeMap<String, NodeConfig>,
    /// Each node with an allow-list: the peers whose instance keys are on it.
    pub allowed: &'a BTreeMap<String, BTreeSet<PeerId>>,
    /// Sends accepted per node (in its current incarnation) that must have
    /// ended by `end`.
    pub accepted: &'a [(String, SendId)],
    /// When the run ended.
    pub end: Duration,
    /// How late past its timeout a handshake may be recorded as finished
    /// (real-time runs need more than the simulator's 1 ms ticks:
    /// [`crate::sim::SIMULATED_TIMING_SLACK`]).
    pub slack: Duration,
}

/// Checks the invariants on `trace`.
pub fn check(trace: &[TraceEntry], context: &Context<'_>) -> Vec<Violation> {
    let Context {
        names,
        configs,
        allowed,
        accepted,
        end,
        slack,
    } = *context;
    let mut violations = Vec::new();
    let mut views: BTreeMap<String, NodeView> = BTreeMap::new();
    let mut violate = |index: usize, entry: &TraceEntry, rule: Rule| {
        violations.push(Violation {
            rule,
            detail: render(entry, names),
            entry: Some(index),
            nodes: involved(entry, names),
        });
    };
    for (index, entry) in trace.iter().enumerate() {
        let view = views.entry(entry.node.clone()).or_default();
        let event = match &entry.record {
            Record::Event(event) => event,
            Record::Crashed => {
                *view = NodeView::default();
                continue;
            }
            Record::Fault(_) | Record::Restarted | Record::Note(_) => continue,
        };
        let Some(config) = configs.get(&entry.node) else {
            continue;
        };
        match event {
            Event::Handshake { peer, state, .. } => match state {
                HandshakeState::Connected => {
                    view.sessions.insert(
                        *peer,
                        Session {
                            started: entry.at,
                            ..Session::default()
                        },
                    );
                }
                HandshakeState::Verified | HandshakeState::Failed => {
                    let Some(session) = view.sessions.get_mut(peer) else {
                        continue;
                    };
                    if entry.at > session.started + config.handshake_timeout + slack
                        && !session.finished
                    {
                        violate(index, entry, Rule::HandshakeLate);
                    }
                    if *state == HandshakeState::Verified {
                        session.verified += 1;
                        if session.verified > 1 {
                            violate(index, entry, Rule::VerifiedTwice);
                        }
                        if view.banned.contains(peer) {
                            violate(index, entry, Rule::VerifiedWhileBanned);
                        }
                    }
                    session.finished = true;
                }
                _ => {}
            },
            Event::ConnectionEstablished {
                peer,
                connection,
                direction,
            } => {
                view.connections.insert(*connection, (*peer, *direction));
                let count = |pred: &dyn Fn(&(PeerId, Direction)) -> bool| {
                    view.connections.values().filter(|c| pred(c)).count() as u32
                };
                let limits = config.limits;
                let inbound = count(&|c| c.1 == Direction::Inbound);
                let outbound = count(&|c| c.1 == Direction::Outbound);
                let with_peer = count(&|c| c.0 == *peer);
                if inbound > limits.max_inbound
                    || outbound > limits.max_outbound
                    || with_peer > limits.max_per_peer
                    || inbound + outbound > limits.max_total
                {
                    violate(index, entry, Rule::ConnectionLimit);
                }
            }
            Event::ConnectionClosed {
                peer,
                connection,
                remaining,
            } => {
                view.connections.remove(connection);
                if *remaining == 0 {
                    view.sessions.remove(peer);
                }
            }
            Event::Banned { peer, .. } => {
                view.banned.insert(*peer);
            }
            Event::Unbanned { peer, .. } => {
                view.banned.remove(peer);
            }
            // An unchecked relay accepts gossip from anyone: that is its fault.
            Event::Broadcast { .. } if config.misbehaviour == Misbehaviour::UncheckedRelay => {}
            Event::Request { peer, .. } | Event::Broadcast { from: peer, .. } => {
                let verified = view
                    .sessions
                    .get(peer)
                    .is_some_and(|s| s.verified > 0 && s.finished);
                if !verified {
                    violate(index, entry, Rule::UnverifiedMessage);
                }
                if view.banned.contains(peer) {
                    violate(index, entry, Rule::BannedMessage);
                }
                if let Event::Broadcast {
                    author: Some(author),
                    ..
                } = event
                {
                    if view.banned.contains(author) {
                        violate(index, entry, Rule::BannedAuthor);
                    }
                    let allows = allowed.get(&entry.node);
                    if allows.is_some_and(|peers| !peers.contains(author)) {
                        violate(index, entry, Rule::AuthorNotAllowed);
                    }
                }
            }
            Event::SendOutcome { id, .. } => {
                let outcomes = view.sends.entry(*id).or_default();
                *outcomes += 1;
                if *outcomes > 1 {
                    violate(index, entry, Rule::SendOutcomeTwice);
                }
            }
            _ => {}
        }
    }
    // Liveness: handshakes still open long after their timeout.
    for (node, view) in &views {
        let Some(config) = configs.get(node) else {
            continue;
        };
        for (peer, session) in &view.sessions {
            if !session.finished && end > session.started + config.handshake_timeout + slack {
                violations.push(Violation {
                    rule: Rule::HandshakeNeverFinished,
                    detail: format!("{node} with {} since {:?}", names.of(peer), session.started),
                    entry: None,
                    nodes: vec![node.clone(), names.of(peer)],
                });
            }
        }
    }
    for (node, id) in accepted {
        let outcomes = views
            .get(node)
            .and_then(|v| v.sends.get(id))
            .copied()
            .unwrap_or(0);
        if outcomes == 0 {
            violations.push(Violation {
                rule: Rule::SendNeverEnded,
                detail: format!("#{} of {node}", id.0),
                entry: None,
                nodes: vec![node.clone()],
            });
        }
    }
    violations
}

/// The node `entry` was recorded under and the peers it is about.
pub fn involved(entry: &TraceEntry, names: &Names) -> Vec<String> {
    let mut nodes = vec![entry.node.clone()];
    nodes.extend(TraceLine::of(entry, names).about);
    nodes
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use libp2p::identity::Keypair;

    use super::*;
    use crate::{
        protocol::{InstanceMessageRequest, InstanceMessageResponse},
        sim::SIMULATED_TIMING_SLACK,
    };

    fn peer() -> PeerId {
        Keypair::generate_ed25519().public().to_peer_id()
    }

    fn at(ms: u64, node: &str, event: Event) -> TraceEntry {
        TraceEntry {
            at: Duration::from_millis(ms),
            node: node.into(),
            record: Record::Event(event),
        }
    }

    fn handshake(peer: PeerId, state: HandshakeState) -> Event {
        Event::Handshake {
            peer,
            state,
            failure: None,
            key: None,
        }
    }

    fn request(peer: PeerId) -> Event {
        Event::Request {
            peer,
            id: crate::protocol::InboundId(0),
            request: InstanceMessageRequest {
                protocol: "p".into(),
                payload: vec![].into(),
                metadata: None,
            },
        }
    }

    fn check_trace(
        trace: &[TraceEntry],
        accepted: &[(String, SendId)],
        end_ms: u64,
    ) -> Vec<String> {
        check_allowing(trace, accepted, end_ms, &BTreeMap::new())
    }

    fn check_allowing(
        trace: &[TraceEntry],
        accepted: &[(String, SendId)],
        end_ms: u64,
        allowed: &BTreeMap<String, BTreeSet<PeerId>>,
    ) -> Vec<String> {
        let configs = BTreeMap::from([("a".to_owned(), NodeConfig::default())]);
        let context = Context {
            names: &Names::default(),
            configs: &configs,
            allowed,
            accepted,
            end: Duration::from_millis(end_ms),
            slack: SIMULATED_TIMING_SLACK,
        };
        check(trace, &context)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_clean_trace_has_no_violations() {
        let b = peer();
        let trace = [
            at(0, "a", handshake(b, HandshakeState::Connected)),
            at(10, "a", handshake(b, HandshakeState::Verified)),
            at(20, "a", request(b)),
        ];
        assert_eq!(check_trace(&trace, &[], 100), Vec::<String>::new());
    }

    #[test]
    fn a_message_from_an_unverified_peer_is_a_violation() {
        let b = peer();
        let trace = [
            at(0, "a", handshake(b, HandshakeState::Connected)),
            at(5, "a", request(b)),
        ];
        let v = check_trace(&trace, &[], 100);
        assert!(v[0].starts_with("message from an unverified peer"), "{v:?}");
    }

    #[test]
    fn a_message_from_a_banned_peer_is_a_violation() {
        let b = peer();
        let trace = [
            at(0, "a", handshake(b, HandshakeState::Connected)),
            at(10, "a", handshake(b, HandshakeState::Verified)),
            at(11, "a", banned(b)),
            at(12, "a", request(b)),
        ];
        let v = check_trace(&trace, &[], 100);
        assert!(
            v.iter()
                .any(|l| l.starts_with("message from a banned peer")),
            "{v:?}"
        );
    }

    fn banned(peer: PeerId) -> Event {
        Event::Banned {
            peer,
            reason: "x".into(),
            duration: None,
        }
    }

    fn broadcast(author: PeerId, from: PeerId) -> Event {
        Event::Broadcast {
            topic: "t".into(),
            author: Some(author),
            from,
            data: b"x".to_vec(),
        }
    }

    #[test]
    fn gossip_of_a_banned_author_through_a_verified_forwarder_is_a_violation() {
        let (forwarder, author) = (peer(), peer());
        let trace = [
            at(0, "a", handshake(forwarder, HandshakeState::Connected)),
            at(10, "a", handshake(forwarder, HandshakeState::Verified)),
            at(11, "a", banned(author)),
            at(12, "a", broadcast(author, forwarder)),
        ];
        let v = check_trace(&trace, &[], 100);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with("broadcast whose author is banned"),
            "{v:?}"
        );
        let relayed_by_an_honest_author = [
            at(0, "a", handshake(forwarder, HandshakeState::Connected)),
            at(10, "a", handshake(forwarder, HandshakeState::Verified)),
            at(12, "a", broadcast(peer(), forwarder)),
        ];
        assert!(check_trace(&relayed_by_an_honest_author, &[], 100).is_empty());
    }

    #[test]
    fn gossip_of_an_author_off_the_allow_list_is_a_violation() {
        let (forwarder, author) = (peer(), peer());
        let trace = [
            at(0, "a", handshake(forwarder, HandshakeState::Connected)),
            at(10, "a", handshake(forwarder, HandshakeState::Verified)),
            at(12, "a", broadcast(author, forwarder)),
        ];
        let only_forwarder = BTreeMap::from([("a".to_owned(), BTreeSet::from([forwarder]))]);
        let v = check_allowing(&trace, &[], 100, &only_forwarder);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].starts_with("broadcast whose author is not allowed"),
            "{v:?}"
        );
        let both = BTreeMap::from([("a".to_owned(), BTreeSet::from([forwarder, author]))]);
        assert!(check_allowing(&trace, &[], 100, &both).is_empty());
    }

    #[test]
    fn verifying_twice_and_finishing_late_are_violations() {
        let b = peer();
        let trace = [
            at(0, "a", handshake(b, HandshakeState::Connected)),
            at(31_000, "a", handshake(b, HandshakeState::Verified)),
            at(31_001, "a", handshake(b, HandshakeState::Verified)),
        ];
        let v = check_trace(&trace, &[], 40_000);
        assert!(
            v.iter()
                .any(|l| l.starts_with("handshake finished after its timeout")),
            "{v:?}"
        );
        assert!(
            v.iter().any(|l| l.starts_with("session verified twice")),
            "{v:?}"
        );
    }

    #[test]
    fn a_handshake_that_never_finishes_is_a_violation() {
        let b = peer();
        let trace = [at(0, "a", handshake(b, HandshakeState::Connected))];
        assert!(check_trace(&trace, &[], 10_000).is_empty(), "not yet due");
        let v = check_trace(&trace, &[], 40_000);
        assert!(v[0].starts_with("handshake never finished"), "{v:?}");
    }

    #[test]
    fn exceeding_a_connection_limit_is_a_violation() {
        let b = peer();
        let mut trace = Vec::new();
        for connection in 0..3 {
            trace.push(at(
                connection,
                "a",
                Event::ConnectionEstablished {
                    peer: b,
                    connection,
                    direction: Direction::Inbound,
                },
            ));
        }
        let v = check_trace(&trace, &[], 100);
        assert!(
            v.iter().any(|l| l.starts_with("connection limit exceeded")),
            "per peer 2: {v:?}"
        );
    }

    #[test]
    fn a_send_needs_exactly_one_outcome() {
        let b = peer();
        let outcome = || Event::SendOutcome {
            id: SendId(7),
            peer: b,
            result: Ok(InstanceMessageResponse::Success { data: None }),
        };
        let accepted = [("a".to_owned(), SendId(7))];
        let none = check_trace(&[], &accepted, 100);
        assert!(none[0].contains("never ended in an outcome"), "{none:?}");
        let two = check_trace(
            &[at(1, "a", outcome()), at(2, "a", outcome())],
            &accepted,
            100,
        );
        assert!(
            two.iter()
                .any(|l| l.starts_with("send ended in more than one outcome")),
            "{two:?}"
        );
        assert!(check_trace(&[at(1, "a", outcome())], &accepted, 100).is_empty());
    }
}
