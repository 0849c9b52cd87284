//! The node's side of broadcast (gossipsub) and identify: publishing,
//! keeping unverified peers out of gossip in both directions, accepting only
//! what verified peers forward from authors that are neither banned nor (with
//! an allow-list) unknown, and learning peers' addresses.

use libp2p::{
    gossipsub::{self, IdentTopic, MessageAcceptance},
    identify, PeerId,
};
use tokio::time::Instant;
use tracing::debug;

use super::Node;
use crate::protocol::{
    control::CommandError,
    event::Event,
    gossip_trust,
    misbehaviour::Misbehaviour,
    planted::{self, PlantedBug},
};

impl Node {
    pub(super) fn broadcast(&mut self, topic: String, data: Vec<u8>) -> Result<(), CommandError> {
        if data.len() > self.config.max_broadcast_size {
            return Err(CommandError::Publish(format!(
                "{} bytes exceeds the broadcast limit of {}",
                data.len(),
                self.config.max_broadcast_size
            )));
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(IdentTopic::new(topic), data)
            .map(drop)
            .map_err(|e| CommandError::Publish(e.to_string()))
    }

    pub(super) fn on_gossip_event(&mut self, event: gossipsub::Event) {
        let (propagation_source, message_id, message) = match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => (propagation_source, message_id, message),
            gossipsub::Event::Subscribed { peer_id, topic } => {
                // Subscriptions are announced again on every new connection
                // (`GossipLinks`); the application hears of each once, and of
                // an unverified peer's not at all: no broadcast reaches it.
                let topic = topic.into_string();
                let trusted =
                    self.handshakes.is_verified(&peer_id) || !gossip_trust::gates(&self.config);
                if trusted && self.peer_topics.insert((peer_id, topic.clone())) {
                    self.emit(Event::Subscribed {
                        peer: peer_id,
                        topic,
                    });
                }
                return;
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                self.peer_topics.remove(&(peer_id, topic.into_string()));
                return;
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                debug!(peer = %peer_id, ?failed_messages, "gossipsub: slow peer");
                self.counters.gossip_slow_peer += 1;
                return;
            }
            _ => return,
        };
        let topic = message.topic.as_str().to_owned();
        let refusal = self.gossip_refusal(&propagation_source, message.source.as_ref());
        let acceptance = match refusal {
            None => MessageAcceptance::Accept,
            Some(_) => MessageAcceptance::Reject,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
        match refusal {
            None => self.emit(Event::Broadcast {
                topic,
                author: message.source,
                from: propagation_source,
                data: message.data,
            }),
            Some(reason) => {
                self.counters.broadcasts_rejected += 1;
                self.emit(Event::BroadcastRejected {
                    topic,
                    from: propagation_source,
                    reason: reason.into(),
                });
            }
        }
    }

    /// Tells gossipsub whether it may exchange broadcasts with `peer`: only
    /// while its session is verified (see `gossip_trust`). Called when a
    /// session starts, verifies, fails or ends.
    pub(super) fn set_gossip_trust(&mut self, peer: PeerId, verified: bool) {
        let score = if verified {
            gossip_trust::VERIFIED
        } else {
            gossip_trust::UNVERIFIED
        };
        // `false` when scoring is off (a node that gossips with everyone).
        let _ = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, score);
    }

    /// Lets a peer that just verified into gossip, and reports the topics it
    /// subscribed to while it was unverified.
    pub(super) fn admit_to_gossip(&mut self, peer: PeerId) {
        self.set_gossip_trust(peer, true);
        if !gossip_trust::gates(&self.config) {
            return;
        }
        let mut topics: Vec<String> = self
            .swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .filter(|(p, _)| **p == peer)
            .flat_map(|(_, topics)| topics.into_iter().map(|t| t.as_str().to_owned()))
            .collect();
        topics.sort();
        for topic in topics {
            self.emit(Event::Subscribed { peer, topic });
        }
    }

    /// Why a gossip message must not reach the application, if it must not:
    /// its forwarder is not verified, or its author (whose signature gossipsub
    /// checked) is banned, or — with an allow-list — is not a peer this node
    /// verified itself. A verified session is the only binding of a peer id to
    /// an allowed instance key that a forwarder cannot forge, so with an
    /// allow-list gossip of authors never verified here is refused.
    fn gossip_refusal(&self, forwarder: &PeerId, author: Option<&PeerId>) -> Option<&'static str> {
        if self.config.misbehaviour == Misbehaviour::UncheckedRelay {
            return None;
        }
        let now = Instant::now();
        let gate = &self.swarm.behaviour().gate;
        if gate.is_banned(forwarder, now) {
            return Some("forwarded by a banned peer");
        }
        if !self.handshakes.is_verified(forwarder)
            && !planted::active(PlantedBug::GossipFromUnverified)
        {
            return Some("forwarded by an unverified peer");
        }
        let (Some(author), false) = (author, planted::active(PlantedBug::GossipAuthorUnchecked))
        else {
            return None;
        };
        if gate.is_banned(author, now) {
            return Some("its author is banned");
        }
        if self.config.allow_list.is_some() && !self.handshakes.is_verified(author) {
            return Some("its author is not a verified peer on the allow-list");
        }
        None
    }

    pub(super) fn on_identify_event(&mut self, event: identify::Event) {
        if let identify::Event::Received { peer_id, info, .. } = event {
            let verified = self.handshakes.is_verified(&peer_id);
            self.swarm
                .behaviour_mut()
                .gate
                .announced(peer_id, info.listen_addrs, verified);
        }
    }
}
