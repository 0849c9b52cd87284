//! Snapshot checks from the binary, for a directory of scenarios that is not
//! simnet's own (a team's repository): missing snapshots fail and are named,
//! `--accept` writes them, an outcome that changes fails with a diff, and
//! with `CI` set nothing is ever written.

use std::path::Path;

use crate::cli::{scratch, simnet_with_env, text};

const FIRST: &str = "\
name: first
about: Two nodes verify each other.
seed: 4
nodes: { alice: {}, bob: {} }
steps:
  - at: 0s
    dial: { from: alice, to: bob }
  - at: 2s
    expect: { verified: [[alice, bob]] }
";

const SECOND: &str = "\
name: second
about: A ban refuses the banned peer's dial.
seed: 9
nodes: { alice: {}, bob: {} }
steps:
  - at: 0s
    ban: { node: alice, peer: bob }
  - at: 0s
    dial: { from: bob, to: alice }
  - at: 2s
    expect: { not_verified: [[alice, bob]] }
";

/// `simnet conformance DIR` with `CI` set or removed.
fn conformance(dir: &Path, ci: bool, extra: &[&str]) -> (i32, String) {
    let reports = dir.join("reports");
    let mut args = vec![
        "conformance",
        dir.to_str().expect("utf-8 path"),
        "--report-dir",
        reports.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let ci_value = if ci { "true" } else { "" };
    let out = simnet_with_env(&args, &[("CI", ci_value)]);
    let stdout = text(&out.stdout) + &text(&out.stderr);
    (out.status.code().unwrap_or(-1), stdout)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn new_scenarios_fail_until_accepted_then_pass_and_a_changed_outcome_fails_with_a_diff() {
    let dir = scratch("snapshots");
    std::fs::write(dir.join("first.yaml"), FIRST).expect("write");
    std::fs::write(dir.join("second.yaml"), SECOND).expect("write");
    let snapshots = dir.join("snapshots");

    // Under CI: fails, names both, writes nothing.
    let (code, out) = conformance(&dir, true, &[]);
    assert_eq!(code, 1, "{out}");
    for name in ["first", "second"] {
        assert!(
            out.contains(&format!(
                "no snapshot {}",
                snapshots.join(format!("{name}.snap")).display()
            )),
            "{out}"
        );
    }
    assert!(out.contains("nothing written: CI is set"), "{out}");
    assert!(!snapshots.exists(), "CI wrote {:?}", files_in(&snapshots));

    // --accept under CI still writes nothing.
    let (code, out) = conformance(&dir, true, &["--accept"]);
    assert_eq!(code, 1, "{out}");
    assert!(!snapshots.exists(), "CI wrote {:?}", files_in(&snapshots));

    // Off CI without --accept: fails, leaves pending files for review.
    let (code, out) = conformance(&dir, false, &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(files_in(&snapshots), ["first.snap.new", "second.snap.new"]);

    // --accept writes the snapshots; the next run passes.
    let (code, out) = conformance(&dir, false, &["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("accepted: wrote"), "{out}");
    assert!(snapshots.join("first.snap").exists());
    assert!(snapshots.join("second.snap").exists());
    let written = std::fs::read_to_string(snapshots.join("first.snap")).expect("snapshot");
    assert!(written.starts_with("---\n"), "insta's header: {written}");
    assert!(
        written.contains("description: \"Two nodes verify each other. (seed 4)\""),
        "{written}"
    );
    assert!(written.contains("\nscenario: first\n"), "{written}");
    for file in ["first.snap.new", "second.snap.new"] {
        std::fs::remove_file(snapshots.join(file)).expect("remove the pending file");
    }
    let (code, out) = conformance(&dir, true, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 passed, 0 failed"), "{out}");

    // An edited expectation that still holds but changes the outcome.
    std::fs::write(dir.join("first.yaml"), FIRST.replace("at: 2s", "at: 3s")).expect("write");
    let (code, out) = conformance(&dir, true, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL   first (seed 4)"), "{out}");
    assert!(out.contains("outcome differs from snapshot"), "{out}");
    assert!(out.contains("-  - at: 2s"), "{out}");
    assert!(out.contains("+  - at: 3s"), "{out}");
    assert_eq!(
        files_in(&snapshots),
        ["first.snap", "second.snap"],
        "CI wrote nothing"
    );

    let (code, out) = conformance(&dir, true, &["--no-snapshots"]);
    assert_eq!(code, 0, "expectations alone still hold: {out}");
}
