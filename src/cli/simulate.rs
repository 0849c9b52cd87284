//! `simnet simulate`: the standard workload in the simulator, its counts and
//! digests.

use std::time::{Duration, Instant};

use simnet::{
    net::{Network, NetworkError},
    scenario::time::parse_duration,
    sim::{
        engine, simulate,
        workload::{self, Workload},
        Simulator, WorldConfig,
    },
};

use super::{
    args::{ImplementationArg, SimulatorArg},
    EXIT_PASS,
};
use crate::Global;

/// Run the standard workload in the deterministic simulator and print what
/// happened: counts, a digest of the trace and a digest of every byte
/// written to the simulated wire. The same seed prints the same output,
/// byte for byte, in every process; wall time goes to stderr.
///
/// Example: simnet simulate --seed 7 --nodes 5 --duration 60s --trace
///
/// Example: simnet simulate --nodes 1000 --duration 10s   # the event engine's scale
#[derive(clap::Args, Debug)]
pub(crate) struct SimulateArgs {
    /// Seed of every random choice in the run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of nodes (1 to 2000).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=2000))]
    nodes: u16,
    /// Virtual time to run, e.g. `40s`, `1500ms`, `2m`.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    duration: Duration,
    /// Only handshake and broadcast once, no periodic traffic.
    #[arg(long)]
    quiet_network: bool,
    /// Print the whole trace, one line per event.
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    simulator: SimulatorArg,
    #[command(flatten)]
    implementation: ImplementationArg,
}

impl SimulateArgs {
    /// Runs the workload and prints its counts and digests; returns the exit code.
    pub(crate) fn exec(self, _global: &Global) -> anyhow::Result<u8> {
        let started = Instant::now();
        let (seed, nodes) = (self.seed, usize::from(self.nodes));
        let workload = Workload {
            nodes,
            duration: self.duration,
            traffic: !self.quiet_network,
        };
        let config = WorldConfig {
            seed,
            implementation: self.implementation.implementation,
            ..WorldConfig::default()
        };
        let (summary, lines) = match self.simulator.simulator {
            Simulator::Turmoil => simulate(config, move |world| {
                let summary = workload::run(world, workload)?;
                Ok::<_, NetworkError>((summary, world.trace_lines()))
            })??,
            Simulator::Events => engine::simulate(config, move |net| {
                let summary = workload::run(net, workload)?;
                Ok::<_, NetworkError>((summary, net.trace_lines()))
            })??,
        };
        let wall = started.elapsed();
        if self.trace {
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
}
