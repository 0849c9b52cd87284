//! The scenario words are defined once, in the file model: these tests tie
//! the model's action keys to [`Action::keyword`], the suite, the
//! documentation and the "needs the simulator" flag, and check that the model
//! a program builds (the explorer generates scenarios) writes back as YAML
//! that loads into the same plan.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use serde_json::Value;
use simnet::scenario::{
    load::{action_keywords, parse_str},
    load_file, load_str,
    plan::Action,
    suite::discover,
};

fn suite_files() -> Vec<PathBuf> {
    discover(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")]).expect("scenarios/")
}

/// Every action of the suite's plans, by keyword.
fn actions_in_the_suite() -> BTreeMap<&'static str, Action> {
    let mut seen = BTreeMap::new();
    for file in suite_files() {
        let plan = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        for step in plan.steps {
            seen.entry(step.action.keyword()).or_insert(step.action);
        }
    }
    seen
}

#[test]
fn each_step_key_loads_into_the_action_of_that_keyword() {
    for file in suite_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let raw: Value = serde_saphyr::from_str(&text).expect("YAML");
        let mut written: Vec<String> = raw["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .flat_map(|step| step.as_object().expect("a step").keys().cloned())
            .filter(|key| key != "at")
            .collect();
        let plan = load_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let mut loaded: Vec<String> = plan
            .steps
            .iter()
            .map(|s| s.action.keyword().to_owned())
            .collect();
        written.sort();
        loaded.sort();
        assert_eq!(written, loaded, "{}", file.display());
    }
}

#[test]
fn the_suite_uses_every_action() {
    let used: BTreeSet<String> = actions_in_the_suite()
        .keys()
        .map(|k| (*k).to_owned())
        .collect();
    let all: BTreeSet<String> = action_keywords().into_iter().collect();
    assert_eq!(
        all.difference(&used).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "actions no scenario uses"
    );
    assert_eq!(used, all);
}

#[test]
fn scenarios_readme_lists_every_action_and_where_it_runs() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/README.md"))
            .expect("scenarios/README.md");
    let section = readme
        .split("## Actions")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an Actions section");
    let documented: BTreeMap<String, bool> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| {
            let (word, rest) = rest.split_once('`')?;
            let sim_only = rest
                .trim_end()
                .trim_end_matches('|')
                .trim_end()
                .ends_with("yes");
            Some((word.to_owned(), sim_only))
        })
        .collect();
    let all: BTreeSet<String> = action_keywords().into_iter().collect();
    assert_eq!(
        documented.keys().cloned().collect::<BTreeSet<_>>(),
        all,
        "the table lists every action of the file model"
    );
    let actual: BTreeMap<String, bool> = actions_in_the_suite()
        .into_iter()
        .map(|(word, action)| (word.to_owned(), action.needs_simulator()))
        .collect();
    assert_eq!(documented, actual, "the simulator-only column");
}

#[test]
fn loss_is_documented_per_message_sent_not_per_tick() {
    let schema = simnet::scenario::load::json_schema();
    assert!(!schema.contains("per millisecond tick"), "{schema}");
    assert_eq!(
        schema.matches("for each message sent on").count(),
        2,
        "network.loss and a step's loss.rate: {schema}"
    );
}

#[test]
fn every_scenario_written_back_from_its_model_loads_into_the_same_plan() {
    for file in suite_files() {
        let text = std::fs::read_to_string(&file).expect("read");
        let name = file.display().to_string();
        let model = parse_str(&text, &name).unwrap_or_else(|e| panic!("{e}"));
        let written = serde_saphyr::to_string(&model).expect("serialise the model");
        let again = load_str(&written, &name).unwrap_or_else(|e| panic!("{e}\n{written}"));
        let original = load_str(&text, &name).unwrap_or_else(|e| panic!("{e}"));
        let without_lines = |plan: simnet::scenario::Plan| {
            let mut plan = plan;
            for step in &mut plan.steps {
                step.line = 0;
            }
            format!("{plan:?}")
        };
        assert_eq!(
            without_lines(original),
            without_lines(again),
            "{name} written back as:\n{written}"
        );
    }
}
