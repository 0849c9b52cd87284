//! Bans, handshake-failure counts and connection counts: the peer manager's
//! bookkeeping, kept pure so its rules are unit-tested without a network.
//!
//! Maps are ordered by peer id so that anything listed from here (node state,
//! traces) comes out in the same order in every run.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    time::Duration,
};

use libp2p::PeerId;
use serde::Serialize;
use thiserror::Error;
use tokio::time::Instant;

use super::planted::{self, PlantedBug};

/// Which side opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The remote dialed us.
    Inbound,
    /// We dialed the remote.
    Outbound,
}

/// Connection limits. A connection that would exceed one is refused with a
/// [`Refusal`] naming the limit.
///
/// `max_per_peer` must be at least 2: in a simultaneous dial each side first
/// holds one connection in each direction, and with a limit of 1 both sides
/// can refuse their own outbound connection, leaving none (a seed sweep of
/// the simulator found this in 6 of 20 seeds).
///
/// ## Default values
/// - `max_inbound`: 64
/// - `max_outbound`: 64
/// - `max_per_peer`: 2 (two, so that a simultaneous dial, which briefly makes one
///   connection in each direction, is not refused on both sides at once)
/// - `max_total`: 128
/// - `max_pending_handshakes`: 16
/// - `max_pending_connections`: 32
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Established inbound connections.
    pub max_inbound: u32,
    /// Established outbound connections.
    pub max_outbound: u32,
    /// Established connections to one peer, both directions together.
    pub max_per_peer: u32,
    /// Established connections overall.
    pub max_total: u32,
    /// Peers that dialed us and whose handshake is still pending. When a new
    /// inbound peer arrives with the limit full, the oldest of them that has
    /// sent no handshake message is displaced (the node fails it as
    /// `Displaced`); only when every one has made progress is the newcomer
    /// refused. So a flood of silent, redialing peers cannot lock honest
    /// newcomers out, and our own dials never count.
    pub max_pending_handshakes: u32,
    /// Inbound connections still in the transport upgrade (noise, yamux),
    /// before the remote's peer id is known; more are refused at once. Each
    /// costs a socket, a task and noise state for up to the upgrade timeout.
    pub max_pending_connections: u32,
}

/// The smallest per-peer limit that survives a simultaneous dial.
pub const MIN_PER_PEER: u32 = 2;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_inbound: 64,
            max_outbound: 64,
            max_per_peer: 2,
            max_total: 128,
            max_pending_handshakes: 16,
            max_pending_connections: 32,
        }
    }
}

/// Why a connection was refused. Carried inside libp2p's `ConnectionDenied`.
#[derive(Clone, Debug, Error, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Refusal {
    /// The peer is banned.
    #[error("peer is banned: {reason}")]
    Banned {
        /// Why it was banned.
        reason: String,
    },
    /// Too many inbound connections.
    #[error("inbound connection limit {limit} reached")]
    InboundLimit {
        /// The limit.
        limit: u32,
    },
    /// Too many outbound connections.
    #[error("outbound connection limit {limit} reached")]
    OutboundLimit {
        /// The limit.
        limit: u32,
    },
    /// Too many connections to this peer.
    #[error("per-peer connection limit {limit} reached")]
    PerPeerLimit {
        /// The limit.
        limit: u32,
    },
    /// Too many connections overall.
    #[error("total connection limit {limit} reached")]
    TotalLimit {
        /// The limit.
        limit: u32,
    },
    /// Too many inbound connections still in the transport upgrade.
    #[error("pending connection limit {limit} reached")]
    PendingConnectionLimit {
        /// The limit.
        limit: u32,
    },
    /// Too many peers with a handshake still pending, none of them displaceable.
    #[error("pending handshake limit {limit} reached")]
    PendingHandshakeLimit {
        /// The limit.
        limit: u32,
    },
}

/// A ban on one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ban {
    /// Why.
    pub reason: String,
    /// When it lapses; `None` is permanent until an explicit unban.
    pub until: Option<Instant>,
}

impl Ban {
    fn active_at(&self, now: Instant) -> bool {
        self.until.is_none_or(|until| now < until)
    }
}

/// When repeated handshake failures turn into a ban.
///
/// ## Default values
/// - `threshold`: 3 failures that count toward a ban
/// - `window`: 600 s (only failures this recent count)
/// - `duration`: 300 s
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BanPolicy {
    /// Failures (see `HandshakeFailure::counts_toward_ban`) within `window`
    /// before a ban.
    pub threshold: u32,
    /// How long a failure counts toward a ban: an honest peer with a rare
    /// fault is not banned for failures spread over its whole lifetime.
    pub window: Duration,
    /// How long the automatic ban lasts.
    pub duration: Duration,
}

impl Default for BanPolicy {
    fn default() -> Self {
        Self {
            threshold: 3,
            window: Duration::from_secs(600),
            duration: Duration::from_secs(300),
        }
    }
}

/// Most peers whose recent handshake failures are remembered. Peer ids cost
/// an attacker nothing, so the map is bounded: when full, the peer whose
/// latest failure is oldest is forgotten first.
pub const MAX_FAILING_PEERS: usize = 4096;

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    inbound: u32,
    outbound: u32,
}

impl Counts {
    fn total(self) -> u32 {
        self.inbound + self.outbound
    }

    fn get_mut(&mut self, direction: Direction) -> &mut u32 {
        match direction {
            Direction::Inbound => &mut self.inbound,
            Direction::Outbound => &mut self.outbound,
        }
    }
}

/// The peer manager's state.
#[derive(Debug)]
pub struct PeerBook {
    limits: Limits,
    ban_policy: BanPolicy,
    bans: BTreeMap<PeerId, Ban>,
    expiries: BTreeSet<(Instant, PeerId)>,
    failures: BTreeMap<PeerId, VecDeque<Instant>>,
    per_peer: BTreeMap<PeerId, Counts>,
    all: Counts,
    pending_handshakes: u32,
}

impl PeerBook {
    /// An empty book enforcing `limits` and `ban_policy`.
    pub fn new(limits: Limits, ban_policy: BanPolicy) -> Self {
        Self {
            limits,
            ban_policy,
            bans: BTreeMap::new(),
            expiries: BTreeSet::new(),
            failures: BTreeMap::new(),
            per_peer: BTreeMap::new(),
            all: Counts::default(),
            pending_handshakes: 0,
        }
    }

    /// Tells the book how many inbound handshakes are pending now and cannot
    /// be displaced (see [`Limits::max_pending_handshakes`]).
    pub fn set_pending_handshakes(&mut self, count: u32) {
        self.pending_handshakes = count;
    }

    /// The active ban on `peer`, if any. An expired ban is not active, whether
    /// or not [`Self::take_expired`] has removed it yet.
    pub fn ban_of(&self, peer: &PeerId, now: Instant) -> Option<&Ban> {
        self.bans.get(peer).filter(|ban| ban.active_at(now))
    }

    /// Bans `peer` (replacing any earlier ban) and clears its failure count.
    pub fn ban(&mut self, peer: PeerId, reason: String, until: Option<Instant>) {
        self.failures.remove(&peer);
        self.unban(&peer);
        if let Some(until) = until {
            self.expiries.insert((until, peer));
        }
        self.bans.insert(peer, Ban { reason, until });
    }

    /// Lifts a ban; returns whether there was one.
    pub fn unban(&mut self, peer: &PeerId) -> bool {
        let Some(ban) = self.bans.remove(peer) else {
            return false;
        };
        if let Some(until) = ban.until {
            self.expiries.remove(&(until, *peer));
        }
        true
    }

    /// Removes and returns the peers whose bans have lapsed by `now`, in
    /// order of expiry. Costs only the bans removed: timed bans are also
    /// kept ordered by expiry.
    pub fn take_expired(&mut self, now: Instant) -> Vec<PeerId> {
        let mut expired = Vec::new();
        while let Some(&(until, peer)) = self.expiries.first() {
            if until > now {
                break;
            }
            self.expiries.pop_first();
            self.bans.remove(&peer);
            expired.push(peer);
        }
        expired
    }

    /// The earliest moment a ban lapses (the first of the expiry order).
    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiries.first().map(|(until, _)| *until)
    }

    /// Active bans, by peer.
    pub fn bans(&self) -> impl Iterator<Item = (&PeerId, &Ban)> {
        self.bans.iter()
    }

    /// Counts one ban-worthy handshake failure at `now`. When the failures
    /// within the policy's window reach the threshold, bans the peer and
    /// returns the new ban.
    pub fn record_failure(&mut self, peer: PeerId, now: Instant) -> Option<Ban> {
        let window = self.ban_policy.window;
        if !self.failures.contains_key(&peer) && self.failures.len() >= MAX_FAILING_PEERS {
            self.forget_failures(now);
        }
        let recent = self.failures.entry(peer).or_default();
        while recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            recent.pop_front();
        }
        recent.push_back(now);
        let count = recent.len();
        if count < self.ban_policy.threshold as usize {
            return None;
        }
        let ban = Ban {
            reason: format!("{count} failed handshakes"),
            until: Some(now + self.ban_policy.duration),
        };
        self.ban(peer, ban.reason.clone(), ban.until);
        Some(ban)
    }

    /// Makes room in the full failure map: drops every peer whose failures
    /// are all outside the window, or else the one whose latest is oldest.
    fn forget_failures(&mut self, now: Instant) {
        let window = self.ban_policy.window;
        self.failures.retain(|_, recent| {
            recent
                .back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
        if self.failures.len() < MAX_FAILING_PEERS {
            return;
        }
        let oldest = self
            .failures
            .iter()
            .min_by_key(|(peer, recent)| (recent.back().copied(), **peer))
            .map(|(peer, _)| *peer);
        if let Some(peer) = oldest {
            self.failures.remove(&peer);
        }
    }

    /// Failures counted toward a ban for `peer` within the window before `now`.
    pub fn failures(&self, peer: &PeerId, now: Instant) -> u32 {
        let window = self.ban_policy.window;
        let recent = self.failures.get(peer).map_or(0, |recent| {
            recent
                .iter()
                .filter(|t| now.saturating_duration_since(**t) < window)
                .count()
        });
        u32::try_from(recent).unwrap_or(u32::MAX)
    }

    /// Peers whose failures are remembered (bounded by [`MAX_FAILING_PEERS`]).
    pub fn failing_peers(&self) -> usize {
        self.failures.len()
    }

    /// Whether a new connection with `peer` in `direction` may be established.
    pub fn admit(&self, peer: &PeerId, direction: Direction, now: Instant) -> Result<(), Refusal> {
        let in_flight_dial_slips_through = direction == Direction::Outbound
            && planted::active(PlantedBug::BanSkipsInFlightConnection);
        if let Some(ban) = self
            .ban_of(peer, now)
            .filter(|_| !in_flight_dial_slips_through)
        {
            return Err(Refusal::Banned {
                reason: ban.reason.clone(),
            });
        }
        let limits = self.limits;
        let (count, limit, refusal): (u32, u32, fn(u32) -> Refusal) = match direction {
            Direction::Inbound => (self.all.inbound, limits.max_inbound, |limit| {
                Refusal::InboundLimit { limit }
            }),
            Direction::Outbound => (self.all.outbound, limits.max_outbound, |limit| {
                Refusal::OutboundLimit { limit }
            }),
        };
        if count >= limit {
            return Err(refusal(limit));
        }
        if self.all.total() >= limits.max_total {
            return Err(Refusal::TotalLimit {
                limit: limits.max_total,
            });
        }
        let peer_count = self.per_peer.get(peer).map_or(0, |c| c.total());
        let new_peer = peer_count == 0;
        if direction == Direction::Inbound
            && new_peer
            && self.pending_handshakes >= limits.max_pending_handshakes
        {
            return Err(Refusal::PendingHandshakeLimit {
                limit: limits.max_pending_handshakes,
            });
        }
        if peer_count >= limits.max_per_peer {
            return Err(Refusal::PerPeerLimit {
                limit: limits.max_per_peer,
            });
        }
        Ok(())
    }

    /// Records an established connection.
    pub fn opened(&mut self, peer: PeerId, direction: Direction) {
        *self.per_peer.entry(peer).or_default().get_mut(direction) += 1;
        *self.all.get_mut(direction) += 1;
    }

    /// Records a closed connection.
    pub fn closed(&mut self, peer: &PeerId, direction: Direction) {
        if let Some(counts) = self.per_peer.get_mut(peer) {
            let n = counts.get_mut(direction);
            *n = n.saturating_sub(1);
            if counts.total() == 0 {
                self.per_peer.remove(peer);
            }
        }
        let n = self.all.get_mut(direction);
        *n = n.saturating_sub(1);
    }

    /// Established connections with `peer`.
    pub fn connections_with(&self, peer: &PeerId) -> u32 {
        self.per_peer.get(peer).map_or(0, |c| c.total())
    }

    /// Established (inbound, outbound) connections overall.
    pub fn connection_counts(&self) -> (u32, u32) {
        (self.all.inbound, self.all.outbound)
    }
}

#[cfg(test)]
mod tests {
    use libp2p::identity::Keypair;

    use super::*;

    fn peer() -> PeerId {
        Keypair::generate_ed25519().public().to_peer_id()
    }

    fn book(limits: Limits) -> PeerBook {
        PeerBook::new(limits, BanPolicy::default())
    }

    #[test]
    fn ban_refuses_then_expires() {
        let mut b = book(Limits::default());
        let p = peer();
        let t0 = Instant::now();
        b.ban(p, "test".into(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(
            b.admit(&p, Direction::Inbound, t0),
            Err(Refusal::Banned {
                reason: "test".into()
            })
        );
        assert!(b.take_expired(t0 + Duration::from_secs(9)).is_empty());
        // Expired but not yet swept: already admitted.
        assert_eq!(
            b.admit(&p, Direction::Inbound, t0 + Duration::from_secs(10)),
            Ok(())
        );
        assert_eq!(b.take_expired(t0 + Duration::from_secs(10)), vec![p]);
        assert!(b.ban_of(&p, t0).is_none());
    }

    #[test]
    fn permanent_ban_until_unban() {
        let mut b = book(Limits::default());
        let p = peer();
        let t0 = Instant::now();
        b.ban(p, "manual".into(), None);
        assert!(b
            .take_expired(t0 + Duration::from_secs(1_000_000))
            .is_empty());
        assert!(b.admit(&p, Direction::Outbound, t0).is_err());
        assert!(b.unban(&p));
        assert!(b.admit(&p, Direction::Outbound, t0).is_ok());
    }

    #[test]
    fn third_failure_bans_for_the_policy_duration() {
        let mut b = book(Limits::default());
        let p = peer();
        let t0 = Instant::now();
        assert_eq!(b.record_failure(p, t0), None);
        assert_eq!(b.record_failure(p, t0), None);
        let ban = b
            .record_failure(p, t0)
            .expect("banned on the third failure");
        assert_eq!(ban.until, Some(t0 + Duration::from_secs(300)));
        assert_eq!(b.failures(&p, t0), 0, "count resets once banned");
        assert!(b.ban_of(&p, t0).is_some());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let mut b = book(Limits::default());
        let p = peer();
        let t0 = Instant::now();
        let step = Duration::from_secs(450);
        assert_eq!(b.record_failure(p, t0), None);
        assert_eq!(b.record_failure(p, t0 + step), None);
        assert_eq!(b.record_failure(p, t0 + step * 2), None, "the first lapsed");
        assert_eq!(b.failures(&p, t0 + step * 2), 2);
        assert!(b.record_failure(p, t0 + step * 2).is_some());
    }

    #[test]
    fn the_failure_map_is_bounded() {
        let mut b = book(Limits::default());
        let t0 = Instant::now();
        let first = peer();
        b.record_failure(first, t0);
        for i in 1..MAX_FAILING_PEERS + 10 {
            b.record_failure(peer(), t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(b.failing_peers(), MAX_FAILING_PEERS);
        assert_eq!(b.failures(&first, t0), 0, "the oldest went first");
    }

    #[test]
    fn bans_expire_in_order_and_a_replaced_ban_keeps_its_new_expiry() {
        let mut b = book(Limits::default());
        let (p1, p2, p3) = (peer(), peer(), peer());
        let t0 = Instant::now();
        let s = Duration::from_secs;
        b.ban(p1, "a".into(), Some(t0 + s(30)));
        b.ban(p2, "b".into(), Some(t0 + s(10)));
        b.ban(p3, "c".into(), None);
        assert_eq!(b.next_expiry(), Some(t0 + s(10)));
        b.ban(p2, "longer".into(), Some(t0 + s(60)));
        assert_eq!(b.next_expiry(), Some(t0 + s(30)));
        assert_eq!(b.take_expired(t0 + s(59)), vec![p1]);
        assert!(b.unban(&p2));
        assert_eq!(b.next_expiry(), None, "only the permanent ban is left");
        assert!(b.take_expired(t0 + s(1000)).is_empty());
    }

    #[test]
    fn limits_are_enforced_per_direction_peer_and_total() {
        let limits = Limits {
            max_inbound: 2,
            max_outbound: 1,
            max_per_peer: 1,
            max_total: 3,
            max_pending_handshakes: 16,
            max_pending_connections: 32,
        };
        let mut b = book(limits);
        let t0 = Instant::now();
        let (p1, p2, p3, p4) = (peer(), peer(), peer(), peer());
        b.opened(p1, Direction::Inbound);
        assert_eq!(
            b.admit(&p1, Direction::Outbound, t0),
            Err(Refusal::PerPeerLimit { limit: 1 })
        );
        b.opened(p2, Direction::Inbound);
        assert_eq!(
            b.admit(&p3, Direction::Inbound, t0),
            Err(Refusal::InboundLimit { limit: 2 })
        );
        b.opened(p3, Direction::Outbound);
        assert_eq!(
            b.admit(&p4, Direction::Outbound, t0),
            Err(Refusal::OutboundLimit { limit: 1 })
        );
        b.closed(&p1, Direction::Inbound);
        assert_eq!(b.admit(&p4, Direction::Inbound, t0), Ok(()));
        assert_eq!(b.connections_with(&p1), 0);
        assert_eq!(b.connection_counts(), (1, 1));
    }

    #[test]
    fn pending_handshakes_limit_new_inbound_peers_only() {
        let limits = Limits {
            max_pending_handshakes: 2,
            ..Limits::default()
        };
        let mut b = book(limits);
        let t0 = Instant::now();
        let (known, new) = (peer(), peer());
        b.opened(known, Direction::Inbound);
        b.set_pending_handshakes(2);
        assert_eq!(
            b.admit(&new, Direction::Inbound, t0),
            Err(Refusal::PendingHandshakeLimit { limit: 2 })
        );
        assert_eq!(
            b.admit(&known, Direction::Inbound, t0),
            Ok(()),
            "its second connection"
        );
        assert_eq!(b.admit(&new, Direction::Outbound, t0), Ok(()), "we dial it");
        b.set_pending_handshakes(1);
        assert_eq!(b.admit(&new, Direction::Inbound, t0), Ok(()));
    }

    #[test]
    fn total_limit() {
        let limits = Limits {
            max_total: 1,
            ..Limits::default()
        };
        let mut b = book(limits);
        b.opened(peer(), Direction::Inbound);
        assert_eq!(
            b.admit(&peer(), Direction::Outbound, Instant::now()),
            Err(Refusal::TotalLimit { limit: 1 })
        );
    }
}
