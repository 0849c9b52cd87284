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
    signatures::Signatures,
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

/// Retries of our handshake request after its stream failed, per session.
/// The first goes at once (a simultaneous dial's duplicate connection may
/// just have closed under it); later ones wait `RETRY_BACKOFF`, doubling.
pub(crate) const MAX_REQUEST_RETRIES: u32 = 3;
/// The pause before the second retry of a handshake request.
const RETRY_BACKOFF: Duration = Duration::from_millis(500);

/// What to do after our handshake request's stream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Send it again now.
    Now,
    /// Send it again once the backoff has passed (see `due_retries`).
    Later,
    /// Every retry is spent: give up after this many attempts.
    GiveUp(u32),
}

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
    /// Retries made so far, and when the next is due, per peer.
    retries: BTreeMap<PeerId, (u32, Option<Instant>)>,
    /// Credentials made and signatures checked, so each is done once per connection.
    signatures: Signatures,
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
            retries: BTreeMap::new(),
            signatures: Signatures::default(),
        }
    }

    // ---- sessions -------------------------------------------------------

    /// Every session, by peer.
    pub(crate) fn sessions(&self) -> impl Iterator<Item = (&PeerId, &Session)> {
        self.sessions.iter()
    }

    /// Why the session of `peer` failed, if it has.
    pub(crate) fn failure_of(&self, peer: &PeerId) -> Option<HandshakeFailure> {
        self.sessions.get(peer).and_then(|s| s.failure().cloned())
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

    /// Starts a fresh session for `peer`, replacing any earlier one; `inbound`
    /// when the remote dialed us.
    pub(crate) fn begin(&mut self, peer: PeerId, now: Instant, inbound: bool) {
        let session = Session::new(now, self.timeout);
        let session = if inbound {
            session.dialed_by_remote()
        } else {
            session
        };
        self.sessions.insert(peer, session);
        self.retries.remove(&peer);
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

    /// Applies `f` to the session of `peer`, if any, for an effect that is not
    /// a state transition.
    pub(crate) fn step_quietly<R>(
        &mut self,
        peer: PeerId,
        f: impl FnOnce(&mut Session) -> R,
    ) -> Option<R> {
        self.sessions.get_mut(&peer).map(f)
    }

    /// Forgets `peer`, whose last connection closed. Returns whether this
    /// failed a handshake that was still pending.
    pub(crate) fn end(&mut self, peer: PeerId) -> bool {
        self.disconnect_at.remove(&peer);
        self.ask_at.remove(&peer);
        self.retries.remove(&peer);
        self.signatures.forget(&peer);
        self.sessions
            .remove(&peer)
            .is_some_and(|mut s| s.fail(HandshakeFailure::ConnectionClosed).is_some())
    }

    /// Pending sessions that peers opened by dialing us and that have made
    /// progress (the remote proved its key), so cannot be displaced: what
    /// the gate's pending-handshake limit counts. Sessions we opened do not
    /// count, so our own slow dials never close inbound admission.
    pub(crate) fn committed_inbound_pending(&self) -> u32 {
        let committed = self
            .sessions
            .values()
            .filter(|s| s.remote_dialed() && !s.is_finished() && !s.displaceable())
            .count();
        u32::try_from(committed).unwrap_or(u32::MAX)
    }

    /// The session to displace now that `newcomer` dialed us, if more than
    /// `limit` inbound handshakes are pending: the oldest one whose peer has
    /// sent nothing (see [`Session::displaceable`]). A silent peer thus holds
    /// a slot only until a newer peer needs it, however often it redials,
    /// while a newcomer that handshakes at once completes in one round trip.
    pub(crate) fn displaced_by(&self, newcomer: &PeerId, limit: u32) -> Option<PeerId> {
        let pending = self
            .sessions
            .values()
            .filter(|s| s.remote_dialed() && !s.is_finished())
            .count();
        if pending <= limit as usize {
            return None;
        }
        self.sessions
            .iter()
            .filter(|(peer, s)| *peer != newcomer && s.displaceable())
            .min_by_key(|(peer, s)| (s.started(), **peer))
            .map(|(peer, _)| *peer)
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
        let retries = self.retries.values().filter_map(|(_, due)| *due);
        deadlines
            .chain(self.disconnect_at.values().copied())
            .chain(self.ask_at.values().copied())
            .chain(retries)
            .min()
    }

    /// The node did not read the network for `by`: every handshake deadline
    /// and delayed step moves on by as much, so an answer that arrived
    /// meanwhile is read before any of them fires. All of them were set
    /// before the pause (they follow network events).
    pub(crate) fn postpone(&mut self, by: Duration) {
        for session in self.sessions.values_mut() {
            session.postpone(by);
        }
        let timers = self
            .disconnect_at
            .values_mut()
            .chain(self.ask_at.values_mut());
        let retries = self
            .retries
            .values_mut()
            .filter_map(|(_, due)| due.as_mut());
        for at in timers.chain(retries) {
            *at += by;
        }
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

    /// Plans the retry of our request to `peer`, whose stream just failed.
    pub(crate) fn plan_retry(&mut self, peer: PeerId, now: Instant) -> Retry {
        let (done, due) = self.retries.entry(peer).or_default();
        if *done >= MAX_REQUEST_RETRIES {
            return Retry::GiveUp(*done + 1);
        }
        *done += 1;
        if *done == 1 {
            return Retry::Now;
        }
        *due = Some(now + RETRY_BACKOFF * 2u32.pow(*done - 2));
        Retry::Later
    }

    /// Peers whose delayed retry is due at `now` (each reported once).
    pub(crate) fn due_retries(&mut self, now: Instant) -> Vec<PeerId> {
        let mut due = Vec::new();
        for (peer, (_, at)) in &mut self.retries {
            if at.is_some_and(|at| now >= at) {
                *at = None;
                due.push(*peer);
            }
        }
        due
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

    /// Whether the connections to `peer` close when a rejection's grace ends.
    pub(crate) fn closing_after_grace(&self, peer: &PeerId) -> bool {
        self.disconnect_at.contains_key(peer)
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
            Misbehaviour::SilentHandshake
                | Misbehaviour::SkipHandshake
                | Misbehaviour::DropHandshake
        )
    }

    /// Whether this node never sends a handshake request of its own (it may
    /// still answer the requests it is sent).
    pub(crate) fn never_starts_handshakes(&self) -> bool {
        self.never_handshakes() || self.misbehaviour == Misbehaviour::UncheckedRelay
    }

    /// Whether this node closes handshake streams unanswered (a misbehaviour).
    pub(crate) fn drops_requests(&self) -> bool {
        self.misbehaviour == Misbehaviour::DropHandshake
    }

    /// The credentials we present to `receiver`, faulty if so configured.
    /// Honest credentials made for it in the last [`super::signatures::REUSE`]
    /// are presented again instead of signing anew.
    pub(crate) fn credentials_for(&mut self, receiver: &PeerId) -> HandshakeRequest {
        let mut timestamp = unix_millis();
        if let Misbehaviour::StaleTimestamp(age) = &self.misbehaviour {
            timestamp = timestamp.saturating_sub(age.as_millis() as u64);
        }
        let (instance, local, version) = (&self.instance, &self.local, &self.policy.local_version);
        let mut creds = self.signatures.made_for(*receiver, timestamp, || {
            handshake::sign(instance, local, receiver, timestamp, version)
        });
        match &self.misbehaviour {
            Misbehaviour::ForgeSignature => creds.signature[0] ^= 0x01,
            Misbehaviour::Replay(captured) => creds = captured.credentials.clone(),
            _ => {}
        }
        creds
    }

    /// Credentials for `receiver` signed with another instance key than ours
    /// (for the `ChangeKey` misbehaviour).
    pub(crate) fn credentials_with_another_key(&self, receiver: &PeerId) -> HandshakeRequest {
        let mut other = self.instance.to_bytes();
        other[0] ^= 0xff;
        handshake::sign(
            &SigningKey::from_bytes(&other),
            &self.local,
            receiver,
            unix_millis(),
            &self.policy.local_version,
        )
    }

    /// Whether this node changes its key once verified (a misbehaviour).
    pub(crate) fn changes_key(&self) -> bool {
        self.misbehaviour == Misbehaviour::ChangeKey
    }

    /// Checks the credentials `peer` presented; returns its instance key.
    /// The signature is checked once: the same credentials presented
    /// again by the same peer are judged on everything else.
    pub(crate) fn check_credentials(
        &mut self,
        creds: &HandshakeRequest,
        peer: &PeerId,
    ) -> Result<[u8; 32], HandshakeFailure> {
        let checked = self.signatures.already_checked(peer, creds);
        let verdict = handshake::verify_unless_checked(
            creds,
            peer,
            &self.local,
            unix_millis(),
            &self.policy,
            checked,
        );
        // Checks run version, signature, freshness, allow-list in that
        // order: a stale or refused key got past a valid signature.
        let signature_passed = matches!(
            verdict,
            Ok(_) | Err(HandshakeFailure::Stale { .. } | HandshakeFailure::NotAllowed)
        );
        if signature_passed && !checked {
            self.signatures.checked(*peer, creds);
        }
        verdict
    }

    /// Judges the request `peer` sent us, given where its session stands.
    pub(crate) fn judge_request(
        &mut self,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn handshakes() -> Handshakes {
        Handshakes::new(
            &NodeConfig::default(),
            PeerId::random(),
            SigningKey::from_bytes(&[1; 32]),
        )
    }

    #[test]
    fn request_retries_back_off_and_are_bounded() {
        let mut h = handshakes();
        let peer = PeerId::random();
        let t0 = Instant::now();
        h.begin(peer, t0, false);
        assert_eq!(h.plan_retry(peer, t0), Retry::Now);
        assert_eq!(h.plan_retry(peer, t0), Retry::Later);
        assert_eq!(h.next_wakeup(), Some(t0 + Duration::from_millis(500)));
        assert!(h.due_retries(t0 + Duration::from_millis(499)).is_empty());
        assert_eq!(h.due_retries(t0 + Duration::from_millis(500)), vec![peer]);
        assert!(
            h.due_retries(t0 + Duration::from_secs(5)).is_empty(),
            "once"
        );
        assert_eq!(h.plan_retry(peer, t0), Retry::Later);
        assert!(h.due_retries(t0 + Duration::from_millis(999)).is_empty());
        assert_eq!(h.due_retries(t0 + Duration::from_secs(1)), vec![peer]);
        assert_eq!(
            h.plan_retry(peer, t0),
            Retry::GiveUp(MAX_REQUEST_RETRIES + 1)
        );
        h.begin(peer, t0, false);
        assert_eq!(
            h.plan_retry(peer, t0),
            Retry::Now,
            "a new session starts over"
        );
    }

    #[test]
    fn a_pause_in_reading_moves_every_handshake_timer_on() {
        let mut h = handshakes();
        let peer = PeerId::random();
        let t0 = Instant::now();
        let timeout = NodeConfig::default().handshake_timeout;
        let pause = Duration::from_secs(10);
        h.begin(peer, t0, true);
        h.ask_after_grace(peer, t0);
        h.postpone(pause);
        assert!(h.due_asks(t0 + LISTENER_GRACE).is_empty());
        assert_eq!(h.due_asks(t0 + LISTENER_GRACE + pause), vec![peer]);
        assert!(h.overdue(t0 + timeout).is_empty());
        assert_eq!(h.overdue(t0 + timeout + pause), vec![peer]);
    }

    #[test]
    fn a_newcomer_displaces_the_oldest_silent_inbound_session() {
        let mut h = handshakes();
        let t0 = Instant::now();
        let (old, young, ours, newcomer) = (
            PeerId::random(),
            PeerId::random(),
            PeerId::random(),
            PeerId::random(),
        );
        h.begin(old, t0, true);
        h.begin(young, t0 + Duration::from_secs(1), true);
        h.begin(ours, t0, false);
        assert_eq!(h.displaced_by(&young, 2), None, "within the limit");
        h.begin(newcomer, t0 + Duration::from_secs(2), true);
        assert_eq!(h.displaced_by(&newcomer, 2), Some(old));
        assert_eq!(h.committed_inbound_pending(), 0, "all silent");
        // A session whose peer has sent a valid request is not displaced.
        h.step(old, |s| s.request_verified([7; 32]));
        assert_eq!(h.committed_inbound_pending(), 1);
        assert_eq!(h.displaced_by(&newcomer, 2), Some(young));
    }
}
