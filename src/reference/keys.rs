//! The reference's instance keys and allow-lists. Its handshakes sign with
//! k256 ECDSA, not simnet's ed25519, so each node gets a k256 key derived
//! from its (seeded) ed25519 instance key: the same seed gives the same keys,
//! and none comes from the operating system's randomness (the crate's own
//! `generate_with_seed(None)` would read it through a raw syscall that the
//! simulation cannot seed).
//!
//! The reference allows nobody when its allow-list is empty, while a simnet
//! node without one allows every key. So every node a builder starts
//! registers its key in a shared [`Directory`], and each node's allow-list
//! (the crate's own `whitelisted_keys`, which it exposes) follows it: all
//! registered keys for a node without a list, the listed ones otherwise,
//! whenever they register.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, Weak},
};

use blueprint_crypto::{
    k256::{K256Ecdsa, K256SigningKey, K256VerifyingKey},
    BytesEncoding, KeyType,
};
use blueprint_networking::discovery::peers::VerificationIdentifierKey;
use libp2p::PeerId;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

use crate::protocol::{NodeError, NodeKeys};

/// The key type the reference is run with: k256 ECDSA, as the blueprint
/// runner uses it.
pub type Key = K256Ecdsa;
/// A key as the reference's allow-list and handshakes carry it.
pub type VerificationKey = VerificationIdentifierKey<Key>;
/// The list the reference's `PeerManager` checks handshakes against.
pub type AllowList = Arc<RwLock<Vec<VerificationKey>>>;

/// The k256 instance key of a node with simnet `keys`.
pub fn instance_key(keys: &NodeKeys) -> Result<K256SigningKey, NodeError> {
    let mut hasher = Sha256::new();
    hasher.update(b"simnet/keys/v1/instance-k256/");
    hasher.update(keys.instance.to_bytes());
    let seed: [u8; 32] = hasher.finalize().into();
    Key::generate_with_seed(Some(&seed))
        .map_err(|e| NodeError::Config(format!("k256 instance key: {e}")))
}

/// Every node's instance keys, and the allow-lists that follow them.
#[derive(Clone, Default)]
pub struct Directory(Arc<Mutex<Entries>>);

#[derive(Default)]
struct Entries {
    /// ed25519 instance public key (simnet's) → k256 public key.
    keys: BTreeMap<[u8; 32], K256VerifyingKey>,
    /// Each node's k256 secret, for adversaries that replay its handshakes.
    secrets: BTreeMap<PeerId, K256SigningKey>,
    lists: Vec<Follower>,
}

/// One node's allow-list and what it admits.
struct Follower {
    list: Weak<RwLock<Vec<VerificationKey>>>,
    /// simnet's allow-list, by ed25519 instance key; `None` admits all.
    admits: Option<HashSet<[u8; 32]>>,
}

impl Follower {
    fn admits(&self, key: &[u8; 32]) -> bool {
        self.admits.as_ref().is_none_or(|set| set.contains(key))
    }
}

impl Directory {
    /// Registers the node with simnet `keys` and k256 `secret`, and returns
    /// its allow-list for `admits` (simnet's `allow_list`).
    pub fn join(
        &self,
        keys: &NodeKeys,
        secret: &K256SigningKey,
        admits: Option<HashSet<[u8; 32]>>,
    ) -> AllowList {
        let public = secret.public();
        let mut entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.secrets.insert(keys.peer_id(), secret.clone());
        let own = keys.instance_public();
        if entries.keys.insert(own, public).is_none() {
            entries.lists.retain(|f| f.list.strong_count() > 0);
            for follower in &entries.lists {
                if let Some(list) = follower.list.upgrade().filter(|_| follower.admits(&own)) {
                    list.write()
                        .push(VerificationKey::InstancePublicKey(public));
                }
            }
        }
        let follower = Follower {
            list: Weak::new(),
            admits,
        };
        let list: AllowList = Arc::new(RwLock::new(
            entries
                .keys
                .iter()
                .filter(|(ed, _)| follower.admits(ed))
                .map(|(_, k)| VerificationKey::InstancePublicKey(*k))
                .collect(),
        ));
        entries.lists.push(Follower {
            list: Arc::downgrade(&list),
            ..follower
        });
        list
    }

    /// The k256 secret of the node with peer id `peer`.
    pub fn secret_of(&self, peer: &PeerId) -> Option<K256SigningKey> {
        let entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries.secrets.get(peer).cloned()
    }

    /// The simnet (ed25519) instance key of the node whose k256 key is `key`.
    pub fn simnet_key(&self, key: &VerificationKey) -> Option<[u8; 32]> {
        let VerificationKey::InstancePublicKey(public) = key else {
            return None;
        };
        let entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let bytes = public.to_bytes();
        entries
            .keys
            .iter()
            .find(|(_, k)| k.to_bytes() == bytes)
            .map(|(ed, _)| *ed)
    }

    /// Every registered k256 key with its simnet key, in simnet-key order.
    pub fn all(&self) -> Vec<([u8; 32], VerificationKey)> {
        let entries = self.0.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .keys
            .iter()
            .map(|(ed, k)| (*ed, VerificationKey::InstancePublicKey(*k)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(keys: &NodeKeys) -> K256SigningKey {
        instance_key(keys).expect("key")
    }

    fn public(keys: &NodeKeys) -> K256VerifyingKey {
        secret(keys).public()
    }

    #[test]
    fn same_simnet_keys_same_k256_key() {
        let alice = NodeKeys::from_seed(b"alice");
        assert_eq!(
            public(&alice).to_bytes(),
            public(&NodeKeys::from_seed(b"alice")).to_bytes()
        );
        assert_ne!(
            public(&alice).to_bytes(),
            public(&NodeKeys::from_seed(b"bob")).to_bytes()
        );
    }

    #[test]
    fn lists_follow_later_nodes_they_admit() {
        let directory = Directory::default();
        let (alice, bob, carol) = (
            NodeKeys::from_seed(b"alice"),
            NodeKeys::from_seed(b"bob"),
            NodeKeys::from_seed(b"carol"),
        );
        let open = directory.join(&alice, &secret(&alice), None);
        let only_alice = directory.join(
            &bob,
            &secret(&bob),
            Some(HashSet::from([alice.instance_public()])),
        );
        directory.join(&carol, &secret(&carol), None);
        let key = |k: &NodeKeys| VerificationKey::InstancePublicKey(public(k));
        assert_eq!(*open.read(), vec![key(&alice), key(&bob), key(&carol)]);
        assert_eq!(*only_alice.read(), vec![key(&alice)]);
        assert_eq!(
            directory.simnet_key(&key(&bob)),
            Some(bob.instance_public())
        );
        assert!(directory.secret_of(&carol.peer_id()).is_some());
    }
}
