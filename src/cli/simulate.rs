//! `simnet simulate` (the standard workload, digests) and `simnet demo`
//! (real nodes on 127.0.0.1).

use std::time::{Duration, Instant};

use simnet::sim::{
    simulate,
    workload::{self, Workload},
    Network, WorldConfig,
};

use super::{EXIT_FAIL, EXIT_PASS};

/// Runs the standard workload and prints its counts and digests.
pub(crate) fn simulate_workload(
    seed: u64,
    nodes: usize,
    duration: Duration,
    traffic: bool,
    print_trace: bool,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let workload = Workload {
        nodes,
        duration,
        traffic,
    };
    let config = WorldConfig {
        seed,
        ..WorldConfig::default()
    };
    let (summary, lines) = simulate(config, move |world| {
        let summary = workload::run(world, workload)?;
        Ok::<_, simnet::sim::SimError>((summary, world.trace_lines()))
    })??;
    let wall = started.elapsed();
    if print_trace {
        for line in &lines {
            println!("{line}");
        }
    }
    println!(
        "seed {seed}: {nodes} nodes, {:.3}s virtual, {} events, {} verified, {} broadcasts delivered, {} sends answered",
        summary.virtual_time.as_secs_f64(),
        summary.events,
        summary.verified,
        summary.broadcasts_delivered,
        summary.sends_answered
    );
    println!(
        "trace digest {:016x}, wire digest {:016x} over {} bytes",
        summary.trace_digest, summary.wire.digest, summary.wire.bytes
    );
    eprintln!(
        "wall time {:.3}s ({:.0}x real time)",
        wall.as_secs_f64(),
        summary.virtual_time.as_secs_f64() / wall.as_secs_f64().max(1e-9)
    );
    Ok(EXIT_PASS)
}

/// Runs the loopback demo and prints each check; returns the exit code.
pub(crate) fn demo() -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let checks = runtime.block_on(simnet::demo::run())?;
    let failed = checks.iter().filter(|c| c.failure.is_some()).count();
    for check in &checks {
        match &check.failure {
            None => println!("pass  {}", check.name),
            Some(why) => println!("FAIL  {}: {why}", check.name),
        }
    }
    println!("{} passed, {} failed", checks.len() - failed, failed);
    Ok(if failed == 0 { EXIT_PASS } else { EXIT_FAIL })
}
