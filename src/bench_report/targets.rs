//! The benchmark issue's targets, as a table, and the ratios they are
//! checked against: each simnet figure beside every baseline measured in the
//! same group with the same parameter.

use super::criterion::BenchResult;

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

/// One required ratio: for every parameter of `group` that starts with
/// `parameter_prefix`, simnet against `baseline`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// Criterion group.
    pub group: &'static str,
    /// The baseline's function name.
    pub baseline: &'static str,
    /// Parameters it applies to (`""`: all, and none).
    pub parameter_prefix: &'static str,
    /// How the parameter reads in the text, `{}` standing for it.
    pub parameter_text: &'static str,
    /// The ratio bounded.
    pub metric: Metric,
    /// The bound.
    pub bound: f64,
    /// The baseline as the text names it.
    pub baseline_text: &'static str,
}

/// The targets of the benchmark issue: direct messages of 64 KiB and 1 MiB
/// at ≥ 0.9× bare request-response throughput; a verified connection at
/// ≤ 1.5× a bare connection's time.
pub const TARGETS: &[Target] = &[
    Target {
        group: "direct",
        baseline: "bare_rr",
        parameter_prefix: "64KiB",
        parameter_text: " {}",
        metric: Metric::Throughput,
        bound: 0.9,
        baseline_text: "bare_rr",
    },
    Target {
        group: "direct",
        baseline: "bare_rr",
        parameter_prefix: "1MiB",
        parameter_text: " {}",
        metric: Metric::Throughput,
        bound: 0.9,
        baseline_text: "bare_rr",
    },
    Target {
        group: "handshake",
        baseline: "bare",
        parameter_prefix: "",
        parameter_text: ", {} at once",
        metric: Metric::Time,
        bound: 1.5,
        baseline_text: "a bare noise+yamux connection",
    },
];

/// One target checked against one measured ratio.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    /// What is required.
    pub text: String,
    /// The measured ratio.
    pub measured: f64,
    /// Whether it held.
    pub met: bool,
}

impl Target {
    /// This target checked against `ratio`, if it applies to it.
    pub fn check(&self, ratio: &Ratio) -> Option<TargetOutcome> {
        let parameter = ratio.parameter.as_deref().unwrap_or("");
        if ratio.group != self.group
            || ratio.baseline != self.baseline
            || !parameter.starts_with(self.parameter_prefix)
        {
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
        })
    }
}

/// Every [`TARGETS`] entry checked against every ratio it applies to, in
/// the ratios' order.
pub fn check_targets(ratios: &[Ratio]) -> Vec<TargetOutcome> {
    ratios
        .iter()
        .flat_map(|ratio| TARGETS.iter().filter_map(|target| target.check(ratio)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_report::criterion::{tests::result, Throughput};

    #[test]
    fn ratios_pair_simnet_with_each_baseline_of_the_same_parameter() {
        let mib = Throughput::Bytes(1 << 20);
        let results = vec![
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
            result(
                "handshake",
                "simnet",
                None,
                1_300_000.0,
                Throughput::Elements(1),
            ),
            result(
                "handshake",
                "bare",
                None,
                1_000_000.0,
                Throughput::Elements(1),
            ),
        ];
        let all = ratios(&results);
        assert_eq!(all.len(), 3);
        let rr = all
            .iter()
            .find(|r| r.baseline == "bare_rr")
            .expect("bare_rr");
        assert!((rr.time_ratio - 1.25).abs() < 1e-9);
        assert!((rr.throughput_ratio() - 0.8).abs() < 1e-9);
        let checked = check_targets(&all);
        assert_eq!(checked.len(), 2);
        assert_eq!(checked[0].text, "direct 1MiB-1: throughput ≥ 0.9× bare_rr");
        assert!(!checked[0].met, "0.8× misses 0.9×");
        assert_eq!(
            checked[1].text,
            "handshake: time ≤ 1.5× a bare noise+yamux connection"
        );
        assert!(checked[1].met, "1.3× is within 1.5×");
    }

    #[test]
    fn a_parameter_outside_every_prefix_has_no_target() {
        let ratio = Ratio {
            group: "direct".into(),
            parameter: Some("64B-1".into()),
            baseline: "bare_rr".into(),
            time_ratio: 1.0,
        };
        assert_eq!(check_targets(&[ratio]), []);
    }
}
