//! The event-driven engine's own faults: a crash resets every connection
//! and a restart keeps the identity, with no task left behind; held segments
//! arrive after a release and nothing is lost; a partition breaks the stream.
//! (Determinism on both simulators: `determinism.rs`; the suite on both:
//! `tests/scenarios`.)

use std::time::Duration;

use simnet::{
    net::{Faults, Network},
    protocol::NodeConfig,
    sim::{engine, WorldConfig},
};

#[test]
fn crash_and_restart_keep_the_identity_and_leave_no_task_behind() {
    engine::simulate(WorldConfig::default(), |e| {
        for name in ["alice", "bob", "carol"] {
            e.add_node(name, NodeConfig::default()).expect("node");
        }
        e.start().expect("start");
        for (from, to) in [("alice", "bob"), ("carol", "bob")] {
            e.dial(from, to).expect("network").expect("dial");
        }
        e.run_for(Duration::from_secs(3)).expect("run");
        let bob = e.peer_id("bob").expect("bob");
        let settled = e.alive_tasks();
        for round in 0..4 {
            e.crash("bob").expect("crash");
            e.run_for(Duration::from_secs(30)).expect("run");
            assert!(!e.is_running("bob"));
            e.restart("bob").expect("restart");
            assert_eq!(e.peer_id("bob").expect("bob"), bob, "same identity");
            for from in ["alice", "carol"] {
                e.dial(from, "bob").expect("network").expect("dial");
            }
            e.run_for(Duration::from_secs(3)).expect("run");
            for from in ["alice", "carol"] {
                let verified = e.state(from).expect("state").verified_peers();
                assert_eq!(
                    verified,
                    vec![bob],
                    "round {round}: {from} verified bob again"
                );
            }
            assert!(
                e.alive_tasks() <= settled,
                "round {round}: {} tasks alive, {settled} before the crashes",
                e.alive_tasks()
            );
        }
    })
    .expect("engine thread");
}

#[test]
fn held_messages_arrive_after_release_and_a_partition_breaks_the_stream() {
    engine::simulate(WorldConfig::default(), |e| {
        for name in ["alice", "bob"] {
            e.add_node(name, NodeConfig::default()).expect("node");
        }
        e.start().expect("start");
        e.dial("alice", "bob").expect("network").expect("dial");
        e.run_for(Duration::from_secs(2)).expect("run");
        let bob = e.peer_id("bob").expect("bob");
        e.hold("alice", "bob").expect("hold");
        let request = simnet::protocol::InstanceMessageRequest {
            protocol: "test/echo".into(),
            payload: b"held".to_vec().into(),
            metadata: None,
        };
        e.send("alice", "bob", request)
            .expect("network")
            .expect("accepted");
        e.run_for(Duration::from_secs(5)).expect("run");
        let before = e.net_stats();
        e.release("alice", "bob").expect("release");
        e.run_for(Duration::from_secs(2)).expect("run");
        let after = e.net_stats();
        assert!(after.delivered > before.delivered, "{before:?} → {after:?}");
        assert_eq!(after.dropped, 0, "nothing lost: {after:?}");
        assert_eq!(e.state("alice").expect("state").verified_peers(), vec![bob]);
        e.partition("alice", "bob").expect("partition");
        e.run_for(Duration::from_secs(60)).expect("run");
        assert!(e.net_stats().dropped > 0);
        assert!(
            e.state("alice").expect("state").verified_peers().is_empty(),
            "the broken connection was closed"
        );
    })
    .expect("engine thread");
}
