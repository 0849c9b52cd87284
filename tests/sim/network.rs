//! Handshakes and broadcast in the simulator.

use std::time::{Duration, Instant};

use simnet::{
    net::{Network, Record},
    protocol::{Event, HandshakeState, NodeConfig},
    sim::{simulate, World, WorldConfig},
};

use crate::util::init_logging;

/// Whether `node` has reported `Verified` for `peer`.
pub fn verified(world: &World, node: &str, peer: &str) -> bool {
    let Ok(peer) = world.peer_id(peer) else {
        return false;
    };
    world.trace().iter().any(|e| {
        e.node == node
            && matches!(&e.record, Record::Event(Event::Handshake { peer: p, state: HandshakeState::Verified, .. }) if *p == peer)
    })
}

/// A world with `names` started, all default nodes.
pub fn world_with(world: &mut World, names: &[&str]) {
    for name in names {
        world.add_node(name, NodeConfig::default()).unwrap();
    }
    world.start().unwrap();
}

#[test]
fn three_nodes_verify_pairwise_in_virtual_time() {
    init_logging();
    let wall = Instant::now();
    let (lines, elapsed) = simulate(
        WorldConfig {
            seed: 1,
            ..Default::default()
        },
        |world| {
            world_with(world, &["alice", "bob", "carol"]);
            world.dial("alice", "bob").unwrap().unwrap();
            world.dial("bob", "carol").unwrap().unwrap();
            world.dial("carol", "alice").unwrap().unwrap();
            let all = world
                .run_until_condition(Duration::from_secs(10), |w| {
                    [
                        ("alice", "bob"),
                        ("bob", "alice"),
                        ("bob", "carol"),
                        ("carol", "bob"),
                        ("carol", "alice"),
                        ("alice", "carol"),
                    ]
                    .iter()
                    .all(|(a, b)| verified(w, a, b))
                })
                .unwrap();
            assert!(all, "{:#?}", world.trace_lines());
            for name in ["alice", "bob", "carol"] {
                assert_eq!(world.state(name).unwrap().verified_peers().len(), 2);
            }
            (world.trace_lines(), world.elapsed())
        },
    )
    .unwrap();
    assert!(
        elapsed < Duration::from_secs(2),
        "handshakes took {elapsed:?} virtual"
    );
    assert!(wall.elapsed() < Duration::from_secs(20));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("alice: handshake with bob: verified")),
        "{lines:#?}"
    );
}

#[test]
fn broadcast_reaches_every_subscriber() {
    let delivered = simulate(WorldConfig { seed: 2, ..Default::default() }, |world| {
        let names = ["n0", "n1", "n2", "n3", "n4"];
        world_with(world, &names);
        for other in &names[1..] {
            world.dial(other, "n0").unwrap().unwrap();
        }
        world.dial("n1", "n2").unwrap().unwrap();
        for name in names {
            world.subscribe(name, "news").unwrap().unwrap();
        }
        // Let subscriptions propagate and the mesh form (heartbeat 1 s).
        world.run_for(Duration::from_secs(3)).unwrap();
        world.broadcast("n3", "news", b"hello".to_vec()).unwrap().unwrap();
        world.run_for(Duration::from_secs(2)).unwrap();
        let mut got: Vec<String> = world
            .trace()
            .iter()
            .filter(|e| matches!(&e.record, Record::Event(Event::Broadcast { data, .. }) if data == b"hello"))
            .map(|e| e.node.clone())
            .collect();
        got.sort();
        got
    })
    .unwrap();
    assert_eq!(delivered, ["n0", "n1", "n2", "n4"]);
}
