//! The failed checks and broken invariants of a run as highlighted steps,
//! placed at the virtual time they were judged.

use std::time::Duration;

use super::{Mark, Step};
use crate::{net::trace::render_duration, scenario::Outcome};

/// A failure step for each failed check and each violation, in time order;
/// the earliest is marked `first`. End-of-run violations are placed at the
/// last entry's time.
pub fn steps(outcome: &Outcome) -> Vec<Step> {
    let end = outcome.entries.last().map_or(Duration::ZERO, |e| e.at);
    let checks = outcome.checks.iter().filter_map(|check| {
        let why = check.failure.as_ref()?;
        Some(failure(
            check.time,
            &check.nodes,
            format!("❌ line {}: {}: {why}", check.line, check.check),
        ))
    });
    let violations = outcome.violations.iter().map(|violation| {
        failure(
            violation.at.unwrap_or(end),
            &violation.nodes,
            format!("❌ {violation}"),
        )
    });
    let mut out: Vec<Step> = checks.chain(violations).collect();
    out.sort_by_key(|s| s.at);
    if let Some(Step {
        mark: Mark::Failure { first, .. },
        ..
    }) = out.first_mut()
    {
        *first = true;
    }
    out
}

fn failure(at: Duration, nodes: &[String], text: String) -> Step {
    let mut over: Vec<String> = Vec::new();
    for node in nodes {
        if !over.contains(node) {
            over.push(node.clone());
        }
    }
    Step {
        at,
        entries: 0,
        mark: Mark::Failure {
            over,
            text: format!("{text} (at {})", render_duration(at)),
            first: false,
        },
    }
}

/// Inserts each failure after every step at or before its time.
pub fn merge(steps: &mut Vec<Step>, failures: Vec<Step>) {
    for failure in failures {
        let index = steps.partition_point(|s| s.at <= failure.at);
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
            &["a".into(), "a".into()],
            "f".into(),
        );
        merge(&mut steps, vec![late.clone()]);
        assert_eq!(steps[2], late);
        let Mark::Failure { over, .. } = &late.mark else {
            panic!("a failure");
        };
        assert_eq!(over, &["a"], "each node once");
    }
}
