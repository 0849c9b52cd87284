//! How fast the simulator runs, beside turmoil's own cost as the baseline.
//!
//! - `virtual_time`: the standard workload (5 nodes, traffic every second) for
//!   60 virtual seconds. Throughput is counted in *virtual milliseconds*, so
//!   criterion's `Kelem/s` reads directly as "times faster than real time".
//!   Baseline: 5 idle turmoil hosts for the same 60 virtual seconds.
//! - `scale`: 10, 50 and 100 nodes that all handshake and broadcast, for 5
//!   virtual seconds, beside the same number of idle turmoil hosts.
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

fn virtual_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("virtual_time");
    group.sample_size(10);
    let duration = Duration::from_secs(60);
    group.throughput(Throughput::Elements(duration.as_millis() as u64));
    group.bench_function(BenchmarkId::new("simnet", "5 nodes 60s"), |b| {
        b.iter(|| run_workload(5, duration, true))
    });
    group.bench_function(BenchmarkId::new("idle-turmoil", "5 hosts 60s"), |b| {
        b.iter(|| run_idle_hosts(5, duration))
    });
    group.finish();
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    let duration = Duration::from_secs(5);
    for nodes in [10usize, 50, 100] {
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

criterion_group!(benches, virtual_time, scale);
criterion_main!(benches);
