//! A Markdown summary for a pull request: a table of every scenario, then,
//! for each failing run, what failed, how to replay it, and a mermaid sequence
//! diagram drawn from its trace in the style of the protocol document.

use std::fmt::Write as _;

use super::{Report, Status};
use crate::net::trace::TraceLine;

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

/// A mermaid sequence diagram: an event a node reports about a peer is an
/// arrow to that peer; a fault is a note over the nodes it touches; anything
/// else is a note over its node.
pub fn sequence_diagram(trace: &[TraceLine]) -> String {
    let mut participants: Vec<&str> = Vec::new();
    for line in trace {
        if line.node != "world" && !participants.contains(&line.node.as_str()) {
            participants.push(&line.node);
        }
    }
    let mut out = String::from("sequenceDiagram\n");
    for p in &participants {
        let _ = writeln!(out, "    participant {p}");
    }
    for line in trace.iter().take(DIAGRAM_LINES) {
        let text = mermaid_text(&format!("{} {}", time_of(line), line.text));
        let about: Vec<&str> = line
            .about
            .iter()
            .map(String::as_str)
            .filter(|p| participants.contains(p))
            .collect();
        match (line.node.as_str(), about.as_slice()) {
            ("world", []) => {
                let over = participants.first().copied().unwrap_or("world");
                let _ = writeln!(out, "    Note over {over}: {text}");
            }
            ("world", nodes) => {
                let _ = writeln!(out, "    Note over {}: {text}", nodes.join(","));
            }
            (node, [peer]) if *peer != node => {
                let _ = writeln!(out, "    {node}-->>{peer}: {text}");
            }
            (node, _) => {
                let _ = writeln!(out, "    Note over {node}: {text}");
            }
        }
    }
    if trace.len() > DIAGRAM_LINES {
        let _ = writeln!(
            out,
            "    Note over {}: … {} more events in results.json",
            participants.first().copied().unwrap_or("world"),
            trace.len() - DIAGRAM_LINES
        );
    }
    out
}

/// `0.052s`: the entry's time as the trace shows it, without padding.
fn time_of(line: &TraceLine) -> String {
    format!("{}.{:03}s", line.at.as_secs(), line.at.subsec_millis())
}

/// Mermaid treats `;` and `#` specially in message text.
fn mermaid_text(text: &str) -> String {
    text.replace(';', ",").replace('#', "no. ")
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    fn line(ms: u64, node: &str, about: &[&str], text: &str) -> TraceLine {
        TraceLine {
            at: Duration::from_millis(ms),
            node: node.into(),
            about: about.iter().map(|s| (*s).to_owned()).collect(),
            text: text.into(),
        }
    }

    #[test]
    fn events_about_a_peer_become_arrows_and_faults_notes() {
        let trace = vec![
            line(52, "bob", &["alice"], "handshake with alice: verified"),
            line(1000, "world", &["alice", "bob"], "partition alice | bob"),
            line(1001, "alice", &[], "listening on /ip4/1.2.3.4/tcp/4000"),
            line(1002, "alice", &[], "banned for talking about bob"),
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
            diagram.contains("Note over alice,bob: 1.000s partition alice | bob"),
            "{diagram}"
        );
        assert!(
            diagram.contains("Note over alice: 1.001s listening"),
            "{diagram}"
        );
        assert!(
            diagram.contains("Note over alice: 1.002s banned for talking about bob"),
            "a name in the text draws no arrow: {diagram}"
        );
    }
}
