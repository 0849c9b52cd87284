//! Every diagram parses: simnet's own strict check of the mermaid subset it
//! writes over every suite scenario's diagram and over failing runs of the
//! planted bugs (drawn by `simnet run --mermaid`), and, where it is
//! installed (`npm ci` in `tests/report/mermaid/`), mermaid's own parser on
//! all of them.

use std::{io::Write, path::Path, process::Command};

use std::time::Duration;

use simnet::{
    report::diagram::{grammar, Arrow, Diagram, Line, Mark, Step},
    scenario::{load_file, run, suite, Mode},
};

use super::mermaid_block;
use crate::cli::{simnet_with_env, text};

/// Failing runs of planted bugs: (bug, scenario, a seed at which it fails).
const PLANTED: [(&str, &str, &str); 4] = [
    (
        "no-crossed-handshake",
        "scenarios/near-simultaneous-dial.yaml",
        "0",
    ),
    (
        "verified-before-signature-check",
        "scenarios/forged-signature.yaml",
        "0",
    ),
    (
        "handshake-timer-not-cancelled",
        "scenarios/verified-outlives-handshake-timeout.yaml",
        "0",
    ),
    (
        "gossip-author-unchecked",
        "scenarios/gossip-banned-author.yaml",
        "0",
    ),
];

/// `(name, mermaid text)` of every suite scenario's diagram.
fn suite_diagrams() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = suite::discover(&[root.join("scenarios")]).expect("scenarios/");
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    suite::run_parallel(
        &files,
        jobs,
        &|path| {
            let plan = load_file(path).unwrap_or_else(|e| panic!("{e}"));
            let outcome = run(&plan, plan.seed, Mode::SIMULATED)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (plan.name.clone(), Diagram::of(&outcome).to_mermaid())
        },
        &|| {},
    )
}

/// `(name, mermaid text)` of each planted bug's failing run.
fn planted_diagrams() -> Vec<(String, String)> {
    PLANTED
        .iter()
        .map(|(bug, scenario, seed)| {
            let out = simnet_with_env(
                &["run", scenario, "--seed", seed, "--mermaid"],
                &[("SIMNET_PLANTED_BUG", bug)],
            );
            let stdout = text(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{bug} must fail: {stdout}");
            let diagram = mermaid_block(&stdout).unwrap_or_else(|| panic!("a diagram: {stdout}"));
            assert!(
                diagram.contains("❌"),
                "{bug}: the failure is drawn: {diagram}"
            );
            assert!(diagram.lines().count() <= 60, "{bug}: {diagram}");
            (format!("{bug} on {scenario}"), diagram)
        })
        .collect()
}

/// Names and texts that mermaid's syntax would misread if they were not escaped.
fn hostile_diagram() -> (String, String) {
    let names = ["end", "note", "a b", "x;y", "p0", "bob:1", "<b>", "\"q\""];
    let nasty = "a; b # c <d> \"e\" 50% end\nsecond line: %%{init}%% #59;";
    let step = |i: usize, mark: Mark| {
        Line::Step(Step {
            at: Duration::from_millis(i as u64),
            entries: 1,
            entry: Some(i),
            mark,
        })
    };
    let mut lines = Vec::new();
    for (i, pair) in names.windows(2).enumerate() {
        lines.push(step(
            i,
            Mark::Message {
                from: pair[0].into(),
                to: pair[1].into(),
                arrow: [
                    Arrow::Request,
                    Arrow::Response,
                    Arrow::Refused,
                    Arrow::Rejection,
                ][i % 4],
                text: nasty.into(),
            },
        ));
        lines.push(step(
            i,
            Mark::Note {
                over: vec![pair[1].into(), pair[0].into()],
                about: Vec::new(),
                text: nasty.into(),
            },
        ));
    }
    lines.push(step(
        99,
        Mark::Failure {
            over: Vec::new(),
            text: nasty.into(),
            first: true,
        },
    ));
    let diagram = Diagram {
        participants: names.iter().map(|n| (*n).to_owned()).collect(),
        lines,
    };
    ("hostile names and texts".into(), diagram.to_mermaid())
}

#[test]
fn every_diagram_passes_the_grammar_check_and_mermaid_where_installed() {
    let mut diagrams = suite_diagrams();
    diagrams.extend(planted_diagrams());
    diagrams.push(hostile_diagram());
    for (name, diagram) in &diagrams {
        if let Err(error) = grammar::check(diagram) {
            panic!("{name}: {error}\n{diagram}");
        }
    }
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/mermaid");
    if !checker.join("node_modules/mermaid").exists() {
        eprintln!(
            "mermaid's parser is not installed (npm ci in {}): checked with simnet's grammar only",
            checker.display()
        );
        return;
    }
    let json = serde_json::to_string(&diagrams).expect("json");
    let mut child = Command::new("node")
        .arg("check.mjs")
        .current_dir(&checker)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(json.as_bytes())
        .expect("write diagrams");
    let out = child.wait_with_output().expect("node finishes");
    assert!(
        out.status.success(),
        "mermaid rejects: {}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stdout).trim(), format!("ok {}", diagrams.len()));
}
