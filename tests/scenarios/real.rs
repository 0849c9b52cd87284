//! Every fault-free scenario also runs on real sockets (127.0.0.1, real
//! time), must pass there too, and must end in the same state as in the
//! simulator: each node's verified peers, bans, and sessions.

use std::{path::PathBuf, time::Duration};

use simnet::scenario::{
    load_file, run, run_real, sim_only_step, suite::run_parallel, Outcome, Plan,
};

/// Scenarios longer than this (in real time) are left to the simulator here.
const LONGEST: Duration = Duration::from_secs(20);
/// Scenarios whose run lasts longer than their steps say, with the reason.
const SLOW: [(&str, &str); 2] = [
    (
        "in-flight-flood",
        "requests held by a hung application end at the 30 s request timeout",
    ),
    ("send-deadline", "a send waits out its 45 s deadline"),
];
/// Scenarios run at once (real time is mostly waiting).
const JOBS: usize = 12;

/// Per node: verified peers, banned peers, and each session as the final
/// state shows it (handshake state, failure, connection count).
fn final_states(outcome: &Outcome) -> Vec<String> {
    outcome
        .nodes
        .iter()
        .map(|(name, node)| {
            format!(
                "{name}: verified {:?}, bans {:?}, sessions {:?}",
                node.verified,
                node.bans.keys().collect::<Vec<_>>(),
                node.peers
            )
        })
        .collect()
}

fn real_time(plan: &Plan) -> Duration {
    let last = plan.steps.last().map_or(Duration::ZERO, |s| s.at);
    plan.end.unwrap_or(last + Duration::from_secs(5))
}

#[test]
fn fault_free_scenarios_end_the_same_on_real_sockets() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files = simnet::scenario::suite::discover(&[dir]).expect("scenarios");
    let mut chosen = Vec::new();
    let mut left_out = Vec::new();
    for file in files {
        let plan = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        if let Some(step) = sim_only_step(&plan) {
            left_out.push(format!("{}: {step} needs the simulator", plan.name));
        } else if let Some((_, why)) = SLOW.iter().find(|(name, _)| *name == plan.name) {
            left_out.push(format!("{}: {why}", plan.name));
        } else if real_time(&plan) > LONGEST {
            left_out.push(format!(
                "{}: {:?} of real time",
                plan.name,
                real_time(&plan)
            ));
        } else {
            chosen.push(plan);
        }
    }
    assert!(
        chosen.len() >= 15,
        "only {} scenarios run both ways",
        chosen.len()
    );
    let results = run_parallel(
        &chosen,
        JOBS,
        &|plan: &Plan| {
            let simulated = run(plan).expect("simulated run");
            let real = run_real(plan).expect("real run");
            (plan.name.clone(), simulated, real)
        },
        &|| {},
    );
    let mut mismatches = Vec::new();
    for (name, simulated, real) in &results {
        assert!(simulated.passed, "{name} fails in the simulator");
        if !real.passed {
            mismatches.push(format!(
                "{name} fails on real sockets:\n  {}\n  trace:\n    {}",
                real.failures().join("\n  "),
                real.trace.join("\n    ")
            ));
        } else if final_states(simulated) != final_states(real) {
            mismatches.push(format!(
                "{name} ends differently:\n  simulated: {:#?}\n  real:      {:#?}",
                final_states(simulated),
                final_states(real)
            ));
        }
    }
    eprintln!(
        "{} scenarios run both ways; left to the simulator: {left_out:#?}",
        results.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
