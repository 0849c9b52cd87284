//! The node's side of broadcast (gossipsub) and identify: publishing,
//! accepting only what verified peers forward from authors that are neither
//! banned nor (with an allow-list) unknown, and learning peers' addresses.

use libp2p::{
    gossipsub::{self, IdentTopic, MessageAcceptance},
    identify, PeerId,
};
use tokio::time::Instant;

use super::Node;
use crate::protocol::{
    control::CommandError,
    event::Event,
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
                self.emit(Event::Subscribed {
                    peer: peer_id,
                    topic: topic.into_string(),
                });
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

    /// Why a gossip message must not reach the application, if it must not:
    /// its forwarder is not verified, or its author (whose signature gossipsub
    /// checked) is banned, or — with an allow-list — is not a peer this node
    /// verified itself. A verified session is the only binding of a peer id to
    /// an allowed instance key that a forwarder cannot forge, so with an
    /// allow-list gossip of authors never verified here is refused.
    fn gossip_refusal(&self, forwarder: &PeerId, author: Option<&PeerId>) -> Option<&'static str> {
        if !self.handshakes.is_verified(forwarder)
            && !planted::active(PlantedBug::GossipFromUnverified)
        {
            return Some("forwarded by an unverified peer");
        }
        let (Some(author), false) = (author, planted::active(PlantedBug::GossipAuthorUnchecked))
        else {
            return None;
        };
        if self
            .swarm
            .behaviour()
            .gate
            .is_banned(author, Instant::now())
        {
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
