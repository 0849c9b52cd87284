//! A `NetworkBehaviour` that admits or refuses connections according to the
//! [`PeerBook`]: banned peers and connections over a limit are refused when
//! they are established, before any other behaviour sees them.
//!
//! It comes first in [`super::behaviour::Behaviour`], so a refusal stops the
//! connection before the handshake, request-response or gossipsub get a
//! handler for it. It also remembers peers' dialable addresses, so that a send
//! which lost its connection can redial by peer id.

use std::{
    collections::BTreeMap,
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

/// Connection admission by bans and limits.
pub struct Gate {
    book: PeerBook,
    addresses: BTreeMap<PeerId, Vec<Multiaddr>>,
}

impl Gate {
    /// A gate over `book`.
    pub fn new(book: PeerBook) -> Self {
        Self {
            book,
            addresses: BTreeMap::new(),
        }
    }

    /// Remembers a dialable address of `peer` (bounded, most recent kept).
    pub fn add_address(&mut self, peer: PeerId, address: Multiaddr) {
        let known = self.addresses.entry(peer).or_default();
        if !known.contains(&address) {
            if known.len() == MAX_ADDRESSES_PER_PEER {
                known.remove(0);
            }
            known.push(address);
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
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
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
            FromSwarm::ConnectionClosed(e) => {
                self.book.closed(&e.peer_id, direction_of(e.endpoint));
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
