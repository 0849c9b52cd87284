//! The event-driven engine (`simnet::sim::engine`, the spike of issue 15):
//! the same seed gives the same trace and wire bytes, in one process and
//! across processes; another seed changes them; the scenario suite passes.

use std::{path::Path, process::Command, time::Duration};

use simnet::{
    net::{Faults, Network},
    protocol::NodeConfig,
    scenario::{load::load_file, run::run_on_engine},
    sim::{
        engine,
        workload::{self, Workload},
        WorldConfig,
    },
};

/// The workload's rendered trace and its wire stats on the engine.
fn run(seed: u64, nodes: usize) -> (Vec<String>, simnet::net::WireStats) {
    engine::simulate(
        WorldConfig {
            seed,
            ..Default::default()
        },
        move |e| {
            let workload = Workload {
                nodes,
                duration: Duration::from_secs(10),
                traffic: true,
            };
            workload::run(e, workload).expect("workload");
            (e.trace_lines(), e.wire())
        },
    )
    .expect("engine thread")
}

#[test]
fn same_seed_twice_gives_identical_trace_and_wire_bytes() {
    let first = run(5, 6);
    let second = run(5, 6);
    assert!(first.0.len() > 200, "a real run: {} lines", first.0.len());
    assert!(first.1.bytes > 10_000, "bytes on the wire: {:?}", first.1);
    assert_eq!(first, second);
}

#[test]
fn another_seed_changes_times_and_bytes() {
    let five = run(5, 6);
    let six = run(6, 6);
    assert_ne!(five.1, six.1, "wire digests");
    let differing = five.0.iter().zip(&six.0).filter(|(a, b)| a != b).count();
    assert!(differing > 10, "only {differing} lines differ");
}

/// stdout of `simnet simulate --engine event` in a new process.
fn simulate_in_a_process(seed: u64) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args(["simulate", "--engine", "event", "--nodes", "4"])
        .args(["--duration", "20s", "--trace", "--seed", &seed.to_string()])
        .output()
        .expect("run simnet");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn same_seed_in_two_processes_gives_identical_output() {
    let first = simulate_in_a_process(9);
    assert!(first.lines().count() > 100, "{first}");
    assert!(first.contains("wire digest"), "{first}");
    assert_eq!(first, simulate_in_a_process(9));
    assert_ne!(first, simulate_in_a_process(10));
}

#[test]
fn every_scenario_passes_on_the_engine_at_its_own_seed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 40, "{} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let plan = load_file(path).expect("valid scenario");
        match run_on_engine(&plan, plan.seed) {
            Ok(outcome) if outcome.passed => {}
            Ok(outcome) => failures.push(format!("{}: {:?}", path.display(), outcome.failures())),
            Err(error) => failures.push(format!("{}: {error}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

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
            payload: b"held".to_vec(),
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
