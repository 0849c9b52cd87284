//! Determinism is tested, not assumed: the same seed gives the same trace and
//! the same bytes on the simulated wire, in one process and across processes;
//! another seed changes them; real clocks elsewhere keep running.

use std::{
    process::Command,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use simnet::{
    net::Network,
    sim::{
        determinism::DEFAULT_EPOCH,
        simulate,
        workload::{self, Workload},
        WorldConfig,
    },
};

/// stdout of `simnet simulate` in a new process.
fn simulate_in_a_process(seed: u64) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args([
            "simulate",
            "--seed",
            &seed.to_string(),
            "--nodes",
            "3",
            "--duration",
            "20s",
            "--trace",
        ])
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
fn same_seed_in_two_processes_gives_identical_trace_and_wire_bytes() {
    let first = simulate_in_a_process(7);
    let second = simulate_in_a_process(7);
    assert!(
        first.lines().count() > 100,
        "a real run, not an empty one:\n{first}"
    );
    assert!(first.contains("wire digest"), "{first}");
    assert_eq!(first, second);
}

#[test]
fn another_seed_changes_latencies_and_bytes() {
    let seven = simulate_in_a_process(7);
    let eight = simulate_in_a_process(8);
    let digest = |out: &str| out.lines().last().map(str::to_owned);
    assert_ne!(digest(&seven), digest(&eight), "wire digests");
    // Different latencies move events in time: the traces differ line by line.
    let differing = seven
        .lines()
        .zip(eight.lines())
        .filter(|(a, b)| a != b)
        .count();
    assert!(differing > 10, "only {differing} lines differ");
}

#[test]
fn same_seed_twice_in_one_process_is_identical() {
    let run = || {
        simulate(
            WorldConfig {
                seed: 11,
                ..Default::default()
            },
            |world| {
                let workload = Workload {
                    nodes: 4,
                    duration: Duration::from_secs(10),
                    traffic: true,
                };
                let summary = workload::run(world, workload).unwrap();
                (summary, world.trace_lines())
            },
        )
        .unwrap()
    };
    let (a, lines_a) = run();
    let (b, lines_b) = run();
    assert_eq!(lines_a, lines_b);
    assert_eq!(a, b);
    assert!(a.sends_answered > 0 && a.broadcasts_delivered > 0, "{a:?}");
}

#[test]
fn real_clocks_on_other_threads_advance_during_a_simulation() {
    let real_start = Instant::now();
    let wall_start = SystemTime::now();
    let simulation = std::thread::spawn(|| {
        simulate(
            WorldConfig {
                seed: 12,
                ..Default::default()
            },
            |world| {
                let workload = Workload {
                    nodes: 3,
                    duration: Duration::from_secs(30),
                    traffic: true,
                };
                workload::run(world, workload).unwrap();
                // Inside, the wall clock is the virtual one.
                let inside = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                (inside, world.elapsed())
            },
        )
        .unwrap()
    });
    // Meanwhile, on this thread, time passes as usual.
    std::thread::sleep(Duration::from_millis(50));
    assert!(real_start.elapsed() >= Duration::from_millis(50));
    assert!(SystemTime::now().duration_since(wall_start).unwrap() >= Duration::from_millis(50));
    let (inside, elapsed) = simulation.join().unwrap();
    // The virtual clock is set before each 1 ms step, so after the last step
    // it reads the time at that step's start.
    let expected = DEFAULT_EPOCH + elapsed;
    assert!(
        inside <= expected && inside + Duration::from_millis(1) >= expected,
        "inside {inside:?}, expected about {expected:?}"
    );
    let outside = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(
        outside > inside,
        "the real wall clock is not the simulation's"
    );
}

/// Regression: libp2p error texts embed process-wide counters (yamux numbers
/// its connections), so a trace that quoted them read differently in a process
/// that had already run other simulations. A fault-heavy scenario must give
/// the same trace here, after another run, as in a fresh process.
#[test]
fn traces_do_not_depend_on_what_ran_before_in_the_process() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/oversized-sender.yaml");
    let plan = simnet::scenario::load_file(&path).unwrap();
    // Advance libp2p's process-wide counters first.
    simulate(
        WorldConfig {
            seed: 99,
            ..Default::default()
        },
        |world| {
            workload::run(
                world,
                Workload {
                    nodes: 3,
                    duration: Duration::from_secs(5),
                    traffic: true,
                },
            )
            .unwrap();
        },
    )
    .unwrap();
    let here: Vec<String> =
        simnet::scenario::run(&plan, plan.seed, simnet::scenario::Mode::Simulated)
            .unwrap()
            .trace
            .iter()
            .map(ToString::to_string)
            .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args(["run", path.to_str().unwrap(), "--trace"])
        .output()
        .expect("run simnet");
    let fresh: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  ["))
        .map(|l| format!("[{l}"))
        .collect();
    assert!(
        here.iter().any(|l| l.contains("interrupted")),
        "the run hit errors: {here:#?}"
    );
    assert_eq!(here, fresh);
}
