//! The node's side of the handshake protocol: sending and answering
//! handshake messages, and acting on the session transitions that
//! `Handshakes` returns.

use std::sync::Arc;

use libp2p::{
    request_response::{self, InboundRequestId, OutboundFailure, ResponseChannel},
    swarm::ConnectionId,
    PeerId,
};
use tokio::time::Instant;
use tracing::debug;

use super::Node;
use crate::protocol::{
    codec::FrameError,
    codes,
    describe::{describe_failure, io_frame_error},
    event::Event,
    handshake::{HandshakeFailure, HandshakeState, Session},
    handshakes::{rejection, Answer, Retry},
    misbehaviour::Misbehaviour,
    planted::{self, PlantedBug},
    wire::{HandshakeRequest, HandshakeResponse},
};

impl Node {
    pub(super) fn send_handshake_request(&mut self, peer: PeerId) {
        if self.handshakes.never_starts_handshakes() {
            return;
        }
        let creds = self.handshakes.credentials_for(&peer);
        let request_id = self
            .swarm
            .behaviour_mut()
            .handshake
            .send_request(&peer, Arc::new(creds));
        self.handshakes.request_sent(request_id, peer);
        self.transition(peer, |s| s.request_sent());
    }

    /// Applies a session transition and reports it.
    pub(super) fn transition(
        &mut self,
        peer: PeerId,
        step: impl FnOnce(&mut Session) -> Option<HandshakeState>,
    ) {
        let Some((state, failure)) = self.handshakes.step(peer, step) else {
            return;
        };
        let key = match state {
            HandshakeState::Verified => self.handshakes.remote_key(&peer),
            _ => None,
        };
        self.emit(Event::Handshake {
            peer,
            state,
            failure: failure.clone(),
            key,
        });
        match (state, failure) {
            (HandshakeState::Verified, _) => {
                self.admit_to_gossip(peer);
                self.on_verified(peer);
            }
            (HandshakeState::Failed, failure) => {
                self.set_gossip_trust(peer, false);
                if let Some(failure) = failure {
                    self.on_failed(peer, failure);
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_verified(&mut self, peer: PeerId) {
        debug!(%peer, "verified");
        self.admission.verified(peer);
        self.swarm.behaviour_mut().gate.confirm_addresses(&peer);
        self.swarm.behaviour_mut().identify.verified(peer);
        if self.handshakes.changes_key() {
            let creds = self.handshakes.credentials_with_another_key(&peer);
            let _ = self
                .swarm
                .behaviour_mut()
                .handshake
                .send_request(&peer, Arc::new(creds));
        }
        self.sends.cancel_redial(&peer);
        for (id, request) in self.sends.waiting_for(&peer) {
            let request_id = self
                .swarm
                .behaviour_mut()
                .instance
                .send_request(&peer, request);
            self.sends.retried(id, request_id);
        }
    }

    /// Bookkeeping for a session that just entered `Failed`.
    fn on_failed(&mut self, peer: PeerId, failure: HandshakeFailure) {
        debug!(%peer, %failure, "handshake failed");
        self.admission.forget(&peer);
        if failure == HandshakeFailure::Banned {
            // Not a handshake failure: the session ended because of the ban.
            return;
        }
        self.counters.handshake_failures += 1;
        if !failure.counts_toward_ban() {
            return;
        }
        let now = Instant::now();
        if let Some(ban) = self.swarm.behaviour_mut().gate.record_failure(peer, now) {
            let duration = ban.until.map(|u| u.saturating_duration_since(now));
            self.ban_fallout(peer, ban.reason, duration);
        }
    }

    /// Fails the session of `peer` (if still running) with `failure`.
    fn after_failure(&mut self, peer: PeerId, failure: HandshakeFailure) {
        self.transition(peer, |s| s.fail(failure));
    }

    pub(super) fn fail_and_disconnect(&mut self, peer: PeerId, failure: HandshakeFailure) {
        self.after_failure(peer, failure);
        self.disconnect(peer);
    }

    pub(super) fn on_handshake_event(
        &mut self,
        event: request_response::Event<Arc<HandshakeRequest>, HandshakeResponse>,
    ) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => self.on_handshake_request(peer, request_id, &request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    self.handshakes.request_done(&request_id);
                    self.on_handshake_response(peer, response);
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                connection_id,
                request_id,
                error,
            } => {
                self.handshakes.request_done(&request_id);
                self.on_handshake_outbound_failure(peer, connection_id, error);
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let answer = self.handshakes.answer_done(&request_id);
                if let Some(frame) = io_frame_error(&error) {
                    self.malformed(peer, "handshake", frame.to_string());
                    self.fail_and_disconnect(peer, HandshakeFailure::Malformed(frame.to_string()));
                } else if answer == Some(Answer::Rejected) {
                    self.disconnect(peer);
                }
            }
            request_response::Event::ResponseSent {
                peer, request_id, ..
            } => match self.handshakes.answer_done(&request_id) {
                Some(Answer::Accepted) => self.transition(peer, Session::response_sent),
                // The rejected peer closes the connection when it reads the
                // rejection; closing here could cut the rejection off. The
                // grace timer set with the rejection closes it otherwise.
                Some(Answer::Rejected) | None => {}
            },
        }
    }

    fn on_handshake_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: &HandshakeRequest,
        channel: ResponseChannel<HandshakeResponse>,
    ) {
        if self.handshakes.drops_requests() {
            // Dropping the channel closes the stream unanswered.
            drop(channel);
            return;
        }
        // An unchecked relay takes part in handshakes only as a listener:
        // asked by a peer it dialed, it stays silent like a node that never
        // handshakes.
        let relay_dialed = self.config.misbehaviour == Misbehaviour::UncheckedRelay
            && self.connections.dialed(&peer);
        if self.handshakes.never_handshakes() || relay_dialed {
            // Hold the channel so the requester waits for its timeout.
            self.handshakes.hold_unanswered(channel);
            return;
        }
        if planted::active(PlantedBug::NoCrossedHandshake)
            && self.handshakes.state_of(&peer) == Some(HandshakeState::OutboundPending)
        {
            let duplicate = HandshakeResponse::Rejected {
                code: codes::BAD_HANDSHAKE,
                message: "handshake already in progress".into(),
            };
            let _ = self
                .swarm
                .behaviour_mut()
                .handshake
                .send_response(channel, duplicate);
            return;
        }
        if self.handshakes.is_verified(&peer) {
            return self.on_repeated_request(peer, request_id, request, channel);
        }
        let (response, answer) = match self.handshakes.judge_request(request, &peer) {
            Ok(key) => {
                // Admitted from its signature on, before our answer can reach
                // it: the first request it sends once it verified us must
                // find the admission already recorded.
                self.admission.verified(peer);
                self.transition(peer, |s| s.request_verified(key));
                if self.handshakes.state_of(&peer) == Some(HandshakeState::Failed) {
                    (rejection(&HandshakeFailure::KeyMismatch), Answer::Rejected)
                } else {
                    (
                        HandshakeResponse::Accepted(self.handshakes.credentials_for(&peer)),
                        Answer::Accepted,
                    )
                }
            }
            Err(failure) => {
                let response = rejection(&failure);
                self.after_failure(peer, failure);
                (response, Answer::Rejected)
            }
        };
        if answer == Answer::Rejected {
            self.handshakes.close_after_grace(peer, Instant::now());
        }
        if self
            .swarm
            .behaviour_mut()
            .handshake
            .send_response(channel, response)
            .is_err()
        {
            return;
        }
        self.handshakes.answer_sent(request_id, answer);
        // Our answer makes this side verified once sent, but only the
        // remote's judgement of our own credentials tells whether it accepts
        // us: ask it too (as the reference implementation does), so that a
        // refusal reaches us as a rejection instead of a bare close.
        if answer == Answer::Accepted && self.handshakes.awaiting_our_request(&peer) {
            self.send_handshake_request(peer);
        }
    }

    /// A handshake request on a session that is already verified. At most
    /// `MAX_REPEATED_REQUESTS` are checked and answered; later ones are
    /// refused without a signature check, and the session stays. A request
    /// that proves another key, or fails, fails the session (and counts
    /// toward a ban if ban-worthy): the peer's key must not change.
    fn on_repeated_request(
        &mut self,
        peer: PeerId,
        request_id: InboundRequestId,
        request: &HandshakeRequest,
        channel: ResponseChannel<HandshakeResponse>,
    ) {
        let allowed = self
            .handshakes
            .step_quietly(peer, Session::repeated_request)
            .unwrap_or(false);
        let (response, failed) = if allowed {
            let verdict = self.handshakes.check_credentials(request, &peer);
            self.transition(peer, |s| s.reverify(verdict));
            match self.handshakes.failure_of(&peer) {
                None => (
                    HandshakeResponse::Accepted(self.handshakes.credentials_for(&peer)),
                    false,
                ),
                Some(failure) => (rejection(&failure), true),
            }
        } else {
            let refused = HandshakeResponse::Rejected {
                code: codes::BAD_HANDSHAKE,
                message: "handshake already complete".into(),
            };
            (refused, false)
        };
        if failed {
            self.handshakes.close_after_grace(peer, Instant::now());
        }
        let sent = self
            .swarm
            .behaviour_mut()
            .handshake
            .send_response(channel, response)
            .is_ok();
        if sent && failed {
            self.handshakes.answer_sent(request_id, Answer::Rejected);
        }
    }

    /// The remote's answer to our request. A rejection, or an acceptance
    /// whose credentials do not verify, fails the session even when it is
    /// already verified from our side (a crossed handshake, or a repeated
    /// request on a new connection): both sides must end in the same state.
    fn on_handshake_response(&mut self, peer: PeerId, response: HandshakeResponse) {
        match response {
            HandshakeResponse::Accepted(creds) => {
                match self.handshakes.check_credentials(&creds, &peer) {
                    Ok(key) => {
                        self.admission.verified(peer);
                        self.transition(peer, |s| s.response_verified(key));
                    }
                    Err(failure) => {
                        // The peer may have counted itself verified when it
                        // accepted us; it learns otherwise from our rejection
                        // of its own request, so the connection stays open
                        // long enough for that answer to go out.
                        self.transition(peer, |s| s.refuted(failure));
                        self.handshakes.close_after_grace(peer, Instant::now());
                    }
                }
            }
            HandshakeResponse::Rejected { code, message } => {
                self.transition(peer, |s| {
                    s.refuted(HandshakeFailure::Rejected { code, message })
                });
                self.disconnect(peer);
            }
        }
    }

    fn on_handshake_outbound_failure(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        error: OutboundFailure,
    ) {
        let failure = match &error {
            // libp2p also reports a stream that could not even be opened (10 s)
            // as a timeout. A handshake needs milliseconds, so the connection
            // that carried it is dead or stalled: close it (a redial or the
            // peer's other connection carries the next attempt); the session's
            // own deadline decides when the handshake failed.
            OutboundFailure::Timeout => {
                self.swarm.close_connection(connection);
                return self.retry_handshake_if_connected(peer, &error);
            }
            OutboundFailure::UnsupportedProtocols => HandshakeFailure::UnsupportedProtocol,
            OutboundFailure::Io(e) => match FrameError::find(e) {
                Some(frame) => {
                    let text = frame.to_string();
                    self.malformed(peer, "handshake", text.clone());
                    HandshakeFailure::Malformed(text)
                }
                None => return self.retry_handshake_if_connected(peer, &error),
            },
            OutboundFailure::ConnectionClosed | OutboundFailure::DialFailure => {
                return self.retry_handshake_if_connected(peer, &error)
            }
        };
        self.fail_and_disconnect(peer, failure);
    }

    /// Our request's stream failed while the peer is still connected: its
    /// connection closed but another remains (a simultaneous dial), or the
    /// peer reset the stream. Ask again, at once the first time and then
    /// after a growing pause, a bounded number of times (each attempt costs
    /// us a signature); then the handshake fails.
    fn retry_handshake_if_connected(&mut self, peer: PeerId, error: &OutboundFailure) {
        if !(self.handshakes.is_pending(&peer) && self.swarm.is_connected(&peer)) {
            return;
        }
        match self.handshakes.plan_retry(peer, Instant::now()) {
            Retry::Now => self.send_handshake_request(peer),
            Retry::Later => {}
            Retry::GiveUp(attempts) => {
                let failure = HandshakeFailure::StreamFailed {
                    attempts,
                    error: describe_failure(error),
                };
                self.fail_and_disconnect(peer, failure);
            }
        }
    }

    /// Sends the delayed retries of handshake requests that are due.
    pub(super) fn send_due_retries(&mut self, now: Instant) {
        for peer in self.handshakes.due_retries(now) {
            if self.handshakes.awaiting_our_request(&peer) && self.swarm.is_connected(&peer) {
                self.send_handshake_request(peer);
            }
        }
    }
}
