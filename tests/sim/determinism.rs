//! Determinism is tested, not assumed, on both simulators: the same seed
//! gives the same trace and the same bytes on the simulated wire, in one
//! process and across processes; another seed changes them; real clocks
//! elsewhere keep running.

use std::{
    process::Command,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use simnet::{
    net::{Network, NetworkError, WireStats},
    scenario::Mode,
    sim::{
        determinism::DEFAULT_EPOCH,
        engine, simulate,
        workload::{self, Summary, Workload},
        Simulator, WorldConfig,
    },
};

/// What a run of the workload left: its summary, trace and wire, the
/// virtual time it ended at, and the wall clock read inside it at the end.
struct Ran {
    summary: Summary,
    lines: Vec<String>,
    wire: WireStats,
    elapsed: Duration,
    wall_inside: Duration,
}

fn finish<N: Network>(net: &N, summary: Summary) -> Ran {
    Ran {
        summary,
        lines: net.trace_lines(),
        wire: net.wire(),
        elapsed: net.elapsed(),
        wall_inside: SystemTime::now().duration_since(UNIX_EPOCH).unwrap(),
    }
}

/// Runs `workload` at `seed` on `simulator`.
fn on(simulator: Simulator, seed: u64, workload: Workload) -> Ran {
    let config = WorldConfig {
        seed,
        ..Default::default()
    };
    let ran = match simulator {
        Simulator::Events => engine::simulate(config, move |net| {
            let summary = workload::run(net, workload).unwrap();
            finish(net, summary)
        }),
        Simulator::Turmoil => simulate(config, move |world| {
            let summary = workload::run(world, workload).unwrap();
            finish(world, summary)
        }),
    };
    ran.unwrap_or_else(|e: NetworkError| panic!("{simulator}: {e}"))
}

/// stdout of `simnet simulate` on `simulator` in a new process.
fn simulate_in_a_process(simulator: Simulator, seed: u64) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args([
            "simulate",
            "--simulator",
            simulator.name(),
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
    for simulator in Simulator::ALL {
        let first = simulate_in_a_process(simulator, 7);
        let second = simulate_in_a_process(simulator, 7);
        assert!(
            first.lines().count() > 100,
            "{simulator}: a real run, not an empty one:\n{first}"
        );
        assert!(first.contains("wire digest"), "{first}");
        assert_eq!(first, second, "{simulator}");
    }
}

#[test]
fn another_seed_changes_latencies_and_bytes() {
    for simulator in Simulator::ALL {
        let seven = simulate_in_a_process(simulator, 7);
        let eight = simulate_in_a_process(simulator, 8);
        let digest = |out: &str| out.lines().last().map(str::to_owned);
        assert_ne!(digest(&seven), digest(&eight), "{simulator}: wire digests");
        // Different latencies move events in time: the traces differ line by line.
        let differing = seven
            .lines()
            .zip(eight.lines())
            .filter(|(a, b)| a != b)
            .count();
        assert!(differing > 10, "{simulator}: only {differing} lines differ");
    }
}

#[test]
fn same_seed_twice_in_one_process_is_identical() {
    let workload = Workload {
        nodes: 4,
        duration: Duration::from_secs(10),
        traffic: true,
    };
    for simulator in Simulator::ALL {
        let a = on(simulator, 11, workload);
        let b = on(simulator, 11, workload);
        assert_eq!(a.lines, b.lines, "{simulator}");
        assert_eq!(a.summary, b.summary, "{simulator}");
        assert_eq!(a.wire, b.wire, "{simulator}");
        assert!(a.wire.bytes > 10_000, "{simulator}: {:?}", a.wire);
        let summary = &a.summary;
        assert!(
            summary.sends_answered > 0 && summary.broadcasts_delivered > 0,
            "{simulator}: {summary:?}"
        );
    }
}

#[test]
fn real_clocks_on_other_threads_advance_during_a_simulation() {
    for simulator in Simulator::ALL {
        let real_start = Instant::now();
        let wall_start = SystemTime::now();
        let workload = Workload {
            nodes: 3,
            duration: Duration::from_secs(30),
            traffic: true,
        };
        // Inside, the wall clock is the virtual one.
        let simulation = std::thread::spawn(move || on(simulator, 12, workload));
        // Meanwhile, on this thread, time passes as usual.
        std::thread::sleep(Duration::from_millis(50));
        assert!(real_start.elapsed() >= Duration::from_millis(50));
        assert!(SystemTime::now().duration_since(wall_start).unwrap() >= Duration::from_millis(50));
        let Ran {
            wall_inside: inside,
            elapsed,
            ..
        } = simulation.join().unwrap();
        // turmoil sets the virtual clock before each 1 ms step, so after the
        // last step it reads the time at that step's start; the engine's
        // clock is the time it stopped at.
        let expected = DEFAULT_EPOCH + elapsed;
        assert!(
            inside <= expected && inside + Duration::from_millis(1) >= expected,
            "{simulator}: inside {inside:?}, expected about {expected:?}"
        );
        let outside = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(
            outside > inside,
            "the real wall clock is not the simulation's"
        );
    }
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
    // Advance libp2p's process-wide counters first, on both simulators.
    let workload = Workload {
        nodes: 3,
        duration: Duration::from_secs(5),
        traffic: true,
    };
    for simulator in Simulator::ALL {
        on(simulator, 99, workload);
    }
    let here: Vec<String> = simnet::scenario::run(&plan, plan.seed, Mode::SIMULATED)
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
