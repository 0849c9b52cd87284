//! `bench.md`: the machine, the targets and whether they held, then one table
//! per criterion group with each figure's ratio to simnet's.

use std::{collections::BTreeMap, fmt::Write as _};

use super::{
    criterion::{BenchResult, Throughput},
    targets::{check_targets, ratios, OURS},
};

/// The machine the figures come from, named in the report because ratios
/// and medians only compare on the same hardware.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores.
    pub cores: usize,
}

fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn rate_text(result: &BenchResult) -> String {
    match (result.rate(), result.throughput) {
        (Some(r), Some(Throughput::Bytes(_))) => format!("{r:.1} MiB/s"),
        (Some(r), _) => format!("{r:.0}/s"),
        (None, _) => "–".into(),
    }
}

/// The Markdown report.
pub fn markdown(results: &[BenchResult], machine: &Machine, date: &str) -> String {
    let all_ratios = ratios(results);
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Measured {date} on {} ({} cores) with `cargo bench`; every simnet figure \
         beside its baselines from the same run. Ratios are simnet ÷ baseline: \
         for time, above 1 is slower; for throughput, below 1 is slower. \
         Regenerate with `cargo bench && cargo run -- bench-report`.\n",
        machine.cpu, machine.cores
    );
    let checked = check_targets(&all_ratios);
    if !checked.is_empty() {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | measured | held |\n|---|---|---|");
        for t in &checked {
            let _ = writeln!(
                out,
                "| {} | {:.2}× | {} |",
                t.text,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        out.push('\n');
    }
    let mut groups: BTreeMap<&str, Vec<&BenchResult>> = BTreeMap::new();
    for r in results {
        groups.entry(&r.group).or_default().push(r);
    }
    for (group, rows) in groups {
        let _ = writeln!(out, "## {group}\n");
        let _ = writeln!(
            out,
            "| parameter | implementation | median | throughput | simnet ÷ this (time) |\n|---|---|---|---|---|"
        );
        for r in rows {
            let ratio = all_ratios
                .iter()
                .find(|x| {
                    x.group == r.group && x.parameter == r.parameter && x.baseline == r.function
                })
                .map_or(String::new(), |x| format!("{:.2}×", x.time_ratio));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.parameter.as_deref().unwrap_or("–"),
                if r.function == OURS {
                    format!("**{}**", r.function)
                } else {
                    r.function.clone()
                },
                human_time(r.median_ns),
                rate_text(r),
                ratio
            );
        }
        out.push('\n');
    }
    out
}
