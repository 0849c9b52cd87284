//! `simnet explore` through the binary: each failing run (here, of a planted
//! bug) is written as a scenario that loads, names its failure class, and run
//! again fails with the bug and passes without it; reports cover every run;
//! the exit code says whether any failed. The files explore found on the
//! protocol before the hardening pass now.

use std::path::Path;

use simnet::{
    scenario::{load_file, run, Mode},
    sim::Simulator,
};

use crate::cli::{scratch, simnet, simnet_with_env, text};

/// The class the explorer wrote in a failing file's header.
fn written_class(file: &Path) -> String {
    let text = std::fs::read_to_string(file).expect("read");
    text.lines()
        .find_map(|l| l.strip_prefix("# Found by `simnet explore`, seed "))
        .and_then(|rest| rest.split_once(": "))
        .map(|(_, class)| class.to_owned())
        .unwrap_or_else(|| panic!("no header in {}", file.display()))
}

#[test]
fn every_failure_is_written_as_a_scenario_that_fails_the_same_way_again() {
    // The protocol as it is passes these runs, so a planted bug (H3's mirror,
    // found within 10 runs) makes some fail.
    let plant = [("SIMNET_PLANTED_BUG", "gossip-author-unchecked")];
    let dir = scratch("explore");
    let out = dir.join("found");
    let reports = dir.join("reports");
    let result = simnet_with_env(
        &[
            "explore",
            "--runs",
            "10",
            "--seed",
            "0",
            "--jobs",
            "2",
            "--shrink-runs",
            "0",
            "--out",
            out.to_str().unwrap(),
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        &plant,
    );
    let stdout = text(&result.stdout);
    assert!(
        stdout.contains("explore (profile all): 10 runs"),
        "{stdout}{}",
        text(&result.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(&out)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let failed = stdout
        .split(" passed, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a summary line");
    assert!(failed > 0, "the plant is found: {stdout}");
    assert_eq!(written.len(), failed, "one file per failing run: {stdout}");
    assert_eq!(result.status.code(), Some(1));
    for file in &written {
        let path = file.to_str().unwrap();
        // It loads, its header names a failure class, and it fails again
        // with the plant and passes without it: the failure is the plant's.
        load_file(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(!written_class(file).is_empty());
        let replay = simnet_with_env(&["run", path], &plant);
        assert_eq!(replay.status.code(), Some(1), "{path}");
        let clean = simnet(&["run", path]);
        assert_eq!(
            clean.status.code(),
            Some(0),
            "{path}: {}",
            text(&clean.stdout)
        );
    }
    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("junit.xml");
    let xml = roxmltree::Document::parse(&junit).expect("well-formed");
    assert_eq!(
        xml.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        10
    );
    assert_eq!(
        xml.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        failed
    );
}

#[test]
fn shrinking_skips_a_cut_that_leaves_steps_commanding_a_crashed_node() {
    use simnet::scenario::shrink::{shrink, ShrinkOptions};

    // Removing the restart would leave bob's dial commanding a node that is
    // down; the shrinker must reject that cut, not give up.
    let text = "\
name: restart-then-dial
about: Claims a restarted node's dial verifies nothing, so it fails.
seed: 1
nodes: { alice: {}, bob: {} }
steps:
  - at: 1s
    crash: bob
  - at: 2s
    restart: bob
  - at: 3s
    dial: { from: bob, to: alice }
  - at: 5s
    expect: { not_verified: [[alice, bob]] }
";
    let options = ShrinkOptions {
        seed: 1,
        simulator: Simulator::default(),
        implementation: simnet::implementation::Implementation::Simnet,
        max_runs: 40,
        seeds_per_candidate: 1,
        keep_from: None,
    };
    let shrunk = shrink(text, "restart-then-dial.yaml", &options, &|_, _| {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!shrunk.outcome.passed);
    assert!(shrunk.yaml.contains("dial"), "{}", shrunk.yaml);
}

#[test]
fn what_explore_found_before_the_hardening_passes_now() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explore-found");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/explore-found")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let plan = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let outcome = run(&plan, plan.seed, Mode::SIMULATED).expect("runs");
        assert!(outcome.passed, "{} fails", file.display());
    }
}
