//! A `NetworkBehaviour` that admits or refuses connections according to the
//! [`PeerBook`]: banned peers and connections over a limit are refused when
//! they are established, before any other behaviour sees them.
//!
//! It comes first in [`super::behaviour::Behaviour`], so a refusal stops the
//! connection before the handshake, request-response or gossipsub get a
//! handler for it. It also remembers peers' dialable addresses, so that a send
//! which lost its connection can redial by peer id: the addresses we dialed,
//! and those a peer announces through identify once it has verified (an
//! unverified peer's are held only while it is connected). The address book
//! is bounded: beyond [`MAX_PEERS_WITH_ADDRESSES`] peers, the least recently
//! added peer that is not connected is forgotten.

use std::{
    collections::{BTreeMap, BTreeSet},
    task::{Context, Poll},
};

use libp2p::{
    core::{transport::PortUse, ConnectedPoint, Endpoint},
    swarm::{
        dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
        THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};
use tokio::time::Instant;

use super::peers::{Ban, Direction, PeerBook};

/// Most addresses remembered per peer.
const MAX_ADDRESSES_PER_PEER: usize = 8;

/// Most peers whose addresses are remembered.
pub const MAX_PEERS_WITH_ADDRESSES: usize = 1024;

/// Connection admission by bans and limits.
pub struct Gate {
    book: PeerBook,
    addresses: BTreeMap<PeerId, Vec<Multiaddr>>,
    /// When each peer of `addresses` last gained one: the eviction order.
    added: BTreeMap<PeerId, u64>,
    next_added: u64,
    /// Addresses announced by connected peers that are not verified yet.
    unconfirmed: BTreeMap<PeerId, Vec<Multiaddr>>,
    /// Inbound connections in the transport upgrade, before a peer id.
    pending_inbound: BTreeSet<ConnectionId>,
    max_pending_inbound: u32,
}

impl Gate {
    /// A gate over `book`; at most `max_pending_inbound` inbound connections
    /// may be in the transport upgrade at once.
    pub fn new(book: PeerBook, max_pending_inbound: u32) -> Self {
        Self {
            book,
            pending_inbound: BTreeSet::new(),
            max_pending_inbound,
            addresses: BTreeMap::new(),
            added: BTreeMap::new(),
            next_added: 0,
            unconfirmed: BTreeMap::new(),
        }
    }

    /// Takes the addresses `peer` announced (identify): kept at once if it is
    /// `verified`, else held until [`Self::confirm_addresses`] or until its
    /// last connection closes, so that an unverified peer cannot fill the
    /// address book or point our redials at third parties.
    pub fn announced(&mut self, peer: PeerId, addresses: Vec<Multiaddr>, verified: bool) {
        if verified {
            for address in addresses {
                self.add_address(peer, address);
            }
            return;
        }
        let held = self.unconfirmed.entry(peer).or_default();
        for address in addresses {
            if held.len() < MAX_ADDRESSES_PER_PEER && !held.contains(&address) {
                held.push(address);
            }
        }
    }

    /// `peer` verified: keeps the addresses it announced before.
    pub fn confirm_addresses(&mut self, peer: &PeerId) {
        for address in self.unconfirmed.remove(peer).unwrap_or_default() {
            self.add_address(*peer, address);
        }
    }

    /// Records that `peer` just gained an address, and forgets the least
    /// recently added peer that is not connected if the book is over its bound.
    fn touch(&mut self, peer: PeerId) {
        self.added.insert(peer, self.next_added);
        self.next_added += 1;
        if self.addresses.len() <= MAX_PEERS_WITH_ADDRESSES {
            return;
        }
        let stale = self
            .added
            .iter()
            .filter(|(p, _)| **p != peer && self.book.connections_with(p) == 0)
            .min_by_key(|(_, at)| **at)
            .map(|(p, _)| *p);
        if let Some(stale) = stale {
            self.addresses.remove(&stale);
            self.added.remove(&stale);
        }
    }

    /// Remembers a dialable address of `peer` (bounded, most recent kept).
    ///
    /// Kept in the form identify gives the swarm (ending in `/p2p/<peer>`):
    /// the swarm merges the addresses of all behaviours for a dial but drops
    /// only exact duplicates, so one socket stored in two forms was dialed
    /// twice per redial (the review's M6). An address naming another peer is
    /// not this peer's and is ignored.
    pub fn add_address(&mut self, peer: PeerId, address: Multiaddr) {
        let Ok(address) = address.with_p2p(peer) else {
            return;
        };
        let known = self.addresses.entry(peer).or_default();
        if !known.contains(&address) {
            if known.len() == MAX_ADDRESSES_PER_PEER {
                known.remove(0);
            }
            known.push(address);
            self.touch(peer);
        }
    }

    /// Whether any address of `peer` is known.
    pub fn knows_address(&self, peer: &PeerId) -> bool {
        self.addresses.get(peer).is_some_and(|a| !a.is_empty())
    }

    /// Bans `peer` until `until` (for good if `None`).
    pub(crate) fn ban(&mut self, peer: PeerId, reason: String, until: Option<Instant>) {
        self.book.ban(peer, reason, until);
    }

    /// Lifts the ban on `peer`; returns whether there was one.
    pub(crate) fn unban(&mut self, peer: &PeerId) -> bool {
        self.book.unban(peer)
    }

    /// Counts a ban-worthy handshake failure of `peer`; returns the ban it
    /// caused, if the count reached the threshold.
    pub(crate) fn record_failure(&mut self, peer: PeerId, now: Instant) -> Option<Ban> {
        self.book.record_failure(peer, now)
    }

    /// Removes and returns the peers whose bans have lapsed by `now`.
    pub(crate) fn take_expired_bans(&mut self, now: Instant) -> Vec<PeerId> {
        self.book.take_expired(now)
    }

    /// The earliest moment a ban lapses.
    pub(crate) fn next_ban_expiry(&self) -> Option<Instant> {
        self.book.next_expiry()
    }

    /// Bans in force at `now`, by peer.
    pub(crate) fn active_bans(&self, now: Instant) -> impl Iterator<Item = (&PeerId, &Ban)> {
        self.book
            .bans()
            .filter(move |(peer, _)| self.is_banned(peer, now))
    }

    /// Whether `peer` is banned at `now`.
    pub(crate) fn is_banned(&self, peer: &PeerId, now: Instant) -> bool {
        self.book.ban_of(peer, now).is_some()
    }

    /// Open connections with `peer`.
    pub(crate) fn connections_with(&self, peer: &PeerId) -> u32 {
        self.book.connections_with(peer)
    }

    /// Tells the gate how many inbound handshakes are pending and cannot be
    /// displaced, for the limit on pending handshakes.
    pub(crate) fn set_pending_handshakes(&mut self, count: u32) {
        self.book.set_pending_handshakes(count);
    }

    fn admit(&self, peer: PeerId, direction: Direction) -> Result<(), ConnectionDenied> {
        self.book
            .admit(&peer, direction, Instant::now())
            .map_err(ConnectionDenied::new)
    }
}

fn direction_of(endpoint: &ConnectedPoint) -> Direction {
    match endpoint {
        ConnectedPoint::Dialer { .. } => Direction::Outbound,
        ConnectedPoint::Listener { .. } => Direction::Inbound,
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        if self.pending_inbound.len() >= self.max_pending_inbound as usize {
            return Err(ConnectionDenied::new(
                super::peers::Refusal::PendingConnectionLimit {
                    limit: self.max_pending_inbound,
                },
            ));
        }
        self.pending_inbound.insert(connection_id);
        Ok(())
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        let Some(peer) = peer else {
            return Ok(Vec::new());
        };
        if let Some(ban) = self.book.ban_of(&peer, Instant::now()) {
            return Err(ConnectionDenied::new(super::peers::Refusal::Banned {
                reason: ban.reason.clone(),
            }));
        }
        Ok(self.addresses.get(&peer).cloned().unwrap_or_default())
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.pending_inbound.remove(&connection_id);
        self.admit(peer, Direction::Inbound)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.admit(peer, Direction::Outbound)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                if let ConnectedPoint::Dialer { address, .. } = e.endpoint {
                    self.add_address(e.peer_id, address.clone());
                }
                self.book.opened(e.peer_id, direction_of(e.endpoint));
            }
            // The upgrade of an inbound connection failed (or a behaviour
            // refused it).
            FromSwarm::ListenFailure(e) => {
                self.pending_inbound.remove(&e.connection_id);
            }
            FromSwarm::ConnectionClosed(e) => {
                self.book.closed(&e.peer_id, direction_of(e.endpoint));
                if e.remaining_established == 0 {
                    self.unconfirmed.remove(&e.peer_id);
                }
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::peers::{BanPolicy, Limits};

    fn gate() -> Gate {
        Gate::new(PeerBook::new(Limits::default(), BanPolicy::default()), 2)
    }

    #[test]
    fn inbound_connections_in_the_upgrade_are_bounded() {
        let mut g = gate();
        let (local, remote) = (address(1), address(2));
        let id = ConnectionId::new_unchecked;
        assert!(g
            .handle_pending_inbound_connection(id(1), &local, &remote)
            .is_ok());
        assert!(g
            .handle_pending_inbound_connection(id(2), &local, &remote)
            .is_ok());
        let refused = g
            .handle_pending_inbound_connection(id(3), &local, &remote)
            .expect_err("over the limit");
        assert_eq!(
            refused.downcast::<super::super::peers::Refusal>().ok(),
            Some(super::super::peers::Refusal::PendingConnectionLimit { limit: 2 })
        );
        // One completes its upgrade: a slot frees.
        let peer = PeerId::random();
        assert!(g
            .handle_established_inbound_connection(id(1), peer, &local, &remote)
            .is_ok());
        assert!(g
            .handle_pending_inbound_connection(id(4), &local, &remote)
            .is_ok());
        // Another one's upgrade fails: its slot frees too.
        let error = libp2p::swarm::ListenError::Aborted;
        g.on_swarm_event(FromSwarm::ListenFailure(libp2p::swarm::ListenFailure {
            local_addr: &local,
            send_back_addr: &remote,
            error: &error,
            connection_id: id(2),
            peer_id: None,
        }));
        assert!(g
            .handle_pending_inbound_connection(id(5), &local, &remote)
            .is_ok());
        assert!(g
            .handle_pending_inbound_connection(id(6), &local, &remote)
            .is_err());
    }

    fn address(port: u16) -> Multiaddr {
        format!("/ip4/10.0.0.1/tcp/{port}")
            .parse()
            .expect("an address")
    }

    #[test]
    fn an_unverified_peers_addresses_wait_for_its_verification() {
        let mut g = gate();
        let peer = PeerId::random();
        g.announced(peer, vec![address(1), address(2)], false);
        assert!(!g.knows_address(&peer));
        g.confirm_addresses(&peer);
        assert!(g.knows_address(&peer));
        let other = PeerId::random();
        g.announced(other, vec![address(3)], true);
        assert!(g.knows_address(&other));
    }

    #[test]
    fn the_address_book_is_bounded_and_forgets_the_oldest_first() {
        let mut g = gate();
        let first = PeerId::random();
        g.add_address(first, address(1));
        for i in 0..MAX_PEERS_WITH_ADDRESSES + 5 {
            g.add_address(PeerId::random(), address(i as u16));
        }
        assert_eq!(g.addresses.len(), MAX_PEERS_WITH_ADDRESSES);
        assert!(!g.knows_address(&first));
    }
}
