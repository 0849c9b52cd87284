//! Faults in the simulator: partitions, crash and restart, lossy links, clocks.

use std::time::Duration;

use simnet::{
    net::{Faults, Network, Record, TraceEntry},
    protocol::{
        Event, HandshakeFailure, HandshakeState, InstanceMessageRequest, NodeConfig, Responder,
    },
    sim::{simulate, World, WorldConfig},
};

use super::network::{verified, world_with};

fn request(n: u32) -> InstanceMessageRequest {
    InstanceMessageRequest {
        protocol: "test/echo".into(),
        payload: n.to_be_bytes().to_vec().into(),
        metadata: None,
    }
}

/// The first entry of `node` matching `pred`.
fn first<'a>(
    world: &'a World,
    node: &str,
    pred: impl Fn(&Event) -> bool,
) -> Option<&'a TraceEntry> {
    world
        .trace()
        .iter()
        .find(|e| e.node == node && matches!(&e.record, Record::Event(ev) if pred(ev)))
}

#[test]
fn partition_fails_the_handshake_once_keep_alive_finds_the_dead_connection() {
    let (connected, failed, failure) = simulate(
        WorldConfig {
            seed: 3,
            ..Default::default()
        },
        |world| {
            world_with(world, &["alice", "bob"]);
            world.dial("alice", "bob").unwrap().unwrap();
            // Cut the link the moment the connection exists, before the handshake moves.
            let up = world
                .run_until_condition(Duration::from_secs(5), |w| {
                    first(w, "alice", |e| {
                        matches!(e, Event::ConnectionEstablished { .. })
                    })
                    .is_some()
                })
                .unwrap();
            assert!(up);
            world.partition("alice", "bob").unwrap();
            let connected = world.elapsed();
            let done = world
                .run_until_condition(Duration::from_secs(40), |w| {
                    first(w, "alice", |e| {
                        matches!(
                            e,
                            Event::Handshake {
                                state: HandshakeState::Failed,
                                ..
                            }
                        )
                    })
                    .is_some()
                })
                .unwrap();
            assert!(done, "{:#?}", world.trace_lines());
            let entry = first(world, "alice", |e| {
                matches!(
                    e,
                    Event::Handshake {
                        state: HandshakeState::Failed,
                        ..
                    }
                )
            })
            .unwrap();
            let Record::Event(Event::Handshake { failure, .. }) = &entry.record else {
                unreachable!()
            };
            assert!(!verified(world, "alice", "bob"));
            (connected, entry.at, failure.clone())
        },
    )
    .unwrap();
    // A connection that answers no keep-alive ping for interval + timeout
    // (2 s + 3 s) is closed, long before the handshake's own 30 s timer.
    let waited = failed - connected;
    assert!(
        waited >= Duration::from_millis(4_900) && waited <= Duration::from_millis(5_100),
        "failed after {waited:?} of virtual time: {failure:?}"
    );
    assert_eq!(failure, Some(HandshakeFailure::ConnectionClosed));
}

#[test]
fn crashed_and_restarted_node_verifies_again_and_serves_messages() {
    simulate(WorldConfig { seed: 4, ..Default::default() }, |world| {
        for name in ["alice", "bob", "carol"] {
            let config = NodeConfig { responder: Responder::Echo, ..NodeConfig::default() };
            world.add_node(name, config).unwrap();
        }
        world.start().unwrap();
        world.dial("bob", "alice").unwrap().unwrap();
        world.dial("bob", "carol").unwrap().unwrap();
        world.run_for(Duration::from_secs(2)).unwrap();
        assert!(verified(world, "alice", "bob") && verified(world, "carol", "bob"));

        world.crash("bob").unwrap();
        world.run_for(Duration::from_secs(2)).unwrap();
        let restarted_at = world.elapsed();
        world.restart("bob").unwrap();
        assert!(world.state("bob").unwrap().peers.is_empty(), "state is lost in a crash");
        world.dial("bob", "alice").unwrap().unwrap();
        world.dial("bob", "carol").unwrap().unwrap();
        world.run_for(Duration::from_secs(3)).unwrap();

        // bob's new incarnation verified both peers again…
        let alice = world.peer_id("alice").unwrap();
        let again = world.trace().iter().any(|e| {
            e.node == "bob" && e.at >= restarted_at
                && matches!(&e.record, Record::Event(Event::Handshake { peer, state: HandshakeState::Verified, .. }) if *peer == alice)
        });
        assert!(again, "{:#?}", world.trace_lines());
        assert_eq!(world.state("bob").unwrap().verified_peers().len(), 2);
        // …and a direct message from alice reaches it and is answered.
        let id = world.send("alice", "bob", request(1)).unwrap().unwrap();
        world.run_for(Duration::from_secs(5)).unwrap();
        let outcome = first(world, "alice", |e| matches!(e, Event::SendOutcome { id: i, .. } if *i == id));
        assert!(
            matches!(outcome.map(|e| &e.record), Some(Record::Event(Event::SendOutcome { result: Ok(_), .. }))),
            "{:#?}",
            world.trace_lines()
        );
    })
    .unwrap();
}

#[test]
fn direct_messages_complete_over_a_lossy_link_through_retries() {
    let (outcomes, retries, lines) = simulate(WorldConfig { seed: 5, ..Default::default() }, |world| {
        world.add_node("alice", NodeConfig::default()).unwrap();
        let echo = NodeConfig { responder: Responder::Echo, ..NodeConfig::default() };
        world.add_node("bob", echo).unwrap();
        world.start().unwrap();
        world.dial("alice", "bob").unwrap().unwrap();
        world.run_for(Duration::from_secs(1)).unwrap();
        assert!(verified(world, "alice", "bob"));
        // One tick in 300 the link drops whatever is in flight.
        world.set_loss("alice", "bob", 1.0 / 300.0).unwrap();
        let mut sent = Vec::new();
        for n in 0..20 {
            // Retries can leave alice briefly unverified; try again shortly.
            let mut attempt = world.send("alice", "bob", request(n)).unwrap();
            while attempt.is_err() {
                world.run_for(Duration::from_millis(100)).unwrap();
                attempt = world.send("alice", "bob", request(n)).unwrap();
            }
            sent.push(attempt.unwrap());
            world.run_for(Duration::from_millis(200)).unwrap();
        }
        world.run_for(Duration::from_secs(70)).unwrap();
        let outcomes: Vec<_> = sent
            .iter()
            .map(|id| {
                world
                    .trace()
                    .iter()
                    .filter(|e| matches!(&e.record, Record::Event(Event::SendOutcome { id: i, .. }) if i == id))
                    .map(|e| match &e.record {
                        Record::Event(Event::SendOutcome { result, .. }) => result.is_ok(),
                        _ => unreachable!(),
                    })
                    .collect::<Vec<bool>>()
            })
            .collect();
        let retries = world
            .trace()
            .iter()
            .filter(|e| matches!(&e.record, Record::Event(Event::SendRetrying { .. })))
            .count();
        (outcomes, retries, world.trace_lines())
    })
    .unwrap();
    for (n, outcome) in outcomes.iter().enumerate() {
        assert_eq!(
            outcome,
            &[true],
            "send {n}: exactly one outcome, a response; trace {lines:#?}"
        );
    }
    assert!(
        retries > 0,
        "the lossy link interrupted no send; raise the loss rate"
    );
}

#[test]
fn node_with_a_fast_clock_fails_the_freshness_check() {
    let failure = simulate(
        WorldConfig {
            seed: 6,
            ..Default::default()
        },
        |world| {
            world_with(world, &["alice", "bob"]);
            world.set_clock_offset("alice", 40_000).unwrap();
            world.dial("alice", "bob").unwrap().unwrap();
            world.run_for(Duration::from_secs(2)).unwrap();
            let entry = first(world, "bob", |e| {
                matches!(
                    e,
                    Event::Handshake {
                        state: HandshakeState::Failed,
                        ..
                    }
                )
            });
            match entry.map(|e| &e.record) {
                Some(Record::Event(Event::Handshake { failure, .. })) => failure.clone(),
                _ => panic!("{:#?}", world.trace_lines()),
            }
        },
    )
    .unwrap();
    match failure {
        Some(HandshakeFailure::Stale { skew_ms }) => {
            assert!((39_900..=40_000).contains(&skew_ms), "skew {skew_ms}")
        }
        other => panic!("expected a stale handshake, got {other:?}"),
    }
}

#[test]
fn group_partition_splits_the_network_and_repair_heals_it() {
    simulate(
        WorldConfig {
            seed: 7,
            ..Default::default()
        },
        |world| {
            world_with(world, &["a", "b", "c", "d"]);
            world.partition_groups(&["a", "b"], &["c", "d"]).unwrap();
            for (x, y) in [("a", "b"), ("c", "d"), ("a", "c"), ("b", "d")] {
                world.dial(x, y).unwrap().unwrap();
            }
            world.run_for(Duration::from_secs(2)).unwrap();
            assert!(
                verified(world, "a", "b") && verified(world, "c", "d"),
                "inside the groups"
            );
            assert!(
                !verified(world, "a", "c") && !verified(world, "b", "d"),
                "across the split"
            );
            world.repair_groups(&["a", "b"], &["c", "d"]).unwrap();
            world.dial("a", "c").unwrap().unwrap();
            world.run_for(Duration::from_secs(2)).unwrap();
            assert!(verified(world, "a", "c"), "{:#?}", world.trace_lines());
        },
    )
    .unwrap();
}
