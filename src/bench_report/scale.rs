//! The simulator's scale in `bench.md`: what one node·virtual second costs at
//! each network size (a table and a mermaid line chart), and the scale
//! issue's targets in wall time and runs per second, from the `scale`,
//! `workload_40s` and `sweep` groups of `benches/simulation.rs`.

use std::fmt::Write as _;

use super::{
    criterion::{BenchResult, Throughput},
    targets::OURS,
};

/// The most one node·virtual second may cost at the largest size, as a
/// multiple of its cost at the smallest.
pub const COST_GROWTH_BOUND: f64 = 2.0;

/// One size of the `scale` group on the default simulator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScalePoint {
    /// Nodes in the network.
    pub nodes: u64,
    /// Median wall time of one run.
    pub wall_ns: f64,
    /// Wall milliseconds per node·virtual second.
    pub cost_ms: f64,
}

/// The `scale` group's simnet points, smallest network first. A parameter
/// reads `N nodes`; the throughput counts node·virtual seconds.
pub fn points(results: &[BenchResult]) -> Vec<ScalePoint> {
    let mut points: Vec<ScalePoint> = results
        .iter()
        .filter(|r| r.group == "scale" && r.function == OURS)
        .filter_map(|r| {
            let nodes = r
                .parameter
                .as_deref()?
                .strip_suffix(" nodes")?
                .parse()
                .ok()?;
            let Some(Throughput::Elements(node_seconds)) = r.throughput else {
                return None;
            };
            (node_seconds > 0).then(|| ScalePoint {
                nodes,
                wall_ns: r.median_ns,
                cost_ms: r.median_ns / 1e6 / node_seconds as f64,
            })
        })
        .collect();
    points.sort_by_key(|p| p.nodes);
    points
}

/// One scale target checked.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleOutcome {
    /// What is required.
    pub text: String,
    /// What was measured, with its unit.
    pub measured: String,
    /// Whether it held.
    pub met: bool,
}

fn median_of<'a>(
    results: &'a [BenchResult],
    group: &str,
    parameter: &str,
) -> Option<&'a BenchResult> {
    results.iter().find(|r| {
        r.group == group && r.function == OURS && r.parameter.as_deref() == Some(parameter)
    })
}

/// The scale issue's targets that `results` measured: 100 nodes × 40 s
/// within 8 s of wall time, 1 000 nodes × 10 s within 60 s, the cost per
/// node·virtual second within [`COST_GROWTH_BOUND`] from the smallest to
/// the largest network, and the `handshake-basic` sweep at 200 runs/s.
pub fn check(results: &[BenchResult]) -> Vec<ScaleOutcome> {
    let mut out = Vec::new();
    let mut wall = |text: &str, found: Option<&BenchResult>, bound_s: f64| {
        if let Some(r) = found {
            let seconds = r.median_ns / 1e9;
            out.push(ScaleOutcome {
                text: text.to_owned(),
                measured: format!("{seconds:.2} s"),
                met: seconds <= bound_s,
            });
        }
    };
    wall(
        "100 nodes × 40 s virtual: ≤ 8 s wall",
        median_of(results, "workload_40s", "100 nodes"),
        8.0,
    );
    wall(
        "1000 nodes × 10 s virtual: ≤ 60 s wall",
        median_of(results, "scale", "1000 nodes"),
        60.0,
    );
    let points = points(results);
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        if points.len() > 1 {
            let growth = last.cost_ms / first.cost_ms;
            out.push(ScaleOutcome {
                text: format!(
                    "cost per node·virtual s from {} to {} nodes: within {COST_GROWTH_BOUND}×",
                    first.nodes, last.nodes
                ),
                measured: format!("{growth:.2}×"),
                met: growth <= COST_GROWTH_BOUND,
            });
        }
    }
    if let Some(rate) = median_of(results, "sweep", "handshake-basic").and_then(BenchResult::rate) {
        out.push(ScaleOutcome {
            text: "handshake-basic sweep: ≥ 200 runs/s (one thread)".into(),
            measured: format!("{rate:.0} runs/s"),
            met: rate >= 200.0,
        });
    }
    out
}

/// The section: the `checked` targets, the cost table and its chart; empty
/// when nothing was measured.
pub fn section(results: &[BenchResult], checked: &[ScaleOutcome]) -> String {
    let points = points(results);
    let mut out = String::new();
    if checked.is_empty() && points.is_empty() {
        return out;
    }
    let _ = writeln!(out, "## Simulator scale\n");
    let _ = writeln!(
        out,
        "The event-driven engine (the default simulator) running the standard \
         workload: every node handshakes, subscribes, gossips and sends every \
         virtual second. Wall times are criterion's medians.\n"
    );
    if !checked.is_empty() {
        let _ = writeln!(out, "| target | measured | held |\n|---|---|---|");
        for t in checked {
            let held = if t.met { "yes" } else { "**no**" };
            let _ = writeln!(out, "| {} | {} | {held} |", t.text, t.measured);
        }
        out.push('\n');
    }
    if !points.is_empty() {
        let _ = writeln!(
            out,
            "| nodes | wall per run (10 s virtual) | ms per node·virtual s | × the smallest |\n|---|---|---|---|"
        );
        let base = points[0].cost_ms;
        for p in &points {
            let _ = writeln!(
                out,
                "| {} | {:.3} s | {:.3} | {:.2}× |",
                p.nodes,
                p.wall_ns / 1e9,
                p.cost_ms,
                p.cost_ms / base
            );
        }
        out.push('\n');
        out.push_str(&chart(&points));
    }
    out
}

/// A mermaid line chart of the cost by network size.
fn chart(points: &[ScalePoint]) -> String {
    let labels: Vec<String> = points.iter().map(|p| p.nodes.to_string()).collect();
    let costs: Vec<String> = points.iter().map(|p| format!("{:.3}", p.cost_ms)).collect();
    let top = points.iter().map(|p| p.cost_ms).fold(0.0, f64::max) * 1.25;
    format!(
        "```mermaid\nxychart-beta\n    title \"Wall ms per node·virtual second\"\n    \
         x-axis \"nodes\" [{}]\n    y-axis \"ms\" 0 --> {top:.2}\n    line [{}]\n```\n\n",
        labels.join(", "),
        costs.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(nodes: u64, wall_s: f64) -> BenchResult {
        BenchResult {
            group: "scale".into(),
            function: OURS.into(),
            parameter: Some(format!("{nodes} nodes")),
            median_ns: wall_s * 1e9,
            throughput: Some(Throughput::Elements(nodes * 10)),
        }
    }

    #[test]
    fn the_cost_is_per_node_and_virtual_second_and_sorted_by_size() {
        let results = [scale(100, 0.5), scale(10, 0.04)];
        let points = points(&results);
        assert_eq!(
            points.iter().map(|p| p.nodes).collect::<Vec<_>>(),
            [10, 100]
        );
        assert!((points[0].cost_ms - 0.4).abs() < 1e-9);
        assert!((points[1].cost_ms - 0.5).abs() < 1e-9);
    }

    #[test]
    fn growth_beyond_twice_the_smallest_cost_misses() {
        let held = check(&[scale(10, 0.04), scale(1000, 7.9)]);
        assert!(held.iter().all(|t| t.met), "{held:?}");
        let missed = check(&[scale(10, 0.04), scale(1000, 8.1)]);
        let growth = missed.iter().find(|t| t.text.starts_with("cost")).unwrap();
        assert!(!growth.met, "{growth:?}");
        assert_eq!(growth.measured, "2.02×");
    }

    #[test]
    fn wall_time_and_sweep_rate_are_checked_against_their_bounds() {
        let sweep = |runs_per_s: f64| BenchResult {
            group: "sweep".into(),
            function: OURS.into(),
            parameter: Some("handshake-basic".into()),
            median_ns: 20.0 / runs_per_s * 1e9,
            throughput: Some(Throughput::Elements(20)),
        };
        let forty = BenchResult {
            group: "workload_40s".into(),
            function: OURS.into(),
            parameter: Some("100 nodes".into()),
            median_ns: 8.5e9,
            throughput: None,
        };
        let checked = check(&[sweep(199.0), forty]);
        assert_eq!(checked.len(), 2);
        assert!(checked.iter().all(|t| !t.met), "{checked:?}");
        assert!(check(&[sweep(250.0)])[0].met);
    }

    #[test]
    fn the_section_is_empty_without_scale_results() {
        assert_eq!(section(&[], &[]), "");
    }
}
