//! `simnet explore`: generated workloads, faults and adversaries, checked by
//! the global invariants (safety, on every event) and by liveness oracles
//! written into each generated scenario as checks (`agree`, `reached`,
//! probe sends). A failing run is written as the YAML scenario that was run,
//! grouped by how it failed, and the first of each group is shrunk.
//!
//! It reuses the scenario runner, the invariants, `shrink` and the reports;
//! it adds no second way to run a scenario. Above [`crate::scenario`], below
//! the command line.

pub mod generate;
pub mod profile;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

pub use generate::generate;
pub use profile::{Profile, PROFILES};

use crate::{
    implementation::Implementation,
    net::NetworkError,
    scenario::{
        load_str, run,
        shrink::{shrink, ShrinkOptions},
        violation::mask_numbers,
        Mode, Outcome,
    },
    sim::Simulator,
};

/// How many runs, from which seeds, and where failures go.
#[derive(Clone, Debug)]
pub struct Options {
    /// The generator's weighting.
    pub profile: Profile,
    /// The simulator every run (and every shrink) uses.
    pub simulator: Simulator,
    /// The implementation every run (and every shrink) runs on.
    pub implementation: Implementation,
    /// The first seed; runs use `seed`, `seed + 1`, ….
    pub seed: u64,
    /// Stop after this many runs (of this shard)…
    pub runs: Option<u64>,
    /// …or once this much wall time has passed.
    pub duration: Option<Duration>,
    /// Runs at once.
    pub jobs: usize,
    /// Only runs `i` with `i % n == k - 1` (1-based `k` of `n`).
    pub shard: Option<(u64, u64)>,
    /// Where failing scenarios are written.
    pub out: PathBuf,
    /// Simulation runs each group's shrink may spend (0: no shrinking).
    pub shrink_runs: usize,
    /// Start no new run once one has failed (with one job, the runs made are
    /// exactly the seeds up to the first failing one).
    pub first_failure: bool,
}

/// One explored run.
#[derive(Debug)]
pub struct Run {
    /// Its seed.
    pub seed: u64,
    /// The scenario, as YAML (empty for a passing run once explored).
    pub yaml: String,
    /// Its steps.
    pub steps: usize,
    /// What happened (an error when the simulation itself failed).
    pub outcome: Result<Outcome, String>,
    /// Why the run does not apply to the implementation it ran on (the
    /// reference has no counterpart of one of its adversaries): it neither
    /// passed nor failed.
    pub not_applicable: Option<String>,
}

impl Run {
    /// Whether every check and invariant held.
    pub fn passed(&self) -> bool {
        self.outcome.as_ref().is_ok_and(|o| o.passed)
    }

    /// Whether it failed: it applied, and a check or invariant broke.
    pub fn failed(&self) -> bool {
        !self.passed() && self.not_applicable.is_none()
    }
}

/// Failing runs that failed the same way.
#[derive(Debug)]
pub struct Group {
    /// How they failed: the kinds of failed checks and the broken rules.
    pub signature: String,
    /// Their seeds, in order.
    pub seeds: Vec<u64>,
    /// The failing scenario of the first seed, as written.
    pub file: PathBuf,
    /// The shrunk scenario, when shrinking found one.
    pub shrunk: Option<PathBuf>,
    /// Its size after shrinking (steps), or before if not shrunk.
    pub steps: usize,
}

/// What an exploration found.
#[derive(Debug)]
pub struct Summary {
    /// Every run, in seed order.
    pub runs: Vec<Run>,
    /// Failures grouped by signature, biggest group first.
    pub groups: Vec<Group>,
}

/// How a run failed, independent of names, times and counts: the kind of
/// each failed check (with the masked reason, for sends) and each broken
/// rule, sorted. Runs with the same class fail the same way.
pub fn failure_class(outcome: &Outcome) -> String {
    let mut parts: Vec<String> = outcome
        .checks
        .iter()
        .filter_map(|c| {
            let failure = c.failure.as_ref()?;
            Some(match c.kind {
                "send" => format!("{}: {}", anonymous(&c.check), anonymous(failure)),
                kind => kind.to_owned(),
            })
        })
        .chain(outcome.violations.iter().map(|v| v.rule.text().to_owned()))
        .collect();
    parts.sort();
    parts.dedup();
    parts.join("; ")
}

/// `text` without node names and numbers, for grouping.
fn anonymous(text: &str) -> String {
    let mut text = mask_numbers(text);
    for name in generate::NAMES {
        text = text.replace(name, "_");
    }
    text
}

/// The seed of this shard's `index`-th run: shard `k` of `n` takes every
/// `n`-th seed from `options.seed + k - 1`.
fn seed_at(options: &Options, index: u64) -> u64 {
    let (k, n) = options.shard.unwrap_or((1, 1));
    options.seed.wrapping_add(index * n + k - 1)
}

/// One generated run.
pub fn run_seed(
    seed: u64,
    profile: Profile,
    simulator: Simulator,
    implementation: Implementation,
) -> Run {
    let model = generate(seed, profile);
    let steps = model.steps.len();
    let yaml = match serde_saphyr::to_string(&model) {
        Ok(yaml) => yaml,
        Err(e) => {
            return Run {
                seed,
                yaml: String::new(),
                steps,
                outcome: Err(format!("cannot write the scenario: {e}")),
                not_applicable: None,
            }
        }
    };
    let mut not_applicable = None;
    let outcome = load_str(&yaml, &format!("explore seed {seed}"))
        .map_err(|e| e.to_string())
        .and_then(|mut plan| {
            plan.implementation = implementation;
            run(&plan, seed, Mode::Simulated(simulator)).map_err(|e| {
                if let NetworkError::NotApplicable(why) = &e {
                    not_applicable = Some(why.clone());
                }
                e.to_string()
            })
        });
    Run {
        seed,
        yaml,
        steps,
        outcome,
        not_applicable,
    }
}

/// Runs the exploration; `done` is told each finished run (from a worker
/// thread), for progress bars.
pub fn explore(options: &Options, done: &(dyn Fn(&Run) + Sync)) -> std::io::Result<Summary> {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Run>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| loop {
                if options.duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                let index = next.fetch_add(1, Ordering::Relaxed);
                if options.runs.is_some_and(|runs| index >= runs)
                    || (options.first_failure && failed.load(Ordering::Relaxed))
                {
                    break;
                }
                let mut run = run_seed(
                    seed_at(options, index),
                    options.profile,
                    options.simulator,
                    options.implementation,
                );
                if run.failed() {
                    failed.store(true, Ordering::Relaxed);
                }
                done(&run);
                if run.passed() {
                    // Only failures are written and replayed: a long
                    // exploration keeps of a passing run just its checks.
                    run.yaml = String::new();
                    if let Ok(outcome) = &mut run.outcome {
                        outcome.trace = Vec::new();
                    }
                }
                results.lock().unwrap_or_else(|p| p.into_inner()).push(run);
            });
        }
    });
    let mut runs = results.into_inner().unwrap_or_else(|p| p.into_inner());
    runs.sort_by_key(|r| r.seed);
    let groups = write_failures(&runs, options)?;
    Ok(Summary { runs, groups })
}

/// Writes every failing run's scenario to `options.out`, groups them, and
/// shrinks the first of each group.
fn write_failures(runs: &[Run], options: &Options) -> std::io::Result<Vec<Group>> {
    let mut by_class: BTreeMap<String, Vec<&Run>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.failed()) {
        let class = match &run.outcome {
            Ok(outcome) => failure_class(outcome),
            Err(error) => format!("the simulation failed: {}", anonymous(error)),
        };
        by_class.entry(class).or_default().push(run);
    }
    if by_class.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(&options.out)?;
    let mut groups = Vec::new();
    for (signature, members) in by_class {
        for run in &members {
            let path = failing_file(&options.out, options.profile, run.seed);
            std::fs::write(&path, header(run, &signature) + &run.yaml)?;
        }
        let first = members[0];
        let file = failing_file(&options.out, options.profile, first.seed);
        let mut group = Group {
            signature,
            seeds: members.iter().map(|r| r.seed).collect(),
            steps: first.steps,
            file,
            shrunk: None,
        };
        if options.shrink_runs > 0 && first.outcome.is_ok() {
            let shrink_options = ShrinkOptions {
                seed: first.seed,
                simulator: options.simulator,
                implementation: options.implementation,
                max_runs: options.shrink_runs,
                seeds_per_candidate: 1,
                // The heal, quiet and probe phases are the oracle: cut a
                // heal step and a fault outlives the heal; cut a probe dial
                // and "not verified" fails without any bug.
                keep_from: Some(Duration::from_millis(generate::CHAOS_MS)),
            };
            let name = group.file.display().to_string();
            if let Ok(shrunk) = shrink(&first.yaml, &name, &shrink_options, &|_, _| {}) {
                let path = group.file.with_extension("shrunk.yaml");
                std::fs::write(&path, header(first, &group.signature) + &shrunk.yaml)?;
                group.steps = shrunk.shrunk.steps;
                group.shrunk = Some(path);
            }
        }
        groups.push(group);
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.seeds.len()));
    Ok(groups)
}

/// Where the failing scenario of `seed` is written.
pub fn failing_file(dir: &Path, profile: Profile, seed: u64) -> PathBuf {
    dir.join(format!("explore-{profile}-{seed}.yaml"))
}

fn header(run: &Run, signature: &str) -> String {
    format!(
        "# Found by `simnet explore`, seed {}: {signature}\n",
        run.seed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_seeds_without_overlap() {
        let options = |shard| Options {
            profile: Profile::All,
            simulator: Simulator::default(),
            implementation: Implementation::Simnet,
            seed: 100,
            runs: None,
            duration: None,
            jobs: 1,
            shard,
            out: PathBuf::new(),
            shrink_runs: 0,
            first_failure: false,
        };
        let seeds = |shard| {
            (0..3)
                .map(|i| seed_at(&options(shard), i))
                .collect::<Vec<_>>()
        };
        assert_eq!(seeds(Some((1, 2))), [100, 102, 104]);
        assert_eq!(seeds(Some((2, 2))), [101, 103, 105]);
        assert_eq!(seeds(None), [100, 101, 102]);
    }

    #[test]
    fn failure_classes_ignore_names_times_and_counts() {
        use crate::scenario::{
            outcome::CheckResult,
            violation::{Rule, Violation},
        };

        let outcome = |pair: (&str, &str), code: u16| Outcome {
            scenario: "x".into(),
            about: "x".into(),
            seed: 1,
            passed: false,
            checks: vec![
                CheckResult {
                    at: "85.002s".into(),
                    line: 10,
                    check: format!("{} and {} agree on their session", pair.0, pair.1),
                    kind: "agree",
                    failure: Some("alice verified bob: false".into()),
                    not_applicable: None,
                    time: Default::default(),
                    nodes: Vec::new(),
                },
                CheckResult {
                    at: "88.001s".into(),
                    line: 12,
                    check: format!("send from {} to {} ends success", pair.0, pair.1),
                    kind: "send",
                    failure: Some(format!("error {code} response")),
                    not_applicable: None,
                    time: Default::default(),
                    nodes: Vec::new(),
                },
            ],
            violations: vec![Violation {
                rule: Rule::BannedAuthor,
                detail: "[ 1.000s] carol: broadcast".into(),
                entry: None,
                nodes: Vec::new(),
            }],
            trace: Vec::new(),
            entries: Vec::new(),
            names: Default::default(),
            nodes: BTreeMap::new(),
            wire: Default::default(),
        };
        let class = failure_class(&outcome(("alice", "bob"), 403));
        assert_eq!(
            class,
            "agree; broadcast whose author is banned reached the application; send from _ to _ ends success: error # response"
        );
        assert_eq!(class, failure_class(&outcome(("carol", "dave"), 404)));
    }
}
