//! Every fault-free scenario also runs on real sockets (127.0.0.1, real
//! time), must pass there too, and must end in the same state as in the
//! simulator: each node's verified peers, bans, and sessions.

use std::{path::PathBuf, time::Duration};

use simnet::scenario::{
    end_of, load_file, run, sim_only_step, suite::run_parallel, Mode, Outcome, Plan,
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
        } else if end_of(&plan) > LONGEST {
            left_out.push(format!("{}: {:?} of real time", plan.name, end_of(&plan)));
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
            let simulated = run(plan, plan.seed, Mode::SIMULATED).expect("simulated run");
            let real = run(plan, plan.seed, Mode::Real).expect("real run");
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
                real.trace
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n    ")
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

#[test]
fn each_seed_of_a_real_run_is_its_own() {
    let dir = tempdir();
    let file = dir.join("quick.yaml");
    std::fs::write(
        &file,
        "name: quick\nabout: Two nodes verify each other.\nseed: 40\nnodes: { a: {}, b: {} }\nsteps:\n  - at: 0s\n    dial: { from: a, to: b }\n  - at: 500ms\n    expect: { verified: [[a, b]] }\nend: 600ms\n",
    )
    .expect("write the scenario");
    let options = simnet::scenario::suite::Options {
        implementation: simnet::implementation::Implementation::Simnet,
        mode: Mode::Real,
        snapshots: None,
    };
    let entries = simnet::scenario::suite::run_all(&[file], 3, 3, options, &|| {});
    let seeds: Vec<Option<u64>> = entries.iter().map(|e| e.seed).collect();
    assert_eq!(seeds, [Some(40), Some(41), Some(42)]);
    for entry in &entries {
        match &entry.result {
            simnet::scenario::suite::FileResult::Ran(outcome) => {
                assert_eq!(Some(outcome.seed), entry.seed, "the run used its own seed")
            }
            other => panic!("{other:?}"),
        }
        assert!(entry.replay().to_string().contains(" --real --seed "));
    }
}

/// A fresh directory under the target directory for this test's files.
fn tempdir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("real-seeds");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
