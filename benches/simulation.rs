//! How fast the simulator runs, beside turmoil's own cost as the baseline.
//!
//! - `virtual_time`: the standard workload (5 nodes, traffic every second) for
//!   60 virtual seconds. Throughput is counted in *virtual milliseconds*, so
//!   criterion's `Kelem/s` reads directly as "times faster than real time".
//!   Baseline: 5 idle turmoil hosts for the same 60 virtual seconds.
//! - `scale`: 10, 50, 100 and 200 nodes that all handshake and broadcast, for
//!   2 virtual seconds, beside the same number of idle turmoil hosts.
//! - `sweep`: scenario runs per second in a seed sweep of
//!   `scenarios/handshake-basic.yaml`, beside two idle turmoil hosts for the
//!   same virtual time.
//! - `explore`: generated runs per second (`simnet explore`, profile `all`,
//!   one thread), beside idle turmoil hosts as many and for as long as the
//!   generated scenarios have.
//!
//! - `engine`: the event-driven engine of issue 15's spike
//!   (`simnet::sim::engine`): the standard workload with traffic for 40
//!   virtual seconds at 10 and 100 nodes, beside turmoil at 10 nodes (turmoil
//!   at 100 nodes takes ≈ 40 s a run), and the `handshake-basic` sweep on it.
//!   `SIMNET_BENCH_ENGINE_1000=1` adds 1 000 nodes × 10 s (≈ 7 s a run).
//!
//! `SIMNET_BENCH_QUICK=1` takes the fewest samples criterion allows and
//! leaves out the 200-node point.
//!
//! The ratio simnet / idle-turmoil says how much of the wall time is the
//! protocol rather than the simulator's per-host, per-tick loop.
//! `cargo bench --bench simulation -- --test` runs each benchmark once.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use simnet::sim::{
    simulate,
    workload::{self, Workload},
    WorldConfig,
};

fn run_workload(nodes: usize, duration: Duration, traffic: bool) {
    let summary = simulate(
        WorldConfig {
            seed: 1,
            ..Default::default()
        },
        move |world| {
            workload::run(
                world,
                Workload {
                    nodes,
                    duration,
                    traffic,
                },
            )
        },
    )
    .expect("simulation thread")
    .expect("workload");
    assert!(summary.verified > 0, "the workload ran: {summary:?}");
}

/// `hosts` turmoil hosts that only sleep, stepped for `duration` of virtual time.
fn run_idle_hosts(hosts: usize, duration: Duration) {
    std::thread::spawn(move || {
        let mut sim = turmoil::Builder::new()
            .tick_duration(Duration::from_millis(1))
            .simulation_duration(duration + Duration::from_secs(1))
            .build();
        for i in 0..hosts {
            sim.host(format!("idle{i}"), || async {
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
        }
        while sim.elapsed() < duration {
            sim.step().expect("idle hosts never fail");
        }
    })
    .join()
    .expect("idle simulation");
}

fn quick() -> bool {
    std::env::var_os("SIMNET_BENCH_QUICK").is_some()
}

fn virtual_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("virtual_time");
    group.sample_size(10);
    let duration = Duration::from_secs(60);
    group.throughput(Throughput::Elements(duration.as_millis() as u64));
    group.bench_function(BenchmarkId::new("simnet", "5 nodes 60s"), |b| {
        b.iter(|| run_workload(5, duration, true))
    });
    group.bench_function(BenchmarkId::new("idle-turmoil", "5 nodes 60s"), |b| {
        b.iter(|| run_idle_hosts(5, duration))
    });
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if quick() { 1 } else { 20 }));
    let duration = Duration::from_secs(2);
    let counts: &[usize] = if quick() {
        &[10, 50, 100]
    } else {
        &[10, 50, 100, 200]
    };
    for &nodes in counts {
        group.throughput(Throughput::Elements(nodes as u64));
        group.bench_with_input(BenchmarkId::new("simnet", nodes), &nodes, |b, &n| {
            b.iter(|| run_workload(n, duration, false))
        });
        group.bench_with_input(BenchmarkId::new("idle-turmoil", nodes), &nodes, |b, &n| {
            b.iter(|| run_idle_hosts(n, duration))
        });
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
    let virtual_time = simnet::scenario::end_of(&plan);
    group.throughput(Throughput::Elements(RUNS));
    group.bench_function(BenchmarkId::new("simnet", "handshake-basic"), |b| {
        let mut seed = 0;
        b.iter(|| {
            for _ in 0..RUNS {
                seed += 1;
                let outcome = simnet::scenario::run(&plan, seed, simnet::scenario::Mode::Simulated)
                    .expect("run");
                assert!(outcome.passed);
            }
        })
    });
    group.bench_function(BenchmarkId::new("idle-turmoil", "handshake-basic"), |b| {
        b.iter(|| {
            for _ in 0..RUNS {
                run_idle_hosts(2, virtual_time);
            }
        })
    });
    group.finish();
}

fn explore(c: &mut Criterion) {
    use simnet::explore::{generate, run_seed, Profile};

    let mut group = c.benchmark_group("explore");
    group.sample_size(10);
    const RUNS: u64 = 4;
    // The same seeds every sample, so samples compare like with like.
    let seeds: Vec<u64> = (0..RUNS).collect();
    let shapes: Vec<(usize, Duration)> = seeds
        .iter()
        .map(|seed| {
            let model = generate(*seed, Profile::All);
            let yaml = serde_saphyr::to_string(&model).expect("serialise");
            let plan = simnet::scenario::load_str(&yaml, "generated").expect("loads");
            (plan.nodes.len(), simnet::scenario::end_of(&plan))
        })
        .collect();
    group.throughput(Throughput::Elements(RUNS));
    group.bench_function(BenchmarkId::new("simnet", "profile-all"), |b| {
        b.iter(|| {
            for seed in &seeds {
                let run = run_seed(*seed, Profile::All);
                assert!(run.outcome.is_ok(), "{:?}", run.outcome.err());
            }
        })
    });
    group.bench_function(BenchmarkId::new("idle-turmoil", "profile-all"), |b| {
        b.iter(|| {
            for (nodes, virtual_time) in &shapes {
                run_idle_hosts(*nodes, *virtual_time);
            }
        })
    });
    group.finish();
}

/// The standard workload on the event-driven engine.
fn run_on_engine(nodes: usize, duration: Duration) {
    let summary = simnet::sim::engine::simulate(
        WorldConfig {
            seed: 1,
            ..Default::default()
        },
        move |engine| {
            workload::run(
                engine,
                Workload {
                    nodes,
                    duration,
                    traffic: true,
                },
            )
        },
    )
    .expect("engine thread")
    .expect("workload");
    assert_eq!(summary.verified, 4 * nodes, "every link verified both ways");
}

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    let duration = Duration::from_secs(40);
    for nodes in [10, 100] {
        group.throughput(Throughput::Elements(nodes as u64 * duration.as_secs()));
        group.bench_with_input(
            BenchmarkId::new("engine", format!("{nodes} nodes 40s")),
            &nodes,
            |b, &n| b.iter(|| run_on_engine(n, duration)),
        );
        if nodes == 10 {
            group.bench_with_input(
                BenchmarkId::new("turmoil", format!("{nodes} nodes 40s")),
                &nodes,
                |b, &n| b.iter(|| run_workload(n, duration, true)),
            );
        }
    }
    if std::env::var_os("SIMNET_BENCH_ENGINE_1000").is_some() {
        let duration = Duration::from_secs(10);
        group.throughput(Throughput::Elements(1000 * duration.as_secs()));
        group.bench_function(BenchmarkId::new("engine", "1000 nodes 10s"), |b| {
            b.iter(|| run_on_engine(1000, duration))
        });
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/handshake-basic.yaml");
    let plan = simnet::scenario::load_file(&path).expect("scenario");
    const RUNS: u64 = 100;
    group.throughput(Throughput::Elements(RUNS));
    group.bench_function(BenchmarkId::new("engine", "sweep handshake-basic"), |b| {
        let mut seed = 0;
        b.iter(|| {
            for _ in 0..RUNS {
                seed += 1;
                let outcome = simnet::scenario::run::run_on_engine(&plan, seed).expect("run");
                assert!(outcome.passed);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, virtual_time, scale, sweep, explore, engine);
criterion_main!(benches);
