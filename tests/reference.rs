//! The reference implementation behind simnet's node commands and events
//! (cargo feature `reference`): a pair verifies with the states the
//! adapter reads off the crate's log (so a changed log text fails here), the
//! same seed gives the same run across processes, and it runs on loopback.

use std::process::Command;

use simnet::{
    implementation::Implementation,
    scenario::{load_file, run, Mode, Outcome},
};

fn on_reference(file: &str, mode: Mode) -> Outcome {
    let mut plan = load_file(std::path::Path::new(file)).expect("scenario loads");
    plan.implementation = Implementation::Reference;
    run(&plan, plan.seed, mode).expect("runs")
}

#[test]
fn a_pair_verifies_through_the_states_its_log_shows() {
    let outcome = on_reference("scenarios/handshake-basic.yaml", Mode::SIMULATED);
    assert!(outcome.passed, "{:#?}", outcome.failures());
    let lines: Vec<String> = outcome.trace.iter().map(|l| l.to_string()).collect();
    for state in ["outbound_pending", "inbound_pending", "verified"] {
        for (node, peer) in [("alice", "bob"), ("bob", "alice")] {
            let wanted = format!("{node}: handshake with {peer}: {state}");
            assert!(
                lines.iter().any(|l| l.ends_with(&wanted)),
                "no `{wanted}` in\n{}",
                lines.join("\n")
            );
        }
    }
}

#[test]
fn a_broadcast_reaches_subscribers_through_the_reference_gossip() {
    let outcome = on_reference("scenarios/broadcast-subscribers.yaml", Mode::SIMULATED);
    assert!(outcome.passed, "{:#?}", outcome.failures());
}

/// stdout of `simnet simulate --impl reference` in a new process.
fn simulate_in_a_process(seed: u64) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args([
            "simulate",
            "--impl",
            "reference",
            "--seed",
            &seed.to_string(),
        ])
        .args(["--nodes", "4", "--duration", "20s", "--trace"])
        .output()
        .expect("run simnet");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // The last line is the wall time.
    text.lines()
        .filter(|l| !l.starts_with("wall time"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_same_seed_gives_the_same_trace_and_wire_across_processes() {
    let first = simulate_in_a_process(7);
    assert!(first.contains("wire digest"), "{first}");
    assert!(first.contains("verified"), "{first}");
    assert_eq!(first, simulate_in_a_process(7));
    assert_ne!(first, simulate_in_a_process(8));
}

#[test]
fn a_pair_verifies_on_loopback() {
    let outcome = on_reference("scenarios/handshake-basic.yaml", Mode::Real);
    assert!(outcome.passed, "{:#?}", outcome.failures());
}

/// Runs `simnet reference-report` into `dir`, with `CI` set or not.
fn reference_report(dir: &std::path::Path, ci: bool) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_simnet"))
        .args(["reference-report", "--report-dir"])
        .arg(dir)
        .env("CI", if ci { "true" } else { "" })
        .output()
        .expect("run simnet")
}

#[test]
fn the_deviation_report_shows_each_known_deviation_from_a_scenario() {
    let dir = std::env::temp_dir().join(format!("simnet-reference-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Under CI nothing is written, and a report that is not there differs.
    let compared = reference_report(&dir, true);
    assert_eq!(compared.status.code(), Some(1));
    assert!(!dir.join("summary.md").exists());
    let written = reference_report(&dir, false);
    assert_eq!(
        written.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&written.stdout)
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md");
    let row = |rule: &str| {
        summary
            .lines()
            .find(|l| l.starts_with(&format!("| **{rule}**")))
            .unwrap_or_else(|| panic!("no row for {rule}"))
            .to_owned()
    };
    for (rule, scenario) in [
        ("banned-peers", "ban-and-expiry"),
        ("handshake-states", "reconnect-rehandshakes"),
        ("handshake-timeout", "handshake-timeout"),
        ("signatures-verified", "replayed-handshake"),
        ("direct-responses", "response-kinds"),
        ("message-size-limits", "large-direct-message-delivered"),
    ] {
        let row = row(rule);
        assert!(row.contains("❌ deviates"), "{row}");
        assert!(row.contains(&format!("❌ {scenario}")), "{row}");
        assert!(
            summary.contains(&format!("### {scenario} — ")),
            "no deviation section for {scenario}"
        );
    }
    assert!(row("handshake-on-first-connection").contains("✅ pass"));
    assert!(summary.contains("```mermaid"));
    assert!(dir.join("junit.xml").exists());
    // The same run compared with what it wrote matches.
    assert_eq!(reference_report(&dir, true).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
