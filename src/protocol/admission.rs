//! Which peers may send full-size direct requests: those whose handshake
//! signature we checked.
//!
//! A peer that has not completed the handshake can only be answered 403, so
//! reading its request in full (up to the 16 MiB frame limit) is work for
//! nothing. [`Admission`] is shared by the node, which records peers as their
//! signature verifies (before our answer can reach them, so the first request
//! of an honest peer never races its admission) and forgets them when their
//! session fails or ends, and by every connection's instance
//! codec, which refuses a frame longer than [`MAX_UNVERIFIED_FRAME`] from a
//! peer not recorded here after reading only its 4-byte length prefix.
//!
//! libp2p's request-response codec does not learn which peer a stream comes
//! from. It does clone the behaviour's codec once per connection, inside
//! `handle_established_{inbound,outbound}_connection`, where the peer is
//! known; [`Admission::bind`] names that peer for the duration of the call,
//! and the codec's clone keeps it. Every clone made later (one per stream)
//! keeps the peer it already has.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, PoisonError},
};

use libp2p::PeerId;

/// Largest direct-request frame read from a peer that is not verified. Such
/// a request is answered 403 whatever it holds; a few KiB leave room for any
/// honest request that races its sender's handshake completion by a moment.
pub const MAX_UNVERIFIED_FRAME: u32 = 4096;

#[derive(Debug, Default)]
struct Shared {
    verified: BTreeSet<PeerId>,
    binding: Option<PeerId>,
}

/// The verified peers, shared between the node and its connections' codecs.
/// Cheap to clone; every clone sees the same set.
#[derive(Clone, Debug, Default)]
pub struct Admission {
    shared: Arc<Mutex<Shared>>,
}

impl Admission {
    fn with<R>(&self, f: impl FnOnce(&mut Shared) -> R) -> R {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut shared)
    }

    /// `peer`'s handshake signature verified (it is verified, or about to be).
    pub fn verified(&self, peer: PeerId) {
        self.with(|s| s.verified.insert(peer));
    }

    /// `peer`'s session ended (last connection closed, or it failed).
    pub fn forget(&self, peer: &PeerId) {
        self.with(|s| s.verified.remove(peer));
    }

    /// Whether `peer` may send full-size requests.
    pub fn is_verified(&self, peer: &PeerId) -> bool {
        self.with(|s| s.verified.contains(peer))
    }

    /// Names `peer` as the one whose connection is being set up until the
    /// returned guard drops; see the module documentation.
    pub fn bind(&self, peer: PeerId) -> Binding<'_> {
        self.with(|s| s.binding = Some(peer));
        Binding { admission: self }
    }

    /// The peer named by a live [`Binding`], if any.
    pub fn bound(&self) -> Option<PeerId> {
        self.with(|s| s.binding)
    }

    /// Peers recorded as verified (for the buffered-items count).
    pub fn len(&self) -> usize {
        self.with(|s| s.verified.len())
    }

    /// Whether no peer is recorded as verified.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Clears the peer named by [`Admission::bind`] when dropped.
#[must_use = "the binding lasts only while the guard lives"]
pub struct Binding<'a> {
    admission: &'a Admission,
}

impl Drop for Binding<'_> {
    fn drop(&mut self) {
        self.admission.with(|s| s.binding = None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_lasts_while_its_guard_lives() {
        let admission = Admission::default();
        let peer = PeerId::random();
        {
            let _bound = admission.bind(peer);
            assert_eq!(admission.bound(), Some(peer));
        }
        assert_eq!(admission.bound(), None);
    }

    #[test]
    fn verified_until_forgotten() {
        let admission = Admission::default();
        let peer = PeerId::random();
        assert!(!admission.is_verified(&peer));
        admission.clone().verified(peer);
        assert!(admission.is_verified(&peer), "clones share the set");
        admission.forget(&peer);
        assert!(!admission.is_verified(&peer));
    }
}
