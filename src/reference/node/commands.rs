//! Commands, carried out on the reference as its service would.

use blueprint_networking::{
    codec::{encode_protocol_message, MAX_MESSAGE_SIZE},
    types::{MessageRouting, ProtocolMessage},
};
use libp2p::{gossipsub::Sha256Topic, PeerId};
use tokio::time::Instant;

use super::{
    super::{adversary::Adversary, behaviour::Request},
    RefNode,
};
use crate::protocol::{
    control::{BanState, Command, NodeState, PeerState},
    event::{Event, SendError, SendFailure, SendId},
    CommandError, HandshakeState, InstanceMessageRequest,
};

/// Why an adversary neither subscribes nor broadcasts.
const NO_GOSSIP: &str = "this reference-dialect adversary runs no gossip";

/// The hash under which the crate's gossipsub knows `topic` (it uses
/// `Sha256Topic`), as its log prints it.
fn topic_hash(topic: &str) -> String {
    Sha256Topic::new(topic).hash().to_string()
}

impl RefNode {
    pub(super) fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen(address, reply) => {
                let result = self
                    .swarm
                    .listen_on(address)
                    .map(drop)
                    .map_err(|e| CommandError::Transport(e.to_string()));
                let _ = reply.send(result);
            }
            Command::Dial(address, reply) => {
                let result = self.swarm.dial(address).map_err(|e| {
                    CommandError::Transport(crate::protocol::describe::describe_dial_error(&e))
                });
                let _ = reply.send(result);
            }
            Command::Send(peer, request, reply) => {
                let id = self.send_ids.next();
                let _ = reply.send(self.send(id, peer, request).map(|()| id));
            }
            Command::Submit(id, peer, request) => {
                if let Err(refusal) = self.send(id, peer, request) {
                    self.emit(Event::SendOutcome {
                        id,
                        peer,
                        result: Err(SendFailure::Refused(refusal)),
                    });
                }
            }
            // The crate drops every request's response channel: nothing
            // delivered can be answered.
            Command::Respond(id, _, reply) => {
                let _ = reply.send(Err(CommandError::UnknownRequest(id)));
            }
            Command::Subscribe(topic, reply) => {
                let result = self.subscribe(&topic);
                if result.is_ok() {
                    self.topics.insert(topic_hash(&topic), topic);
                }
                let _ = reply.send(result);
            }
            Command::Broadcast(topic, data, reply) => {
                let _ = reply.send(self.broadcast(topic, data));
            }
            // The crate's ban only records it: connections stay open.
            Command::Ban(peer, reason, duration) => self.peers.ban_peer(peer, reason, duration),
            Command::Unban(peer) => self.peers.unban_peer(&peer),
            Command::Disconnect(peer) => {
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Command::State(reply) => {
                let _ = reply.send(self.state());
            }
            Command::Shutdown => {}
        }
    }

    /// The service's envelope around a payload from this node.
    fn envelope(
        &mut self,
        protocol: String,
        recipient: Option<PeerId>,
        payload: Vec<u8>,
    ) -> ProtocolMessage {
        self.next_message_id += 1;
        ProtocolMessage {
            protocol,
            routing: MessageRouting {
                message_id: self.next_message_id,
                round_id: 0,
                sender: *self.swarm.local_peer_id(),
                recipient,
            },
            payload,
        }
    }

    /// A direct message, as the service's handle sends it: refused only if
    /// it does not encode; dropped (yet accepted) if `peer` is unverified.
    fn send(
        &mut self,
        id: SendId,
        peer: PeerId,
        request: InstanceMessageRequest,
    ) -> Result<(), SendError> {
        let size = request.payload.len();
        let message = self.envelope(
            request.protocol.clone(),
            Some(peer),
            request.payload.to_vec(),
        );
        let payload = encode_protocol_message(&message).map_err(|_| SendError::TooLarge {
            size,
            max: MAX_MESSAGE_SIZE as u32,
        })?;
        let skips = self
            .adversary
            .as_ref()
            .is_some_and(Adversary::skips_handshake);
        if !self.peers.is_peer_verified(&peer) && !skips {
            self.dropped_sends += 1;
            return Ok(());
        }
        let request = Request::Protocol {
            protocol: request.protocol,
            payload,
            metadata: request.metadata.map(|m| m.to_vec()),
        };
        let outbound = self
            .swarm
            .behaviour_mut()
            .probe
            .send_request(&peer, request);
        self.sends.insert(outbound, (id, peer));
        Ok(())
    }

    fn broadcast(&mut self, topic: String, data: Vec<u8>) -> Result<(), CommandError> {
        let message = self.envelope(topic.clone(), None, data);
        let bytes = encode_protocol_message(&message)
            .map_err(|e| CommandError::Publish(format!("does not encode: {e}")))?;
        self.topics.insert(topic_hash(&topic), topic.clone());
        let behaviour = self.swarm.behaviour_mut();
        let published = match (behaviour.protocol.as_mut(), behaviour.gossip.as_mut()) {
            (Some(protocol), _) => protocol.publish(&topic, bytes),
            (None, Some(gossip)) => gossip.publish(Sha256Topic::new(topic), bytes),
            (None, None) => return Err(CommandError::Publish(NO_GOSSIP.into())),
        };
        published
            .map(drop)
            .map_err(|e| CommandError::Publish(e.to_string()))
    }

    /// Joins `topic` on the crate's gossipsub, or an adversary's own.
    fn subscribe(&mut self, topic: &str) -> Result<(), CommandError> {
        let behaviour = self.swarm.behaviour_mut();
        let subscribed = match (behaviour.protocol.as_mut(), behaviour.gossip.as_mut()) {
            (Some(protocol), _) => protocol.subscribe(topic),
            (None, Some(gossip)) => gossip.subscribe(&Sha256Topic::new(topic)),
            (None, None) => return Err(CommandError::Publish(NO_GOSSIP.into())),
        };
        subscribed
            .map(drop)
            .map_err(|e| CommandError::Publish(e.to_string()))
    }

    /// What the reference holds, in simnet's terms: a connected peer is
    /// verified when its verified set says so, otherwise in the state the
    /// adapter last reported.
    pub(super) fn state(&mut self) -> NodeState {
        let now = Instant::now();
        let peers = self
            .sessions
            .iter()
            .map(|(peer, session)| {
                let verified = self.peers.is_peer_verified(peer);
                let state = PeerState {
                    handshake: if verified {
                        HandshakeState::Verified
                    } else {
                        session.state
                    },
                    failure: session.failure.clone(),
                    connections: session.connections,
                    key: if verified {
                        self.proven_key(peer)
                    } else {
                        None
                    },
                };
                (*peer, state)
            })
            .collect();
        let bans = self
            .bans
            .iter()
            .filter(|(peer, _)| self.peers.is_banned(peer))
            .map(|(peer, ban)| (*peer, BanState::at(&ban.reason, ban.until, now)))
            .collect();
        NodeState {
            peer_id: *self.swarm.local_peer_id(),
            listen_addresses: self.listen_addresses.clone(),
            peers,
            bans,
            pending_sends: self.sends.len() + self.dropped_sends,
            counters: self.counters,
        }
    }
}
