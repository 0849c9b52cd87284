//! Malformed scenario files: each error names the line and column, what was
//! expected, and a suggestion where one exists.

use simnet::scenario::{load_str, LoadError};

fn error(text: &str) -> LoadError {
    match load_str(text, "bad.yaml") {
        Ok(plan) => panic!("loaded a bad file: {plan:?}"),
        Err(e) => e,
    }
}

const HEADER: &str = "name: t\nabout: A test.\nnodes:\n  alice: {}\n  bob: {}\n";

#[test]
fn misspelled_action_suggests_the_right_one() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    dail: {{ from: alice, to: bob }}\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default(), (8, 5), "{e}");
    assert!(e.message.contains("unknown field `dail`"), "{e}");
    assert_eq!(e.help.as_deref(), Some("did you mean `dial`?"));
}

#[test]
fn unknown_node_names_the_known_ones_and_the_closest() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    dial: {{ from: alice, to: bobb }}\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 8, "{e}");
    assert!(
        e.message
            .contains("unknown node `bobb`; the nodes are `alice`, `bob`"),
        "{e}"
    );
    assert_eq!(e.help.as_deref(), Some("did you mean `bob`?"));
}

#[test]
fn duration_without_unit_says_how_to_write_it() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 5\n    dial: {{ from: alice, to: bob }}\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default(), (7, 9), "{e}");
    assert!(e.message.contains("`5` has no unit; write `5s`"), "{e}");
}

#[test]
fn unknown_duration_unit_is_named() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 2h\n    dial: {{ from: alice, to: bob }}\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    assert!(e.message.contains("unknown unit `h`"), "{e}");
}

#[test]
fn step_with_two_actions_is_refused() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    dial: {{ from: alice, to: bob }}\n    crash: bob\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    assert!(
        e.message
            .contains("exactly one action, this one has `dial` and `crash`"),
        "{e}"
    );
}

#[test]
fn step_without_action_lists_the_actions() {
    let e = error(&format!("{HEADER}steps:\n  - at: 0s\n"));
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    assert!(
        e.message
            .contains("a step needs one action besides `at`: dial"),
        "{e}"
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    let e = error("name: t\nabout: A test.\nseed: seven\nnodes:\n  alice: {}\nsteps: []\n");
    assert_eq!(e.line_column().unwrap_or_default(), (3, 7), "{e}");
    assert_eq!(e.message, "expected a whole number, found `seven`");
}

#[test]
fn missing_required_field_is_named() {
    let e = error("name: t\nnodes:\n  alice: {}\nsteps: []\n");
    assert_eq!(e.line_column().unwrap_or_default(), (4, 1), "{e}");
    assert_eq!(e.message, "missing field `about`");
}

#[test]
fn unknown_node_kind_suggests_a_known_one() {
    let e =
        error("name: t\nabout: A test.\nnodes:\n  alice: { kind: forged-signatur }\nsteps: []\n");
    assert_eq!(e.line_column().unwrap_or_default().0, 4, "{e}");
    assert!(e.message.contains("forged-signatur"), "{e}");
    assert_eq!(e.help.as_deref(), Some("did you mean `forged-signature`?"));
}

#[test]
fn partition_needs_two_different_nodes() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    partition: [alice]\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    assert!(
        e.message.contains("partition takes exactly two node names"),
        "{e}"
    );
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    partition: [alice, alice]\n"
    ));
    assert!(e.message.contains("two different nodes"), "{e}");
}

#[test]
fn inverted_latency_range_is_refused() {
    let e = error(&format!(
        "{HEADER}network: {{ latency: 20ms..5ms }}\nsteps: []\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 6, "{e}");
    assert!(e.message.contains("minimum above its maximum"), "{e}");
}

#[test]
fn replay_without_source_is_explained() {
    let e = error("name: t\nabout: A test.\nnodes:\n  carol: { kind: replay }\nsteps: []\n");
    assert_eq!(e.line_column().unwrap_or_default(), (4, 10), "{e}");
    assert!(e.message.contains("`kind: replay` but no `replays"), "{e}");
}

#[test]
fn unknown_refusal_rule_suggests_one() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 1s\n    expect:\n      refused:\n        - {{ node: alice, peer: bob, rule: inbound-limit }}\n"
    ));
    assert!(e.message.contains("unknown variant `inbound-limit`"), "{e}");
    assert_eq!(e.line_column().unwrap_or_default(), (10, 43), "{e}");
    assert_eq!(e.help.as_deref(), Some("did you mean `inbound_limit`?"));
}

#[test]
fn unknown_failure_reason_is_refused_at_load_with_a_suggestion() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 1s\n    expect:\n      handshake:\n        - {{ node: alice, peer: bob, state: failed, reason: timout }}\n"
    ));
    assert!(e.message.contains("unknown variant `timout`"), "{e}");
    assert_eq!(e.line_column().unwrap_or_default().0, 10, "{e}");
    assert_eq!(e.help.as_deref(), Some("did you mean `timeout`?"));
}

#[test]
fn end_before_last_step_is_refused() {
    let e = error(&format!(
        "{HEADER}end: 1s\nsteps:\n  - at: 5s\n    crash: bob\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 6, "{e}");
    assert!(e.message.contains("is before the last step"), "{e}");
}

#[test]
fn empty_file_is_a_clear_error() {
    for empty in ["", "  \n\n", "# only a comment\n"] {
        let e = error(empty);
        assert_eq!(e.line_column().unwrap_or_default(), (1, 1), "{e}");
        assert_eq!(
            e.message,
            "the file is empty; a scenario needs `name`, `about`, `nodes` and `steps`"
        );
    }
}

#[test]
fn loss_rate_out_of_range_is_refused() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    loss: {{ between: [alice, bob], rate: 1.5 }}\n"
    ));
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    assert!(e.message.contains("between 0 and 1, got 1.5"), "{e}");
}

#[test]
fn per_peer_limit_below_two_is_refused_with_the_reason() {
    let e =
        error("name: t\nabout: A test.\nnodes:\n  alice: { limits: { per_peer: 1 } }\nsteps: []\n");
    assert_eq!(e.line_column().unwrap_or_default().0, 4, "{e}");
    assert!(
        e.message
            .contains("must be at least 2: a simultaneous dial"),
        "{e}"
    );
}

#[test]
fn display_names_file_line_and_column() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 0s\n    dail: {{ from: alice, to: bob }}\n"
    ));
    let text = e.to_string();
    assert!(
        text.starts_with("bad.yaml:8:5: unknown field `dail`"),
        "{text}"
    );
    assert!(text.ends_with("help: did you mean `dial`?"), "{text}");
}

#[test]
fn network_loss_out_of_range_is_refused() {
    let e =
        error("name: t\nabout: A test.\nnetwork: { loss: 2.0 }\nnodes:\n  alice: {}\nsteps: []\n");
    assert!(
        e.message
            .contains("`network.loss` must be between 0 and 1, got 2"),
        "{e}"
    );
}

#[test]
fn a_reached_check_needs_the_broadcast_it_is_about() {
    let e = error(&format!(
        "{HEADER}steps:\n  - at: 1s\n    expect:\n      reached:\n        - {{ from: alice, topic: t, to: [bob] }}\n"
    ));
    assert!(
        e.message.contains("no step before it broadcasts one"),
        "{e}"
    );
    assert_eq!(e.line_column().unwrap_or_default().0, 7, "{e}");
    let ok = format!(
        "{HEADER}steps:\n  - at: 0s\n    broadcast: {{ from: alice, topic: t, data: x }}\n  - at: 1s\n    expect:\n      reached:\n        - {{ from: alice, topic: t, to: [bob] }}\n"
    );
    load_str(&ok, "ok.yaml").unwrap_or_else(|e| panic!("{e}"));
}
