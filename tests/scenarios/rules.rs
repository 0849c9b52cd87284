//! The table of the protocol document's rules and the scenario directory
//! stay in step: every scenario tests some rule, and every scenario a rule
//! names exists.

use std::collections::BTreeSet;

use simnet::scenario::rules::{BEYOND, RULES};

#[test]
fn every_scenario_tests_a_rule_and_every_named_scenario_exists() {
    let files: BTreeSet<String> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let named: BTreeSet<String> = RULES
        .iter()
        .chain(BEYOND)
        .flat_map(|r| r.scenarios.iter().map(|s| s.to_string()))
        .collect();
    let untested: Vec<_> = files.difference(&named).collect();
    let missing: Vec<_> = named.difference(&files).collect();
    assert!(untested.is_empty(), "scenarios no rule names: {untested:?}");
    assert!(
        missing.is_empty(),
        "rules name missing scenarios: {missing:?}"
    );
}
