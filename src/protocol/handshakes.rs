//! The handshake state of one node: a [`Session`] per connected peer, the
//! handshake requests we sent and the answers we gave that are still on the
//! wire, channels held on purpose, and connections to close after a
//! rejection. Also what the node presents and accepts (its credentials and
//! [`Policy`]).
//!
//! It makes no swarm calls: the node sends and answers handshake messages and
//! reports the transitions this returns.

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ed25519_dalek::SigningKey;
use libp2p::{
    request_response::{InboundRequestId, OutboundRequestId, ResponseChannel},
    PeerId,
};
use tokio::time::Instant;

use super::{
    config::NodeConfig,
    handshake::{self, HandshakeFailure, HandshakeState, Policy, Session},
    misbehaviour::Misbehaviour,
    planted::{self, PlantedBug},
    wire::{HandshakeRequest, HandshakeResponse},
};

/// How long a rejected handshake's connection stays open for the rejection to
/// be delivered.
const REJECT_GRACE: Duration = Duration::from_secs(1);
/// How long the listener of a new connection waits for the dialer's handshake
/// request before sending its own. The dialer normally asks at once; when it
/// does not (its request went into an older connection that is dead, or it
/// believes itself verified from a session we no longer have), the listener's
/// own request lets both sides verify anyway.
const LISTENER_GRACE: Duration = Duration::from_secs(1);

/// What an inbound handshake response we sent was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    Rejected,
}

/// Every handshake of one node, by peer.
pub(crate) struct Handshakes {
    local: PeerId,
    instance: SigningKey,
    policy: Policy,
    misbehaviour: Misbehaviour,
    timeout: Duration,
    sessions: BTreeMap<PeerId, Session>,
    requests: HashMap<OutboundRequestId, PeerId>,
    answers: HashMap<InboundRequestId, Answer>,
    silent_channels: Vec<ResponseChannel<HandshakeResponse>>,
    disconnect_at: BTreeMap<PeerId, Instant>,
    ask_at: BTreeMap<PeerId, Instant>,
}

impl Handshakes {
    /// No sessions yet; `local` signs with `instance` as `config` says.
    pub(crate) fn new(config: &NodeConfig, local: PeerId, instance: SigningKey) -> Self {
        Self {
            local,
            instance,
            policy: Policy {
                local_version: config.protocol_version.clone(),
                freshness: config.freshness,
                allow_list: config.allow_list.clone(),
            },
            misbehaviour: config.misbehaviour.clone(),
            timeout: config.handshake_timeout,
            sessions: BTreeMap::new(),
            requests: HashMap::new(),
            answers: HashMap::new(),
            silent_channels: Vec::new(),
            disconnect_at: BTreeMap::new(),
            ask_at: BTreeMap::new(),
        }
    }

    // ---- sessions -------------------------------------------------------

    /// Every session, by peer.
    pub(crate) fn sessions(&self) -> impl Iterator<Item = (&PeerId, &Session)> {
        self.sessions.iter()
    }

    /// Where the handshake with `peer` stands, if it has a session.
    pub(crate) fn state_of(&self, peer: &PeerId) -> Option<HandshakeState> {
        self.sessions.get(peer).map(Session::state)
    }

    /// The instance key `peer` proved in its session, once it has.
    pub(crate) fn remote_key(&self, peer: &PeerId) -> Option<[u8; 32]> {
        self.sessions.get(peer).and_then(Session::remote_key)
    }

    /// Whether `peer` completed the handshake.
    pub(crate) fn is_verified(&self, peer: &PeerId) -> bool {
        self.sessions.get(peer).is_some_and(Session::is_verified)
    }

    /// Whether `peer` has a session that is neither verified nor failed.
    pub(crate) fn is_pending(&self, peer: &PeerId) -> bool {
        self.sessions.get(peer).is_some_and(|s| !s.is_finished())
    }

    /// Starts a fresh session for `peer`, replacing any earlier one.
    pub(crate) fn begin(&mut self, peer: PeerId, now: Instant) {
        self.sessions.insert(peer, Session::new(now, self.timeout));
    }

    /// Applies `step` to the session of `peer`; returns the state it entered
    /// and the session's failure, if the step changed the state.
    pub(crate) fn step(
        &mut self,
        peer: PeerId,
        step: impl FnOnce(&mut Session) -> Option<HandshakeState>,
    ) -> Option<(HandshakeState, Option<HandshakeFailure>)> {
        let session = self.sessions.get_mut(&peer)?;
        let state = step(session)?;
        Some((state, session.failure().cloned()))
    }

    /// Forgets `peer`, whose last connection closed. Returns whether this
    /// failed a handshake that was still pending.
    pub(crate) fn end(&mut self, peer: PeerId) -> bool {
        self.disconnect_at.remove(&peer);
        self.ask_at.remove(&peer);
        self.sessions
            .remove(&peer)
            .is_some_and(|mut s| s.fail(HandshakeFailure::ConnectionClosed).is_some())
    }

    /// Peers whose handshake is still pending.
    pub(crate) fn pending_count(&self) -> u32 {
        let pending = self.sessions.values().filter(|s| !s.is_finished()).count();
        u32::try_from(pending).unwrap_or(u32::MAX)
    }

    /// Peers whose handshake timer has run out at `now`.
    pub(crate) fn overdue(&self, now: Instant) -> Vec<PeerId> {
        self.sessions
            .iter()
            .filter(|(_, s)| s.timer_running() && now >= s.deadline())
            .map(|(peer, _)| *peer)
            .collect()
    }

    /// The earliest handshake deadline or delayed disconnect.
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        let deadlines = self
            .sessions
            .values()
            .filter(|s| s.timer_running())
            .map(Session::deadline);
        deadlines
            .chain(self.disconnect_at.values().copied())
            .chain(self.ask_at.values().copied())
            .min()
    }

    /// We are the listener of a new session with `peer`: unless its request
    /// arrives first, we send ours after a grace period.
    pub(crate) fn ask_after_grace(&mut self, peer: PeerId, now: Instant) {
        self.ask_at.insert(peer, now + LISTENER_GRACE);
    }

    /// Removes and returns the peers whose grace ran out at `now` while their
    /// session was still `Connected` (no request moved either way).
    pub(crate) fn due_asks(&mut self, now: Instant) -> Vec<PeerId> {
        take_due(&mut self.ask_at, now)
            .into_iter()
            .filter(|peer| self.state_of(peer) == Some(HandshakeState::Connected))
            .collect()
    }

    // ---- messages on the wire -------------------------------------------

    /// Whether `peer` is pending and no request of ours to it is in flight.
    pub(crate) fn awaiting_our_request(&self, peer: &PeerId) -> bool {
        self.is_pending(peer) && !self.requests.values().any(|p| p == peer)
    }

    /// Our request `request_id` to `peer` is in flight.
    pub(crate) fn request_sent(&mut self, request_id: OutboundRequestId, peer: PeerId) {
        self.requests.insert(request_id, peer);
    }

    /// Our request `request_id` was answered or failed.
    pub(crate) fn request_done(&mut self, request_id: &OutboundRequestId) {
        self.requests.remove(request_id);
    }

    /// Our `answer` to request `request_id` is on its way.
    pub(crate) fn answer_sent(&mut self, request_id: InboundRequestId, answer: Answer) {
        self.answers.insert(request_id, answer);
    }

    /// Our answer to request `request_id` was delivered or failed: what it was.
    pub(crate) fn answer_done(&mut self, request_id: &InboundRequestId) -> Option<Answer> {
        self.answers.remove(request_id)
    }

    /// Keeps a request unanswered, so the requester waits for its timeout.
    pub(crate) fn hold_unanswered(&mut self, channel: ResponseChannel<HandshakeResponse>) {
        self.silent_channels.push(channel);
    }

    /// Channels held unanswered (for the buffered-items count).
    pub(crate) fn held(&self) -> usize {
        self.silent_channels.len()
    }

    /// Closes the connection to `peer` once a rejection had time to arrive.
    pub(crate) fn close_after_grace(&mut self, peer: PeerId, now: Instant) {
        self.disconnect_at.insert(peer, now + REJECT_GRACE);
    }

    /// Removes and returns the peers whose delayed disconnect is due at `now`.
    pub(crate) fn due_disconnects(&mut self, now: Instant) -> Vec<PeerId> {
        take_due(&mut self.disconnect_at, now)
    }

    // ---- credentials ----------------------------------------------------

    /// Whether this node never takes part in handshakes (a misbehaviour).
    pub(crate) fn never_handshakes(&self) -> bool {
        matches!(
            self.misbehaviour,
            Misbehaviour::SilentHandshake | Misbehaviour::SkipHandshake
        )
    }

    /// Whether this node never sends a handshake request of its own (it may
    /// still answer the requests it is sent).
    pub(crate) fn never_starts_handshakes(&self) -> bool {
        self.never_handshakes() || self.misbehaviour == Misbehaviour::UncheckedRelay
    }

    /// The credentials we present to `receiver`, faulty if so configured.
    pub(crate) fn credentials_for(&self, receiver: &PeerId) -> HandshakeRequest {
        let mut timestamp = unix_millis();
        if let Misbehaviour::StaleTimestamp(age) = &self.misbehaviour {
            timestamp = timestamp.saturating_sub(age.as_millis() as u64);
        }
        let mut creds = handshake::sign(
            &self.instance,
            &self.local,
            receiver,
            timestamp,
            &self.policy.local_version,
        );
        match &self.misbehaviour {
            Misbehaviour::ForgeSignature => creds.signature[0] ^= 0x01,
            Misbehaviour::Replay(captured) => creds = captured.clone(),
            _ => {}
        }
        creds
    }

    /// Checks the credentials `peer` presented; returns its instance key.
    pub(crate) fn check_credentials(
        &self,
        creds: &HandshakeRequest,
        peer: &PeerId,
    ) -> Result<[u8; 32], HandshakeFailure> {
        handshake::verify(creds, peer, &self.local, unix_millis(), &self.policy)
    }

    /// Judges the request `peer` sent us, given where its session stands.
    pub(crate) fn judge_request(
        &self,
        request: &HandshakeRequest,
        peer: &PeerId,
    ) -> Result<[u8; 32], HandshakeFailure> {
        let verdict = match self.sessions.get(peer) {
            None => Err(HandshakeFailure::ConnectionClosed),
            Some(s) if s.state() == HandshakeState::Failed => Err(s
                .failure()
                .cloned()
                .unwrap_or(HandshakeFailure::ConnectionClosed)),
            Some(_) => self.check_credentials(request, peer),
        };
        match verdict {
            Err(HandshakeFailure::InvalidSignature)
                if planted::active(PlantedBug::VerifiedBeforeSignatureCheck) =>
            {
                Ok(request.public_key)
            }
            verdict => verdict,
        }
    }
}

/// Removes and returns the peers whose moment in `timers` has come at `now`.
fn take_due(timers: &mut BTreeMap<PeerId, Instant>, now: Instant) -> Vec<PeerId> {
    let due: Vec<PeerId> = timers
        .iter()
        .filter(|(_, at)| now >= **at)
        .map(|(peer, _)| *peer)
        .collect();
    for peer in &due {
        timers.remove(peer);
    }
    due
}

/// The response that refuses a handshake for `failure`.
pub(crate) fn rejection(failure: &HandshakeFailure) -> HandshakeResponse {
    HandshakeResponse::Rejected {
        code: failure.code(),
        message: failure.to_string(),
    }
}

/// Milliseconds since the Unix epoch on the system clock (virtual in a simulation).
fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
