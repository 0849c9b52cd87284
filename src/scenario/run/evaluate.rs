//! Evaluating a [`Check`] against the network at the moment of its step:
//! the nodes' current state (asked through their command handles) and the
//! events recorded so far.

use std::collections::BTreeSet;

use super::Runner;
use crate::{
    net::{identity::node_keys, Network, NetworkError, Record},
    protocol::{Event, HandshakeState},
    scenario::{
        model::{FailureReason, NodeKind, RefusalRule, StateSpec},
        oracle,
        plan::{Check, PlannedNode},
    },
};

impl<W: Network> Runner<'_, W> {
    /// Events of `node`, in order.
    pub(super) fn events_of<'b>(&'b self, node: &'b str) -> impl Iterator<Item = &'b Event> + 'b {
        self.world
            .trace()
            .iter()
            .filter_map(move |e| match &e.record {
                Record::Event(event) if e.node == node => Some(event),
                _ => None,
            })
    }

    fn verified(&mut self, node: &str, peer: &str) -> Result<bool, NetworkError> {
        if !self.world.is_running(node) {
            return Ok(false);
        }
        let peer = self.world.peer_id(peer)?;
        let state = self.world.state(node)?;
        Ok(state
            .peers
            .get(&peer)
            .is_some_and(|p| p.handshake == HandshakeState::Verified))
    }

    /// Whether `node` follows the protocol (the publisher's path to a
    /// subscriber may only run through honest nodes).
    fn is_honest(&self, node: &str) -> bool {
        self.plan
            .nodes
            .iter()
            .any(|n| n.name == node && n.kind == NodeKind::Honest)
    }

    /// Whether `node` runs with an allow-list.
    fn has_allow_list(&self, node: &str) -> bool {
        self.plan
            .nodes
            .iter()
            .any(|n| n.name == node && n.allow.is_some())
    }

    /// How many broadcasts on `topic` (with `data`) reached `node`'s application.
    fn received(&self, node: &str, topic: &str, data: Option<&[u8]>) -> usize {
        self.events_of(node)
            .filter(|e| {
                matches!(e, Event::Broadcast { topic: t, data: d, .. }
                    if t == topic && data.is_none_or(|want| want == d.as_slice()))
            })
            .count()
    }

    pub(super) fn evaluate(&mut self, check: &Check) -> Result<Option<String>, NetworkError> {
        let fail = |held: bool, why: String| if held { None } else { Some(why) };
        Ok(match check {
            Check::Agree { a, b } => {
                let (ab, ba) = (self.verified(a, b)?, self.verified(b, a)?);
                fail(
                    oracle::sessions_agree(ab, ba),
                    format!("{a} verified {b}: {ab}; {b} verified {a}: {ba}"),
                )
            }
            Check::Reached {
                from,
                topic,
                data,
                to,
            } => {
                let honest: Vec<&str> = to
                    .iter()
                    .chain([from])
                    .map(String::as_str)
                    .filter(|n| self.is_honest(n))
                    .collect();
                let published = self
                    .published
                    .iter()
                    .filter(|((f, t, d), _)| {
                        f == from && t == topic && data.as_ref().is_none_or(|want| want == d)
                    })
                    .map(|(_, at)| *at)
                    .max();
                let Some(published) = published else {
                    return Ok(Some(format!("{from} never broadcast on {topic}")));
                };
                let now = self.world.elapsed();
                let mut linked = BTreeSet::new();
                for (i, a) in honest.iter().enumerate() {
                    for b in &honest[i + 1..] {
                        let held = |x: &str, y: &str| -> Result<bool, NetworkError> {
                            let peer = self.world.peer_id(y)?;
                            let trace = self.world.trace();
                            Ok(oracle::verified_throughout(trace, x, peer, published, now))
                        };
                        if held(a, b)? && held(b, a)? {
                            linked.insert((*a, *b));
                        }
                    }
                }
                // A node with an allow-list accepts gossip only from authors
                // it verified itself: it must be reached only if it holds a
                // verified link to the publisher.
                let bound = |node: &str| {
                    !self.has_allow_list(node)
                        || linked.contains(&(node, from.as_str()))
                        || linked.contains(&(from.as_str(), node))
                };
                let missed: Vec<&str> = oracle::reachable(from, &honest, &linked)
                    .into_iter()
                    .filter(|node| bound(node))
                    .filter(|node| self.received(node, topic, data.as_deref()) == 0)
                    .collect();
                fail(
                    missed.is_empty(),
                    format!("connected and missed it: {}", missed.join(", ")),
                )
            }
            Check::Verified { a, b } => {
                let (ab, ba) = (self.verified(a, b)?, self.verified(b, a)?);
                fail(
                    ab && ba,
                    format!("{a} verified {b}: {ab}; {b} verified {a}: {ba}"),
                )
            }
            Check::NotVerified { a, b } => {
                let (ab, ba) = (self.verified(a, b)?, self.verified(b, a)?);
                fail(
                    !ab && !ba,
                    format!("{a} verified {b}: {ab}; {b} verified {a}: {ba}"),
                )
            }
            Check::Handshake {
                node,
                peer,
                state,
                reason,
                key,
            } => {
                let peer_id = self.world.peer_id(peer)?;
                let latest = self
                    .events_of(node)
                    .filter_map(|e| match e {
                        Event::Handshake {
                            peer: p,
                            state,
                            failure,
                            key,
                        } if *p == peer_id => Some((*state, failure.clone(), *key)),
                        _ => None,
                    })
                    .last();
                match latest {
                    None => Some(format!("{node} never had a handshake with {peer}")),
                    Some((actual, failure, actual_key)) => {
                        let state_ok = StateSpec::from(actual) == *state;
                        let actual_reason = failure.as_ref().map(FailureReason::from);
                        let reason_ok = reason.is_none() || actual_reason == *reason;
                        let seed = self.world.seed();
                        let key_ok = key.as_ref().is_none_or(|owner| {
                            actual_key == Some(node_keys(seed, owner).instance_public())
                        });
                        fail(
                            state_ok && reason_ok && key_ok,
                            format!(
                                "latest state {actual:?}{}{}",
                                actual_reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                                key.as_ref()
                                    .map(|_| format!(
                                        ", {}",
                                        describe_key(actual_key, seed, &self.plan.nodes)
                                    ))
                                    .unwrap_or_default()
                            ),
                        )
                    }
                }
            }
            Check::Delivered { topic, node, data } | Check::NotDelivered { topic, node, data } => {
                let count = self.received(node, topic, data.as_deref());
                match check {
                    Check::Delivered { .. } => {
                        fail(count > 0, format!("{node} received nothing on {topic}"))
                    }
                    _ => fail(
                        count == 0,
                        format!("{node} received {count} message(s) on {topic}"),
                    ),
                }
            }
            Check::Requests { node, from, count } => {
                let from_id = self.world.peer_id(from)?;
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::Request { peer, .. } if *peer == from_id))
                    .count();
                fail(actual == *count, format!("{actual} request(s) delivered"))
            }
            Check::Rejected {
                node,
                from,
                code,
                at_least,
            } => {
                let from_id = self.world.peer_id(from)?;
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::RequestRejected { peer, code: c } if *peer == from_id && c == code))
                    .count();
                fail(
                    actual >= *at_least,
                    format!("{actual} request(s) rejected with {code}"),
                )
            }
            Check::Banned { node, peer } | Check::NotBanned { node, peer } => {
                let peer_id = self.world.peer_id(peer)?;
                let banned = self.world.is_running(node)
                    && self.world.state(node)?.bans.contains_key(&peer_id);
                match check {
                    Check::Banned { .. } => {
                        fail(banned, format!("{node} has no active ban on {peer}"))
                    }
                    _ => fail(!banned, format!("{node} has an active ban on {peer}")),
                }
            }
            Check::Refused {
                node,
                peer,
                rule,
                at_most,
            } => {
                let peer_id = self.world.peer_id(peer)?;
                let refusals = self
                    .events_of(node)
                    .filter(|e| match e {
                        Event::ConnectionRefused {
                            peer: Some(p),
                            reason,
                            ..
                        } => *p == peer_id && RefusalRule::from(reason) == *rule,
                        _ => false,
                    })
                    .count();
                match at_most {
                    Some(most) if refusals > *most => fail(
                        false,
                        format!("{node} refused {peer} by {rule} {refusals} times"),
                    ),
                    _ => fail(
                        refusals > 0,
                        format!("{node} refused no connection with {peer} by {rule}"),
                    ),
                }
            }
            Check::Connections { node, peer, count } => {
                let state = self.world.state(node)?;
                let actual: u32 = match peer {
                    Some(peer) => {
                        let peer_id = self.world.peer_id(peer)?;
                        state.peers.get(&peer_id).map_or(0, |p| p.connections)
                    }
                    None => state.peers.values().map(|p| p.connections).sum(),
                };
                fail(actual == *count, format!("{actual} connection(s)"))
            }
            Check::Buffered { node, at_most } => {
                let peak = self.world.state(node)?.counters.peak_buffered;
                fail(peak <= *at_most, format!("{peak} item(s) held at the peak"))
            }
            Check::Malformed { node, at_least } => {
                let actual = self.world.state(node)?.counters.malformed;
                fail(
                    actual >= *at_least,
                    format!("{actual} malformed message(s) counted"),
                )
            }
            Check::Retried { node, at_least } => {
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::SendRetrying { .. }))
                    .count();
                fail(actual >= *at_least, format!("{actual} retries"))
            }
        })
    }
}

/// Whose instance key `key` is, among the plan's nodes, in words.
fn describe_key(key: Option<[u8; 32]>, seed: u64, nodes: &[PlannedNode]) -> String {
    let Some(key) = key else {
        return "no instance key reported".into();
    };
    nodes
        .iter()
        .find(|n| node_keys(seed, &n.name).instance_public() == key)
        .map_or("an instance key of no node in the scenario".into(), |n| {
            format!("{}'s instance key", n.name)
        })
}
