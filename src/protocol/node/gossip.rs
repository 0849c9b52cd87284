//! The node's side of broadcast (gossipsub) and identify: publishing,
//! accepting only what verified peers forward, and learning peers' addresses.

use libp2p::{
    gossipsub::{self, IdentTopic, MessageAcceptance},
    identify,
};

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
        let verified = self.handshakes.is_verified(&propagation_source)
            || planted::active(PlantedBug::GossipFromUnverified);
        let acceptance = if verified {
            MessageAcceptance::Accept
        } else {
            MessageAcceptance::Reject
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &propagation_source, acceptance);
        if verified {
            self.emit(Event::Broadcast {
                topic,
                author: message.source,
                from: propagation_source,
                data: message.data,
            });
        } else {
            self.counters.broadcasts_rejected += 1;
            self.emit(Event::BroadcastRejected {
                topic,
                from: propagation_source,
                reason: "forwarded by an unverified peer".into(),
            });
        }
    }

    pub(super) fn on_identify_event(&mut self, event: identify::Event) {
        if let identify::Event::Received { peer_id, info, .. } = event {
            for address in info.listen_addrs {
                self.swarm
                    .behaviour_mut()
                    .gate
                    .add_address(peer_id, address);
            }
        }
    }
}
