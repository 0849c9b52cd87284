//! Wall time of the standard workload (`simnet::sim::workload`: a ring with
//! chords, every node handshaking, subscribing, broadcasting and sending
//! direct messages every virtual second) on the event-driven engine or on
//! turmoil, for the spike of issue 15.
//!
//! ```sh
//! cargo run --release --example engine_scale -- [engine|turmoil] NODES SECONDS [SEED]
//! ```

use std::time::{Duration, Instant};

use simnet::sim::{
    engine,
    workload::{self, Workload},
    WorldConfig,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args
        .first()
        .map(String::as_str)
        .unwrap_or("engine")
        .to_owned();
    let nodes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let config = WorldConfig {
        seed,
        ..Default::default()
    };
    let workload = Workload {
        nodes,
        duration: Duration::from_secs(seconds),
        traffic: true,
    };
    let started = Instant::now();
    let (summary, extra) = match which.as_str() {
        "engine" => engine::simulate(config, move |e| {
            let summary = workload::run(e, workload);
            (summary, format!("{:?}", e.net_stats()))
        }),
        "turmoil" => {
            simnet::sim::simulate(config, move |w| (workload::run(w, workload), String::new()))
        }
        other => panic!("unknown engine {other:?}: engine or turmoil"),
    }
    .expect("simulation thread");
    let wall = started.elapsed();
    let summary = summary.expect("workload");
    println!(
        "{which} nodes={nodes} virtual={seconds}s seed={seed} wall={:.3}s events={} verified={} broadcasts_delivered={} sends_answered={} wire_bytes={} wire_digest={:016x} trace_digest={:016x} {extra}",
        wall.as_secs_f64(),
        summary.events,
        summary.verified,
        summary.broadcasts_delivered,
        summary.sends_answered,
        summary.wire.bytes,
        summary.wire.digest,
        summary.trace_digest,
    );
}
