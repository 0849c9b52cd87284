//! A connection handler for the wrappers' unit tests: it counts its polls
//! and asks for a given number of outbound streams, one per poll, numbered
//! from 1.

use std::{
    convert::Infallible,
    task::{Context, Poll},
};

use libp2p::{
    core::upgrade::DeniedUpgrade,
    swarm::{
        handler::ConnectionEvent, ConnectionHandler, ConnectionHandlerEvent, SubstreamProtocol,
    },
};

/// Counts polls; the first `requests` polls each ask for a stream.
#[derive(Default)]
pub(crate) struct TestHandler {
    pub(crate) polls: u32,
    pub(crate) requests: u32,
}

impl ConnectionHandler for TestHandler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = u32;

    fn listen_protocol(&self) -> SubstreamProtocol<DeniedUpgrade> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<DeniedUpgrade, u32, Infallible>> {
        self.polls += 1;
        if self.polls > self.requests {
            return Poll::Pending;
        }
        Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
            protocol: SubstreamProtocol::new(DeniedUpgrade, self.polls),
        })
    }

    fn on_behaviour_event(&mut self, event: Infallible) {
        match event {}
    }

    fn on_connection_event(&mut self, _: ConnectionEvent<DeniedUpgrade, DeniedUpgrade, (), u32>) {}
}
