//! The fuzzer's short pass: a fixed seed and a fixed number of inputs per
//! target, with no findings allowed. `simnet fuzz --duration 10m` is the long
//! version.

use std::time::Duration;

use simnet::fuzz::{run, FuzzOptions, Target};

#[test]
fn a_short_fuzz_pass_finds_nothing() {
    let options = FuzzOptions {
        seed: 7,
        max_inputs: 4000,
        max_time: Duration::from_secs(120),
        targets: Target::ALL.to_vec(),
    };
    let reports = run(&options, &|_, _| {});
    for report in &reports {
        assert_eq!(report.inputs, 4000, "{:?} ran out of time", report.target);
        assert!(
            report.findings.is_empty(),
            "{:?}: {:?}",
            report.target,
            report.findings.first()
        );
        assert!(report.accepted > 0, "{:?} accepted nothing", report.target);
        assert!(
            report.accepted < report.inputs,
            "{:?} rejected nothing",
            report.target
        );
    }
}
