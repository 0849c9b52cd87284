//! A behaviour whose connection handlers stay idle until the connection's
//! peer is verified.
//!
//! libp2p's identify opens a stream and sends our listen addresses, agent and
//! protocols the moment a connection is established, before the handshake
//! has said who is on the other side. Nothing it tells us is used before the
//! peer verifies (the [`super::gate::Gate`] holds an unverified peer's
//! addresses until then), so that exchange is work, and information given
//! away, for a peer that may never verify; and on a new connection it
//! competes with the handshake for the same round trips. Wrapped here, each
//! connection's handler is built as usual but not polled until the node
//! reports the peer verified ([`AfterVerification::verified`]); a connection
//! to a peer that is verified already starts awake. A stream the peer opens
//! meanwhile is accepted and answered once the handler wakes.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    ops::{Deref, DerefMut},
    task::{Context, Poll, Waker},
};

use libp2p::{
    core::{transport::PortUse, Endpoint},
    swarm::{
        ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
        NetworkBehaviour, NotifyHandler, THandler, THandlerInEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};

use super::{
    admission::Admission,
    forward::{forward_handler_unchanged, forward_unchanged},
};

/// `B`, with each connection's handler idle until its peer is verified.
pub struct AfterVerification<B> {
    inner: B,
    admission: Admission,
    connections: BTreeMap<PeerId, BTreeSet<ConnectionId>>,
    wake: VecDeque<(PeerId, ConnectionId)>,
    waker: Option<Waker>,
}

impl<B> AfterVerification<B> {
    /// Wraps `inner`; a connection to a peer `admission` lists as verified
    /// starts awake.
    pub fn new(inner: B, admission: Admission) -> Self {
        Self {
            inner,
            admission,
            connections: BTreeMap::new(),
            wake: VecDeque::new(),
            waker: None,
        }
    }

    /// `peer` is verified: wakes the handlers of its open connections.
    /// Waking an awake handler does nothing.
    pub fn verified(&mut self, peer: PeerId) {
        let Some(connections) = self.connections.get(&peer) else {
            return;
        };
        self.wake
            .extend(connections.iter().map(|connection| (peer, *connection)));
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl<B> Deref for AfterVerification<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.inner
    }
}

impl<B> DerefMut for AfterVerification<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<B: NetworkBehaviour> NetworkBehaviour for AfterVerification<B> {
    type ConnectionHandler = Dormant<THandler<B>>;
    type ToSwarm = B::ToSwarm;

    forward_unchanged!();

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let handler = self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )?;
        Ok(Dormant::new(handler, self.admission.is_verified(&peer)))
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let handler = self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )?;
        Ok(Dormant::new(handler, self.admission.is_verified(&peer)))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match &event {
            FromSwarm::ConnectionEstablished(e) => {
                self.connections
                    .entry(e.peer_id)
                    .or_default()
                    .insert(e.connection_id);
            }
            FromSwarm::ConnectionClosed(e) => {
                if let Some(connections) = self.connections.get_mut(&e.peer_id) {
                    connections.remove(&e.connection_id);
                    if connections.is_empty() {
                        self.connections.remove(&e.peer_id);
                    }
                }
            }
            _ => {}
        }
        self.inner.on_swarm_event(event);
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        while let Some((peer_id, connection)) = self.wake.pop_front() {
            // The connection may have closed since it was queued.
            if self
                .connections
                .get(&peer_id)
                .is_some_and(|open| open.contains(&connection))
            {
                return Poll::Ready(ToSwarm::NotifyHandler {
                    peer_id,
                    handler: NotifyHandler::One(connection),
                    event: Wakeable::Wake,
                });
            }
        }
        self.waker = Some(cx.waker().clone());
        self.inner
            .poll(cx)
            .map(|event| event.map_in(Wakeable::Inner))
    }
}

/// What the behaviour tells a [`Dormant`] handler.
#[derive(Debug)]
pub enum Wakeable<E> {
    /// The peer is verified: start.
    Wake,
    /// For the wrapped handler.
    Inner(E),
}

/// A connection handler that is not polled until it is woken. It still
/// accepts the peer's streams and takes every connection event, so nothing
/// is lost while it sleeps; the work they start waits for the wake.
pub struct Dormant<H> {
    inner: H,
    awake: bool,
}

impl<H> Dormant<H> {
    fn new(inner: H, awake: bool) -> Self {
        Self { inner, awake }
    }
}

impl<H: ConnectionHandler> ConnectionHandler for Dormant<H> {
    type FromBehaviour = Wakeable<H::FromBehaviour>;
    type ToBehaviour = H::ToBehaviour;

    forward_handler_unchanged!();

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<
        ConnectionHandlerEvent<Self::OutboundProtocol, Self::OutboundOpenInfo, Self::ToBehaviour>,
    > {
        if !self.awake {
            // Woken by `on_behaviour_event`, after which the connection
            // polls its handler again.
            return Poll::Pending;
        }
        self.inner.poll(cx)
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        match event {
            Wakeable::Wake => self.awake = true,
            Wakeable::Inner(event) => self.inner.on_behaviour_event(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll};

    use futures::task::noop_waker_ref;
    use libp2p::{
        core::ConnectedPoint,
        swarm::{
            behaviour::{ConnectionClosed, ConnectionEstablished},
            dummy,
        },
    };

    use super::*;
    use crate::protocol::test_handler::TestHandler;

    fn poll_handler(handler: &mut Dormant<TestHandler>) {
        let _ = handler.poll(&mut Context::from_waker(noop_waker_ref()));
    }

    #[test]
    fn a_handler_is_not_polled_until_woken() {
        let mut handler = Dormant::new(TestHandler::default(), false);
        poll_handler(&mut handler);
        poll_handler(&mut handler);
        assert_eq!(handler.inner.polls, 0);
        handler.on_behaviour_event(Wakeable::Wake);
        poll_handler(&mut handler);
        assert_eq!(handler.inner.polls, 1);
    }

    fn listener() -> ConnectedPoint {
        ConnectedPoint::Listener {
            local_addr: "/ip4/127.0.0.1/tcp/1".parse().expect("address"),
            send_back_addr: "/ip4/127.0.0.1/tcp/2".parse().expect("address"),
        }
    }

    fn accept(
        behaviour: &mut AfterVerification<dummy::Behaviour>,
        peer: PeerId,
        id: usize,
    ) -> bool {
        let connection_id = ConnectionId::new_unchecked(id);
        let endpoint = listener();
        let handler = behaviour
            .handle_established_inbound_connection(
                connection_id,
                peer,
                endpoint.get_remote_address(),
                endpoint.get_remote_address(),
            )
            .expect("accepted");
        behaviour.on_swarm_event(FromSwarm::ConnectionEstablished(ConnectionEstablished {
            peer_id: peer,
            connection_id,
            endpoint: &endpoint,
            failed_addresses: &[],
            other_established: 0,
        }));
        handler.awake
    }

    /// The connections the behaviour's next polls wake, in order.
    fn woken(behaviour: &mut AfterVerification<dummy::Behaviour>) -> Vec<ConnectionId> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut woken = Vec::new();
        while let Poll::Ready(ToSwarm::NotifyHandler {
            handler: NotifyHandler::One(connection),
            event: Wakeable::Wake,
            ..
        }) = behaviour.poll(&mut cx)
        {
            woken.push(connection);
        }
        woken
    }

    #[test]
    fn a_connection_sleeps_until_its_peer_is_verified_unless_it_already_is() {
        let admission = Admission::default();
        let mut behaviour = AfterVerification::new(dummy::Behaviour, admission.clone());
        let (stranger, known) = (PeerId::random(), PeerId::random());
        admission.verified(known);
        assert!(!accept(&mut behaviour, stranger, 1));
        assert!(!accept(&mut behaviour, stranger, 2));
        assert!(accept(&mut behaviour, known, 3));
        assert!(woken(&mut behaviour).is_empty());

        behaviour.verified(stranger);
        assert_eq!(
            woken(&mut behaviour),
            [
                ConnectionId::new_unchecked(1),
                ConnectionId::new_unchecked(2)
            ]
        );
    }

    #[test]
    fn a_connection_closed_before_its_wake_is_not_notified() {
        let mut behaviour = AfterVerification::new(dummy::Behaviour, Admission::default());
        let peer = PeerId::random();
        accept(&mut behaviour, peer, 1);
        behaviour.verified(peer);
        behaviour.on_swarm_event(FromSwarm::ConnectionClosed(ConnectionClosed {
            peer_id: peer,
            connection_id: ConnectionId::new_unchecked(1),
            endpoint: &listener(),
            cause: None,
            remaining_established: 0,
        }));
        assert!(woken(&mut behaviour).is_empty());
        behaviour.verified(peer);
        assert!(woken(&mut behaviour).is_empty(), "no connection is left");
    }
}
