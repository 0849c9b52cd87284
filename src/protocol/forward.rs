//! The `NetworkBehaviour` methods a wrapping behaviour passes to its `inner`
//! unchanged, written once for every wrapper ([`super::instance`],
//! [`super::gossip_links`], [`super::after_verification`],
//! [`super::delayed_start`]).

/// Expands, inside `impl NetworkBehaviour for W`, to the two
/// pending-connection methods and `on_connection_handler_event`, each
/// calling the same method of `self.inner`.
macro_rules! forward_unchanged {
    () => {
        fn handle_pending_inbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            local_addr: &::libp2p::Multiaddr,
            remote_addr: &::libp2p::Multiaddr,
        ) -> Result<(), ::libp2p::swarm::ConnectionDenied> {
            self.inner
                .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
        }

        fn handle_pending_outbound_connection(
            &mut self,
            connection_id: ::libp2p::swarm::ConnectionId,
            maybe_peer: Option<::libp2p::PeerId>,
            addresses: &[::libp2p::Multiaddr],
            effective_role: ::libp2p::core::Endpoint,
        ) -> Result<Vec<::libp2p::Multiaddr>, ::libp2p::swarm::ConnectionDenied> {
            self.inner.handle_pending_outbound_connection(
                connection_id,
                maybe_peer,
                addresses,
                effective_role,
            )
        }

        fn on_connection_handler_event(
            &mut self,
            peer_id: ::libp2p::PeerId,
            connection_id: ::libp2p::swarm::ConnectionId,
            event: ::libp2p::swarm::THandlerOutEvent<Self>,
        ) {
            self.inner
                .on_connection_handler_event(peer_id, connection_id, event);
        }
    };
}

pub(crate) use forward_unchanged;

/// Expands, inside `impl<H: ConnectionHandler> ConnectionHandler for W<H>`
/// (a wrapper with field `inner: H`), to the stream types of `H` and the
/// methods a wrapping handler passes to `inner` unchanged: everything but
/// `poll`, `on_behaviour_event` and the two behaviour-facing types.
macro_rules! forward_handler_unchanged {
    () => {
        type InboundProtocol = H::InboundProtocol;
        type OutboundProtocol = H::OutboundProtocol;
        type InboundOpenInfo = H::InboundOpenInfo;
        type OutboundOpenInfo = H::OutboundOpenInfo;

        fn listen_protocol(
            &self,
        ) -> ::libp2p::swarm::SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
            self.inner.listen_protocol()
        }

        fn connection_keep_alive(&self) -> bool {
            self.inner.connection_keep_alive()
        }

        fn poll_close(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<Option<Self::ToBehaviour>> {
            self.inner.poll_close(cx)
        }

        fn on_connection_event(
            &mut self,
            event: ::libp2p::swarm::handler::ConnectionEvent<
                Self::InboundProtocol,
                Self::OutboundProtocol,
                Self::InboundOpenInfo,
                Self::OutboundOpenInfo,
            >,
        ) {
            self.inner.on_connection_event(event);
        }
    };
}

pub(crate) use forward_handler_unchanged;
