//! Bans, automatic bans after repeated failures, and connection limits.

use std::time::Duration;

use simnet::protocol::{
    peers::{Limits, Refusal},
    Event, HandshakeState, Misbehaviour, NodeConfig,
};

use crate::util::{connect, LoopbackNode};

#[tokio::test]
async fn banned_peer_is_disconnected_refused_and_readmitted_after_expiry() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;

    let ban = Duration::from_millis(1200);
    b.handle
        .ban(a.peer_id(), "test ban", Some(ban))
        .await
        .unwrap();
    let peer = a.peer_id();
    b.wait_disconnected(peer).await;

    // While banned, a new connection is refused.
    a.handle.dial(b.address.clone()).await.unwrap();
    let refused = b.wait_refused().await;
    assert_eq!(
        refused,
        Event::ConnectionRefused {
            peer: Some(a.peer_id()),
            direction: simnet::protocol::peers::Direction::Inbound,
            reason: Refusal::Banned {
                reason: "test ban".into()
            },
        }
    );

    // The ban lapses by itself and the peer may verify again.
    b.wait_for(
        "the ban to lapse",
        |e| matches!(e, Event::Unbanned { peer: p, expired: true } if *p == peer),
    )
    .await;
    assert!(b.handle.state().await.unwrap().bans.is_empty());
    connect(&mut a, &mut b).await;
}

#[tokio::test]
async fn repeated_invalid_handshakes_lead_to_a_ban() {
    let mut honest = LoopbackNode::start(NodeConfig::default()).await;
    let forger = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::ForgeSignature,
        ..NodeConfig::default()
    })
    .await;
    let peer = forger.peer_id();
    for attempt in 1..=3 {
        forger.handle.dial(honest.address.clone()).await.unwrap();
        honest.wait_handshake(peer, HandshakeState::Failed).await;
        honest.wait_disconnected(peer).await;
        let banned = honest
            .handle
            .state()
            .await
            .unwrap()
            .bans
            .contains_key(&peer);
        assert_eq!(banned, attempt == 3, "attempt {attempt}");
    }
    let ban = honest
        .seen
        .iter()
        .find(|e| matches!(e, Event::Banned { .. }))
        .cloned();
    assert_eq!(
        ban,
        Some(Event::Banned {
            peer,
            reason: "3 failed handshakes".into(),
            duration: Some(Duration::from_secs(300)),
        })
    );
    forger.handle.dial(honest.address.clone()).await.unwrap();
    honest
        .wait_for("the refusal", |e| {
            matches!(
                e,
                Event::ConnectionRefused {
                    reason: Refusal::Banned { .. },
                    ..
                }
            )
        })
        .await;
}

#[tokio::test]
async fn inbound_connection_limit_is_enforced() {
    let mut limited = LoopbackNode::start(NodeConfig {
        limits: Limits {
            max_inbound: 1,
            ..Limits::default()
        },
        ..NodeConfig::default()
    })
    .await;
    let mut first = LoopbackNode::start(NodeConfig::default()).await;
    let second = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut first, &mut limited).await;
    second.handle.dial(limited.address.clone()).await.unwrap();
    let refused = limited.wait_refused().await;
    assert_eq!(
        refused,
        Event::ConnectionRefused {
            peer: Some(second.peer_id()),
            direction: simnet::protocol::peers::Direction::Inbound,
            reason: Refusal::InboundLimit { limit: 1 },
        }
    );
    let state = limited.handle.state().await.unwrap();
    assert_eq!(state.verified_peers(), [first.peer_id()]);
    assert_eq!(state.counters.refused_connections, 1);
}

#[tokio::test]
async fn per_peer_limit_is_enforced() {
    let mut limited = LoopbackNode::start(NodeConfig {
        limits: Limits {
            max_per_peer: 2,
            ..Limits::default()
        },
        ..NodeConfig::default()
    })
    .await;
    // A peer that never handshakes keeps its session pending, so connections
    // to it add up (a verified peer's new connection replaces its older
    // ones instead).
    let other = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::SilentHandshake,
        ..NodeConfig::default()
    })
    .await;
    let peer = other.peer_id();
    // Two connections are within the limit, a third exceeds it.
    for nth in ["the first connection", "the second connection"] {
        limited.handle.dial(other.address.clone()).await.unwrap();
        limited
            .wait_for(
                nth,
                |e| matches!(e, Event::ConnectionEstablished { peer: p, .. } if *p == peer),
            )
            .await;
    }
    limited.handle.dial(other.address.clone()).await.unwrap();
    let refused = limited.wait_refused().await;
    assert!(
        matches!(
            refused,
            Event::ConnectionRefused {
                reason: Refusal::PerPeerLimit { limit: 2 },
                ..
            }
        ),
        "{refused:?}"
    );
    // The refusal leaves the two admitted connections open.
    let state = limited.handle.state().await.unwrap();
    assert_eq!(state.peers[&peer].connections, 2, "{state:?}");
}

#[tokio::test]
async fn a_verified_peer_that_dials_again_replaces_its_older_connection() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;
    // b's new connection on a verified session closes the one a holds:
    // one connection per peer, and the session stays verified.
    b.handle.dial(a.address.clone()).await.unwrap();
    let peer = b.peer_id();
    a.wait_for(
        "the older connection closed",
        |e| matches!(e, Event::ConnectionClosed { peer: p, remaining: 1, .. } if *p == peer),
    )
    .await;
    let state = a.handle.state().await.unwrap();
    assert_eq!(state.peers[&peer].connections, 1, "{state:?}");
    assert_eq!(state.peers[&peer].handshake, HandshakeState::Verified);
}

/// A request already read from the connection when its sender is banned
/// (it races the disconnect) is answered 423 and never reaches the
/// application. The race is made certain by backpressure: the banning node's
/// application stops reading events, so the node stops reading the network
/// while the request is queued inside the swarm, and takes the ban command
/// first.
#[tokio::test]
async fn a_request_racing_the_ban_is_answered_423() {
    let config = NodeConfig {
        event_buffer: 2,
        ..NodeConfig::default()
    };
    let mut a = LoopbackNode::start(config).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut b, &mut a).await;
    a.drain_for(Duration::from_millis(200)).await;

    // Fill `a`'s event channel and queue without reading them: bans of
    // peers that do not exist cost no network.
    for _ in 0..6 {
        let stranger = simnet::protocol::NodeKeys::generate().peer_id();
        a.handle.ban(stranger, "filler", None).await.unwrap();
    }
    let request = simnet::protocol::InstanceMessageRequest {
        protocol: "test/race".into(),
        payload: b"racing the ban".to_vec().into(),
        metadata: None,
    };
    b.handle.send(a.peer_id(), request).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.handle
        .ban(b.peer_id(), "banned mid-request", None)
        .await
        .unwrap();

    let peer = b.peer_id();
    let answered = a
        .wait_for("the racing request's answer", |e| {
            matches!(e, Event::RequestRejected { peer: p, .. } | Event::Request { peer: p, .. } if *p == peer)
        })
        .await;
    assert_eq!(
        answered,
        Event::RequestRejected {
            peer,
            code: simnet::protocol::codes::BANNED
        }
    );
}
