//! What the reference did since the last look: its log, its peer manager's
//! events and verified set, and the messages it handed over.

use blueprint_networking::discovery::PeerEvent;
use libp2p::PeerId;
use tokio::{sync::broadcast::error::TryRecvError, time::Instant};

use super::{super::capture::Observed, Ban, RefNode};
use crate::protocol::{
    event::{Event, InboundId},
    HandshakeFailure, HandshakeState, InstanceMessageRequest,
};

/// The reason the crate gives a ban of a key not on its allow-list.
const NOT_ALLOWED: &str = "non-whitelisted";

impl RefNode {
    /// Turns everything the reference did since the last call into events,
    /// in the order it did it (log first: each delivery's log line comes
    /// just before its message).
    pub(super) fn observe(&mut self) {
        for observed in self.capture.take() {
            self.on_observed(observed);
        }
        while let Ok(message) = self.messages.try_recv() {
            self.deliver(message);
        }
        loop {
            match self.peer_events.try_recv() {
                Ok(event) => self.on_peer_event(event),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
        let newly_verified: Vec<_> = self
            .sessions
            .iter()
            .filter(|(peer, s)| {
                s.state != HandshakeState::Verified && self.peers.is_peer_verified(peer)
            })
            .map(|(peer, _)| *peer)
            .collect();
        for peer in newly_verified {
            self.set_handshake(peer, HandshakeState::Verified, None);
        }
    }

    fn on_observed(&mut self, observed: Observed) {
        match observed {
            Observed::HandshakeSent { peer } => {
                self.set_handshake(peer, HandshakeState::OutboundPending, None)
            }
            Observed::HandshakeReceived { peer } => {
                let reported = self.sessions.get(&peer).map(|s| s.state);
                if reported != Some(HandshakeState::Verified) {
                    self.set_handshake(peer, HandshakeState::InboundPending, None);
                }
            }
            Observed::HandshakeInvalid { peer, stale, .. } => {
                self.counters.handshake_failures += 1;
                let failure = if stale {
                    HandshakeFailure::Expired
                } else {
                    HandshakeFailure::InvalidSignature
                };
                self.set_handshake(peer, HandshakeState::Failed, Some(failure));
            }
            Observed::RequestFromUnverified { peer } => {
                self.counters.rejected_unverified += 1;
                self.emit(Event::RequestRejected { peer, code: 403 });
            }
            Observed::RequestUndecodable { peer } => {
                self.malformed(peer, "instance");
                self.emit(Event::RequestRejected { peer, code: 400 });
            }
            Observed::RateLimited { .. } => self.counters.rate_limited += 1,
            Observed::GossipFromUnverified { from } => {
                self.counters.broadcasts_rejected += 1;
                self.emit(Event::BroadcastRejected {
                    topic: "unknown".into(),
                    from,
                    reason: "forwarder not verified".into(),
                });
            }
            Observed::GossipUndecodable { from } => self.malformed(from, "gossip"),
            Observed::Subscribed { peer, topic_hash } => {
                if let Some(topic) = self.topics.get(&topic_hash).cloned() {
                    self.emit(Event::Subscribed { peer, topic });
                }
            }
            delivery @ (Observed::RequestDelivered { .. } | Observed::GossipDelivered { .. }) => {
                self.announced.push_back(delivery);
            }
        }
    }

    /// Counts and reports a `protocol` message from `peer` whose payload the
    /// crate could not decode as its envelope.
    fn malformed(&mut self, peer: PeerId, protocol: &'static str) {
        self.counters.malformed += 1;
        self.emit(Event::Malformed {
            peer: Some(peer),
            protocol,
            error: "payload is not a bincode ProtocolMessage".into(),
        });
    }

    /// A message the crate handed over, paired with the log line that
    /// announced it (which names the authenticated peer).
    fn deliver(&mut self, message: blueprint_networking::types::ProtocolMessage) {
        match self.announced.pop_front() {
            Some(Observed::RequestDelivered { peer }) => {
                self.counters.requests_delivered += 1;
                let id = InboundId(self.next_inbound);
                self.next_inbound += 1;
                self.emit(Event::Request {
                    peer,
                    id,
                    request: InstanceMessageRequest {
                        protocol: message.protocol,
                        payload: message.payload.into(),
                        metadata: None,
                    },
                });
            }
            Some(Observed::GossipDelivered { from }) => self.emit(Event::Broadcast {
                topic: message.protocol,
                author: Some(message.routing.sender),
                from,
                data: message.payload,
            }),
            _ => {}
        }
    }

    fn on_peer_event(&mut self, event: PeerEvent) {
        match event {
            PeerEvent::PeerBanned {
                peer_id,
                reason,
                expires_at,
            } => {
                let until = expires_at.map(Instant::from_std);
                let duration = until.map(|u| u.saturating_duration_since(Instant::now()));
                if reason == NOT_ALLOWED {
                    self.counters.handshake_failures += 1;
                    self.set_handshake(
                        peer_id,
                        HandshakeState::Failed,
                        Some(HandshakeFailure::NotAllowed),
                    );
                }
                self.bans.insert(
                    peer_id,
                    Ban {
                        reason: reason.clone(),
                        until,
                    },
                );
                self.emit(Event::Banned {
                    peer: peer_id,
                    reason,
                    duration,
                });
            }
            PeerEvent::PeerUnbanned { peer_id } => {
                self.bans.remove(&peer_id);
                self.emit(Event::Unbanned {
                    peer: peer_id,
                    expired: false,
                });
            }
            PeerEvent::PeerUpdated { .. } | PeerEvent::PeerRemoved { .. } => {}
        }
    }
}
