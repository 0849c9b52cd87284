//! The instance messages' request-response behaviour, wrapped so that each
//! connection's codec knows its peer (see [`super::admission`]): the
//! wrapper binds the peer while request-response builds the connection's
//! handler, and otherwise forwards every call unchanged.

use std::{
    ops::{Deref, DerefMut},
    task::{Context, Poll},
};

use libp2p::{
    core::{transport::PortUse, Endpoint},
    request_response,
    swarm::{
        ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
        ToSwarm,
    },
    Multiaddr, PeerId,
};

use super::{
    admission::Admission,
    codec::Codec,
    forward::forward_unchanged,
    wire::{InstanceMessageRequest, InstanceMessageResponse},
};

type Inner = request_response::Behaviour<Codec<InstanceMessageRequest, InstanceMessageResponse>>;

/// Direct messages between verified peers: request-response whose codecs
/// refuse large frames from peers that are not verified.
pub struct Instance {
    inner: Inner,
    admission: Admission,
}

impl Instance {
    /// Wraps `inner`, whose codec was built with the same `admission`.
    pub fn new(inner: Inner, admission: Admission) -> Self {
        Self { inner, admission }
    }
}

impl Deref for Instance {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl DerefMut for Instance {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.inner
    }
}

impl NetworkBehaviour for Instance {
    type ConnectionHandler = <Inner as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = <Inner as NetworkBehaviour>::ToSwarm;

    forward_unchanged!();

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let _bound = self.admission.bind(peer);
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
        let _bound = self.admission.bind(peer);
        self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event);
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}
