//! A Markdown summary for a pull request: a table of every scenario, then,
//! for each failing run, what failed, how to replay it, and a mermaid sequence
//! diagram drawn from its trace in the style of the protocol document.

use std::fmt::Write as _;

use super::{Report, Status};

/// Trace lines drawn per failing run (the rest is in `results.json`).
const DIAGRAM_LINES: usize = 80;

/// Renders `report` as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# simnet conformance\n\n**{} passed, {} failed{}** (simnet {})\n",
        report.passed,
        report.failed,
        if report.skipped > 0 {
            format!(", {} skipped", report.skipped)
        } else {
            String::new()
        },
        report.simnet
    );
    out.push_str("| scenario | seed | result | first failure |\n|---|---|---|---|\n");
    for r in &report.results {
        let icon = match r.status {
            Status::Passed => "✅ pass",
            Status::Failed => "❌ fail",
            Status::Invalid => "⚠️ invalid file",
            Status::Crashed => "💥 crashed",
            Status::Skipped => "⏭️ skipped",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {icon} | {} |",
            cell(&r.name),
            r.seed.map_or("—".to_owned(), |s| s.to_string()),
            cell(r.failures.first().map_or("", String::as_str))
        );
    }
    for r in report
        .results
        .iter()
        .filter(|r| !matches!(r.status, Status::Passed | Status::Skipped))
    {
        let _ = writeln!(out, "\n## {} — {}\n", r.name, r.about);
        for failure in &r.failures {
            let _ = writeln!(out, "- {}", failure.replace('\n', " "));
        }
        if let Some(replay) = &r.replay {
            let _ = writeln!(out, "\nReplay: `{replay}`");
        }
        if !r.trace.is_empty() {
            let _ = writeln!(out, "\n```mermaid\n{}```", sequence_diagram(&r.trace));
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// One parsed trace line: `[   0.052s] bob: handshake with alice: verified`.
struct Line<'a> {
    at: &'a str,
    node: &'a str,
    text: &'a str,
}

fn parse(line: &str) -> Option<Line<'_>> {
    let (at, rest) = line.strip_prefix('[')?.split_once("] ")?;
    let (node, text) = rest.split_once(": ")?;
    Some(Line {
        at: at.trim(),
        node,
        text,
    })
}

/// A mermaid sequence diagram: an event a node reports about a peer is an
/// arrow to that peer; anything else is a note over the node.
pub fn sequence_diagram(trace: &[String]) -> String {
    let lines: Vec<Line<'_>> = trace.iter().filter_map(|l| parse(l)).collect();
    let mut participants: Vec<&str> = Vec::new();
    for line in &lines {
        if line.node != "world" && !participants.contains(&line.node) {
            participants.push(line.node);
        }
    }
    let mut out = String::from("sequenceDiagram\n");
    for p in &participants {
        let _ = writeln!(out, "    participant {p}");
    }
    for line in lines.iter().take(DIAGRAM_LINES) {
        let text = mermaid_text(&format!("{} {}", line.at, line.text));
        let peer = participants.iter().find(|p| {
            **p != line.node
                && line
                    .text
                    .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
                    .any(|w| w == **p)
        });
        match (line.node, peer) {
            ("world", _) => {
                let over = participants
                    .iter()
                    .filter(|p| line.text.contains(**p))
                    .take(2)
                    .copied()
                    .collect::<Vec<_>>();
                let over = if over.is_empty() {
                    participants.iter().take(1).copied().collect()
                } else {
                    over
                };
                let _ = writeln!(out, "    Note over {}: {text}", over.join(","));
            }
            (node, Some(peer)) => {
                let _ = writeln!(out, "    {node}-->>{peer}: {text}");
            }
            (node, None) => {
                let _ = writeln!(out, "    Note over {node}: {text}");
            }
        }
    }
    if lines.len() > DIAGRAM_LINES {
        let _ = writeln!(
            out,
            "    Note over {}: … {} more events in results.json",
            participants.first().copied().unwrap_or("world"),
            lines.len() - DIAGRAM_LINES
        );
    }
    out
}

/// Mermaid treats `;` and `#` specially in message text.
fn mermaid_text(text: &str) -> String {
    text.replace(';', ",").replace('#', "no. ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_about_a_peer_become_arrows_and_faults_notes() {
        let trace = vec![
            "[    0.052s] bob: handshake with alice: verified".to_owned(),
            "[    1.000s] world: partition alice | bob".to_owned(),
            "[    1.001s] alice: listening on /ip4/1.2.3.4/tcp/4000".to_owned(),
        ];
        let diagram = sequence_diagram(&trace);
        assert!(
            diagram.contains("participant bob\n    participant alice"),
            "{diagram}"
        );
        assert!(
            diagram.contains("bob-->>alice: 0.052s handshake with alice: verified"),
            "{diagram}"
        );
        assert!(
            diagram.contains("Note over bob,alice: 1.000s partition alice | bob")
                || diagram.contains("Note over alice,bob"),
            "{diagram}"
        );
        assert!(
            diagram.contains("Note over alice: 1.001s listening"),
            "{diagram}"
        );
    }
}
