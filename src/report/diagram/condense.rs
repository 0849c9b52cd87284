//! Keeps a diagram short enough to read at a glance: repeated steps become
//! one `loop` block, a failing run shows only the nodes its first failure
//! names and the window around it, and whatever is not drawn is counted in a
//! note.

use std::time::Duration;

use super::{Diagram, Line, Mark, Step, FAILING_LINES};

/// A run collapses when it is made of at most this many distinct steps.
const MAX_DISTINCT: usize = 6;
/// Of a failing run's budget, at most this many lines go after the failure.
const AFTER_FAILURE: usize = 12;

/// `steps` with every run made of a few distinct steps (at most
/// [`MAX_DISTINCT`], times aside, no failure among them) that is long enough
/// to save lines collapsed into a [`Line::Repeat`]: each distinct step once,
/// with its count. A run that repeats one block exactly says so (`× 400`).
pub fn collapse(steps: Vec<Step>) -> Vec<Line> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        match run_at(&steps[i..]) {
            Some(run) => {
                let len = run.len();
                out.push(repeat(run));
                i += len;
            }
            None => {
                out.push(Line::Step(steps[i].clone()));
                i += 1;
            }
        }
    }
    out
}

/// How far ahead a step's mark must occur again to join a run.
const RECUR_WITHIN: usize = 2 * MAX_DISTINCT;

/// The longest prefix of `steps` that collapses, if one does: at most
/// [`MAX_DISTINCT`] distinct marks, each of which occurs again within
/// [`RECUR_WITHIN`] steps of its first occurrence (a one-off step ends the
/// run), ending on a mark seen before in it, and at least twice as long as
/// its distinct marks plus the loop's two lines.
fn run_at(steps: &[Step]) -> Option<&[Step]> {
    let mut distinct: Vec<&Mark> = Vec::new();
    let mut end = 0;
    let mut best = 0;
    for (i, step) in steps.iter().enumerate() {
        if matches!(step.mark, Mark::Failure { .. }) {
            break;
        }
        let seen = distinct.contains(&&step.mark);
        if !seen {
            let recurs = steps[i + 1..]
                .iter()
                .take(RECUR_WITHIN)
                .any(|s| s.mark == step.mark);
            if distinct.len() == MAX_DISTINCT || !recurs {
                break;
            }
            distinct.push(&step.mark);
        }
        end += 1;
        if seen && end >= 2 * distinct.len() + 2 {
            best = end;
        }
    }
    (best > 0).then(|| &steps[..best])
}

fn repeat(run: &[Step]) -> Line {
    let mut body: Vec<(usize, Step)> = Vec::new();
    for step in run {
        match body.iter_mut().find(|(_, s)| s.mark == step.mark) {
            Some((count, _)) => *count += 1,
            None => body.push((1, step.clone())),
        }
    }
    let period = body.len();
    let exact = run.len().is_multiple_of(period)
        && run
            .iter()
            .enumerate()
            .all(|(i, step)| step.mark == body[i % period].1.mark);
    Line::Repeat {
        times: exact.then(|| run.len() / period),
        first: run[0].at,
        last: run[run.len() - 1].at,
        body,
        entries: run.iter().map(|s| s.entries).sum(),
    }
}

/// The whole run, repeats collapsed, cut after `max_lines` lines of text
/// with a note counting the `total` trace entries not drawn.
pub fn whole(
    mut participants: Vec<String>,
    steps: Vec<Step>,
    total: usize,
    max_lines: usize,
) -> Diagram {
    // A peer that is no node of the run (an id it only heard of) is drawn too.
    for step in &steps {
        for node in step.mark.drawn() {
            if !participants.iter().any(|p| p == node) {
                participants.push(node.to_owned());
            }
        }
    }
    let mut lines = collapse(steps);
    let budget = max_lines.saturating_sub(2 + participants.len());
    let mut used = 0;
    let keep = lines
        .iter()
        .take_while(|line| {
            used += line.height();
            used <= budget
        })
        .count();
    if keep < lines.len() {
        lines.truncate(keep);
        let drawn: usize = lines.iter().map(Line::entries).sum();
        lines.push(Line::LeftOut {
            entries: total.saturating_sub(drawn),
            earlier: false,
        });
    }
    Diagram {
        participants,
        lines,
    }
}

/// A failing run within [`FAILING_LINES`]: the nodes `focus` names (every
/// node when it names none of them), the steps among them only, and as many
/// lines before the first failure and after it as fit. `times` are the
/// times of every trace entry, for counting what is left out.
pub fn around_failure(
    participants: &[String],
    focus: &[String],
    steps: Vec<Step>,
    times: &[Duration],
) -> Diagram {
    let mut shown: Vec<String> = participants
        .iter()
        .filter(|p| focus.contains(p))
        .cloned()
        .collect();
    if shown.is_empty() {
        shown = participants.to_vec();
    }
    let among = |nodes: &[&str]| nodes.iter().all(|n| shown.iter().any(|s| s == n));
    let relevant: Vec<Step> = steps
        .into_iter()
        .filter_map(|mut step| match &mut step.mark {
            Mark::Failure { over, .. } => {
                over.retain(|n| shown.contains(n));
                Some(step)
            }
            mark => among(&mark.concerns()).then_some(step),
        })
        .collect();
    let lines = collapse(relevant);
    let Some(failure) = lines.iter().position(|line| {
        matches!(
            line,
            Line::Step(Step {
                mark: Mark::Failure { first: true, .. },
                ..
            })
        )
    }) else {
        return whole(shown, Vec::new(), times.len(), FAILING_LINES);
    };
    let budget = FAILING_LINES.saturating_sub(3 + shown.len() + lines[failure].height());
    let after_available: usize = lines[failure + 1..].iter().map(Line::height).sum();
    let reserved_after = after_available.min(AFTER_FAILURE);
    let mut before_budget = budget.saturating_sub(reserved_after);
    let mut start = failure;
    while start > 0 && lines[start - 1].height() <= before_budget {
        before_budget -= lines[start - 1].height();
        start -= 1;
    }
    // Lines the window before did not use go to the window after.
    let used_before: usize = lines[start..failure].iter().map(Line::height).sum();
    let mut after_budget = budget.saturating_sub(used_before);
    let mut end = failure + 1;
    while end < lines.len() && lines[end].height() <= after_budget {
        after_budget -= lines[end].height();
        end += 1;
    }
    let window_start = line_time(&lines[start]);
    let earlier = times.iter().filter(|t| **t < window_start).count();
    let mut kept: Vec<Line> = lines[start..end].to_vec();
    let drawn: usize = kept.iter().map(Line::entries).sum();
    if earlier > 0 {
        kept.insert(
            0,
            Line::LeftOut {
                entries: earlier,
                earlier: true,
            },
        );
    }
    let later = times.len().saturating_sub(earlier + drawn);
    if later > 0 {
        kept.push(Line::LeftOut {
            entries: later,
            earlier: false,
        });
    }
    Diagram {
        participants: shown,
        lines: kept,
    }
}

fn line_time(line: &Line) -> Duration {
    match line {
        Line::Step(step) => step.at,
        Line::Repeat { first, .. } => *first,
        Line::LeftOut { .. } => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagram::Arrow;

    fn arrow(ms: u64, text: &str) -> Step {
        Step {
            at: Duration::from_millis(ms),
            entries: 1,
            entry: None,
            mark: Mark::Message {
                from: "a".into(),
                to: "b".into(),
                arrow: Arrow::Request,
                text: text.into(),
            },
        }
    }

    #[test]
    fn alternating_pairs_collapse_into_one_loop() {
        let mut steps = vec![arrow(0, "hello")];
        for i in 0..400 {
            steps.push(arrow(i + 1, "request"));
            steps.push(arrow(i + 1, "error 429"));
        }
        steps.push(arrow(999, "bye"));
        let lines = collapse(steps);
        assert_eq!(lines.len(), 3, "{lines:?}");
        let Line::Repeat {
            times,
            body,
            entries,
            first,
            last,
        } = &lines[1]
        else {
            panic!("a repeat: {lines:?}");
        };
        assert_eq!((*times, body.len(), *entries), (Some(400), 2, 800));
        assert_eq!((first.as_millis(), last.as_millis()), (1, 400));
    }

    #[test]
    fn interleaved_bursts_collapse_with_counts() {
        let mut steps = Vec::new();
        for i in 0..30 {
            let text = if i % 3 == 0 { "success" } else { "request" };
            steps.push(arrow(i, text));
        }
        let lines = collapse(steps);
        let [Line::Repeat { times, body, .. }] = lines.as_slice() else {
            panic!("one repeat: {lines:?}");
        };
        assert_eq!(*times, None, "request, request, success is no block of two");
        let counts: Vec<usize> = body.iter().map(|(n, _)| *n).collect();
        assert_eq!(counts, [10, 20]);
    }

    #[test]
    fn a_failure_is_never_collapsed() {
        let failure = Step {
            at: Duration::from_millis(5),
            entries: 0,
            entry: None,
            mark: Mark::Failure {
                over: vec!["a".into()],
                text: "x".into(),
                first: true,
            },
        };
        let mut steps: Vec<Step> = (0..5).map(|i| arrow(i, "r")).collect();
        steps.push(failure.clone());
        steps.extend((6..10).map(|i| arrow(i, "r")));
        let lines = collapse(steps);
        assert!(lines.contains(&Line::Step(failure)), "{lines:?}");
    }

    #[test]
    fn two_in_a_row_stay_as_they_are() {
        let lines = collapse(vec![arrow(0, "x"), arrow(1, "x"), arrow(2, "y")]);
        assert!(
            lines.iter().all(|l| matches!(l, Line::Step(_))),
            "{lines:?}"
        );
    }

    #[test]
    fn a_long_passing_run_is_cut_with_a_count() {
        let steps: Vec<Step> = (0..300).map(|i| arrow(i, &format!("m{i}"))).collect();
        let diagram = whole(vec!["a".into(), "b".into()], steps, 300, 50);
        let height: usize = diagram.lines.iter().map(Line::height).sum();
        assert!(height + 3 <= 50, "{height}");
        assert!(matches!(
            diagram.lines.last(),
            Some(Line::LeftOut {
                entries: 254,
                earlier: false
            })
        ));
    }
}
