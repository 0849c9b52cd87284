//! A behaviour whose connection handlers open no stream of their own until
//! a while after the connection opened.
//!
//! libp2p's ping opens a stream and pings the moment a connection is
//! established. That first ping tells nothing the noise handshake did not
//! just prove (the peer is there), yet on every new connection it costs a
//! stream, a protocol negotiation and a round trip, competing with the
//! handshake for the same connection; with many peers dialing at once it
//! is a good part of the listener's work. Wrapped here, each connection's
//! handler runs as usual (it answers the peer's streams at once) but the
//! streams it asks to open are held until [`DelayedStart::new`]'s `delay`
//! after the connection opened. For ping, with the delay its interval, the
//! first ping goes out one interval after the connection opens, as each
//! later one does; dead-connection detection is unchanged, because it
//! counts silence from the connection's opening (`protocol::liveness`).

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use libp2p::{
    core::{transport::PortUse, Endpoint},
    swarm::{
        ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
        NetworkBehaviour, SubstreamProtocol, THandler, THandlerInEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};
use tokio::time::{Instant, Sleep};

use super::forward::{forward_handler_unchanged, forward_unchanged};

/// `B`, with each connection's outbound streams held for `delay` after the
/// connection opened.
pub struct DelayedStart<B> {
    inner: B,
    delay: Duration,
}

impl<B> DelayedStart<B> {
    /// Wraps `inner`; a connection's handler opens its first stream no
    /// sooner than `delay` after the connection opened.
    pub fn new(inner: B, delay: Duration) -> Self {
        Self { inner, delay }
    }
}

impl<B: NetworkBehaviour> NetworkBehaviour for DelayedStart<B> {
    type ConnectionHandler = Delayed<THandler<B>>;
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
        Ok(Delayed::new(handler, Instant::now() + self.delay))
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
        Ok(Delayed::new(handler, Instant::now() + self.delay))
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

/// A stream request of handler `H`.
type StreamRequest<H> = SubstreamProtocol<
    <H as ConnectionHandler>::OutboundProtocol,
    <H as ConnectionHandler>::OutboundOpenInfo,
>;

/// Until when a [`Delayed`] handler holds its stream requests.
enum Hold {
    /// Until this instant; the timer is made on the first poll, inside the
    /// connection's task.
    Until(Instant),
    /// The timer running.
    Waiting(Pin<Box<Sleep>>),
    /// Over: requests pass at once.
    Released,
}

/// A connection handler whose requests to open streams wait until a given
/// instant and then go out in the order they were made. Everything else
/// (answering the peer's streams, its events) goes on at once.
pub struct Delayed<H: ConnectionHandler> {
    inner: H,
    hold: Hold,
    held: VecDeque<StreamRequest<H>>,
}

impl<H: ConnectionHandler> Delayed<H> {
    fn new(inner: H, until: Instant) -> Self {
        Self {
            inner,
            hold: Hold::Until(until),
            held: VecDeque::new(),
        }
    }

    /// Whether requests are still held at this poll; starts the timer.
    fn holding(&mut self, cx: &mut Context<'_>) -> bool {
        if let Hold::Until(until) = self.hold {
            self.hold = Hold::Waiting(Box::pin(tokio::time::sleep_until(until)));
        }
        if let Hold::Waiting(sleep) = &mut self.hold {
            if sleep.as_mut().poll(cx).is_pending() {
                return true;
            }
            self.hold = Hold::Released;
        }
        false
    }
}

impl<H: ConnectionHandler> ConnectionHandler for Delayed<H> {
    type FromBehaviour = H::FromBehaviour;
    type ToBehaviour = H::ToBehaviour;

    forward_handler_unchanged!();

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<
        ConnectionHandlerEvent<Self::OutboundProtocol, Self::OutboundOpenInfo, Self::ToBehaviour>,
    > {
        let holding = self.holding(cx);
        if !holding {
            if let Some(protocol) = self.held.pop_front() {
                return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol });
            }
        }
        loop {
            match self.inner.poll(cx) {
                Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol })
                    if holding =>
                {
                    self.held.push_back(protocol);
                }
                other => return other,
            }
        }
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        self.inner.on_behaviour_event(event);
    }
}

#[cfg(test)]
mod tests {
    use futures::task::noop_waker_ref;

    use super::*;
    use crate::protocol::test_handler::TestHandler;

    fn asking_twice() -> TestHandler {
        TestHandler {
            requests: 2,
            ..TestHandler::default()
        }
    }

    /// The stream requests one poll lets out (`None` for pending).
    fn poll_once(handler: &mut Delayed<TestHandler>) -> Option<u32> {
        match handler.poll(&mut Context::from_waker(noop_waker_ref())) {
            Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol }) => {
                Some(*protocol.info())
            }
            _ => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stream_requests_wait_for_the_delay_then_leave_in_order() {
        let mut handler = Delayed::new(asking_twice(), Instant::now() + Duration::from_secs(2));
        assert_eq!(poll_once(&mut handler), None, "both requests held");
        assert_eq!(handler.inner.polls, 3, "the handler itself still runs");
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert_eq!(poll_once(&mut handler), None);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(poll_once(&mut handler), Some(1));
        assert_eq!(poll_once(&mut handler), Some(2));
        assert_eq!(poll_once(&mut handler), None);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_delay_requests_pass_at_once() {
        let mut handler = Delayed::new(asking_twice(), Instant::now() + Duration::from_secs(2));
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(poll_once(&mut handler), Some(1));
        assert_eq!(poll_once(&mut handler), Some(2));
    }
}
