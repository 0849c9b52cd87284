//! The event-driven engine (`simnet::sim::engine`, the spike of issue 15):
//! the same seed gives the same trace and wire bytes, in one process and
//! across processes; another seed changes them; the scenario suite passes.

use std::{path::Path, process::Command, time::Duration};

use simnet::{
    net::Network,
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
