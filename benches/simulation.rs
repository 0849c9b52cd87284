//! How fast the simulator runs: the event-driven engine (`simnet`, the
//! default simulator) beside turmoil running the same work (`turmoil`, the
//! simulator it replaced as the default).
//!
//! - `virtual_time`: the standard workload (5 nodes, traffic every second) for
//!   60 virtual seconds. Throughput is counted in *virtual milliseconds*, so
//!   criterion's `Kelem/s` reads directly as "times faster than real time".
//! - `scale`: 10 to 1 000 nodes that all handshake, gossip and send every
//!   virtual second, for 10 virtual seconds. Throughput is counted in
//!   node·virtual seconds, so `bench-report` can say what one node·virtual
//!   second costs at each size. turmoil runs beside it at 10 and 50 nodes
//!   (its per-tick cost grows as nodes³; 100 nodes × 10 s take it ≈ 10 s).
//! - `workload_40s`: the same workload for 40 virtual seconds at 10 and 100
//!   nodes (the scale issue's "100 nodes × 40 s"), turmoil at 10.
//! - `sweep`: scenario runs per second in a seed sweep of
//!   `scenarios/handshake-basic.yaml`, one thread, on both.
//! - `explore`: generated runs per second (`simnet explore`, profile `all`,
//!   one thread), on both.
//!
//! `SIMNET_BENCH_QUICK=1` takes the fewest samples criterion allows and
//! leaves out the 200-, 500- and 1 000-node points.
//! `cargo bench --bench simulation -- --test` runs each benchmark once.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use simnet::{
    scenario::Mode,
    sim::{
        engine, simulate,
        workload::{self, Summary, Workload},
        Simulator, WorldConfig,
    },
};

/// Runs the standard workload on `simulator` and checks that it did its work.
fn run_workload(simulator: Simulator, nodes: usize, duration: Duration) {
    let config = WorldConfig {
        seed: 1,
        ..Default::default()
    };
    let workload = Workload {
        nodes,
        duration,
        traffic: true,
    };
    let summary: Summary = match simulator {
        Simulator::Events => engine::simulate(config, move |net| workload::run(net, workload)),
        Simulator::Turmoil => simulate(config, move |world| workload::run(world, workload)),
    }
    .expect("simulation thread")
    .expect("workload");
    // The workload is a ring with chords: every node dials two peers.
    assert_eq!(
        summary.verified,
        4 * nodes,
        "{simulator}: every link verified both ways: {summary:?}"
    );
}

fn quick() -> bool {
    std::env::var_os("SIMNET_BENCH_QUICK").is_some()
}

fn virtual_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("virtual_time");
    group.sample_size(10);
    let duration = Duration::from_secs(60);
    group.throughput(Throughput::Elements(duration.as_millis() as u64));
    for (name, simulator) in [
        ("simnet", Simulator::Events),
        ("turmoil", Simulator::Turmoil),
    ] {
        group.bench_function(BenchmarkId::new(name, "5 nodes 60s"), |b| {
            b.iter(|| run_workload(simulator, 5, duration))
        });
    }
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if quick() { 1 } else { 10 }));
    let duration = Duration::from_secs(10);
    let counts: &[usize] = if quick() {
        &[10, 50, 100]
    } else {
        &[10, 50, 100, 200, 500, 1000]
    };
    for &nodes in counts {
        group.throughput(Throughput::Elements(nodes as u64 * duration.as_secs()));
        let parameter = format!("{nodes} nodes");
        group.bench_with_input(BenchmarkId::new("simnet", &parameter), &nodes, |b, &n| {
            b.iter(|| run_workload(Simulator::Events, n, duration))
        });
        if nodes <= 50 {
            group.bench_with_input(BenchmarkId::new("turmoil", &parameter), &nodes, |b, &n| {
                b.iter(|| run_workload(Simulator::Turmoil, n, duration))
            });
        }
    }
    group.finish();
}

fn workload_40s(c: &mut Criterion) {
    let mut group = c.benchmark_group("workload_40s");
    group.sample_size(10);
    let duration = Duration::from_secs(40);
    for nodes in [10, 100] {
        group.throughput(Throughput::Elements(nodes as u64 * duration.as_secs()));
        let parameter = format!("{nodes} nodes");
        group.bench_with_input(BenchmarkId::new("simnet", &parameter), &nodes, |b, &n| {
            b.iter(|| run_workload(Simulator::Events, n, duration))
        });
        if nodes == 10 {
            group.bench_with_input(BenchmarkId::new("turmoil", &parameter), &nodes, |b, &n| {
                b.iter(|| run_workload(Simulator::Turmoil, n, duration))
            });
        }
    }
    group.finish();
}

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/handshake-basic.yaml");
    let plan = simnet::scenario::load_file(&path).expect("scenario");
    const RUNS: u64 = 20;
    group.throughput(Throughput::Elements(RUNS));
    for (name, simulator) in [
        ("simnet", Simulator::Events),
        ("turmoil", Simulator::Turmoil),
    ] {
        group.bench_function(BenchmarkId::new(name, "handshake-basic"), |b| {
            let mut seed = 0;
            b.iter(|| {
                for _ in 0..RUNS {
                    seed += 1;
                    let outcome = simnet::scenario::run(&plan, seed, Mode::Simulated(simulator))
                        .expect("run");
                    assert!(outcome.passed);
                }
            })
        });
    }
    group.finish();
}

fn explore(c: &mut Criterion) {
    use simnet::{
        explore::{run_seed, Profile},
        implementation::Implementation,
    };

    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    const RUNS: u64 = 4;
    // The same seeds every sample, so samples compare like with like.
    let seeds: Vec<u64> = (0..RUNS).collect();
    group.throughput(Throughput::Elements(RUNS));
    for (name, simulator) in [
        ("simnet", Simulator::Events),
        ("turmoil", Simulator::Turmoil),
    ] {
        group.bench_function(BenchmarkId::new(name, "profile-all"), |b| {
            b.iter(|| {
                for seed in &seeds {
                    let run = run_seed(*seed, Profile::All, simulator, Implementation::Simnet);
                    assert!(run.outcome.is_ok(), "{:?}", run.outcome.err());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, virtual_time, scale, workload_40s, sweep, explore);
criterion_main!(benches);
