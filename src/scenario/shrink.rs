//! Shrinking: makes a failing scenario smaller while it keeps failing the same
//! way at the same seed, so a race found by a sweep can be read in a few lines.
//!
//! The scenario is edited as a YAML tree, not as a [`super::Plan`]: each candidate
//! drops nodes (with every step and check that names them), runs of action
//! steps, repetitions of a flood, node settings or network faults. A candidate
//! is kept when it still loads and its failure signature, line numbers aside,
//! is the original's. Candidates are tried biggest-first and the search
//! restarts after each success, until no candidate helps or the run budget is
//! spent. Every kept candidate was run from exactly the text that is returned.
//!
//! Checks are never cut on their own, passing ones included: they pin down
//! the situation. Were "alice has banned bob" removable, the ban itself could
//! go next, and a scenario about a ban racing a dial would shrink into one
//! where a plain dial "fails" only because its expectations were written for
//! the ban.

use std::{fmt, time::Duration};

use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    load_str, run, suite::failure_signature_ignoring_lines, time::parse_duration, LoadError, Mode,
    Outcome,
};
use crate::{implementation::Implementation, net::NetworkError, sim::Simulator};

/// What to shrink against.
#[derive(Clone, Copy, Debug)]
pub struct ShrinkOptions {
    /// The seed that fails; the shrunk scenario carries it as its own seed.
    pub seed: u64,
    /// The simulator it fails on; every candidate runs there too.
    pub simulator: Simulator,
    /// The implementation it fails on; every candidate runs on it too.
    pub implementation: Implementation,
    /// At most this many simulation runs in all.
    pub max_runs: usize,
    /// Seeds tried per candidate: its current seed, then the next ones. A cut
    /// shifts every later random draw, so a race that the original lost at
    /// one seed may need another seed to lose again once a node is gone; 1
    /// keeps the seed fixed.
    pub seeds_per_candidate: u64,
    /// Steps at or after this time are never cut: they are part of what is
    /// checked (`simnet explore`'s heal and probe phases: cut a heal step and
    /// a fault outlives the heal; cut a probe dial and "not verified" fails
    /// without any bug).
    pub keep_from: Option<Duration>,
}

/// How big a scenario is: what shrinking reduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScenarioSize {
    /// Nodes.
    pub nodes: usize,
    /// Steps, expectation steps included.
    pub steps: usize,
    /// Expectation items and `never` patterns.
    pub checks: usize,
    /// Copies beyond the first of repeated sends and broadcasts.
    pub extra_copies: u64,
}

impl ScenarioSize {
    /// One number to compare sizes by.
    pub fn total(&self) -> u64 {
        (self.nodes + self.steps + self.checks) as u64 + self.extra_copies
    }
}

impl fmt::Display for ScenarioSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} nodes, {} steps, {} checks",
            self.nodes, self.steps, self.checks
        )?;
        if self.extra_copies > 0 {
            write!(f, ", {} repeated copies", self.extra_copies)?;
        }
        Ok(())
    }
}

/// The smallest failing scenario found.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The scenario as YAML (without a header comment), exactly as it was run.
    pub yaml: String,
    /// Size of the original scenario.
    pub original: ScenarioSize,
    /// Size of the shrunk one.
    pub shrunk: ScenarioSize,
    /// Simulation runs spent.
    pub runs: usize,
    /// Whether the run budget ran out before no candidate helped.
    pub budget_exhausted: bool,
    /// How the shrunk scenario fails.
    pub outcome: Outcome,
}

/// Why a scenario could not be shrunk.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The scenario is not valid.
    #[error(transparent)]
    Invalid(#[from] LoadError),
    /// The simulation itself failed.
    #[error("the simulation failed: {0}")]
    Simulation(#[from] NetworkError),
    /// The scenario passes at this seed.
    #[error("{name} passes with seed {seed}: there is no failure to shrink")]
    Passes {
        /// Scenario name.
        name: String,
        /// The seed.
        seed: u64,
    },
    /// The scenario could not be rewritten without changing how it fails.
    #[error("cannot rewrite {file} for shrinking: {message}")]
    Rewrite {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
}

/// Shrinks the scenario `text` (from `file`) against the failure it shows at
/// `options.seed`. The result carries the seed it fails with. `progress` is
/// told the runs so far and the current size.
pub fn shrink(
    text: &str,
    file: &str,
    options: &ShrinkOptions,
    progress: &dyn Fn(usize, ScenarioSize),
) -> Result<Shrunk, ShrinkError> {
    let mut plan = load_str(text, file)?;
    plan.implementation = options.implementation;
    let first = run(&plan, options.seed, Mode::Simulated(options.simulator))?;
    if first.passed {
        return Err(ShrinkError::Passes {
            name: plan.name,
            seed: options.seed,
        });
    }
    let target = failure_signature_ignoring_lines(&first);
    let rewrite_error = |message: String| ShrinkError::Rewrite {
        file: file.to_owned(),
        message,
    };
    let mut doc: Value = serde_saphyr::from_str(text).map_err(|e| rewrite_error(e.to_string()))?;
    let Some(root) = doc.as_object_mut() else {
        return Err(rewrite_error("the top level is not a mapping".into()));
    };
    root.insert("seed".into(), Value::from(options.seed));
    root.insert("name".into(), Value::from(format!("{}-shrunk", plan.name)));

    let original = size_of(&doc);
    let mut search = Search {
        file,
        target,
        runs: 1,
        max_runs: options.max_runs.max(2),
        seeds_per_candidate: options.seeds_per_candidate.max(1),
        simulator: options.simulator,
        implementation: options.implementation,
    };
    let keep_from = options.keep_from;
    let (mut doc, mut yaml, mut outcome) = search
        .attempt(&doc)?
        .ok_or_else(|| rewrite_error("the rewritten scenario does not fail the same way".into()))?;
    progress(search.runs, original);

    let mut budget_exhausted = false;
    'search: loop {
        for candidate in candidates(&doc, keep_from) {
            if candidate == doc {
                continue;
            }
            if search.runs >= search.max_runs {
                budget_exhausted = true;
                break 'search;
            }
            if let Some((kept, kept_yaml, kept_outcome)) = search.attempt(&candidate)? {
                (doc, yaml, outcome) = (kept, kept_yaml, kept_outcome);
                progress(search.runs, size_of(&doc));
                continue 'search;
            }
        }
        break;
    }
    Ok(Shrunk {
        yaml,
        original,
        shrunk: size_of(&doc),
        runs: search.runs,
        budget_exhausted,
        outcome,
    })
}

/// The state of one shrink: what failure to keep and what is spent.
struct Search<'a> {
    file: &'a str,
    target: String,
    runs: usize,
    max_runs: usize,
    seeds_per_candidate: u64,
    simulator: Simulator,
    implementation: Implementation,
}

impl Search<'_> {
    /// Runs `candidate` at its own seed and, while it does not fail the same
    /// way, at the next ones (up to `seeds_per_candidate` in all). Returns the
    /// candidate with the seed that reproduced the failure, its YAML exactly
    /// as run, and the outcome.
    fn attempt(
        &mut self,
        candidate: &Value,
    ) -> Result<Option<(Value, String, Outcome)>, ShrinkError> {
        let base = candidate.get("seed").and_then(Value::as_u64).unwrap_or(0);
        for seed in (0..self.seeds_per_candidate).map(|i| base.wrapping_add(i)) {
            if self.runs >= self.max_runs {
                break;
            }
            let mut reseeded = candidate.clone();
            if let Some(root) = reseeded.as_object_mut() {
                root.insert("seed".into(), Value::from(seed));
            }
            let Ok(mut yaml) = serde_saphyr::to_string(&reseeded) else {
                return Ok(None);
            };
            if !yaml.ends_with('\n') {
                yaml.push('\n');
            }
            let Ok(mut plan) = load_str(&yaml, self.file) else {
                return Ok(None);
            };
            plan.implementation = self.implementation;
            self.runs += 1;
            let outcome = match run(&plan, plan.seed, Mode::Simulated(self.simulator)) {
                // A cut that removed a restart leaves later steps commanding a
                // node that is down: that candidate cannot run, so it is no
                // smaller form of the failure.
                Err(NetworkError::NodeDown(_)) => return Ok(None),
                other => other?,
            };
            if !outcome.passed && failure_signature_ignoring_lines(&outcome) == self.target {
                return Ok(Some((reseeded, yaml, outcome)));
            }
        }
        Ok(None)
    }
}

/// The actions that take a `repeat` (floods).
const REPEATABLE: [&str; 2] = ["send", "broadcast"];

/// The `repeat` of `step`'s flood action, with the action's key.
fn repeat_of(step: &Value) -> Option<(&'static str, u64)> {
    REPEATABLE.into_iter().find_map(|action| {
        step.get(action)
            .and_then(|a| a.get("repeat"))
            .and_then(Value::as_u64)
            .map(|repeat| (action, repeat))
    })
}

/// The size of a scenario tree.
pub fn size_of(doc: &Value) -> ScenarioSize {
    let steps = list(doc, "steps");
    let expect_items: usize = steps
        .iter()
        .filter_map(|step| step.get("expect").and_then(Value::as_object))
        .flat_map(|expect| expect.values())
        .map(|items| items.as_array().map_or(1, Vec::len))
        .sum();
    let extra_copies = steps
        .iter()
        .filter_map(repeat_of)
        .map(|(_, repeat)| repeat.saturating_sub(1))
        .sum();
    ScenarioSize {
        nodes: doc
            .get("nodes")
            .and_then(Value::as_object)
            .map_or(0, Map::len),
        steps: steps.len(),
        checks: expect_items + list(doc, "never").len(),
        extra_copies,
    }
}

fn list<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    doc.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Every smaller variant of `doc` worth trying, biggest cuts first.
fn candidates(doc: &Value, keep_from: Option<Duration>) -> Vec<Value> {
    let mut out = Vec::new();
    let names: Vec<String> = doc
        .get("nodes")
        .and_then(Value::as_object)
        .map(|nodes| nodes.keys().cloned().collect())
        .unwrap_or_default();
    if names.len() > 1 {
        out.extend(names.iter().map(|name| without_node(doc, name)));
    }
    out.extend(step_cuts(doc, keep_from));
    out.extend(fewer_repeats(doc));
    out.extend(setting_cuts(doc));
    out
}

fn edited(doc: &Value, edit: impl FnOnce(&mut Map<String, Value>)) -> Value {
    let mut copy = doc.clone();
    if let Some(root) = copy.as_object_mut() {
        edit(root);
    }
    copy
}

/// Runs of consecutive action steps (checks stay) removed: halves, then
/// quarters, … then single steps.
fn step_cuts(doc: &Value, keep_from: Option<Duration>) -> Vec<Value> {
    let before_kept = |step: &Value| {
        let at = step.get("at").and_then(Value::as_str).map(parse_duration);
        match (keep_from, at) {
            (Some(keep), Some(Ok(at))) => at < keep,
            _ => true,
        }
    };
    let actions: Vec<usize> = list(doc, "steps")
        .iter()
        .enumerate()
        .filter(|(_, step)| step.get("expect").is_none() && before_kept(step))
        .map(|(index, _)| index)
        .collect();
    let mut out = Vec::new();
    let mut chunk = actions.len() / 2;
    while chunk >= 1 {
        for cut in actions.chunks(chunk) {
            out.push(edited(doc, |root| {
                if let Some(steps) = root.get_mut("steps").and_then(Value::as_array_mut) {
                    let mut index = 0;
                    steps.retain(|_| {
                        index += 1;
                        !cut.contains(&(index - 1))
                    });
                }
            }));
        }
        chunk /= 2;
    }
    out
}

/// Floods (repeated sends and broadcasts) halved.
fn fewer_repeats(doc: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for (index, step) in list(doc, "steps").iter().enumerate() {
        let Some((action, repeat)) = repeat_of(step) else {
            continue;
        };
        if repeat <= 1 {
            continue;
        }
        out.push(edited(doc, |root| {
            if let Some(flood) = root
                .get_mut("steps")
                .and_then(|steps| steps.get_mut(index))
                .and_then(|step| step.get_mut(action))
                .and_then(Value::as_object_mut)
            {
                flood.insert("repeat".into(), Value::from(repeat / 2));
            }
        }));
    }
    out
}

/// Node settings, network faults and the explicit end removed one at a time.
fn setting_cuts(doc: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(nodes) = doc.get("nodes").and_then(Value::as_object) {
        for (name, spec) in nodes {
            for key in spec.as_object().into_iter().flat_map(Map::keys) {
                out.push(edited(doc, |root| {
                    if let Some(spec) = root
                        .get_mut("nodes")
                        .and_then(|nodes| nodes.get_mut(name))
                        .and_then(Value::as_object_mut)
                    {
                        spec.remove(key);
                    }
                }));
            }
        }
    }
    if let Some(network) = doc.get("network").and_then(Value::as_object) {
        for key in network.keys() {
            out.push(edited(doc, |root| {
                if let Some(network) = root.get_mut("network").and_then(Value::as_object_mut) {
                    network.remove(key);
                    if network.is_empty() {
                        root.remove("network");
                    }
                }
            }));
        }
    }
    if doc.get("end").is_some() {
        out.push(edited(doc, |root| {
            root.remove("end");
        }));
    }
    out
}

/// `doc` without node `name`: its steps, checks and `never` patterns go, and
/// other nodes' allow lists forget it.
fn without_node(doc: &Value, name: &str) -> Value {
    edited(doc, |root| {
        if let Some(nodes) = root.get_mut("nodes").and_then(Value::as_object_mut) {
            nodes.shift_remove(name);
            for spec in nodes.values_mut() {
                if let Some(allow) = spec.get_mut("allow").and_then(Value::as_array_mut) {
                    allow.retain(|entry| entry.as_str() != Some(name));
                }
            }
        }
        if let Some(steps) = root.get_mut("steps").and_then(Value::as_array_mut) {
            for step in steps.iter_mut() {
                if let Some(subscribers) = step
                    .pointer_mut("/subscribe/nodes")
                    .and_then(Value::as_array_mut)
                {
                    subscribers.retain(|entry| entry.as_str() != Some(name));
                }
                if let Some(expect) = step.get_mut("expect").and_then(Value::as_object_mut) {
                    for items in expect.values_mut() {
                        if let Some(items) = items.as_array_mut() {
                            items.retain(|item| !mentions(item, name));
                        }
                    }
                    prune_expect(step);
                }
            }
            steps.retain(|step| {
                let action_mentions = step
                    .as_object()
                    .into_iter()
                    .flatten()
                    .any(|(key, value)| key != "expect" && mentions(value, name));
                let no_subscribers = step
                    .pointer("/subscribe/nodes")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty);
                !action_mentions && !no_subscribers && !is_empty_expect(step)
            });
        }
        if let Some(never) = root.get_mut("never").and_then(Value::as_array_mut) {
            never.retain(|pattern| !mentions(pattern, name));
            if never.is_empty() {
                root.remove("never");
            }
        }
    })
}

/// Drops a step's empty expectation lists, and the `expect` itself when empty.
fn prune_expect(step: &mut Value) {
    let Some(object) = step.as_object_mut() else {
        return;
    };
    if let Some(expect) = object.get_mut("expect").and_then(Value::as_object_mut) {
        expect.retain(|_, items| items.as_array().is_none_or(|items| !items.is_empty()));
        if expect.is_empty() {
            object.remove("expect");
        }
    }
}

/// A step with a time and nothing to do.
fn is_empty_expect(step: &Value) -> bool {
    step.as_object()
        .is_some_and(|object| object.keys().all(|key| key == "at"))
}

fn mentions(value: &Value, name: &str) -> bool {
    match value {
        Value::String(text) => text == name,
        Value::Array(items) => items.iter().any(|item| mentions(item, name)),
        Value::Object(map) => map.values().any(|item| mentions(item, name)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Value {
        serde_saphyr::from_str(yaml).expect("test YAML")
    }

    const THREE_NODES: &str = "
name: t
about: t
nodes:
  alice: {}
  bob: { allow: [alice, carol] }
  carol: {}
steps:
  - at: 0s
    dial: { from: alice, to: bob }
  - at: 0s
    dial: { from: carol, to: bob }
  - at: 0s
    subscribe: { nodes: [carol], topic: t }
  - at: 0s
    subscribe: { nodes: [alice, carol], topic: t }
  - at: 1s
    send: { from: alice, to: bob, repeat: 8 }
  - at: 2s
    expect:
      verified: [[alice, bob], [carol, bob]]
      connections: [{ node: carol, count: 1 }]
never:
  - handshake: { node: carol, peer: bob, state: failed }
";

    #[test]
    fn size_counts_nodes_steps_checks_and_copies() {
        let size = size_of(&doc(THREE_NODES));
        assert_eq!(
            size,
            ScenarioSize {
                nodes: 3,
                steps: 6,
                checks: 4,
                extra_copies: 7
            }
        );
        assert_eq!(size.total(), 20);
    }

    #[test]
    fn removing_a_node_removes_what_names_it() {
        let without_carol = without_node(&doc(THREE_NODES), "carol");
        let expected = doc("
name: t
about: t
nodes:
  alice: {}
  bob: { allow: [alice] }
steps:
  - at: 0s
    dial: { from: alice, to: bob }
  - at: 0s
    subscribe: { nodes: [alice], topic: t }
  - at: 1s
    send: { from: alice, to: bob, repeat: 8 }
  - at: 2s
    expect:
      verified: [[alice, bob]]
");
        assert_eq!(without_carol, expected);
    }

    #[test]
    fn every_candidate_is_smaller() {
        let original = doc(THREE_NODES);
        let before = size_of(&original).total();
        let all = candidates(&original, None);
        // 3 nodes; 5 action steps cut 2+2+1, then one by one; 1 halved
        // flood; bob's allow list.
        assert_eq!(all.len(), 3 + 3 + 5 + 1 + 1);
        for candidate in &all {
            assert_ne!(candidate, &original);
            assert!(size_of(candidate).total() <= before);
        }
    }

    #[test]
    fn checks_are_only_cut_with_their_node() {
        let original = doc(THREE_NODES);
        let checks = size_of(&original).checks;
        let with_all_nodes: Vec<Value> = candidates(&original, None)
            .into_iter()
            .filter(|candidate| size_of(candidate).nodes == 3)
            .collect();
        assert!(!with_all_nodes.is_empty());
        for candidate in with_all_nodes {
            assert_eq!(size_of(&candidate).checks, checks);
        }
    }

    #[test]
    fn a_broadcast_flood_is_halved_like_a_send_flood() {
        let flood = doc("
name: t
about: t
nodes: { alice: {}, bob: {} }
steps:
  - at: 1s
    broadcast: { from: alice, topic: t, data: x, repeat: 2000 }
");
        assert_eq!(size_of(&flood).extra_copies, 1999);
        let halved = fewer_repeats(&flood);
        assert_eq!(halved.len(), 1);
        assert_eq!(
            halved[0].pointer("/steps/0/broadcast/repeat"),
            Some(&Value::from(1000))
        );
    }

    #[test]
    fn steps_from_keep_from_on_are_never_cut() {
        let original = doc(THREE_NODES);
        let all = step_cuts(&original, None).len();
        // THREE_NODES' only action after 1s is the send at 1s.
        let kept = step_cuts(&original, Some(Duration::from_secs(1)));
        assert!(kept.len() < all);
        for candidate in kept {
            assert!(
                list(&candidate, "steps")
                    .iter()
                    .any(|s| s.pointer("/send/repeat").is_some()),
                "the send at 1s stays"
            );
        }
    }
}
