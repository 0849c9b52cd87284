//! Handshake signatures made and checked once per connection, not once per
//! message: a connection's handshake carries each side's credentials twice
//! (the dialer's request and its answer to the listener's request; the
//! listener's answer and its own request), which cost four ed25519
//! signatures and four checks per connection where two of each do.
//!
//! Credentials made for a receiver are presented again while their timestamp
//! is at most [`REUSE`] old; a signature already checked for a peer is not
//! checked again when the same peer presents the very same credentials (the
//! signed payload, which binds signer and receiver, is then the same, and
//! so is ed25519's verdict). Version, freshness and allow-list are still
//! judged every time. Entries go when the peer's last connection closes.

use std::{collections::BTreeMap, time::Duration};

use libp2p::PeerId;

use super::wire::HandshakeRequest;

/// How old credentials may be and still be presented again: far inside
/// the receiver's freshness window, so an honest receiver never finds them
/// stale.
pub const REUSE: Duration = Duration::from_secs(1);

/// Credentials made and signatures checked, per peer.
#[derive(Debug, Default)]
pub(crate) struct Signatures {
    made: BTreeMap<PeerId, HandshakeRequest>,
    checked: BTreeMap<PeerId, HandshakeRequest>,
}

impl Signatures {
    /// Credentials made for `receiver` whose timestamp is at most [`REUSE`]
    /// before `timestamp_ms` (never after it: a clock set back signs anew),
    /// or ones made now by `sign`.
    pub(crate) fn made_for(
        &mut self,
        receiver: PeerId,
        timestamp_ms: u64,
        sign: impl FnOnce() -> HandshakeRequest,
    ) -> HandshakeRequest {
        let fresh = |c: &HandshakeRequest| {
            timestamp_ms
                .checked_sub(c.timestamp_ms)
                .is_some_and(|age| u128::from(age) <= REUSE.as_millis())
        };
        match self.made.get(&receiver) {
            Some(creds) if fresh(creds) => creds.clone(),
            _ => {
                let creds = sign();
                self.made.insert(receiver, creds.clone());
                creds
            }
        }
    }

    /// Whether `peer` presented exactly `creds` before and their signature
    /// checked out then.
    pub(crate) fn already_checked(&self, peer: &PeerId, creds: &HandshakeRequest) -> bool {
        self.checked.get(peer) == Some(creds)
    }

    /// Remembers that `creds` from `peer` carry a valid signature.
    pub(crate) fn checked(&mut self, peer: PeerId, creds: &HandshakeRequest) {
        self.checked.insert(peer, creds.clone());
    }

    /// Forgets `peer`.
    pub(crate) fn forget(&mut self, peer: &PeerId) {
        self.made.remove(peer);
        self.checked.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(timestamp_ms: u64, byte: u8) -> HandshakeRequest {
        HandshakeRequest {
            public_key: [byte; 32],
            signature: [byte; 64],
            protocol_version: "simnet/1.0.0".into(),
            timestamp_ms,
        }
    }

    #[test]
    fn credentials_are_signed_again_once_older_than_the_reuse_window_or_from_the_future() {
        let peer = PeerId::random();
        let mut s = Signatures::default();
        let mut signed = 0;
        let mut at = |s: &mut Signatures, now: u64| {
            s.made_for(peer, now, || {
                signed += 1;
                creds(now, 1)
            })
            .timestamp_ms
        };
        assert_eq!(at(&mut s, 10_000), 10_000);
        assert_eq!(at(&mut s, 10_000 + 1000), 10_000, "reused at the edge");
        assert_eq!(at(&mut s, 11_001), 11_001, "signed anew past it");
        assert_eq!(at(&mut s, 9_000), 9_000, "a clock set back signs anew");
        assert_eq!(signed, 3);
    }

    #[test]
    fn only_the_very_same_credentials_from_the_same_peer_count_as_checked() {
        let (alice, mallory) = (PeerId::random(), PeerId::random());
        let mut s = Signatures::default();
        s.checked(alice, &creds(5, 1));
        assert!(s.already_checked(&alice, &creds(5, 1)));
        assert!(!s.already_checked(&mallory, &creds(5, 1)), "another peer");
        assert!(
            !s.already_checked(&alice, &creds(6, 1)),
            "another timestamp"
        );
        assert!(
            !s.already_checked(&alice, &creds(5, 2)),
            "another signature"
        );
        s.forget(&alice);
        assert!(!s.already_checked(&alice, &creds(5, 1)));
    }
}
