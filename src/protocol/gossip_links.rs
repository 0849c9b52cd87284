//! Gossipsub, told about connections so that a peer's subscriptions are never
//! one-sided after a reconnect.
//!
//! Gossipsub keeps its state per peer but sends its subscriptions (the
//! "hello") only on a peer's *first* connection, and forgets a peer's
//! subscriptions when its *last* connection closes. Two sides of one pair do
//! not always agree on "first" and "last": after a half-open connection, the
//! side that still holds the dead connection sees the peer's redial as a
//! second connection while the peer starts afresh, so the peer never learns
//! this side's topics and cannot publish to it (found by `simnet explore`; the
//! review's H2). This wrapper gives gossipsub every new connection as if it
//! were the first, and announces again on the peer's remaining connection
//! when one of several closes (a hello queued on a connection that died is
//! lost). A repeated subscription is harmless: gossipsub adds a known topic
//! once.

use std::{
    collections::HashMap,
    ops::{Deref, DerefMut},
    task::{Context, Poll},
};

use libp2p::{
    core::{transport::PortUse, ConnectedPoint, Endpoint},
    gossipsub,
    swarm::{
        behaviour::ConnectionEstablished, ConnectionDenied, ConnectionId, FromSwarm,
        NetworkBehaviour, THandler, THandlerInEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};

use super::forward::forward_unchanged;

/// Gossipsub that announces our subscriptions on every connection change.
pub struct GossipLinks {
    inner: gossipsub::Behaviour,
    endpoints: HashMap<ConnectionId, (PeerId, ConnectedPoint)>,
}

impl GossipLinks {
    /// Wraps `inner`.
    pub fn new(inner: gossipsub::Behaviour) -> Self {
        Self {
            inner,
            endpoints: HashMap::new(),
        }
    }

    /// Sends our subscriptions to `peer` again, on one of its connections.
    /// Does nothing if `peer` has none.
    pub fn announce_to(&mut self, peer: &PeerId) {
        let Some((connection_id, endpoint)) = self
            .endpoints
            .iter()
            .filter(|(_, (p, _))| p == peer)
            .min_by_key(|(id, _)| **id)
            .map(|(id, (_, endpoint))| (*id, endpoint.clone()))
        else {
            return;
        };
        self.inner
            .on_swarm_event(FromSwarm::ConnectionEstablished(ConnectionEstablished {
                peer_id: *peer,
                connection_id,
                endpoint: &endpoint,
                failed_addresses: &[],
                other_established: 0,
            }));
    }
}

impl Deref for GossipLinks {
    type Target = gossipsub::Behaviour;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for GossipLinks {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl NetworkBehaviour for GossipLinks {
    type ConnectionHandler = THandler<gossipsub::Behaviour>;
    type ToSwarm = gossipsub::Event;

    forward_unchanged!();

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(established) => {
                self.endpoints.insert(
                    established.connection_id,
                    (established.peer_id, established.endpoint.clone()),
                );
                self.inner.on_swarm_event(FromSwarm::ConnectionEstablished(
                    ConnectionEstablished {
                        other_established: 0,
                        ..established
                    },
                ));
            }
            FromSwarm::ConnectionClosed(closed) => {
                self.endpoints.remove(&closed.connection_id);
                self.inner.on_swarm_event(event);
                if closed.remaining_established > 0 {
                    self.announce_to(&closed.peer_id);
                }
            }
            other => self.inner.on_swarm_event(other),
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}
