//! Deliberate protocol bugs, compiled in only with the `planted-bugs` cargo
//! feature (which only the test build enables), to prove that sweeps find
//! races and that shrinking keeps them.
//!
//! A process turns one bug on with the environment variable
//! `SIMNET_PLANTED_BUG=<name>`; without the feature [`active`] is the constant
//! `false` and every planted branch compiles away.

use std::fmt;

/// One planted bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// An inbound handshake request that arrives while our own request is
    /// pending is rejected as a duplicate: no tie-break for crossed handshakes.
    NoCrossedHandshake,
    /// The key an inbound handshake request claims is trusted before (and
    /// regardless of) its signature check.
    VerifiedBeforeSignatureCheck,
    /// A ban is checked when a dial starts but not when a connection that was
    /// in flight at the time of the ban completes.
    BanSkipsInFlightConnection,
    /// The handshake timer keeps running after the session verified, and
    /// fails it when it fires.
    HandshakeTimerNotCancelled,
    /// Gossip forwarded by unverified peers is accepted and delivered, and
    /// gossipsub exchanges broadcasts with unverified peers (no peer scores).
    GossipFromUnverified,
    /// Gossip is judged by its forwarder only: an author we banned, or one
    /// not on our allow-list, gets through any verified forwarder (the
    /// review's H3, as the protocol had it before the author check).
    GossipAuthorUnchecked,
    /// The review's H1 fix undone: a new connection on a session this side
    /// still counts verified brings no new handshake (the dialer does not ask
    /// again, the listener never asks itself, the older connection is not
    /// replaced), so a peer that dropped the session answers 403 until
    /// keep-alive closes the dead connection.
    StaleSessionNoRehandshake,
}

impl PlantedBug {
    /// Every planted bug.
    pub const ALL: [PlantedBug; 7] = [
        PlantedBug::NoCrossedHandshake,
        PlantedBug::VerifiedBeforeSignatureCheck,
        PlantedBug::BanSkipsInFlightConnection,
        PlantedBug::HandshakeTimerNotCancelled,
        PlantedBug::GossipFromUnverified,
        PlantedBug::GossipAuthorUnchecked,
        PlantedBug::StaleSessionNoRehandshake,
    ];

    /// The name used in `SIMNET_PLANTED_BUG`.
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::NoCrossedHandshake => "no-crossed-handshake",
            PlantedBug::VerifiedBeforeSignatureCheck => "verified-before-signature-check",
            PlantedBug::BanSkipsInFlightConnection => "ban-skips-in-flight-connection",
            PlantedBug::HandshakeTimerNotCancelled => "handshake-timer-not-cancelled",
            PlantedBug::GossipFromUnverified => "gossip-from-unverified",
            PlantedBug::GossipAuthorUnchecked => "gossip-author-unchecked",
            PlantedBug::StaleSessionNoRehandshake => "stale-session-no-rehandshake",
        }
    }

    /// The bug called `name`, if any.
    pub fn from_name(name: &str) -> Option<PlantedBug> {
        Self::ALL.into_iter().find(|bug| bug.name() == name)
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The environment variable that turns a planted bug on.
pub const ENV_VAR: &str = "SIMNET_PLANTED_BUG";

/// The bug `SIMNET_PLANTED_BUG` names: `Ok(None)` when unset or when the
/// feature is off, `Err` with the unknown name otherwise.
pub fn from_env() -> Result<Option<PlantedBug>, String> {
    if !cfg!(feature = "planted-bugs") {
        return Ok(None);
    }
    match std::env::var(ENV_VAR) {
        Err(_) => Ok(None),
        Ok(name) => PlantedBug::from_name(&name).map(Some).ok_or(name),
    }
}

/// Whether `bug` is on in this process.
#[cfg(feature = "planted-bugs")]
pub fn active(bug: PlantedBug) -> bool {
    static ACTIVE: std::sync::OnceLock<Option<PlantedBug>> = std::sync::OnceLock::new();
    *ACTIVE.get_or_init(|| from_env().ok().flatten()) == Some(bug)
}

/// Whether `bug` is on in this process: never, without the feature.
#[cfg(not(feature = "planted-bugs"))]
#[inline(always)]
pub fn active(_bug: PlantedBug) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for bug in PlantedBug::ALL {
            assert_eq!(PlantedBug::from_name(bug.name()), Some(bug));
        }
        assert_eq!(PlantedBug::from_name("no-such-bug"), None);
    }
}
