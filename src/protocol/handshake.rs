//! The mutual-authentication handshake: what is signed, how it is verified, and
//! the per-peer state machine.
//!
//! The protocol document has each side sign the other's peer id. Signed alone,
//! that value can be replayed: a third peer C that captured A's handshake to B
//! could present it to B. simnet signs a domain-separated payload binding the
//! signer's peer id, the receiver's peer id, a timestamp and the protocol
//! version, and the verifier rebuilds that payload with the signer set to the
//! *authenticated remote peer of this connection* (noise proved it) and the
//! receiver set to itself. A replay by C, a handshake meant for another
//! receiver, and a stale one all fail verification.
//!
//! States follow the protocol document:
//!
//! ```text
//! Connected ──send request──▶ OutboundPending ──valid response──▶ Verified
//!     └──────receive request──▶ InboundPending ──response sent──▶ Verified
//! any pending state ──invalid / timeout / closed──▶ Failed
//! ```
//!
//! Crossed handshakes (both sides dial, or both send requests) are the normal
//! case, not an error: a session becomes `Verified` once the remote's signature
//! has been checked *and* ours has reached the remote (its accepting response
//! arrived, or our response to its request was sent), whichever path gets there
//! first. Later completions of the other path change nothing, so each side
//! verifies each peer exactly once.
//!
//! One file on purpose: the session's transitions are defined by what
//! verification proves, and the tests at the end (over a third of the file)
//! drive signing, verification and sessions together.

use std::{collections::HashSet, time::Duration};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use libp2p::PeerId;
use serde::Serialize;
use thiserror::Error;
use tokio::time::Instant;

use super::{
    codes,
    planted::{self, PlantedBug},
    version,
    wire::HandshakeRequest,
};

/// Domain separation tag: a signature made for simnet's handshake is useless
/// as a signature over anything else, and vice versa.
pub const SIGNING_DOMAIN: &[u8] = b"simnet/handshake/v1";

/// The bytes an instance key signs in a handshake. Every variable-length part is
/// length-prefixed so no two different inputs share an encoding.
pub fn signing_payload(
    signer: &PeerId,
    receiver: &PeerId,
    timestamp_ms: u64,
    protocol_version: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIGNING_DOMAIN.len() + 128);
    out.extend_from_slice(SIGNING_DOMAIN);
    for part in [signer.to_bytes(), receiver.to_bytes()] {
        out.push(part.len() as u8);
        out.extend_from_slice(&part);
    }
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out.push(protocol_version.len().min(255) as u8);
    out.extend_from_slice(protocol_version.as_bytes());
    out
}

/// Builds the credentials `signer` presents to `receiver`.
pub fn sign(
    key: &SigningKey,
    signer: &PeerId,
    receiver: &PeerId,
    timestamp_ms: u64,
    protocol_version: &str,
) -> HandshakeRequest {
    let payload = signing_payload(signer, receiver, timestamp_ms, protocol_version);
    HandshakeRequest {
        public_key: key.verifying_key().to_bytes(),
        signature: key.sign(&payload).to_bytes(),
        protocol_version: protocol_version.to_owned(),
        timestamp_ms,
    }
}

/// What a verifier accepts.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Our own protocol version; the remote's must be compatible with it.
    pub local_version: String,
    /// How far the remote's timestamp may be from our clock, either way.
    pub freshness: Duration,
    /// When set, only these instance public keys may complete a handshake.
    pub allow_list: Option<HashSet<[u8; 32]>>,
}

/// Why a handshake failed. One variant per cause, so traces and scenarios can
/// say exactly what happened.
#[derive(Clone, Debug, Error, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum HandshakeFailure {
    /// The remote speaks an incompatible protocol version.
    #[error("protocol version mismatch: ours {ours}, theirs {theirs}")]
    VersionMismatch {
        /// Our version.
        ours: String,
        /// The version the remote presented.
        theirs: String,
    },
    /// The presented public key is not a valid ed25519 point.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// The signature does not verify for (this remote, us, timestamp, version):
    /// forged, made for another receiver, or replayed by another peer.
    #[error("invalid signature")]
    InvalidSignature,
    /// The signature is valid but its timestamp is too far from our clock.
    #[error("stale handshake: timestamp {skew_ms} ms from local clock")]
    Stale {
        /// Remote timestamp minus local time.
        skew_ms: i64,
    },
    /// The timestamp is older than the freshness window, by an amount the
    /// implementation did not report (how the reference implementation
    /// says a handshake is stale).
    #[error("stale handshake: timestamp older than the freshness window")]
    Expired,
    /// The public key is not on the allow-list.
    #[error("instance key not allowed")]
    NotAllowed,
    /// The peer proved a different instance key than earlier in this session.
    #[error("instance key changed within a session")]
    KeyMismatch,
    /// The handshake did not complete in time.
    #[error("handshake timed out")]
    Timeout,
    /// The remote refused our handshake.
    #[error("rejected by peer ({code}): {message}")]
    Rejected {
        /// Code from [`codes`].
        code: u16,
        /// The remote's reason.
        message: String,
    },
    /// The remote's handshake message could not be decoded.
    #[error("malformed handshake message: {0}")]
    Malformed(String),
    /// The remote does not speak the handshake protocol.
    #[error("peer does not support the handshake protocol")]
    UnsupportedProtocol,
    /// The connection closed before the handshake completed.
    #[error("connection closed during handshake")]
    ConnectionClosed,
    /// We banned the peer: its session ended at once, verified or not.
    #[error("peer banned")]
    Banned,
    /// Our handshake request's stream failed (reset, closed, not opened in
    /// time) on every one of a bounded number of attempts.
    #[error("handshake request failed {attempts} times; last: {error}")]
    StreamFailed {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        error: String,
    },
    /// The peer dialed us and had sent no handshake message when the
    /// pending-handshake limit was full and a newer peer needed its slot.
    #[error("displaced by a newer peer: no handshake message while the pending-handshake limit was full")]
    Displaced,
}

impl HandshakeFailure {
    /// Whether this failure is evidence of misbehaviour that counts toward a ban.
    ///
    /// Timeouts, closed connections, version mismatches and the remote's own
    /// rejections do not count: an honest but slow, restarting or outdated peer
    /// must not be banned for them (the reference implementation's history
    /// records banning for timeouts as a defect). Nor does a stale timestamp:
    /// it is as likely our own clock that is wrong, and a node whose clock is
    /// off would otherwise ban every honest peer for five minutes (found by
    /// `simnet explore`, the review's M10); a stale handshake still fails.
    pub fn counts_toward_ban(&self) -> bool {
        matches!(
            self,
            Self::InvalidPublicKey
                | Self::InvalidSignature
                | Self::NotAllowed
                | Self::KeyMismatch
                | Self::Malformed(_)
        )
    }

    /// The code sent back in a `Rejected` response for this failure.
    pub fn code(&self) -> u16 {
        match self {
            Self::VersionMismatch { .. } => codes::VERSION_MISMATCH,
            Self::Banned => codes::BANNED,
            _ => codes::BAD_HANDSHAKE,
        }
    }
}

/// Checks the credentials `remote` presented to `local` on an authenticated
/// connection. Returns the remote's instance key when they are valid.
pub fn verify(
    creds: &HandshakeRequest,
    remote: &PeerId,
    local: &PeerId,
    now_ms: u64,
    policy: &Policy,
) -> Result<[u8; 32], HandshakeFailure> {
    verify_unless_checked(creds, remote, local, now_ms, policy, false)
}

/// [`verify`], leaving out the signature check when `signature_checked`
/// says these very credentials from `remote` passed it before (see
/// [`super::signatures`]); version, freshness and allow-list are judged
/// all the same.
pub fn verify_unless_checked(
    creds: &HandshakeRequest,
    remote: &PeerId,
    local: &PeerId,
    now_ms: u64,
    policy: &Policy,
    signature_checked: bool,
) -> Result<[u8; 32], HandshakeFailure> {
    if !version::compatible(&policy.local_version, &creds.protocol_version) {
        return Err(HandshakeFailure::VersionMismatch {
            ours: policy.local_version.clone(),
            theirs: creds.protocol_version.clone(),
        });
    }
    if !signature_checked {
        let key = VerifyingKey::from_bytes(&creds.public_key)
            .map_err(|_| HandshakeFailure::InvalidPublicKey)?;
        let payload = signing_payload(remote, local, creds.timestamp_ms, &creds.protocol_version);
        key.verify(&payload, &Signature::from_bytes(&creds.signature))
            .map_err(|_| HandshakeFailure::InvalidSignature)?;
    }
    let skew_ms = creds.timestamp_ms as i128 - now_ms as i128;
    if skew_ms.unsigned_abs() > policy.freshness.as_millis() {
        return Err(HandshakeFailure::Stale {
            skew_ms: skew_ms.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
        });
    }
    if let Some(allowed) = &policy.allow_list {
        if !allowed.contains(&creds.public_key) {
            return Err(HandshakeFailure::NotAllowed);
        }
    }
    Ok(creds.public_key)
}

/// Handshake requests answered on a session that is already verified, per
/// connection with the peer; more are refused without any signature check.
/// An honest peer sends at most one per connection: the listener's own
/// request, when the dialer verified first, or a dialer's request on a new
/// connection while it still counts the session verified.
pub const MAX_REPEATED_REQUESTS: u32 = 2;

/// Where a peer's handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeState {
    /// A connection exists; no handshake message has moved yet.
    Connected,
    /// We sent our request and wait for the response.
    OutboundPending,
    /// We received a valid request and are answering it.
    InboundPending,
    /// Both sides are authenticated; direct messages are allowed.
    Verified,
    /// The handshake failed; the connection is being closed.
    Failed,
}

/// The handshake with one peer, from its first connection until its last one
/// closes. Pure: the node feeds it events and acts on the transitions it returns.
#[derive(Clone, Debug)]
pub struct Session {
    state: HandshakeState,
    failure: Option<HandshakeFailure>,
    started: Instant,
    remote_dialed: bool,
    deadline: Instant,
    remote_key: Option<[u8; 32]>,
    local_delivered: bool,
    repeated_requests: u32,
}

impl Session {
    /// A session for a peer that just connected; it must verify before `now + timeout`.
    pub fn new(now: Instant, timeout: Duration) -> Self {
        Self {
            state: HandshakeState::Connected,
            failure: None,
            started: now,
            remote_dialed: false,
            deadline: now + timeout,
            remote_key: None,
            local_delivered: false,
            repeated_requests: 0,
        }
    }

    /// The same session, marked as opened by the remote's dial (our first
    /// connection with it was inbound).
    pub fn dialed_by_remote(mut self) -> Self {
        self.remote_dialed = true;
        self
    }

    /// Whether the remote's dial opened this session.
    pub fn remote_dialed(&self) -> bool {
        self.remote_dialed
    }

    /// When the session began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Whether the session may be displaced to admit a newer inbound peer:
    /// the remote dialed us, the handshake is pending, and the remote has
    /// proved nothing (no valid request or response of its arrived). Our own
    /// request, sent after the listener's grace, does not protect it.
    pub fn displaceable(&self) -> bool {
        self.remote_dialed && !self.is_finished() && self.remote_key.is_none()
    }

    /// Current state.
    pub fn state(&self) -> HandshakeState {
        self.state
    }

    /// Why the session failed, once it has.
    pub fn failure(&self) -> Option<&HandshakeFailure> {
        self.failure.as_ref()
    }

    /// The remote's verified instance key, once its signature checked out.
    pub fn remote_key(&self) -> Option<[u8; 32]> {
        self.remote_key
    }

    /// When the handshake times out (meaningless once finished).
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline on by `by`: time in which the node could not hear
    /// the remote (backpressure) does not count against it.
    pub fn postpone(&mut self, by: Duration) {
        self.deadline += by;
    }

    /// Whether the session has reached `Verified` or `Failed`.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.state,
            HandshakeState::Verified | HandshakeState::Failed
        )
    }

    /// Whether the handshake timer still has to fire for this session.
    pub fn timer_running(&self) -> bool {
        !self.is_finished()
            || (self.is_verified() && planted::active(PlantedBug::HandshakeTimerNotCancelled))
    }

    /// Whether direct messages with this peer are allowed.
    pub fn is_verified(&self) -> bool {
        self.state == HandshakeState::Verified
    }

    fn enter(&mut self, state: HandshakeState) -> Option<HandshakeState> {
        (self.state != state).then(|| {
            self.state = state;
            state
        })
    }

    fn maybe_verified(&mut self) -> Option<HandshakeState> {
        if self.remote_key.is_some() && self.local_delivered && !self.is_finished() {
            self.enter(HandshakeState::Verified)
        } else {
            None
        }
    }

    fn prove_remote(&mut self, key: [u8; 32]) -> Result<(), HandshakeFailure> {
        match self.remote_key {
            Some(known) if known != key => Err(HandshakeFailure::KeyMismatch),
            _ => {
                self.remote_key = Some(key);
                Ok(())
            }
        }
    }

    /// We sent our handshake request.
    pub fn request_sent(&mut self) -> Option<HandshakeState> {
        if self.state == HandshakeState::Connected {
            self.enter(HandshakeState::OutboundPending)
        } else {
            None
        }
    }

    /// The remote's request verified with `key`; we are about to answer it.
    pub fn request_verified(&mut self, key: [u8; 32]) -> Option<HandshakeState> {
        if self.is_finished() {
            return None;
        }
        if let Err(failure) = self.prove_remote(key) {
            return self.fail(failure);
        }
        if self.state == HandshakeState::Connected {
            self.enter(HandshakeState::InboundPending)
        } else {
            None
        }
    }

    /// Our accepting response to the remote's request was flushed to the wire.
    pub fn response_sent(&mut self) -> Option<HandshakeState> {
        // Only an accepting response counts, and we accept only after the
        // remote's signature verified.
        self.remote_key?;
        self.local_delivered = true;
        self.maybe_verified()
    }

    /// The remote accepted our request and its own credentials verified with `key`.
    pub fn response_verified(&mut self, key: [u8; 32]) -> Option<HandshakeState> {
        if self.is_finished() {
            return None;
        }
        if let Err(failure) = self.prove_remote(key) {
            return self.fail(failure);
        }
        self.local_delivered = true;
        self.maybe_verified()
    }

    /// The remote refused credentials of ours (or answered with invalid
    /// ones of its own) after this side had counted the session verified: in
    /// a crossed handshake our side verifies once its answer to the remote's
    /// request is sent, before the remote has judged our request. The
    /// remote's word wins, so the session fails with `failure` even if
    /// `Verified`; no effect once `Failed`.
    pub fn refuted(&mut self, failure: HandshakeFailure) -> Option<HandshakeState> {
        if self.state == HandshakeState::Failed {
            return None;
        }
        self.failure = Some(failure);
        self.enter(HandshakeState::Failed)
    }

    /// The handshake failed; no effect once finished.
    pub fn fail(&mut self, failure: HandshakeFailure) -> Option<HandshakeState> {
        if self.is_finished() {
            return None;
        }
        self.failure = Some(failure);
        self.enter(HandshakeState::Failed)
    }

    /// Ends the session because the peer was banned: it fails even if it was
    /// verified. A session that already failed keeps its first reason.
    pub fn banned(&mut self) -> Option<HandshakeState> {
        if self.state == HandshakeState::Failed {
            return None;
        }
        self.failure = Some(HandshakeFailure::Banned);
        self.enter(HandshakeState::Failed)
    }

    /// Another connection with the peer opened: it may bring one handshake
    /// request of its own (a dialer on a verified session asks again), so the
    /// count of repeated requests starts over.
    pub fn connection_added(&mut self) {
        self.repeated_requests = 0;
    }

    /// A handshake request arrived on this verified session: counts it, and
    /// returns whether it may still be checked and answered (at most
    /// [`MAX_REPEATED_REQUESTS`] per session).
    pub fn repeated_request(&mut self) -> bool {
        self.repeated_requests = self.repeated_requests.saturating_add(1);
        self.repeated_requests <= MAX_REPEATED_REQUESTS
    }

    /// The verified remote presented credentials again: with the key it
    /// proved, nothing changes; with another key, or invalid ones, the
    /// session fails (`Verified` → `Failed`), since a peer's instance key
    /// must not change within a session.
    pub fn reverify(
        &mut self,
        verdict: Result<[u8; 32], HandshakeFailure>,
    ) -> Option<HandshakeState> {
        if !self.is_verified() {
            return None;
        }
        let failure = match verdict {
            Ok(key) if Some(key) == self.remote_key => return None,
            Ok(_) => HandshakeFailure::KeyMismatch,
            Err(failure) => failure,
        };
        self.failure = Some(failure);
        self.enter(HandshakeState::Failed)
    }

    /// Fails the session with `Timeout` if `now` is past its deadline.
    pub fn check_timeout(&mut self, now: Instant) -> Option<HandshakeState> {
        if now >= self.deadline
            && self.is_verified()
            && planted::active(PlantedBug::HandshakeTimerNotCancelled)
        {
            self.failure = Some(HandshakeFailure::Timeout);
            return self.enter(HandshakeState::Failed);
        }
        if now >= self.deadline {
            self.fail(HandshakeFailure::Timeout)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    const NOW_MS: u64 = 1_800_000_000_000;
    const V: &str = "simnet/1.0";

    fn peer() -> PeerId {
        Keypair::generate_ed25519().public().to_peer_id()
    }

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn policy() -> Policy {
        Policy {
            local_version: V.into(),
            freshness: Duration::from_secs(30),
            allow_list: None,
        }
    }

    #[test]
    fn valid_credentials_verify() {
        let (a, b) = (peer(), peer());
        let creds = sign(&key(1), &a, &b, NOW_MS, V);
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS + 5_000, &policy()),
            Ok(key(1).verifying_key().to_bytes())
        );
    }

    #[test]
    fn replay_by_a_third_peer_fails() {
        let (a, b, c) = (peer(), peer(), peer());
        let captured = sign(&key(1), &a, &b, NOW_MS, V);
        // C presents A's credentials to B: B rebuilds the payload with signer C.
        assert_eq!(
            verify(&captured, &c, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
    }

    #[test]
    fn credentials_for_another_receiver_fail() {
        let (a, b, d) = (peer(), peer(), peer());
        let for_b = sign(&key(1), &a, &b, NOW_MS, V);
        assert_eq!(
            verify(&for_b, &a, &d, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
    }

    #[test]
    fn forged_signature_fails() {
        let (a, b) = (peer(), peer());
        let mut creds = sign(&key(1), &a, &b, NOW_MS, V);
        creds.signature[0] ^= 1;
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
        // Right signature, someone else's key.
        let mut creds = sign(&key(1), &a, &b, NOW_MS, V);
        creds.public_key = key(2).verifying_key().to_bytes();
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
    }

    #[test]
    fn tampered_timestamp_or_version_fails() {
        let (a, b) = (peer(), peer());
        let mut creds = sign(&key(1), &a, &b, NOW_MS, V);
        creds.timestamp_ms += 1;
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
        let mut creds = sign(&key(1), &a, &b, NOW_MS, V);
        creds.protocol_version = "simnet/1.1".into();
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidSignature)
        );
    }

    #[test]
    fn stale_and_future_timestamps_fail() {
        let (a, b) = (peer(), peer());
        let creds = sign(&key(1), &a, &b, NOW_MS, V);
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS + 30_001, &policy()),
            Err(HandshakeFailure::Stale { skew_ms: -30_001 })
        );
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS - 30_001, &policy()),
            Err(HandshakeFailure::Stale { skew_ms: 30_001 })
        );
        assert!(verify(&creds, &a, &b, NOW_MS + 30_000, &policy()).is_ok());
    }

    #[test]
    fn incompatible_version_is_reported_as_such() {
        let (a, b) = (peer(), peer());
        let creds = sign(&key(1), &a, &b, NOW_MS, "simnet/2.0");
        let err = verify(&creds, &a, &b, NOW_MS, &policy()).unwrap_err();
        assert_eq!(
            err,
            HandshakeFailure::VersionMismatch {
                ours: V.into(),
                theirs: "simnet/2.0".into()
            }
        );
        assert_eq!(err.code(), codes::VERSION_MISMATCH);
        assert!(!err.counts_toward_ban());
    }

    #[test]
    fn allow_list_is_enforced() {
        let (a, b) = (peer(), peer());
        let mut p = policy();
        p.allow_list = Some([key(2).verifying_key().to_bytes()].into());
        let creds = sign(&key(1), &a, &b, NOW_MS, V);
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &p),
            Err(HandshakeFailure::NotAllowed)
        );
        let creds = sign(&key(2), &a, &b, NOW_MS, V);
        assert!(verify(&creds, &a, &b, NOW_MS, &p).is_ok());
    }

    #[test]
    fn invalid_point_is_rejected() {
        let (a, b) = (peer(), peer());
        let mut creds = sign(&key(1), &a, &b, NOW_MS, V);
        // y = 2 has no valid x on edwards25519, so this is not a point.
        creds.public_key = [0; 32];
        creds.public_key[0] = 2;
        assert_eq!(
            verify(&creds, &a, &b, NOW_MS, &policy()),
            Err(HandshakeFailure::InvalidPublicKey)
        );
    }

    fn timeout() -> Duration {
        Duration::from_secs(30)
    }

    #[test]
    fn outbound_path() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, timeout());
        assert_eq!(s.request_sent(), Some(HandshakeState::OutboundPending));
        assert_eq!(s.response_verified([1; 32]), Some(HandshakeState::Verified));
        assert!(s.is_verified());
        assert_eq!(s.remote_key(), Some([1; 32]));
    }

    #[test]
    fn inbound_path_needs_the_response_to_be_sent() {
        let mut s = Session::new(Instant::now(), timeout());
        assert_eq!(
            s.request_verified([1; 32]),
            Some(HandshakeState::InboundPending)
        );
        assert!(!s.is_verified());
        assert_eq!(s.response_sent(), Some(HandshakeState::Verified));
    }

    #[test]
    fn crossed_handshakes_verify_exactly_once() {
        // We sent a request, then the remote's request arrives before our response.
        let mut s = Session::new(Instant::now(), timeout());
        s.request_sent();
        assert_eq!(s.request_verified([1; 32]), None);
        assert_eq!(s.response_sent(), Some(HandshakeState::Verified));
        // The response to our own request arrives afterwards: no second transition.
        assert_eq!(s.response_verified([1; 32]), None);
        assert!(s.is_verified());

        // The other order: our response arrives first.
        let mut s = Session::new(Instant::now(), timeout());
        s.request_sent();
        s.request_verified([1; 32]);
        assert_eq!(s.response_verified([1; 32]), Some(HandshakeState::Verified));
        assert_eq!(s.response_sent(), None);
    }

    #[test]
    fn a_changed_key_fails_the_session() {
        let mut s = Session::new(Instant::now(), timeout());
        s.request_sent();
        s.request_verified([1; 32]);
        assert_eq!(s.response_verified([2; 32]), Some(HandshakeState::Failed));
        assert_eq!(s.failure(), Some(&HandshakeFailure::KeyMismatch));
    }

    #[test]
    fn repeated_requests_on_a_verified_session_are_bounded() {
        let mut s = Session::new(Instant::now(), timeout());
        s.request_sent();
        s.response_verified([1; 32]);
        for _ in 0..MAX_REPEATED_REQUESTS {
            assert!(s.repeated_request());
            assert_eq!(
                s.reverify(Ok([1; 32])),
                None,
                "the same key changes nothing"
            );
        }
        assert!(!s.repeated_request(), "refused without a check");
        assert!(s.is_verified());
    }

    #[test]
    fn a_key_change_after_verification_fails_the_session() {
        let mut s = Session::new(Instant::now(), timeout());
        s.request_sent();
        s.response_verified([1; 32]);
        assert_eq!(s.reverify(Ok([2; 32])), Some(HandshakeState::Failed));
        assert_eq!(s.failure(), Some(&HandshakeFailure::KeyMismatch));
        assert_eq!(s.reverify(Ok([1; 32])), None, "finished");
    }

    #[test]
    fn timeout_fails_pending_sessions_only() {
        let t0 = Instant::now();
        let mut s = Session::new(t0, timeout());
        s.request_sent();
        assert_eq!(s.check_timeout(t0 + Duration::from_secs(29)), None);
        assert_eq!(
            s.check_timeout(t0 + Duration::from_secs(30)),
            Some(HandshakeState::Failed)
        );
        assert_eq!(s.failure(), Some(&HandshakeFailure::Timeout));

        let mut s = Session::new(t0, timeout());
        s.request_sent();
        s.response_verified([1; 32]);
        assert_eq!(s.check_timeout(t0 + Duration::from_secs(60)), None);
        assert!(s.is_verified());
    }

    #[test]
    fn a_ban_ends_even_a_verified_session_but_keeps_an_earlier_failure() {
        let mut verified = Session::new(Instant::now(), timeout());
        verified.request_sent();
        verified.response_verified([1; 32]);
        assert_eq!(verified.banned(), Some(HandshakeState::Failed));
        assert_eq!(verified.failure(), Some(&HandshakeFailure::Banned));
        assert!(!verified.is_verified());
        assert!(!HandshakeFailure::Banned.counts_toward_ban());
        assert_eq!(HandshakeFailure::Banned.code(), codes::BANNED);

        let mut failed = Session::new(Instant::now(), timeout());
        failed.fail(HandshakeFailure::InvalidSignature);
        assert_eq!(failed.banned(), None);
        assert_eq!(failed.failure(), Some(&HandshakeFailure::InvalidSignature));
    }

    #[test]
    fn finished_sessions_ignore_further_events() {
        let mut s = Session::new(Instant::now(), timeout());
        s.fail(HandshakeFailure::InvalidSignature);
        assert_eq!(s.request_verified([1; 32]), None);
        assert_eq!(s.response_verified([1; 32]), None);
        assert_eq!(s.fail(HandshakeFailure::Timeout), None);
        assert_eq!(s.failure(), Some(&HandshakeFailure::InvalidSignature));
        assert_eq!(s.state(), HandshakeState::Failed);
    }

    #[test]
    fn only_misbehaviour_counts_toward_bans() {
        assert!(HandshakeFailure::InvalidSignature.counts_toward_ban());
        assert!(
            !HandshakeFailure::Stale { skew_ms: 1 }.counts_toward_ban(),
            "our own clock may be the wrong one"
        );
        assert!(!HandshakeFailure::Timeout.counts_toward_ban());
        assert!(!HandshakeFailure::ConnectionClosed.counts_toward_ban());
        assert!(!HandshakeFailure::Displaced.counts_toward_ban());
        let failed = HandshakeFailure::StreamFailed {
            attempts: 4,
            error: "reset".into(),
        };
        assert!(!failed.counts_toward_ban(), "the network may be at fault");
    }

    #[test]
    fn only_silent_sessions_the_remote_opened_are_displaceable() {
        let t0 = Instant::now();
        let ours = Session::new(t0, timeout());
        assert!(!ours.displaceable(), "we dialed it");
        let mut theirs = Session::new(t0, timeout()).dialed_by_remote();
        assert!(theirs.displaceable());
        theirs.request_sent();
        assert!(
            theirs.displaceable(),
            "our own request proves nothing of it"
        );
        theirs.request_verified([1; 32]);
        assert!(!theirs.displaceable(), "its request arrived");
    }
}
