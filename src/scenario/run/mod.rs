//! Runs a [`Plan`] on a network of nodes: creates the nodes, applies each step
//! at its time, evaluates expectations ([`evaluate`]), then checks every
//! send's outcome, the `never` patterns and the global invariants, and
//! gathers final states ([`finish`]). The same [`Runner`] drives the
//! simulator and real sockets; [`run`] picks one by [`Mode`].

mod evaluate;
mod finish;

use std::{collections::BTreeMap, time::Duration};

use super::{
    applicability,
    load::DEFAULT_LATENCY,
    outcome::{CheckResult, Outcome},
    plan::{Action, Plan, SendPlan},
};
use crate::{
    net::{node_keys, trace::render_duration, Faults, Network, NetworkError, RealNetwork},
    protocol::{
        handshake, misbehaviour::Captured, InstanceMessageRequest, Misbehaviour, NodeConfig,
        SendError, SendId,
    },
    sim::{determinism::DEFAULT_EPOCH, engine, simulate, Simulator, WorldConfig},
};

/// Time the run continues after the last step when `end` is not given.
pub const DEFAULT_TAIL: Duration = Duration::from_secs(5);
/// Longest the run waits past its end for pending sends to finish.
const SEND_GRACE: Duration = Duration::from_secs(180);

/// Where a scenario runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// In a deterministic simulator.
    Simulated(Simulator),
    /// On 127.0.0.1 in real time (`--real`): node identities still derive
    /// from the seed, timing does not.
    Real,
}

impl Mode {
    /// The default simulator.
    pub const SIMULATED: Mode = Mode::Simulated(Simulator::Events);

    /// Whether a simulator runs it (its seed then fixes the whole run).
    pub fn is_simulated(self) -> bool {
        matches!(self, Mode::Simulated(_))
    }
}

impl Default for Mode {
    fn default() -> Self {
        Mode::SIMULATED
    }
}

/// Runs `plan` with `seed` (the plan's own, or another for a sweep) in `mode`.
/// A plan with a step only the simulator can carry out is refused in
/// [`Mode::Real`] with [`NetworkError::NeedsSimulator`] before anything starts.
pub fn run(plan: &Plan, seed: u64, mode: Mode) -> Result<Outcome, NetworkError> {
    match mode {
        Mode::Simulated(simulator) => {
            let plan = plan.clone();
            let config = WorldConfig {
                seed,
                latency: plan.latency,
                implementation: plan.implementation,
                ..WorldConfig::default()
            };
            match simulator {
                Simulator::Events => {
                    engine::simulate(config, move |net| Runner::new(&plan, net).run())?
                }
                Simulator::Turmoil => {
                    simulate(config, move |world| Runner::new(&plan, world).run())?
                }
            }
        }
        Mode::Real => {
            if let Some(step) = sim_only_step(plan) {
                return Err(NetworkError::NeedsSimulator(step));
            }
            let mut network = RealNetwork::with_implementation(seed, plan.implementation)?;
            Runner::new(plan, &mut network).run()
        }
    }
}

/// The first step of `plan` that only the simulator can carry out, as
/// `line N: \`partition\``, or `None` when the plan can run on real sockets.
/// Network settings that shape timing (loss, a latency other than the
/// default, which a scenario sets to shape a race) count too.
pub fn sim_only_step(plan: &Plan) -> Option<String> {
    if plan.loss > 0.0 {
        return Some("`network.loss`".into());
    }
    if plan.latency != DEFAULT_LATENCY {
        return Some("`network.latency`".into());
    }
    plan.steps
        .iter()
        .find(|step| step.action.needs_simulator())
        .map(|step| needs_simulator(step.line, &step.action))
}

fn needs_simulator(line: u64, action: &Action) -> String {
    format!("line {line}: `{}`", action.keyword())
}

/// The network's faults, or the error saying the step at `line` needs them.
fn faults<'w, W: Network>(
    world: &'w mut W,
    line: u64,
    action: &Action,
) -> Result<&'w mut dyn Faults, NetworkError> {
    world
        .faults()
        .ok_or_else(|| NetworkError::NeedsSimulator(needs_simulator(line, action)))
}

/// Why a send was refused, naming the receiver rather than its peer id.
fn refusal(error: &SendError, send: &SendPlan) -> String {
    match error {
        SendError::NotVerified(_) => format!("{} is not verified", send.to),
        SendError::PeerBanned(_) => format!("{} is banned", send.to),
        other => other.to_string(),
    }
}

/// The end of a plan's run: its `end`, or [`DEFAULT_TAIL`] after the last step.
pub fn end_of(plan: &Plan) -> Duration {
    let last = plan.steps.last().map_or(Duration::ZERO, |s| s.at);
    plan.end.unwrap_or(last + DEFAULT_TAIL)
}

/// A send the runner issued, with what the node answered.
struct SentMessage {
    line: u64,
    at: Duration,
    plan: SendPlan,
    result: Result<SendId, SendError>,
    /// How often the sender had crashed before: a restarted node's send ids
    /// start again, so an outcome counts only within the same incarnation.
    incarnation: u32,
}

/// Applies one plan to one network and gathers the outcome.
pub(crate) struct Runner<'a, W: Network> {
    plan: &'a Plan,
    world: &'a mut W,
    checks: Vec<CheckResult>,
    sent: Vec<SentMessage>,
    incarnations: BTreeMap<String, u32>,
    configs: BTreeMap<String, NodeConfig>,
    /// When each broadcast was last asked for: (publisher, topic, data).
    published: BTreeMap<(String, String, Vec<u8>), Duration>,
}

impl<'a, W: Network> Runner<'a, W> {
    pub(crate) fn new(plan: &'a Plan, world: &'a mut W) -> Self {
        Self {
            plan,
            world,
            checks: Vec::new(),
            sent: Vec::new(),
            incarnations: BTreeMap::new(),
            configs: BTreeMap::new(),
            published: BTreeMap::new(),
        }
    }

    pub(crate) fn run(mut self) -> Result<Outcome, NetworkError> {
        self.create_nodes()?;
        for step in &self.plan.steps {
            self.world.run_until(step.at)?;
            self.apply(step.line, &step.action)?;
        }
        self.world.run_until(end_of(self.plan))?;
        let grace_end = self.world.elapsed() + SEND_GRACE;
        while self.pending_sends() > 0 && self.world.elapsed() < grace_end {
            self.world.run_for(Duration::from_millis(100))?;
        }
        self.check_sends();
        Ok(self.finish())
    }

    fn create_nodes(&mut self) -> Result<(), NetworkError> {
        let seed = self.world.seed();
        for node in &self.plan.nodes {
            let mut config = node.config.clone();
            if let Some((from, to)) = &node.replays {
                // What `from` sent `to` at time zero, as if captured off the wire.
                let from_keys = node_keys(seed, from);
                let to_keys = node_keys(seed, to);
                let now_ms = DEFAULT_EPOCH.as_millis() as u64;
                let credentials = handshake::sign(
                    &from_keys.instance,
                    &from_keys.peer_id(),
                    &to_keys.peer_id(),
                    now_ms,
                    &node.config.protocol_version,
                );
                config.misbehaviour = Misbehaviour::Replay(Box::new(Captured {
                    credentials,
                    signer: from_keys.peer_id(),
                    receiver: to_keys.peer_id(),
                }));
            }
            if let Some(allowed) = &node.allow {
                config.allow_list = Some(
                    allowed
                        .iter()
                        .map(|name| node_keys(seed, name).instance_public())
                        .collect(),
                );
            }
            self.configs.insert(node.name.clone(), config.clone());
            self.world.add_node(&node.name, config)?;
        }
        if self.plan.loss > 0.0 {
            self.world
                .faults()
                .ok_or_else(|| NetworkError::NeedsSimulator("`network.loss`".into()))?
                .set_global_loss(self.plan.loss);
        }
        self.world.start()
    }

    fn apply(&mut self, line: u64, action: &Action) -> Result<(), NetworkError> {
        let w = &mut *self.world;
        let note_failure = |w: &mut W, node: &str, what: &str, error: &dyn std::fmt::Display| {
            w.note(node, format!("{what} not done: {error}"));
        };
        match action {
            Action::Dial { from, to } => {
                if let Err(e) = w.dial(from, to)? {
                    note_failure(w, from, "dial", &e);
                }
            }
            Action::Disconnect { node, peer } => w.disconnect(node, peer)?,
            Action::Send(send) => {
                for _ in 0..send.repeat {
                    self.send_once(line, send)?;
                }
            }
            Action::Subscribe { nodes, topic } => {
                for node in nodes {
                    if let Err(e) = w.subscribe(node, topic)? {
                        note_failure(w, node, "subscribe", &e);
                    }
                }
            }
            Action::Broadcast {
                from,
                topic,
                data,
                repeat,
            } => {
                let key = (from.clone(), topic.clone(), data.clone());
                self.published.insert(key, w.elapsed());
                for _ in 0..*repeat {
                    if let Err(e) = w.broadcast(from, topic, data.clone())? {
                        note_failure(w, from, "broadcast", &e);
                    }
                }
            }
            Action::Ban {
                node,
                peer,
                duration,
            } => w.ban(node, peer, *duration)?,
            Action::Unban { node, peer } => w.unban(node, peer)?,
            Action::Partition { a, b } => faults(w, line, action)?.partition(a, b)?,
            Action::Repair { a, b } => faults(w, line, action)?.repair(a, b)?,
            Action::Hold { a, b } => faults(w, line, action)?.hold(a, b)?,
            Action::Release { a, b } => faults(w, line, action)?.release(a, b)?,
            Action::Crash { node } => {
                faults(w, line, action)?.crash(node)?;
                *self.incarnations.entry(node.clone()).or_default() += 1;
            }
            Action::Restart { node } => faults(w, line, action)?.restart(node)?,
            Action::Clock { node, offset_ms } => {
                faults(w, line, action)?.set_clock_offset(node, *offset_ms)?
            }
            Action::Stall { node } => faults(w, line, action)?.stall(node)?,
            Action::Resume { node } => faults(w, line, action)?.resume(node)?,
            Action::Latency { a, b, min, max } => {
                faults(w, line, action)?.set_latency(a, b, *min, *max)?
            }
            Action::Loss { a, b, rate } => faults(w, line, action)?.set_loss(a, b, *rate)?,
            Action::Expect(checks) => {
                for check in checks {
                    let not_applicable = applicability::of_check(self.plan, check);
                    let failure = self.evaluate(check)?.filter(|_| not_applicable.is_none());
                    self.checks.push(CheckResult {
                        at: render_duration(self.world.elapsed()),
                        line,
                        check: check.to_string(),
                        kind: check.keyword(),
                        failure,
                        not_applicable,
                        time: self.world.elapsed(),
                        nodes: check.nodes().into_iter().map(str::to_owned).collect(),
                    });
                }
            }
        }
        Ok(())
    }

    fn send_once(&mut self, line: u64, send: &SendPlan) -> Result<(), NetworkError> {
        let request = InstanceMessageRequest {
            protocol: send.protocol.clone(),
            payload: send.payload.clone().into(),
            metadata: send.metadata.clone().map(Into::into),
        };
        let result = self.world.send(&send.from, &send.to, request)?;
        if let Err(e) = &result {
            let reason = refusal(e, send);
            self.world
                .note(&send.from, format!("send to {} refused: {reason}", send.to));
        }
        let incarnation = self.incarnations.get(&send.from).copied().unwrap_or(0);
        self.sent.push(SentMessage {
            line,
            at: self.world.elapsed(),
            plan: send.clone(),
            result,
            incarnation,
        });
        Ok(())
    }
}
