//! A Markdown summary for a pull request: a table of every scenario (one
//! row for the passing seeds of a scenario that ran at several, one for
//! each other seed), then,
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
    for runs in report.results.chunk_by(|a, b| a.file == b.file) {
        let passing: Vec<u64> = match runs {
            [_] => Vec::new(),
            _ => runs
                .iter()
                .filter(|r| r.status == Status::Passed)
                .filter_map(|r| r.seed)
                .collect(),
        };
        if let (Some(first), Some(last)) = (passing.first(), passing.last()) {
            let seeds = match passing.len() {
                1 => first.to_string(),
                n => format!("{n} seeds, {first} … {last}"),
            };
            let _ = writeln!(out, "| {} | {seeds} | ✅ pass |  |", cell(&runs[0].name));
        }
        for r in runs
            .iter()
            .filter(|r| passing.is_empty() || r.status != Status::Passed)
        {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ScenarioResult;

    fn result(file: &str, seed: u64, status: Status) -> ScenarioResult {
        ScenarioResult {
            file: file.into(),
            name: file.trim_end_matches(".yaml").into(),
            about: String::new(),
            seed: Some(seed),
            status,
            failures: match status {
                Status::Passed => Vec::new(),
                _ => vec![format!("check {seed} failed")],
            },
            not_applicable: Vec::new(),
            replay: None,
            trace: Vec::new(),
            diagram: None,
        }
    }

    #[test]
    fn the_passing_seeds_of_a_scenario_share_one_row_and_each_other_seed_has_its_own() {
        let results = vec![
            result("a.yaml", 0, Status::Passed),
            result("a.yaml", 1, Status::Failed),
            result("a.yaml", 2, Status::Passed),
            result("a.yaml", 3, Status::Passed),
            result("b.yaml", 7, Status::Passed),
            result("c.yaml", 0, Status::Failed),
            result("c.yaml", 1, Status::Failed),
        ];
        let report = Report {
            simnet: "0".into(),
            passed: 4,
            failed: 3,
            skipped: 0,
            results,
        };
        let markdown = render(&report);
        let rows: Vec<&str> = markdown
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| scenario"))
            .map(|l| l.trim_end())
            .collect();
        assert_eq!(
            rows,
            [
                "| a | 3 seeds, 0 … 3 | ✅ pass |  |",
                "| a | 1 | ❌ fail | check 1 failed |",
                "| b | 7 | ✅ pass |  |",
                "| c | 0 | ❌ fail | check 0 failed |",
                "| c | 1 | ❌ fail | check 1 failed |",
            ]
        );
    }
}
