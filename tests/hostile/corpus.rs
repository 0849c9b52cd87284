//! Bad scenario files (`tests/bad-input/`) and bad command lines: each gets a
//! clear error naming file:line:column and exit code 2, never a panic.

use std::path::Path;

use simnet::scenario::load_file;

use crate::cli::{simnet, text};

/// Every file of `tests/bad-input/`, with a fragment of the error it must get.
const CORPUS: &[(&str, &str)] = &[
    ("alias-bomb.yaml", "unknown field `a`"),
    ("bad-duration-unit.yaml", "unknown unit"),
    ("binary-garbage.yaml", "not UTF-8"),
    ("deeply-nested.yaml", "expected mapping"),
    ("duplicate-key.yaml", "duplicate mapping key"),
    ("empty.yaml", "the file is empty"),
    ("end-before-last-step.yaml", "is before the last step"),
    ("huge-flood.yaml", "at most 67108864"),
    ("huge-payload.yaml", "`payload_size` must be at most"),
    ("huge-repeat.yaml", "`repeat` must be between 1 and 10000"),
    ("huge-seed.yaml", "expected a whole number"),
    ("huge-time.yaml", "too large"),
    ("inverted-latency.yaml", "minimum above its maximum"),
    ("long-error-responder.yaml", "error message is 1025 bytes"),
    (
        "loss-above-one.yaml",
        "`network.loss` must be between 0 and 1",
    ),
    ("missing-name.yaml", "missing field `name`"),
    ("missing-steps.yaml", "missing field `steps`"),
    ("misspelt-action.yaml", "did you mean `dial`?"),
    ("misspelt-state.yaml", "did you mean `verified`?"),
    ("negative-seed.yaml", "expected a whole number"),
    ("negative-time.yaml", "is negative"),
    ("no-action.yaml", "a step needs one action"),
    ("nodes-as-list.yaml", "expected mapping"),
    ("not-a-mapping.yaml", "expected mapping"),
    ("only-comments.yaml", "the file is empty"),
    (
        "overflowing-time.yaml",
        "longer than the limit of one simulated day",
    ),
    ("pair-of-one.yaml", "exactly two node names"),
    ("payload-and-size.yaml", "not both"),
    ("payload-wrong-type.yaml", "expected string"),
    ("per-peer-limit-too-small.yaml", "must be at least 2"),
    ("replay-without-source.yaml", "no `replays: { from, to }`"),
    ("seed-not-a-number.yaml", "expected a whole number"),
    ("self-dial.yaml", "two different nodes"),
    ("tab-indent.yaml", "tabs disallowed"),
    ("two-actions.yaml", "exactly one action"),
    ("unclosed-flow.yaml", "flow mapping"),
    ("unclosed-quote.yaml", "unclosed quote"),
    ("unknown-kind.yaml", "unknown variant `evil`"),
    ("unknown-node.yaml", "unknown node `carol`"),
    ("unknown-refusal-rule.yaml", "unknown variant `too_many`"),
    ("unknown-top-field.yaml", "did you mean `nodes`?"),
    ("zero-rate-window.yaml", "longer than zero"),
    (
        "zero-repeat-broadcast.yaml",
        "`repeat` must be between 1 and 10000, got 0",
    ),
];

fn corpus_dir() -> &'static Path {
    Path::new("tests/bad-input")
}

#[test]
fn the_corpus_lists_every_file_and_has_at_least_thirty() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(corpus_dir());
    let mut on_disk: Vec<String> = std::fs::read_dir(root)
        .expect("tests/bad-input")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let listed: Vec<String> = CORPUS.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(on_disk, listed);
    assert!(listed.len() >= 30);
}

#[test]
fn every_bad_file_is_refused_with_its_location() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, fragment) in CORPUS {
        let error = load_file(&root.join(corpus_dir()).join(file))
            .expect_err(&format!("{file} must not load"));
        assert!(
            error.message.contains(fragment) || error.to_string().contains(fragment),
            "{file}: expected `{fragment}` in: {error}"
        );
        assert!(
            error.line_column().is_some_and(|(l, c)| l >= 1 && c >= 1),
            "{file}: {error}"
        );
    }
}

#[test]
fn every_bad_file_exits_2_from_the_cli_without_a_panic() {
    for (file, _) in CORPUS {
        let path = corpus_dir().join(file);
        let path = path.to_str().expect("utf-8");
        let out = simnet(&["run", path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {path}:")),
            "{file}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
}

#[test]
fn bad_files_exit_2_from_every_command_that_reads_them() {
    let path = "tests/bad-input/unknown-node.yaml";
    for args in [
        vec![
            "conformance",
            path,
            "--report-dir",
            "target/bad-input-reports",
        ],
        vec!["sweep", path, "--seeds", "0..2"],
        vec!["shrink", path, "--seed", "0"],
    ] {
        let out = simnet(&args);
        let stderr = text(&out.stderr) + &text(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("unknown node `carol`"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn bad_command_lines_exit_2_with_a_message() {
    let scenario = "scenarios/handshake-basic.yaml";
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["run"],
        &["run", scenario, "--seed", "abc"],
        &["run", scenario, "--seed", "-1"],
        &["run", scenario, "--seed", "99999999999999999999999"],
        &["run", scenario, "--no-such-flag"],
        &["run", "/nonexistent/scenario.yaml"],
        &["run", "scenarios"],
        &["sweep", scenario, "--seeds", "10..5"],
        &["sweep", scenario, "--seeds", "abc"],
        &["sweep", scenario, "--seeds", "0..18446744073709551616"],
        &["conformance", "--shard", "0/4"],
        &["conformance", "--shard", "5/4"],
        &["conformance", "does-not-exist"],
        &["conformance", "--jobs", "-3"],
        &["simulate", "--duration", "5 parsecs"],
        &["simulate", "--duration", "100000m"],
        &["simulate", "--nodes", "many"],
        &["simulate", "--nodes", "0"],
        &["simulate", "--nodes", "100000"],
        &["fuzz", "--target", "everything"],
        &["fuzz", "--duration", "10"],
        &["shrink", scenario, "--seed", "1"],
    ];
    for args in cases {
        let out = simnet(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?} says nothing");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
