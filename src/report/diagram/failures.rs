//! The failed checks and broken invariants of a run as highlighted steps,
//! placed at the virtual time they were judged.

use std::time::Duration;

use super::{Mark, Step};
use crate::{net::trace::TraceLine, scenario::Outcome};

/// A failure step for each failed check and each violation, in time order;
/// the earliest is marked `first`. A violation is placed after the event that
/// broke it, an end-of-run one at the last entry's time.
pub fn steps(outcome: &Outcome) -> Vec<Step> {
    let end = outcome.entries.last().map_or(Duration::ZERO, |e| e.at);
    let checks = outcome.checks.iter().filter_map(|check| {
        let why = check.failure.as_ref()?;
        Some(failure(
            check.time,
            None,
            &check.nodes,
            format!("❌ line {}: {}: {why}", check.line, check.check),
        ))
    });
    let violations = outcome.violations.iter().map(|violation| {
        let broke = violation
            .entry
            .and_then(|i| outcome.entries.get(i).map(|e| (i, e)));
        match broke {
            Some((index, entry)) => {
                let line = TraceLine::of(entry, &outcome.names);
                failure(
                    entry.at,
                    Some(index),
                    &violation.nodes,
                    format!("❌ {}: {}: {}", violation.rule.text(), line.node, line.text),
                )
            }
            None => failure(end, None, &violation.nodes, format!("❌ {violation}")),
        }
    });
    let mut out: Vec<Step> = checks.chain(violations).collect();
    out.sort_by_key(|s| (s.at, s.entry.is_none()));
    if let Some(Step {
        mark: Mark::Failure { first, .. },
        ..
    }) = out.first_mut()
    {
        *first = true;
    }
    out
}

fn failure(at: Duration, entry: Option<usize>, nodes: &[String], text: String) -> Step {
    let mut over: Vec<String> = Vec::new();
    for node in nodes {
        if !over.contains(node) {
            over.push(node.clone());
        }
    }
    Step {
        at,
        entries: 0,
        entry,
        mark: Mark::Failure {
            over,
            text,
            first: false,
        },
    }
}

/// Inserts each failure after the steps of the entry that broke it, or
/// after every step at or before its time.
pub fn merge(steps: &mut Vec<Step>, failures: Vec<Step>) {
    for failure in failures {
        let after = |s: &Step| match failure.entry {
            Some(broke) => s.entry.is_some_and(|drawn| drawn <= broke),
            None => s.at <= failure.at,
        };
        let index = steps.iter().rposition(after).map_or(0, |i| i + 1);
        steps.insert(index, failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(ms: u64) -> Step {
        Step {
            at: Duration::from_millis(ms),
            entries: 1,
            entry: Some(ms as usize),
            mark: Mark::Note {
                over: vec!["a".into()],
                about: Vec::new(),
                text: "x".into(),
            },
        }
    }

    #[test]
    fn failures_go_after_the_steps_of_their_time() {
        let mut steps = vec![note(1), note(2), note(3)];
        let late = failure(
            Duration::from_millis(2),
            None,
            &["a".into(), "a".into()],
            "f".into(),
        );
        merge(&mut steps, vec![late.clone()]);
        assert_eq!(steps[2], late);
        let broke = failure(Duration::from_millis(2), Some(1), &[], "g".into());
        merge(&mut steps, vec![broke.clone()]);
        assert_eq!(steps[1], broke, "right after the entry that broke it");
        let Mark::Failure { over, .. } = &late.mark else {
            panic!("a failure");
        };
        assert_eq!(over, &["a"], "each node once");
    }
}
