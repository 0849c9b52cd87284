//! A standard workload: `n` nodes in a ring with chords, all handshaking,
//! subscribing to one topic, broadcasting and exchanging direct messages once
//! per virtual second. `simnet simulate`, the determinism tests and the
//! simulation benchmarks all run it, so their figures describe the same thing.

use std::{hash::Hasher, time::Duration};

use fnv::FnvHasher;

use crate::{
    net::{Network, NetworkError, Record, TraceEntry, WireStats},
    protocol::{Event, HandshakeState, InstanceMessageRequest, NodeConfig, Responder},
};

/// The topic the workload broadcasts on.
pub const TOPIC: &str = "workload";

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Nodes, named `n00`, `n01`, …
    pub nodes: usize,
    /// Virtual time to run for, from the first dial.
    pub duration: Duration,
    /// Whether nodes broadcast and send direct messages every second, or only
    /// handshake and broadcast once.
    pub traffic: bool,
}

/// What happened, in numbers that two runs of one seed must share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Trace entries.
    pub events: usize,
    /// FNV-1a over the rendered trace.
    pub trace_digest: u64,
    /// The simulated wire.
    pub wire: WireStats,
    /// `Verified` transitions.
    pub verified: usize,
    /// Broadcasts delivered to an application.
    pub broadcasts_delivered: usize,
    /// Direct sends answered.
    pub sends_answered: usize,
    /// Virtual time at the end.
    pub virtual_time: Duration,
}

/// The name of node `i`.
pub fn node_name(i: usize) -> String {
    format!("n{i:02}")
}

/// Builds and runs the workload in `world`.
pub fn run<W: Network>(world: &mut W, workload: Workload) -> Result<Summary, NetworkError> {
    let n = workload.nodes.max(2);
    let names: Vec<String> = (0..n).map(node_name).collect();
    for name in &names {
        let config = NodeConfig {
            responder: Responder::Echo,
            ..NodeConfig::default()
        };
        world.add_node(name, config)?;
    }
    world.start()?;
    let start = world.elapsed();
    for i in 0..n {
        // Ring plus a chord: every node has a handful of neighbours.
        for step in [1, 3] {
            let j = (i + step) % n;
            if j != i && !(n <= 3 && step == 3) {
                // A refused dial is part of the run, not an error of it.
                let _ = world.dial(&names[i], &names[j])?;
            }
        }
    }
    for name in &names {
        let _ = world.subscribe(name, TOPIC)?;
    }
    // Let handshakes finish and the gossip mesh form (heartbeat 1 s).
    world.run_until(start + Duration::from_secs(2))?;
    let end = start + workload.duration.max(Duration::from_secs(3));
    let mut second = 0usize;
    while world.elapsed() < end {
        if workload.traffic || second == 0 {
            let speaker = &names[second % n];
            let _ = world.broadcast(speaker, TOPIC, format!("tick {second}").into_bytes())?;
        }
        if workload.traffic {
            for (i, name) in names.iter().enumerate() {
                let request = InstanceMessageRequest {
                    protocol: "workload/echo".into(),
                    payload: format!("{second}/{i}").into_bytes().into(),
                    metadata: None,
                };
                let _ = world.send(name, &names[(i + 1) % n], request)?;
            }
        }
        second += 1;
        let next = (world.elapsed() + Duration::from_secs(1)).min(end);
        world.run_until(next)?;
    }
    Ok(summarize(world))
}

/// Counts and digests of what `world` recorded.
pub fn summarize<W: Network>(world: &W) -> Summary {
    let lines = world.trace_lines();
    let mut digest = FnvHasher::default();
    for line in &lines {
        digest.write(line.as_bytes());
        digest.write(b"\n");
    }
    let count = |pred: fn(&TraceEntry) -> bool| world.trace().iter().filter(|e| pred(e)).count();
    Summary {
        events: lines.len(),
        trace_digest: digest.finish(),
        wire: world.wire(),
        verified: count(|e| {
            matches!(
                e.record,
                Record::Event(Event::Handshake {
                    state: HandshakeState::Verified,
                    ..
                })
            )
        }),
        broadcasts_delivered: count(|e| matches!(e.record, Record::Event(Event::Broadcast { .. }))),
        sends_answered: count(|e| {
            matches!(
                e.record,
                Record::Event(Event::SendOutcome { result: Ok(_), .. })
            )
        }),
        virtual_time: world.elapsed(),
    }
}
