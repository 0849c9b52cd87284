//! Keeps a diagram short enough to read at a glance: repeated steps become
//! one `loop` block, a failing run shows only the nodes its first failure
//! names and the window around it, and whatever is not drawn is counted in a
//! note.

use std::time::Duration;

use super::{Diagram, Line, Mark, Step, FAILING_LINES};

/// The longest run of steps that is recognised as repeating.
const MAX_PERIOD: usize = 4;
/// A block collapses once it occurs this many times in a row.
const MIN_REPEATS: usize = 3;
/// Of a failing run's budget, at most this many lines go after the failure.
const AFTER_FAILURE: usize = 12;

/// `steps` with every run of at least [`MIN_REPEATS`] identical blocks (of
/// up to [`MAX_PERIOD`] steps, times aside) collapsed into a [`Line::Repeat`].
pub fn collapse(steps: Vec<Step>) -> Vec<Line> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let mut best: Option<(usize, usize)> = None;
        for period in 1..=MAX_PERIOD.min(steps.len() - i) {
            let same =
                |r: usize| (0..period).all(|j| steps[i + j].mark == steps[i + r * period + j].mark);
            let mut times = 1;
            while i + (times + 1) * period <= steps.len() && same(times) {
                times += 1;
            }
            let better = best.is_none_or(|(p, t)| period * times > p * t);
            if times >= MIN_REPEATS && better {
                best = Some((period, times));
            }
        }
        match best {
            Some((period, times)) => {
                let run = &steps[i..i + period * times];
                out.push(Line::Repeat {
                    times,
                    first: run[0].at,
                    last: run[run.len() - 1].at,
                    body: run[..period].to_vec(),
                    entries: run.iter().map(|s| s.entries).sum(),
                });
                i += period * times;
            }
            None => {
                out.push(Line::Step(steps[i].clone()));
                i += 1;
            }
        }
    }
    out
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
        for node in step.mark.nodes() {
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
            mark => among(&mark.nodes()).then_some(step),
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
        assert_eq!((*times, body.len(), *entries), (400, 2, 800));
        assert_eq!((first.as_millis(), last.as_millis()), (1, 400));
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
