//! The node's side of direct messages: starting sends, answering requests
//! from peers (or handing them to the application), and turning each send's
//! attempts into exactly one outcome.

use std::sync::Arc;

use libp2p::{
    request_response::{
        self, InboundRequestId, OutboundFailure, OutboundRequestId, ResponseChannel,
    },
    swarm::ConnectionId,
    PeerId,
};
use tokio::time::Instant;

use super::Node;
use crate::protocol::{
    bounds::Overload,
    codec::{FrameError, Rejection},
    codes,
    config::Responder,
    describe::{describe_failure, io_frame_error},
    event::{Event, SendError, SendFailure, SendId},
    handshake::HandshakeState,
    misbehaviour::Misbehaviour,
    wire::{InstanceMessageRequest, InstanceMessageResponse, Wire},
};

impl Node {
    /// Starts a send: `id` when the application minted it (a submitted
    /// send), otherwise a new one.
    pub(super) fn start_send(
        &mut self,
        peer: PeerId,
        request: InstanceMessageRequest,
        id: Option<SendId>,
    ) -> Result<SendId, SendError> {
        if self.is_banned(&peer) {
            return Err(SendError::PeerBanned(peer));
        }
        let skip_check = self.config.misbehaviour == Misbehaviour::SkipHandshake;
        if !skip_check && !self.handshakes.is_verified(&peer) {
            return Err(SendError::NotVerified(peer));
        }
        let enforce_limit = self.config.misbehaviour != Misbehaviour::IgnoreSizeLimit;
        if let Some((field, len, max)) = request.field_over_limit().filter(|_| enforce_limit) {
            return Err(SendError::FieldTooLong { field, len, max });
        }
        let size = request.encoded_len();
        if enforce_limit && size > self.config.max_message_size as usize {
            return Err(SendError::TooLarge {
                size,
                max: self.config.max_message_size,
            });
        }
        let request = Arc::new(request);
        let request_id = self
            .swarm
            .behaviour_mut()
            .instance
            .send_request(&peer, request.clone());
        let now = Instant::now();
        let deadline = now + self.config.send_deadline;
        let id = id.unwrap_or_else(|| self.send_ids.next());
        self.sends
            .start(id, peer, request, (now, deadline), request_id);
        Ok(id)
    }

    /// A send the application submitted as `id` without waiting: a refusal
    /// is its one outcome.
    pub(super) fn submit_send(
        &mut self,
        id: SendId,
        peer: PeerId,
        request: InstanceMessageRequest,
    ) {
        if let Err(refusal) = self.start_send(peer, request, Some(id)) {
            self.emit(Event::SendOutcome {
                id,
                peer,
                result: Err(SendFailure::Refused(refusal)),
            });
        }
    }

    pub(super) fn on_instance_event(
        &mut self,
        event: request_response::Event<Arc<InstanceMessageRequest>, InstanceMessageResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => self.on_instance_request(peer, request_id, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((id, send)) = self.sends.complete(&request_id) {
                        self.sends.answered(&send.peer, self.config.redial_backoff);
                        self.emit(Event::SendOutcome {
                            id,
                            peer: send.peer,
                            result: Ok(response),
                        });
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                connection_id,
                request_id,
                error,
            } => self.on_send_failure(peer, connection_id, request_id, error),
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                // A held request whose stream failed frees its in-flight slot.
                self.inbound.release(&request_id);
                if let Some(frame) = io_frame_error(&error) {
                    self.malformed(peer, "instance", frame.to_string());
                }
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_instance_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: Arc<InstanceMessageRequest>,
        channel: ResponseChannel<InstanceMessageResponse>,
    ) {
        // A request that was on its way when we banned the peer (the
        // connection closes, but what it already read is still delivered).
        if self.is_banned(&peer) {
            return self.reject_request(peer, channel, codes::BANNED, "peer banned");
        }
        if !self.handshakes.is_verified(&peer) {
            self.counters.rejected_unverified += 1;
            self.reject_request(
                peer,
                channel,
                codes::HANDSHAKE_REQUIRED,
                "handshake required",
            );
            return self.unverified_request(peer);
        }
        if let Some(overload) = self.inbound.overload(peer, Instant::now()) {
            let message = match overload {
                Overload::Rate => {
                    self.counters.rate_limited += 1;
                    "too many requests"
                }
                Overload::InFlight => {
                    self.counters.in_flight_limited += 1;
                    "too many requests in flight"
                }
            };
            return self.reject_request(peer, channel, codes::RATE_LIMITED, message);
        }
        let request = Arc::unwrap_or_clone(request);
        let automatic = match &self.config.responder {
            // `Silent` is `Manual` with an application that never answers.
            // Dropping the channel would fail the request at once; keep the
            // sender waiting for its own timeout, like a hung application.
            Responder::Manual | Responder::Silent => None,
            Responder::Echo => Some(InstanceMessageResponse::Success {
                data: Some(request.payload.clone()),
            }),
            Responder::Protocol => Some(InstanceMessageResponse::Protocol {
                data: request.payload.clone(),
            }),
            Responder::Fixed(response) => Some(response.clone()),
        };
        let id = self.inbound.next_id();
        self.counters.requests_delivered += 1;
        match automatic {
            Some(response) => self.answer(channel, response),
            None => self.inbound.hold(id, request_id, peer, channel),
        }
        self.emit(Event::Request { peer, id, request });
    }

    /// Counts a request from `peer`, which is not verified (answered 403, or
    /// refused unread because it was large); bans the peer once it sends
    /// more than `max_unverified` in a window.
    pub(super) fn unverified_request(&mut self, peer: PeerId) {
        let now = Instant::now();
        if self.inbound.unverified_within_bounds(peer, now)
            || self.swarm.behaviour().gate.is_banned(&peer, now)
        {
            return;
        }
        let reason = format!(
            "more than {} requests without a handshake",
            self.config.requests.max_unverified
        );
        self.ban(peer, reason, Some(self.config.bans.duration));
    }

    /// A direct request the codec refused to read: count it, and count it
    /// against its sender if it was refused for coming before the handshake.
    pub(super) fn on_rejection(&mut self, rejection: Rejection) {
        self.counters.malformed += 1;
        self.emit(Event::Malformed {
            peer: rejection.peer,
            protocol: "instance",
            error: rejection.error,
        });
        // Reports come on their own channel, ahead of swarm events: a peer
        // whose verification the node has not seen yet is not counted.
        if let (true, Some(peer)) = (rejection.before_handshake, rejection.peer) {
            if self.handshakes.state_of(&peer) == Some(HandshakeState::Connected) {
                self.unverified_request(peer);
            }
        }
    }

    /// Answers a request with an error before it reaches the application.
    fn reject_request(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<InstanceMessageResponse>,
        code: u16,
        message: &str,
    ) {
        let response = InstanceMessageResponse::Error {
            code,
            message: message.into(),
        };
        self.answer(channel, response);
        self.emit(Event::RequestRejected { peer, code });
    }

    /// Sends `response` on `channel`. This fails only if the request already
    /// timed out or its connection closed; the sender sees that failure.
    pub(super) fn answer(
        &mut self,
        channel: ResponseChannel<InstanceMessageResponse>,
        response: InstanceMessageResponse,
    ) {
        let _ = self
            .swarm
            .behaviour_mut()
            .instance
            .send_response(channel, response);
    }

    fn on_send_failure(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        request_id: OutboundRequestId,
        error: OutboundFailure,
    ) {
        if !self.sends.owns(&request_id) {
            return;
        }
        let terminal = match &error {
            _ if self.is_banned(&peer) => Some(SendFailure::PeerBanned),
            OutboundFailure::UnsupportedProtocols => Some(SendFailure::UnsupportedProtocol),
            OutboundFailure::Io(e) => FrameError::find(e).map(|f| {
                self.counters.malformed += 1;
                SendFailure::MalformedResponse(f.to_string())
            }),
            OutboundFailure::Timeout => {
                // No answer in time: the connection that carried it is
                // suspect (a peer that stalled, a link that lost data). Close
                // that one only, so the peer's other connections and their
                // requests are not cut (the review's M9); the retry below runs
                // over another or a fresh, re-verified connection.
                self.swarm.close_connection(connection);
                None
            }
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => None,
        };
        if let Some(failure) = terminal {
            if let Some((id, send)) = self.sends.complete(&request_id) {
                self.send_failed(id, send.peer, failure);
            }
            return;
        }
        let Some((id, send)) = self
            .sends
            .interrupted(&request_id, describe_failure(&error))
        else {
            return;
        };
        let (attempts, deadline) = (send.attempts, send.deadline);
        let now = Instant::now();
        if now >= deadline {
            if let Some(send) = self.sends.remove(id) {
                let failure = SendFailure::DeadlineExceeded {
                    attempts,
                    last_error: send.last_error,
                };
                self.send_failed(id, peer, failure);
            }
            return;
        }
        self.emit(Event::SendRetrying {
            id,
            peer,
            attempts,
            error: describe_failure(&error),
        });
        // Never resend at once: the same failure repeating immediately would
        // spin. After a backoff the peer is redialed if it is gone, or the send
        // goes again if it is still (or again) verified.
        self.sends
            .schedule_redial(peer, now, self.config.redial_backoff);
    }
}
