//! simnet nodes (and, with the feature `reference`, blueprint-networking's)
//! on 127.0.0.1, driven through their public API.

use std::time::{Duration, Instant};

use bytes::Bytes;
use libp2p::{Multiaddr, PeerId};
use simnet::{
    implementation::{Implementation, NodeBuilder},
    protocol::{
        loopback, transport, Event, HandshakeState, InstanceMessageRequest, NodeConfig, NodeHandle,
        NodeKeys, Responder, SendId,
    },
};

use super::WAIT;

/// A running node and what is needed to reach it.
pub struct Peer {
    pub handle: NodeHandle,
    pub address: Multiaddr,
    pub id: PeerId,
}

/// Starts a simnet node that answers every request with its payload.
pub async fn start() -> Peer {
    start_on(&NodeBuilder::new(Implementation::Simnet).expect("simnet is always built")).await
}

/// Starts a node built by `builder` (simnet, or the reference
/// implementation) that answers every request with its payload, on
/// 127.0.0.1. Nodes meant to reach each other share one builder.
pub async fn start_on(builder: &NodeBuilder) -> Peer {
    let config = NodeConfig {
        responder: Responder::Echo,
        // Floods of up to 32 requests per benchmark iteration, for minutes.
        requests: simnet::protocol::bounds::RequestBounds {
            rate: u32::MAX,
            window: Duration::from_secs(1),
            max_in_flight: 1024,
            ..simnet::protocol::bounds::RequestBounds::default()
        },
        ..NodeConfig::default()
    };
    let keys = NodeKeys::generate();
    let transport = transport::tcp(&keys.identity).expect("a TCP transport");
    let started = builder
        .start(config, keys, transport, loopback::any_port())
        .expect("a loopback node");
    tokio::spawn(started.run);
    let mut handle = started.handle;
    let address = loopback::wait_listening(&mut handle)
        .await
        .expect("listening");
    Peer {
        id: handle.peer_id(),
        handle,
        address,
    }
}

impl Peer {
    /// The next event that matches, or a panic after [`WAIT`].
    pub async fn wait(&mut self, mut pred: impl FnMut(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.handle.next_event()).await {
                Ok(Some(event)) if pred(&event) => return event,
                Ok(Some(_)) => {}
                Ok(None) => panic!("node {} stopped", self.id),
                Err(_) => panic!("node {} waited {WAIT:?} in vain", self.id),
            }
        }
    }

    /// Waits until the handshake with `peer` is `Verified`.
    pub async fn wait_verified(&mut self, peer: PeerId) {
        self.wait(|e| {
            matches!(e, Event::Handshake { peer: p, state: HandshakeState::Verified, .. } if *p == peer)
        })
        .await;
    }

    /// Waits until the handshakes with all of `peers` are `Verified`, in any order.
    pub async fn wait_verified_all(&mut self, peers: &[PeerId]) {
        let mut left: Vec<PeerId> = peers.to_vec();
        while !left.is_empty() {
            if let Event::Handshake { peer, .. } = self
                .wait(|e| matches!(e, Event::Handshake { peer, state: HandshakeState::Verified, .. } if left.contains(peer)))
                .await
            {
                left.retain(|p| *p != peer);
            }
        }
    }

    /// Waits until the last connections with all of `peers` have closed.
    pub async fn wait_closed_all(&mut self, peers: &[PeerId]) {
        let mut left: Vec<PeerId> = peers.to_vec();
        while !left.is_empty() {
            if let Event::ConnectionClosed { peer, .. } = self
                .wait(|e| matches!(e, Event::ConnectionClosed { peer, remaining: 0, .. } if left.contains(peer)))
                .await
            {
                left.retain(|p| *p != peer);
            }
        }
    }

    /// Waits until the last connection with `peer` has closed.
    pub async fn wait_closed(&mut self, peer: PeerId) {
        self.wait(
            |e| matches!(e, Event::ConnectionClosed { peer: p, remaining: 0, .. } if *p == peer),
        )
        .await;
    }
}

/// `a` dials `b`; returns when both have verified.
pub async fn connect(a: &mut Peer, b: &mut Peer) {
    a.handle.dial(b.address.clone()).await.expect("dial");
    a.wait_verified(b.id).await;
    b.wait_verified(a.id).await;
}

/// Every one of `dialers` dials `listener`; returns the time until every
/// side has verified, then disconnects them (untimed).
pub async fn verify_all(dialers: &mut [Peer], listener: &mut Peer) -> Duration {
    let ids: Vec<PeerId> = dialers.iter().map(|d| d.id).collect();
    let started = Instant::now();
    for d in dialers.iter() {
        d.handle.dial(listener.address.clone()).await.expect("dial");
    }
    for d in dialers.iter_mut() {
        d.wait_verified(listener.id).await;
    }
    listener.wait_verified_all(&ids).await;
    let took = started.elapsed();
    for d in dialers.iter_mut() {
        d.handle.disconnect(listener.id).await.expect("disconnect");
        d.wait_closed(listener.id).await;
    }
    listener.wait_closed_all(&ids).await;
    took
}

/// Submits `count` requests with `payload` from `a` to `to` at once (each
/// without waiting for the node, as the baseline's orders) and waits for
/// every answer.
pub async fn requests(a: &mut Peer, to: PeerId, payload: &Bytes, count: usize) {
    let mut pending: Vec<SendId> = Vec::with_capacity(count);
    for _ in 0..count {
        let request = InstanceMessageRequest {
            protocol: "bench".into(),
            payload: payload.clone(),
            metadata: None,
        };
        pending.push(a.handle.submit(to, request).await.expect("node running"));
    }
    while !pending.is_empty() {
        let event = a.wait(|e| matches!(e, Event::SendOutcome { .. })).await;
        if let Event::SendOutcome { id, result, .. } = event {
            assert!(result.is_ok(), "send failed: {result:?}");
            pending.retain(|p| *p != id);
        }
    }
}

/// Publishes `count` messages from `publisher` and waits until each of
/// `subscribers` has received all of them.
pub async fn broadcast(publisher: &Peer, subscribers: &mut [Peer], topic: &str, count: usize) {
    for i in 0..count {
        publisher
            .handle
            .broadcast(topic, format!("message {i}").into_bytes())
            .await
            .expect("publish");
    }
    for (index, subscriber) in subscribers.iter_mut().enumerate() {
        for received in 0..count {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                match tokio::time::timeout_at(deadline, subscriber.handle.next_event()).await {
                    Ok(Some(Event::Broadcast { .. })) => break,
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("subscriber {index} stopped"),
                    Err(_) => {
                        let counters = subscriber.handle.state().await.map(|s| s.counters);
                        panic!(
                            "subscriber {index} received {received} of {count} broadcasts in {WAIT:?}; its counters: {counters:?}"
                        )
                    }
                }
            }
        }
    }
}

/// A publisher with `n` verified subscribers on `topic`, every subscription
/// known to the publisher.
pub async fn star(n: usize, topic: &str) -> (Peer, Vec<Peer>) {
    let mut publisher = start().await;
    publisher.handle.subscribe(topic).await.expect("subscribe");
    let mut subscribers = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = start().await;
        connect(&mut s, &mut publisher).await;
        subscribers.push(s);
    }
    // Only now: a Subscribed event must not be skipped by a wait above.
    for s in &subscribers {
        s.handle.subscribe(topic).await.expect("subscribe");
    }
    for _ in 0..n {
        publisher
            .wait(|e| matches!(e, Event::Subscribed { .. }))
            .await;
    }
    (publisher, subscribers)
}

/// Reads and drops a node's events from now on (a server nobody watches,
/// which must not stall on a full event queue); returns its control.
pub fn serve_in_background(peer: Peer) -> simnet::protocol::Control {
    let Peer { mut handle, .. } = peer;
    let control = handle.control.clone();
    tokio::spawn(async move { while handle.next_event().await.is_some() {} });
    control
}
