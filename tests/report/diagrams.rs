//! What the diagrams show: the crossed handshake drawn as the protocol
//! document draws its handshake, a failing flood condensed to its failing
//! exchange, and reviewed snapshots of five scenarios' diagrams.

use super::{diagram_of, outcome_of};
use simnet::report::diagram::{Diagram, FAILING_LINES};

#[test]
fn simultaneous_dial_draws_two_requests_two_responses_and_verified_notes() {
    let diagram = diagram_of("scenarios/simultaneous-dial.yaml");
    let count = |needle: &str| diagram.matches(needle).count();
    assert_eq!(count("alice->>bob: "), 2, "connect and request: {diagram}");
    assert_eq!(count("bob->>alice: "), 2, "connect and request: {diagram}");
    assert_eq!(count("HandshakeRequest"), 2, "{diagram}");
    assert_eq!(count("-->>"), 2, "one response each way: {diagram}");
    assert_eq!(count("HandshakeResponse accepted"), 2, "{diagram}");
    assert!(
        diagram.contains("Note over alice: 0.108s ✓ verified bob"),
        "{diagram}"
    );
    assert!(
        diagram.contains("Note over bob: 0.110s ✓ verified alice"),
        "{diagram}"
    );
    assert!(!diagram.contains("failed"), "{diagram}");
}

#[test]
fn a_failing_flood_is_drawn_in_at_most_sixty_lines_around_its_failure() {
    let outcome = outcome_of("tests/report/request-flood-all-delivered.yaml");
    assert!(!outcome.passed, "the fixture fails on purpose");
    assert!(
        outcome.trace.len() > 1000,
        "a flood: {}",
        outcome.trace.len()
    );
    let diagram = Diagram::of(&outcome).to_mermaid();
    assert!(diagram.lines().count() <= FAILING_LINES, "{diagram}");
    // The nodes the failed check names, and no other.
    assert!(
        diagram.contains("participant alice\n    participant mallory\n"),
        "{diagram}"
    );
    assert!(!diagram.contains("bob"), "{diagram}");
    // The failing exchange: 100 requests answered, 400 refused 429 (drawn
    // in the loops that hold them).
    assert_eq!(drawn(&diagram, " Error 429"), 400, "{diagram}");
    assert!(
        diagram.contains("× 100 InstanceMessageRequest"),
        "{diagram}"
    );
    assert!(
        diagram.contains("❌ line 20: 500 request(s) from mallory delivered to alice"),
        "{diagram}"
    );
    assert!(
        diagram.contains("earlier trace entries left out"),
        "{diagram}"
    );
    assert!(diagram.contains("full trace in results.json"), "{diagram}");
}

/// Reviewed diagrams. Each snapshot was read against the protocol document
/// before it was accepted (see the README's "Reading a diagram").
#[test]
fn diagrams_of_five_scenarios_and_a_failing_flood() {
    for path in [
        "scenarios/simultaneous-dial.yaml",
        "scenarios/forged-signature.yaml",
        "scenarios/partition-heals.yaml",
        "scenarios/request-flood.yaml",
        "scenarios/crash-restart.yaml",
        "tests/report/request-flood-all-delivered.yaml",
    ] {
        let name = std::path::Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name");
        insta::with_settings!({ description => path, omit_expression => true }, {
            insta::assert_snapshot!(name, diagram_of(path));
        });
    }
}

/// How many times the arrows ending in `suffix` happen in `diagram`: an arrow
/// drawn `× N …` stands for N, and one alone in a `loop × N` block for N.
fn drawn(diagram: &str, suffix: &str) -> u32 {
    let count_after_times =
        |text: &str| -> Option<u32> { text.split("× ").nth(1)?.split(' ').next()?.parse().ok() };
    let mut repeats = 1;
    let mut total = 0;
    for line in diagram.lines().map(str::trim) {
        if let Some(head) = line.strip_prefix("loop ") {
            repeats = count_after_times(head).unwrap_or(1);
        } else if line == "end" {
            repeats = 1;
        } else if line.ends_with(suffix) {
            total += count_after_times(line).unwrap_or(repeats);
        }
    }
    total
}
