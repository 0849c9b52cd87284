//! Mutual authentication over real sockets.

use std::time::Duration;

use simnet::protocol::{
    codes, handshake, Event, HandshakeFailure, HandshakeState, Misbehaviour, NodeConfig,
};

use crate::util::{connect, LoopbackNode};

#[tokio::test]
async fn two_nodes_verify_each_other() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;

    // The dialer goes Connected → OutboundPending → Verified, the listener
    // Connected → InboundPending → Verified, as in the protocol's state diagram.
    use HandshakeState::*;
    assert_eq!(
        a.handshake_states(b.peer_id()),
        [Connected, OutboundPending, Verified]
    );
    assert_eq!(
        b.handshake_states(a.peer_id()),
        [Connected, InboundPending, Verified]
    );
    assert_eq!(a.verified().await, [b.peer_id()]);
    assert_eq!(b.verified().await, [a.peer_id()]);
}

#[tokio::test]
async fn three_nodes_verify_pairwise() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    let mut c = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;
    connect(&mut b, &mut c).await;
    connect(&mut c, &mut a).await;
    for node in [&a, &b, &c] {
        let state = node.handle.state().await.unwrap();
        assert_eq!(state.verified_peers().len(), 2, "{state:#?}");
    }
}

#[tokio::test]
async fn simultaneous_dial_verifies_once_on_each_side() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    let (ra, rb) = tokio::join!(
        a.handle.dial(b.address.clone()),
        b.handle.dial(a.address.clone())
    );
    ra.unwrap();
    rb.unwrap();
    a.wait_handshake(b.peer_id(), HandshakeState::Verified)
        .await;
    b.wait_handshake(a.peer_id(), HandshakeState::Verified)
        .await;
    // Let both crossed handshakes finish; nothing may change afterwards.
    a.drain_for(Duration::from_millis(500)).await;
    b.drain_for(Duration::from_millis(500)).await;
    for (node, peer) in [(&a, b.peer_id()), (&b, a.peer_id())] {
        let states = node.handshake_states(peer);
        assert_eq!(
            states
                .iter()
                .filter(|s| **s == HandshakeState::Verified)
                .count(),
            1,
            "{states:?}"
        );
        assert!(!states.contains(&HandshakeState::Failed), "{states:?}");
    }
    assert_eq!(a.verified().await, [b.peer_id()]);
    assert_eq!(b.verified().await, [a.peer_id()]);
}

#[tokio::test]
async fn forged_signature_is_rejected() {
    let mut honest = LoopbackNode::start(NodeConfig::default()).await;
    let mut forger = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::ForgeSignature,
        ..NodeConfig::default()
    })
    .await;
    forger.handle.dial(honest.address.clone()).await.unwrap();
    let failed = honest
        .wait_handshake(forger.peer_id(), HandshakeState::Failed)
        .await;
    assert!(matches!(
        failed,
        Event::Handshake {
            failure: Some(HandshakeFailure::InvalidSignature),
            ..
        }
    ));
    let rejected = forger
        .wait_handshake(honest.peer_id(), HandshakeState::Failed)
        .await;
    assert!(
        matches!(
            rejected,
            Event::Handshake {
                failure: Some(HandshakeFailure::Rejected {
                    code: codes::BAD_HANDSHAKE,
                    ..
                }),
                ..
            }
        ),
        "{rejected:?}"
    );
    let peer = forger.peer_id();
    honest.wait_disconnected(peer).await;
    assert!(honest.verified().await.is_empty());
}

#[tokio::test]
async fn handshake_replayed_by_a_third_peer_is_rejected() {
    let mut alice = LoopbackNode::start(NodeConfig::default()).await;
    let mut bob = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut alice, &mut bob).await;

    // Credentials as Alice sends them to Bob, "captured" off the wire.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let captured = handshake::sign(
        &alice.keys.instance,
        &alice.peer_id(),
        &bob.peer_id(),
        now_ms,
        simnet::protocol::PROTOCOL_VERSION,
    );
    // They are genuinely valid from Alice, so the rejection below is about replay.
    let policy = handshake::Policy {
        local_version: simnet::protocol::PROTOCOL_VERSION.into(),
        freshness: Duration::from_secs(30),
        allow_list: None,
    };
    assert!(
        handshake::verify(&captured, &alice.peer_id(), &bob.peer_id(), now_ms, &policy).is_ok()
    );

    let carol = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::Replay(Box::new(simnet::protocol::misbehaviour::Captured {
            credentials: captured,
            signer: alice.peer_id(),
            receiver: bob.peer_id(),
        })),
        ..NodeConfig::default()
    })
    .await;
    carol.handle.dial(bob.address.clone()).await.unwrap();
    let failed = bob
        .wait_handshake(carol.peer_id(), HandshakeState::Failed)
        .await;
    assert!(matches!(
        failed,
        Event::Handshake {
            failure: Some(HandshakeFailure::InvalidSignature),
            ..
        }
    ));
    // Alice's own session with Bob is untouched.
    assert_eq!(bob.verified().await, [alice.peer_id()]);
}

#[tokio::test]
async fn incompatible_protocol_version_is_rejected() {
    let mut current = LoopbackNode::start(NodeConfig::default()).await;
    let mut future = LoopbackNode::start(NodeConfig {
        protocol_version: "simnet/2.0".into(),
        ..NodeConfig::default()
    })
    .await;
    future.handle.dial(current.address.clone()).await.unwrap();
    let failed = current
        .wait_handshake(future.peer_id(), HandshakeState::Failed)
        .await;
    assert_eq!(
        failed,
        Event::Handshake {
            peer: future.peer_id(),
            state: HandshakeState::Failed,
            failure: Some(HandshakeFailure::VersionMismatch {
                ours: "simnet/1.0".into(),
                theirs: "simnet/2.0".into()
            }),
            key: None,
        }
    );
    let rejected = future
        .wait_handshake(current.peer_id(), HandshakeState::Failed)
        .await;
    assert!(
        matches!(
            rejected,
            Event::Handshake {
                failure: Some(HandshakeFailure::Rejected {
                    code: codes::VERSION_MISMATCH,
                    ..
                }),
                ..
            }
        ),
        "{rejected:?}"
    );
}

#[tokio::test]
async fn silent_peer_times_out_and_is_disconnected() {
    let timeout = Duration::from_millis(800);
    let mut honest = LoopbackNode::start(NodeConfig {
        handshake_timeout: timeout,
        ..NodeConfig::default()
    })
    .await;
    let silent = LoopbackNode::start(NodeConfig {
        misbehaviour: Misbehaviour::SilentHandshake,
        ..NodeConfig::default()
    })
    .await;
    silent.handle.dial(honest.address.clone()).await.unwrap();
    honest
        .wait_handshake(silent.peer_id(), HandshakeState::Connected)
        .await;
    let started = tokio::time::Instant::now();
    let failed = honest
        .wait_handshake(silent.peer_id(), HandshakeState::Failed)
        .await;
    assert!(started.elapsed() >= timeout - Duration::from_millis(100));
    assert!(matches!(
        failed,
        Event::Handshake {
            failure: Some(HandshakeFailure::Timeout),
            ..
        }
    ));
    let peer = silent.peer_id();
    honest.wait_disconnected(peer).await;
    // A timeout is not misbehaviour: it does not count toward a ban.
    assert!(honest.handle.state().await.unwrap().bans.is_empty());
}

#[tokio::test]
async fn allow_list_refuses_other_instance_keys() {
    let outsider_keys = simnet::protocol::NodeKeys::generate();
    let member_keys = simnet::protocol::NodeKeys::generate();
    let mut guarded = LoopbackNode::start(NodeConfig {
        allow_list: Some([member_keys.instance_public()].into()),
        ..NodeConfig::default()
    })
    .await;
    let outsider = LoopbackNode::start_with_keys(NodeConfig::default(), outsider_keys).await;
    outsider.handle.dial(guarded.address.clone()).await.unwrap();
    let failed = guarded
        .wait_handshake(outsider.peer_id(), HandshakeState::Failed)
        .await;
    assert!(matches!(
        failed,
        Event::Handshake {
            failure: Some(HandshakeFailure::NotAllowed),
            ..
        }
    ));

    let mut member = LoopbackNode::start_with_keys(NodeConfig::default(), member_keys).await;
    connect(&mut member, &mut guarded).await;
}

/// The instance key each side proved reaches the application: in the
/// `Verified` event and in the node's state (review L7).
#[tokio::test]
async fn the_verified_instance_key_is_reported() {
    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    let mut b = LoopbackNode::start(NodeConfig::default()).await;
    connect(&mut a, &mut b).await;
    for (node, other) in [(&a, &b), (&b, &a)] {
        let expected = Some(other.keys.instance_public());
        let reported = node.seen.iter().find_map(|e| match e {
            Event::Handshake {
                peer,
                state: HandshakeState::Verified,
                key,
                ..
            } if *peer == other.peer_id() => Some(*key),
            _ => None,
        });
        assert_eq!(reported, Some(expected));
        let state = node.handle.state().await.unwrap();
        assert_eq!(state.peers[&other.peer_id()].key, expected);
    }
}

/// A libp2p peer that does not speak simnet's handshake protocol (here one
/// that runs only ping): the handshake fails at once as `UnsupportedProtocol`,
/// rather than waiting out its timeout or reading as a broken stream, and
/// the connection is closed.
#[tokio::test]
async fn a_peer_without_the_handshake_protocol_fails_as_unsupported() {
    use futures::StreamExt;
    use libp2p::{identity::Keypair, ping, swarm, swarm::SwarmEvent, Swarm};
    use simnet::protocol::{loopback, transport};

    let keypair = Keypair::generate_ed25519();
    let stranger_id = keypair.public().to_peer_id();
    let mut stranger = Swarm::new(
        transport::tcp(&keypair).expect("transport"),
        ping::Behaviour::default(),
        stranger_id,
        swarm::Config::with_tokio_executor().with_idle_connection_timeout(Duration::from_secs(60)),
    );
    stranger.listen_on(loopback::any_port()).expect("listen");
    let address = tokio::time::timeout(loopback::LISTEN_WAIT, async {
        loop {
            if let SwarmEvent::NewListenAddr { address, .. } = stranger.select_next_some().await {
                break address;
            }
        }
    })
    .await
    .expect("the stranger listens");
    let stranger = tokio::spawn(async move {
        loop {
            stranger.select_next_some().await;
        }
    });

    let mut a = LoopbackNode::start(NodeConfig::default()).await;
    a.handle.dial(address).await.expect("dial");
    let failed = a.wait_handshake(stranger_id, HandshakeState::Failed).await;
    assert!(
        matches!(
            failed,
            Event::Handshake {
                failure: Some(HandshakeFailure::UnsupportedProtocol),
                ..
            }
        ),
        "{failed:?}"
    );
    a.wait_disconnected(stranger_id).await;
    assert!(a.verified().await.is_empty());
    stranger.abort();
}
