//! `bench.md`: the machine, the targets and whether they held, then one table
//! per criterion group with each figure's ratio to simnet's.

use std::{collections::BTreeMap, fmt::Write as _};

use super::{
    criterion::{BenchResult, Throughput},
    interleaved::{Compared, AGREEMENT, REFERENCE_BASELINE},
    targets::{ratios, Metric, Source, OURS},
    Checked,
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

/// The Markdown report: the targets as `checked`, the interleaved
/// comparisons of the latest runs, the simulator's scale, then criterion's
/// medians group by group.
pub fn markdown(
    results: &[BenchResult],
    interleaved: &[Compared],
    checked: &Checked,
    machine: &Machine,
    date: &str,
) -> String {
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
    if !checked.targets.is_empty() {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(
            out,
            "Each target is checked against the interleaved median where there is one \
             (quartiles of its rounds beside it, and the previous full run's median), \
             otherwise against criterion's medians.\n"
        );
        let _ = writeln!(
            out,
            "| target | measured | quartiles | previous run | held |\n|---|---|---|---|---|"
        );
        for t in &checked.targets {
            let (quartiles, previous) = match t.source {
                Source::Criterion => ("criterion medians".to_owned(), "–".to_owned()),
                Source::Interleaved {
                    low,
                    high,
                    previous,
                } => {
                    let (low, high) = in_metric(t, low, high);
                    let previous =
                        previous.map_or("–".into(), |p| format!("{}×", in_metric(t, p, p).0));
                    (format!("{low}–{high}"), previous)
                }
            };
            let _ = writeln!(
                out,
                "| {} | {:.2}× | {quartiles} | {previous} | {} |",
                t.text,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        out.push('\n');
    }
    interleaved_table(&mut out, interleaved);
    out.push_str(&super::scale::section(results, &checked.scale));
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

/// Time ratios `low`, `high` in the target's metric, as text: throughput
/// ratios are the inverse, so the quartiles swap.
fn in_metric(t: &super::TargetOutcome, low: f64, high: f64) -> (String, String) {
    if t.metric == Metric::Throughput {
        (format!("{:.2}", 1.0 / high), format!("{:.2}", 1.0 / low))
    } else {
        (format!("{low:.2}"), format!("{high:.2}"))
    }
}

/// The interleaved comparisons: each run's median time ratio with its
/// quartiles, and whether the last two full runs agree.
fn interleaved_table(out: &mut String, interleaved: &[Compared]) {
    if interleaved.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Interleaved (time, simnet ÷ baseline)\n");
    let _ = writeln!(
        out,
        "simnet and its baseline alternate in rounds (A B, B A, …), a batch of \
         iterations each; the figure is the median round's ratio of wall time. Two \
         full runs agree when their medians differ by at most {AGREEMENT}. The CPU \
         column is the median ratio of the process's CPU time (all threads, user \
         and system) over the same rounds: the work done, which other load on the \
         machine disturbs less.\n"
    );
    let _ = writeln!(
        out,
        "| group | parameter | baseline | latest run | quartiles | rounds × batch | previous run | agree | CPU |\n|---|---|---|---|---|---|---|---|---|"
    );
    for c in interleaved {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.3}× | {:.3}–{:.3} | {} × {} | {} | {} | {} |",
            c.pair.group,
            c.pair.parameter,
            c.pair.baseline,
            c.latest.median,
            c.latest.low,
            c.latest.high,
            c.latest.rounds,
            c.pair.batch,
            c.previous
                .map_or("–".into(), |p| format!("{:.3}×", p.median)),
            match c.agrees() {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            },
            c.pair
                .cpu_summary()
                .map_or("–".into(), |s| format!("{:.3}×", s.median))
        );
    }
    if interleaved
        .iter()
        .any(|c| c.pair.baseline == REFERENCE_BASELINE)
    {
        let _ = writeln!(
            out,
            "\nBaseline `{REFERENCE_BASELINE}`: blueprint-networking, the implementation the protocol \
             document was written for, on the same transport (`cargo bench --features \
             reference`). Its rows are `N-new`: each iteration N new nodes dial, on both \
             sides, because the reference never forgets a peer it once verified and would \
             skip the handshake on a reconnect; their CPU column includes starting those \
             nodes. There is no direct-message comparison with it: it drops every \
             request's response channel, so no request is ever answered."
        );
    }
    out.push('\n');
}
