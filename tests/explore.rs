//! `simnet explore` through the binary: each failing run is written as a
//! scenario that loads and, run again, fails the same way (same failure
//! class); reports cover every run; the exit code says whether any failed.

use std::path::Path;

use simnet::{
    explore::failure_class,
    scenario::{load_file, run, Mode},
};

use crate::cli::{scratch, simnet, text};

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
    let dir = scratch("explore");
    let out = dir.join("found");
    let reports = dir.join("reports");
    let result = simnet(&[
        "explore",
        "--runs",
        "6",
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
    ]);
    let stdout = text(&result.stdout);
    assert!(
        stdout.contains("explore (profile all): 6 runs"),
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
    assert_eq!(written.len(), failed, "one file per failing run: {stdout}");
    assert_eq!(result.status.code(), Some(if failed > 0 { 1 } else { 0 }));
    for file in &written {
        let plan = load_file(file).unwrap_or_else(|e| panic!("{e}"));
        let again = run(&plan, plan.seed, Mode::Simulated).expect("runs");
        assert!(!again.passed, "{} passes when run again", file.display());
        assert_eq!(
            failure_class(&again),
            written_class(file),
            "{}",
            file.display()
        );
        let replay = simnet(&["run", file.to_str().unwrap()]);
        assert_eq!(replay.status.code(), Some(1), "{}", file.display());
    }
    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("junit.xml");
    let xml = roxmltree::Document::parse(&junit).expect("well-formed");
    assert_eq!(
        xml.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        6
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
        max_runs: 40,
        seeds_per_candidate: 1,
        keep_from: None,
    };
    let shrunk = shrink(text, "restart-then-dial.yaml", &options, &|_, _| {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!shrunk.outcome.passed);
    assert!(shrunk.yaml.contains("dial"), "{}", shrunk.yaml);
}
