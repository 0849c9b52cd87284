//! A node's two keys: the libp2p identity (its peer id, authenticated by noise)
//! and the instance key that signs handshakes.
//!
//! They are separate on purpose, as in the protocol's reference implementation:
//! the instance key is the application's identity (what an allow-list names),
//! and the handshake binds it to the transport identity of one connection.

use ed25519_dalek::SigningKey;
use libp2p::{identity, PeerId};
use sha2::{Digest, Sha256};

/// The keys of one node.
#[derive(Clone)]
pub struct NodeKeys {
    /// The libp2p identity; its public key is the peer id.
    pub identity: identity::Keypair,
    /// Signs handshakes; its public key is presented in every handshake.
    pub instance: SigningKey,
}

impl NodeKeys {
    /// Fresh random keys from the operating system (or the simulation's seeded
    /// randomness when called inside one).
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        // getrandom failing means the OS has no entropy source; nothing sensible
        // can continue without keys.
        getrandom_fill(&mut seed);
        Self::from_seed(&seed)
    }

    /// Keys derived deterministically from `seed`, so a simulation can give a
    /// node the same identity in every run of the same scenario and seed.
    pub fn from_seed(seed: &[u8]) -> Self {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut hasher = Sha256::new();
            hasher.update(b"simnet/keys/v1/");
            hasher.update(label);
            hasher.update((seed.len() as u64).to_be_bytes());
            hasher.update(seed);
            hasher.finalize().into()
        };
        let mut identity_secret = derive(b"identity");
        let identity = identity::Keypair::ed25519_from_bytes(&mut identity_secret)
            .expect("32 bytes is always a valid ed25519 secret key");
        Self {
            identity,
            instance: SigningKey::from_bytes(&derive(b"instance")),
        }
    }

    /// The peer id of [`Self::identity`].
    pub fn peer_id(&self) -> PeerId {
        self.identity.public().to_peer_id()
    }

    /// The instance public key as presented on the wire.
    pub fn instance_public(&self) -> [u8; 32] {
        self.instance.verifying_key().to_bytes()
    }
}

fn getrandom_fill(buf: &mut [u8]) {
    if let Err(err) = getrandom::fill(buf) {
        panic!("the operating system provided no randomness for key generation: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_keys_other_seed_other_keys() {
        let a = NodeKeys::from_seed(b"alice");
        assert_eq!(a.peer_id(), NodeKeys::from_seed(b"alice").peer_id());
        assert_eq!(
            a.instance_public(),
            NodeKeys::from_seed(b"alice").instance_public()
        );
        assert_ne!(a.peer_id(), NodeKeys::from_seed(b"bob").peer_id());
        assert_ne!(
            a.instance_public(),
            NodeKeys::from_seed(b"bob").instance_public()
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            NodeKeys::generate().peer_id(),
            NodeKeys::generate().peer_id()
        );
    }
}
