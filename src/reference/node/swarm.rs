//! Swarm events: connections, refusals, identify and the probe's outcomes.

use std::collections::HashSet;

use blueprint_networking::discovery::PeerInfo;
use libp2p::{
    connection_limits::Exceeded,
    identify,
    request_response::{self, OutboundFailure},
    swarm::{ConnectionDenied, DialError, ListenError, SwarmEvent},
    PeerId,
};

use super::{
    super::behaviour::{RefBehaviourEvent, Request, Response},
    RefNode, Session, UNSUPPORTED_BAN,
};
use crate::protocol::{
    describe::{describe_dial_error, describe_failure},
    event::{Event, SendFailure},
    peers::{Direction, Refusal},
    HandshakeFailure, HandshakeState, InstanceMessageResponse,
};

impl RefNode {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<RefBehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                self.listen_addresses.push(address.clone());
                self.emit(Event::Listening { address });
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                let connection = self.next_connection;
                self.next_connection += 1;
                self.connections.insert(connection_id, connection);
                let direction = if endpoint.is_dialer() {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                self.emit(Event::ConnectionEstablished {
                    peer: peer_id,
                    connection,
                    direction,
                });
                if let Some(session) = self.sessions.get_mut(&peer_id) {
                    session.connections = num_established.get();
                } else {
                    self.sessions.insert(
                        peer_id,
                        Session {
                            connections: num_established.get(),
                            state: HandshakeState::Connected,
                            failure: None,
                        },
                    );
                    self.emit(Event::Handshake {
                        peer: peer_id,
                        state: HandshakeState::Connected,
                        failure: None,
                        key: None,
                    });
                    self.adversary_opens(peer_id);
                    // The service records a peer it dialed (its discovery
                    // behaviour keeps the dialed address).
                    if endpoint.is_dialer() {
                        let mut info = PeerInfo::default();
                        info.addresses.insert(endpoint.get_remote_address().clone());
                        self.peers.update_peer(peer_id, info);
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                let connection = self.connections.remove(&connection_id).unwrap_or_default();
                self.emit(Event::ConnectionClosed {
                    peer: peer_id,
                    connection,
                    remaining: num_established,
                });
                if num_established == 0 {
                    self.sessions.remove(&peer_id);
                    self.peers.remove_peer(&peer_id, "disconnected");
                } else if let Some(session) = self.sessions.get_mut(&peer_id) {
                    session.connections = num_established;
                }
            }
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { cause },
                peer_id,
                ..
            } => self.refused(peer_id, Direction::Inbound, &cause),
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => match error {
                DialError::Denied { cause } => self.refused(peer_id, Direction::Outbound, &cause),
                other => self.emit(Event::DialFailed {
                    peer: peer_id,
                    error: describe_dial_error(&other),
                }),
            },
            SwarmEvent::Behaviour(RefBehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.identified(peer_id, info),
            SwarmEvent::Behaviour(RefBehaviourEvent::Probe(event)) => self.on_probe(event),
            _ => {}
        }
    }

    fn refused(&mut self, peer: Option<PeerId>, direction: Direction, cause: &ConnectionDenied) {
        let Some(exceeded) = cause.downcast_ref::<Exceeded>() else {
            return;
        };
        self.counters.refused_connections += 1;
        self.emit(Event::ConnectionRefused {
            peer,
            direction,
            reason: refusal(exceeded, direction),
        });
    }

    /// What the service does with a peer's identify: ban it for an hour if
    /// it lacks the blueprint protocol, otherwise record what it said.
    fn identified(&mut self, peer: PeerId, info: identify::Info) {
        let protocols: HashSet<String> = info.protocols.iter().map(ToString::to_string).collect();
        if !protocols.contains(&self.protocol_name) {
            self.peers
                .ban_peer(peer, "protocol unsupported", Some(UNSUPPORTED_BAN));
            return;
        }
        let mut record = self.peers.get_peer_info(&peer).unwrap_or_default();
        record.addresses.extend(info.listen_addrs.iter().cloned());
        record.identify_info = Some(info);
        self.peers.update_peer(peer, record);
    }

    /// An adversary's own handshake request on a first connection.
    fn adversary_opens(&mut self, peer: PeerId) {
        let Some(request) = self.adversary.as_ref().and_then(|a| a.request(&peer)) else {
            return;
        };
        let id = self
            .swarm
            .behaviour_mut()
            .probe
            .send_request(&peer, request);
        self.handshakes.insert(id, peer);
        self.set_handshake(peer, HandshakeState::OutboundPending, None);
    }

    fn on_probe(&mut self, event: request_response::Event<Request, Response>) {
        if let request_response::Event::Message {
            peer,
            message:
                request_response::Message::Request {
                    request, channel, ..
                },
            ..
        } = event
        {
            // Only an adversary accepts requests on its probe.
            let answer = match (&request, &self.adversary) {
                (Request::Handshake { .. }, Some(adversary)) => adversary.response(&peer),
                _ => None,
            };
            match answer {
                Some(answer) => {
                    let _ = self
                        .swarm
                        .behaviour_mut()
                        .probe
                        .send_response(channel, answer);
                }
                None => self.held.push(channel),
            }
            return;
        }
        let (request_id, result) = match event {
            request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => (request_id, Ok(response)),
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => (request_id, Err(error)),
            _ => return,
        };
        if let Some(peer) = self.handshakes.remove(&request_id) {
            if let Ok(Response::Error { code, message }) = result {
                let failure = HandshakeFailure::Rejected { code, message };
                self.set_handshake(peer, HandshakeState::Failed, Some(failure));
            }
            return;
        }
        let Some((id, peer)) = self.sends.remove(&request_id) else {
            return;
        };
        let result = match result {
            Ok(response) => simnet_response(response),
            Err(OutboundFailure::UnsupportedProtocols) => Err(SendFailure::UnsupportedProtocol),
            Err(error) => Err(SendFailure::AttemptFailed(describe_failure(&error))),
        };
        self.emit(Event::SendOutcome { id, peer, result });
    }
}

/// The reference's answer in simnet's terms. It has no `Protocol` answer;
/// its `Success` names a protocol as well.
fn simnet_response(response: Response) -> Result<InstanceMessageResponse, SendFailure> {
    match response {
        Response::Success { data, .. } => Ok(InstanceMessageResponse::Success {
            data: data.map(Into::into),
        }),
        Response::Error { code, message } => Ok(InstanceMessageResponse::Error { code, message }),
        Response::Handshake { .. } => Err(SendFailure::MalformedResponse(
            "a handshake answer to a direct message".into(),
        )),
    }
}

/// The limit behind a refusal. The crate sets every limit to one number,
/// and libp2p names which one only in its text.
fn refusal(exceeded: &Exceeded, direction: Direction) -> Refusal {
    let limit = exceeded.limit();
    if exceeded.to_string().contains("per peer") {
        Refusal::PerPeerLimit { limit }
    } else {
        match direction {
            Direction::Inbound => Refusal::InboundLimit { limit },
            Direction::Outbound => Refusal::OutboundLimit { limit },
        }
    }
}
