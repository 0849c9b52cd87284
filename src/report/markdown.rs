//! A Markdown summary for a pull request: a table of every scenario, then,
//! for each failing run, what failed, how to replay it, and a mermaid sequence
//! diagram of the exchange around its first failure ([`super::diagram`]).

use std::fmt::Write as _;

use super::{Report, Status};

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
        if let Some(diagram) = &r.diagram {
            let _ = writeln!(out, "\n```mermaid\n{}```", diagram.to_mermaid());
        }
    }
    out
}

pub(super) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
