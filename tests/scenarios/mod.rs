//! Every scenario in `scenarios/` runs in the default simulator, must pass
//! its expectations and the global invariants, and must match its reviewed
//! snapshot (`scenarios/snapshots/`, the files `simnet conformance` checks);
//! on turmoil it must pass too.

mod malformed;
mod real;
mod rules;
mod vocabulary;

use std::path::Path;

use simnet::{
    scenario::{load_file, run, Mode},
    sim::Simulator,
};

#[test]
fn every_scenario_passes_and_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for path in simnet::scenario::suite::discover(&[root.join("scenarios")]).expect("scenarios/") {
        let plan = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let outcome = run(&plan, plan.seed, Mode::SIMULATED)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            outcome.passed,
            "{} failed:\n{}\n\ntrace:\n{}",
            plan.name,
            outcome.failures().join("\n"),
            outcome
                .trace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        // The same files `simnet conformance` compares with (`scenarios/snapshots/`).
        insta::with_settings!({
            snapshot_path => root.join("scenarios/snapshots"),
            prepend_module_to_snapshot => false,
            input_file => &path,
            description => format!("{} (seed {})", plan.about, plan.seed),
            omit_expression => true,
        }, {
            insta::assert_yaml_snapshot!(plan.name.as_str(), outcome);
        });
    }
}

/// turmoil is kept as a second, independent network model: every scenario
/// must pass its expectations and invariants there too (its timings differ,
/// so it has no snapshots).
#[test]
fn every_scenario_passes_on_turmoil_too() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = simnet::scenario::suite::discover(&[root.join("scenarios")]).expect("scenarios/");
    assert!(files.len() > 40, "{} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let plan = load_file(path).unwrap_or_else(|e| panic!("{e}"));
        match run(&plan, plan.seed, Mode::Simulated(Simulator::Turmoil)) {
            Ok(outcome) if outcome.passed => {}
            Ok(outcome) => failures.push(format!("{}: {:?}", path.display(), outcome.failures())),
            Err(error) => failures.push(format!("{}: {error}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_scenario_file_name_matches_its_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let plan = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            path.file_stem().and_then(|s| s.to_str()),
            Some(plan.name.as_str()),
            "the file and its `name` must agree"
        );
        count += 1;
    }
    assert!(count > 0, "no scenarios found");
}

#[test]
fn every_snapshot_belongs_to_a_scenario() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // simnet's own snapshots, then the reference implementation's.
    for dir in ["scenarios/snapshots", "scenarios/snapshots/reference"] {
        snapshots_belong_to_scenarios(root, dir);
    }
}

fn snapshots_belong_to_scenarios(root: &Path, dir: &str) {
    for entry in std::fs::read_dir(root.join(dir)).expect("snapshots/") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "reference" && entry.path().is_dir() {
            continue;
        }
        let Some(scenario) = name.strip_suffix(".snap") else {
            panic!("unexpected file in {dir}/: {name}");
        };
        assert!(
            root.join("scenarios")
                .join(format!("{scenario}.yaml"))
                .exists(),
            "orphaned snapshot {name}: delete it, or restore scenarios/{scenario}.yaml"
        );
    }
}

#[test]
fn committed_schema_matches_the_scenario_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json");
    let committed = std::fs::read_to_string(&path).expect("scenarios/scenario.schema.json");
    assert!(
        committed == simnet::scenario::load::json_schema(),
        "the scenario types changed: run `cargo run -- schema > scenarios/scenario.schema.json`"
    );
}

#[test]
fn every_scenario_names_the_schema_for_editors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in std::fs::read_dir(dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(
                text.starts_with("# yaml-language-server: $schema=scenario.schema.json\n"),
                "{} lacks the schema line",
                path.display()
            );
        }
    }
}
