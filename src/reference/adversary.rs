//! Adversarial peers in the reference's own dialect: its request-response
//! protocol and message types, k256 signatures, its handshake layout. An
//! adversary runs no `BlueprintProtocolBehaviour`; it presents crafted
//! handshakes (or none) and answers handshake requests the same way, so the
//! honest reference nodes show how they treat one fault.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blueprint_crypto::{
    k256::{K256Signature, K256SigningKey},
    BytesEncoding, KeyType,
};
use blueprint_networking::blueprint_protocol::HandshakeMessage;
use libp2p::PeerId;

use super::{
    behaviour::{Request, Response},
    keys::{Directory, Key, VerificationKey},
};
use crate::protocol::{misbehaviour::Captured, Misbehaviour, NodeError};

/// Which fault, in the reference's terms.
#[derive(Clone, Debug)]
enum Fault {
    /// Sign honestly, then flip a bit of the signature (it still parses).
    Forge,
    /// Sign honestly with a timestamp this far in the past.
    Stale(Duration),
    /// Present the handshake `captured` as its signer made it, rebuilt in
    /// the reference's layout (deterministic ECDSA gives the very bytes the
    /// signer sent).
    Replay(Box<Captured>),
    /// Never send a handshake and never answer one.
    Silent,
    /// Never handshake, and send direct messages and gossip anyway, as if
    /// verified.
    Skip,
}

/// One adversarial node's handshakes.
pub struct Adversary {
    fault: Fault,
    local: PeerId,
    key: K256SigningKey,
    directory: Directory,
}

/// What a handshake message carries, request or response alike.
struct Credentials {
    key: VerificationKey,
    signature: K256Signature,
    msg: HandshakeMessage,
}

impl Adversary {
    /// Whether `misbehaviour` has a reference-dialect counterpart; if not,
    /// why a scenario with it does not apply to the reference.
    pub fn supports(misbehaviour: &Misbehaviour) -> Result<(), String> {
        fault(misbehaviour).map(drop)
    }

    /// The reference-dialect adversary for `misbehaviour`, `None` for an
    /// honest node; an error for a fault with no counterpart yet.
    pub fn new(
        misbehaviour: &Misbehaviour,
        local: PeerId,
        key: &K256SigningKey,
        directory: &Directory,
    ) -> Result<Option<Self>, NodeError> {
        let Some(fault) = fault(misbehaviour).map_err(NodeError::Config)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            fault,
            local,
            key: key.clone(),
            directory: directory.clone(),
        }))
    }

    /// Whether it sends direct messages and gossip without a handshake
    /// (it then runs a gossipsub of its own, configured as the crate's).
    pub fn skips_handshake(&self) -> bool {
        matches!(self.fault, Fault::Skip)
    }

    /// The handshake request it sends `remote` on a first connection.
    pub fn request(&self, remote: &PeerId) -> Option<Request> {
        let c = self.credentials(remote)?;
        Some(Request::Handshake {
            verification_id_key: c.key,
            signature: c.signature,
            msg: c.msg,
        })
    }

    /// How it answers `remote`'s handshake request (`None`: it does not).
    pub fn response(&self, remote: &PeerId) -> Option<Response> {
        let c = self.credentials(remote)?;
        Some(Response::Handshake {
            verification_id_key: c.key,
            signature: c.signature,
            msg: c.msg,
        })
    }

    fn credentials(&self, remote: &PeerId) -> Option<Credentials> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let (mut key, msg, to) = match &self.fault {
            Fault::Silent | Fault::Skip => return None,
            Fault::Forge => (self.key.clone(), message(self.local, now_ms), *remote),
            Fault::Stale(age) => (
                self.key.clone(),
                message(self.local, now_ms.saturating_sub(age.as_millis())),
                *remote,
            ),
            Fault::Replay(captured) => (
                self.directory.secret_of(&captured.signer)?,
                message(
                    captured.signer,
                    u128::from(captured.credentials.timestamp_ms),
                ),
                captured.receiver,
            ),
        };
        let mut signature = Key::sign_with_secret(&mut key, &msg.to_bytes(&to)).ok()?;
        if let Fault::Forge = self.fault {
            signature = flipped(&signature)?;
        }
        Some(Credentials {
            key: VerificationKey::InstancePublicKey(key.public()),
            signature,
            msg,
        })
    }
}

/// The fault for `misbehaviour`: `None` for an honest node, an error for
/// one with no counterpart yet.
fn fault(misbehaviour: &Misbehaviour) -> Result<Option<Fault>, String> {
    Ok(Some(match misbehaviour {
        Misbehaviour::None => return Ok(None),
        Misbehaviour::ForgeSignature => Fault::Forge,
        Misbehaviour::StaleTimestamp(age) => Fault::Stale(*age),
        Misbehaviour::Replay(captured) => Fault::Replay(captured.clone()),
        Misbehaviour::SilentHandshake => Fault::Silent,
        Misbehaviour::SkipHandshake => Fault::Skip,
        other => {
            return Err(format!(
                "the adversary {other:?} has no reference-dialect counterpart yet"
            ))
        }
    }))
}

fn message(sender: PeerId, timestamp: u128) -> HandshakeMessage {
    HandshakeMessage { sender, timestamp }
}

/// `signature` with one bit of its `s` half flipped: still a well-formed
/// signature, no longer a valid one.
fn flipped(signature: &K256Signature) -> Option<K256Signature> {
    let mut bytes = signature.to_bytes();
    let last = bytes.last_mut()?;
    *last ^= 1;
    K256Signature::from_bytes(&bytes).ok()
}
