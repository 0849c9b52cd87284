//! The benchmark issue's targets, as a table, and the ratios they are
//! checked against: each simnet figure beside every baseline measured in the
//! same group with the same parameter.

use super::{criterion::BenchResult, interleaved::Compared};

/// The function name of simnet's own figures; every other function in a
/// group is a baseline.
pub const OURS: &str = "simnet";

/// A simnet figure and its ratio to one baseline: throughput ratio (simnet ÷
/// baseline, > 1 is faster) and time ratio (simnet ÷ baseline, > 1 is slower).
#[derive(Clone, Debug, PartialEq)]
pub struct Ratio {
    /// Group.
    pub group: String,
    /// Parameter.
    pub parameter: Option<String>,
    /// The baseline's function name.
    pub baseline: String,
    /// simnet's median time ÷ the baseline's.
    pub time_ratio: f64,
}

impl Ratio {
    /// The baseline's time ÷ simnet's: simnet's throughput as a fraction of
    /// the baseline's.
    pub fn throughput_ratio(&self) -> f64 {
        1.0 / self.time_ratio
    }
}

/// Every simnet result's ratio to each baseline of the same group and parameter.
pub fn ratios(results: &[BenchResult]) -> Vec<Ratio> {
    let mut out = Vec::new();
    for ours in results.iter().filter(|r| r.function == OURS) {
        for base in results.iter().filter(|r| {
            r.function != OURS && r.group == ours.group && r.parameter == ours.parameter
        }) {
            out.push(Ratio {
                group: ours.group.clone(),
                parameter: ours.parameter.clone(),
                baseline: base.function.clone(),
                time_ratio: ours.median_ns / base.median_ns,
            });
        }
    }
    out
}

/// Which ratio a target bounds, and from which side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// simnet's throughput ÷ the baseline's, at least the bound.
    Throughput,
    /// simnet's time ÷ the baseline's, at most the bound.
    Time,
}

/// One required ratio: for each of `parameters` of `group` (every one when
/// empty), simnet against `baseline`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// Criterion group.
    pub group: &'static str,
    /// The baseline's function name.
    pub baseline: &'static str,
    /// Parameters it applies to (empty: all, and none).
    pub parameters: &'static [&'static str],
    /// How the parameter reads in the text, `{}` standing for it.
    pub parameter_text: &'static str,
    /// The ratio bounded.
    pub metric: Metric,
    /// The bound.
    pub bound: f64,
    /// The baseline as the text names it.
    pub baseline_text: &'static str,
}

/// The targets of the real-socket issue: direct messages of 64 KiB and 1 MiB
/// at ≥ 0.95× bare request-response throughput; a verified connection at
/// ≤ 1.2× a bare connection's time one at a time and ≤ 1.3× with 16 at
/// once; broadcast within 5 % of bare gossipsub's time.
pub const TARGETS: &[Target] = &[
    Target {
        group: "direct",
        baseline: "bare_rr",
        parameters: &["64KiB-1", "64KiB-32", "1MiB-1", "1MiB-32"],
        parameter_text: " {}",
        metric: Metric::Throughput,
        bound: 0.95,
        baseline_text: "bare_rr",
    },
    Target {
        group: "handshake",
        baseline: "bare",
        parameters: &["1"],
        parameter_text: ", {} at once",
        metric: Metric::Time,
        bound: 1.2,
        baseline_text: "a bare noise+yamux connection",
    },
    Target {
        group: "handshake",
        baseline: "bare",
        parameters: &["16"],
        parameter_text: ", {} at once",
        metric: Metric::Time,
        bound: 1.3,
        baseline_text: "a bare noise+yamux connection",
    },
    Target {
        group: "broadcast",
        baseline: "bare_gossip",
        parameters: &[],
        parameter_text: " to {}",
        metric: Metric::Time,
        bound: 1.05,
        baseline_text: "bare gossipsub",
    },
];

/// Where a checked ratio came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// Criterion's medians of each side measured on its own.
    Criterion,
    /// The median of interleaved rounds, with the quartiles and the
    /// previous run's median when there is one.
    Interleaved {
        /// First quartile of the rounds' time ratios.
        low: f64,
        /// Third quartile.
        high: f64,
        /// The previous full run's median time ratio.
        previous: Option<f64>,
    },
}

/// One target checked against one measured ratio.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    /// What is required.
    pub text: String,
    /// The measured ratio, in the target's metric.
    pub measured: f64,
    /// Whether it held.
    pub met: bool,
    /// Where the measured ratio came from.
    pub source: Source,
    /// Which ratio `measured` is.
    pub metric: Metric,
}

impl Target {
    fn applies(&self, ratio: &Ratio) -> bool {
        let parameter = ratio.parameter.as_deref().unwrap_or("");
        ratio.group == self.group
            && ratio.baseline == self.baseline
            && (self.parameters.is_empty() || self.parameters.contains(&parameter))
    }

    /// This target checked against `ratio`, if it applies to it.
    pub fn check(&self, ratio: &Ratio, source: Source) -> Option<TargetOutcome> {
        if !self.applies(ratio) {
            return None;
        }
        let shown = ratio
            .parameter
            .as_deref()
            .map(|p| self.parameter_text.replace("{}", p))
            .unwrap_or_default();
        let (measured, met, name, relation) = match self.metric {
            Metric::Throughput => {
                let measured = ratio.throughput_ratio();
                (measured, measured >= self.bound, "throughput", "≥")
            }
            Metric::Time => (
                ratio.time_ratio,
                ratio.time_ratio <= self.bound,
                "time",
                "≤",
            ),
        };
        Some(TargetOutcome {
            text: format!(
                "{}{shown}: {name} {relation} {}× {}",
                self.group, self.bound, self.baseline_text
            ),
            measured,
            met,
            source,
            metric: self.metric,
        })
    }
}

/// Every ratio to check, each with where it came from: criterion's ratios,
/// each replaced by the interleaved median when `interleaved` measured the
/// same comparison, then the interleaved comparisons criterion did not make.
pub fn merged(ratios: &[Ratio], interleaved: &[Compared]) -> Vec<(Ratio, Source)> {
    let same = |c: &Compared, r: &Ratio| {
        c.pair.group == r.group
            && Some(c.pair.parameter.as_str()) == r.parameter.as_deref()
            && c.pair.baseline == r.baseline
    };
    let from_interleaved = |c: &Compared| {
        (
            Ratio {
                group: c.pair.group.clone(),
                parameter: Some(c.pair.parameter.clone()),
                baseline: c.pair.baseline.clone(),
                time_ratio: c.latest.median,
            },
            Source::Interleaved {
                low: c.latest.low,
                high: c.latest.high,
                previous: c.previous.map(|p| p.median),
            },
        )
    };
    let mut out: Vec<(Ratio, Source)> = ratios
        .iter()
        .map(|r| match interleaved.iter().find(|c| same(c, r)) {
            Some(c) => from_interleaved(c),
            None => (r.clone(), Source::Criterion),
        })
        .collect();
    out.extend(
        interleaved
            .iter()
            .filter(|c| !ratios.iter().any(|r| same(c, r)))
            .map(from_interleaved),
    );
    out
}

/// Every [`TARGETS`] entry checked against every ratio of [`merged`] it
/// applies to, in that order.
pub fn check_targets(ratios: &[Ratio], interleaved: &[Compared]) -> Vec<TargetOutcome> {
    merged(ratios, interleaved)
        .iter()
        .flat_map(|(ratio, source)| {
            TARGETS
                .iter()
                .filter_map(move |target| target.check(ratio, *source))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_report::{
        criterion::{tests::result, Throughput},
        interleaved::{Pair, Round, Summary},
    };

    fn handshake(parameter: &str, ours: f64, bare: f64) -> [BenchResult; 2] {
        let n = Throughput::Elements(1);
        [
            result("handshake", "simnet", Some(parameter), ours, n),
            result("handshake", "bare", Some(parameter), bare, n),
        ]
    }

    #[test]
    fn ratios_pair_simnet_with_each_baseline_of_the_same_parameter() {
        let mib = Throughput::Bytes(1 << 20);
        let mut results = vec![
            result("direct", "simnet", Some("1MiB-1"), 2_000_000.0, mib),
            result("direct", "bare_rr", Some("1MiB-1"), 1_600_000.0, mib),
            result("direct", "tcp_echo", Some("1MiB-1"), 500_000.0, mib),
            result(
                "direct",
                "bare_rr",
                Some("64B-1"),
                1.0,
                Throughput::Bytes(64),
            ),
        ];
        results.extend(handshake("1", 1_150_000.0, 1_000_000.0));
        results.extend(handshake("16", 1_350_000.0, 1_000_000.0));
        let all = ratios(&results);
        assert_eq!(all.len(), 4);
        let rr = all
            .iter()
            .find(|r| r.baseline == "bare_rr")
            .expect("bare_rr");
        assert!((rr.time_ratio - 1.25).abs() < 1e-9);
        assert!((rr.throughput_ratio() - 0.8).abs() < 1e-9);
        let checked = check_targets(&all, &[]);
        let texts: Vec<_> = checked.iter().map(|c| (c.text.as_str(), c.met)).collect();
        assert_eq!(
            texts,
            [
                ("direct 1MiB-1: throughput ≥ 0.95× bare_rr", false),
                (
                    "handshake, 1 at once: time ≤ 1.2× a bare noise+yamux connection",
                    true
                ),
                (
                    "handshake, 16 at once: time ≤ 1.3× a bare noise+yamux connection",
                    false
                ),
            ]
        );
        assert!(checked.iter().all(|c| c.source == Source::Criterion));
    }

    #[test]
    fn an_interleaved_median_replaces_criterions_ratio_and_adds_what_criterion_lacks() {
        let results = handshake("1", 1_500_000.0, 1_000_000.0);
        let compared = |parameter: &str, median: f64| Compared {
            pair: Pair {
                group: "handshake".into(),
                parameter: parameter.into(),
                baseline: "bare".into(),
                batch: 1,
                rounds: vec![Round {
                    ours_ns: median,
                    baseline_ns: 1.0,
                    ours_cpu_ns: 0.0,
                    baseline_cpu_ns: 0.0,
                }],
            },
            latest: Summary {
                median,
                low: median - 0.01,
                high: median + 0.01,
                rounds: 1,
            },
            previous: None,
        };
        let checked = check_targets(
            &ratios(&results),
            &[compared("1", 1.1), compared("16", 1.25)],
        );
        assert_eq!(checked.len(), 2);
        assert!(
            (checked[0].measured - 1.1).abs() < 1e-9,
            "not criterion's 1.5"
        );
        assert!(checked[0].met);
        assert!(matches!(checked[0].source, Source::Interleaved { .. }));
        assert!(checked[1].text.contains("16 at once") && checked[1].met);
    }

    #[test]
    fn a_parameter_no_target_names_has_no_target() {
        let ratio = Ratio {
            group: "direct".into(),
            parameter: Some("64B-1".into()),
            baseline: "bare_rr".into(),
            time_ratio: 1.0,
        };
        assert_eq!(check_targets(&[ratio], &[]), []);
    }
}
