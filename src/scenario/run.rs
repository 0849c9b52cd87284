//! Runs a [`Plan`] in the simulator: creates the nodes, applies each step at
//! its virtual time, evaluates expectations, then checks every send's outcome,
//! the `never` patterns and the global invariants, and gathers final states.

use std::{collections::BTreeMap, time::Duration};

use super::{
    invariants,
    model::{SendExpect, StateSpec},
    outcome::{failure_name, CheckResult, FinalNode, Outcome},
    plan::{Action, Check, Never, Plan, SendPlan},
};
use crate::{
    protocol::{
        handshake, Event, HandshakeState, InstanceMessageRequest, InstanceMessageResponse,
        Misbehaviour, NodeConfig, SendError, SendFailure, SendId,
    },
    sim::{
        simulate, trace::render_duration, world::node_keys, Network, Record, SimError, WorldConfig,
    },
};

/// Time the run continues after the last step when `end` is not given.
const DEFAULT_TAIL: Duration = Duration::from_secs(5);
/// Longest the run waits past its end for pending sends to finish.
const SEND_GRACE: Duration = Duration::from_secs(180);

/// Runs `plan` with its own seed.
pub fn run(plan: &Plan) -> Result<Outcome, SimError> {
    run_with_seed(plan, plan.seed)
}

/// Runs `plan` with `seed` instead of its own (seed sweeps).
pub fn run_with_seed(plan: &Plan, seed: u64) -> Result<Outcome, SimError> {
    let plan = plan.clone();
    let config = WorldConfig {
        seed,
        latency: plan.latency,
        ..WorldConfig::default()
    };
    simulate(config, move |world| Runner::new(&plan, world).run())?
}

struct SentMessage {
    line: u64,
    at: Duration,
    plan: SendPlan,
    result: Result<SendId, SendError>,
    incarnation: u32,
}

pub(crate) struct Runner<'a, W: Network> {
    plan: &'a Plan,
    world: &'a mut W,
    checks: Vec<CheckResult>,
    sent: Vec<SentMessage>,
    incarnations: BTreeMap<String, u32>,
    configs: BTreeMap<String, NodeConfig>,
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
        }
    }

    pub(crate) fn run(mut self) -> Result<Outcome, SimError> {
        self.create_nodes()?;
        for step in &self.plan.steps {
            self.world.run_until(step.at)?;
            self.apply(step.line, &step.action)?;
        }
        let last = self.plan.steps.last().map_or(Duration::ZERO, |s| s.at);
        let end = self.plan.end.unwrap_or(last + DEFAULT_TAIL);
        self.world.run_until(end)?;
        let grace_end = self.world.elapsed() + SEND_GRACE;
        while self.pending_sends() > 0 && self.world.elapsed() < grace_end {
            self.world.run_for(Duration::from_millis(100))?;
        }
        self.check_sends();
        Ok(self.finish())
    }

    fn create_nodes(&mut self) -> Result<(), SimError> {
        let seed = self.world.seed();
        for node in &self.plan.nodes {
            let mut config = node.config.clone();
            if let Some((from, to)) = &node.replays {
                // What `from` sent `to` at time zero, as if captured off the wire.
                let from_keys = node_keys(seed, from);
                let to_keys = node_keys(seed, to);
                let now_ms = (crate::sim::determinism::DEFAULT_EPOCH).as_millis() as u64;
                let captured = handshake::sign(
                    &from_keys.instance,
                    &from_keys.peer_id(),
                    &to_keys.peer_id(),
                    now_ms,
                    &node.config.protocol_version,
                );
                config.misbehaviour = Misbehaviour::Replay(captured);
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
            self.world.simulator()?.set_global_loss(self.plan.loss);
        }
        self.world.start()
    }

    fn apply(&mut self, line: u64, action: &Action) -> Result<(), SimError> {
        let w = &mut *self.world;
        let note_failure = |w: &mut W, node: &str, what: &str, error: &dyn std::fmt::Display| {
            w.note(node, format!("{what} not done: {error}"));
        };
        match action {
            Action::Dial(from, to) => {
                if let Err(e) = w.dial(from, to)? {
                    note_failure(w, from, "dial", &e);
                }
            }
            Action::Disconnect(node, peer) => w.disconnect(node, peer)?,
            Action::Send(send) => {
                for _ in 0..send.repeat {
                    self.send_once(line, send)?;
                }
            }
            Action::Subscribe(nodes, topic) => {
                for node in nodes {
                    if let Err(e) = w.subscribe(node, topic)? {
                        note_failure(w, node, "subscribe", &e);
                    }
                }
            }
            Action::Broadcast(from, topic, data) => {
                if let Err(e) = w.broadcast(from, topic, data.clone())? {
                    note_failure(w, from, "broadcast", &e);
                }
            }
            Action::Ban(node, peer, duration) => w.ban(node, peer, *duration)?,
            Action::Unban(node, peer) => w.unban(node, peer)?,
            Action::Partition(a, b) => w.simulator()?.partition(a, b)?,
            Action::Repair(a, b) => w.simulator()?.repair(a, b)?,
            Action::Hold(a, b) => w.simulator()?.hold(a, b)?,
            Action::Release(a, b) => w.simulator()?.release(a, b)?,
            Action::Crash(node) => {
                w.simulator()?.crash(node)?;
                *self.incarnations.entry(node.clone()).or_default() += 1;
            }
            Action::Restart(node) => w.simulator()?.restart(node)?,
            Action::Clock(node, offset) => w.simulator()?.set_clock_offset(node, *offset)?,
            Action::Latency(a, b, min, max) => w.simulator()?.set_latency(a, b, *min, *max)?,
            Action::Loss(a, b, rate) => w.simulator()?.set_loss(a, b, *rate)?,
            Action::Expect(checks) => {
                for check in checks {
                    let failure = self.evaluate(check)?;
                    self.checks.push(CheckResult {
                        at: render_duration(self.world.elapsed()),
                        line,
                        check: describe(check),
                        failure,
                    });
                }
            }
        }
        Ok(())
    }

    fn send_once(&mut self, line: u64, send: &SendPlan) -> Result<(), SimError> {
        let request = InstanceMessageRequest {
            protocol: send.protocol.clone(),
            payload: send.payload.clone(),
            metadata: send.metadata.clone(),
        };
        let result = self.world.send(&send.from, &send.to, request)?;
        if let Err(e) = &result {
            let reason = match e {
                SendError::NotVerified(_) => format!("{} is not verified", send.to),
                other => other.to_string(),
            };
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

    /// Events of `node`, in order.
    fn events_of<'b>(&'b self, node: &'b str) -> impl Iterator<Item = &'b Event> + 'b {
        self.world
            .trace()
            .iter()
            .filter_map(move |e| match &e.record {
                Record::Event(event) if e.node == node => Some(event),
                _ => None,
            })
    }

    fn verified(&mut self, node: &str, peer: &str) -> Result<bool, SimError> {
        if !self.world.is_running(node) {
            return Ok(false);
        }
        let peer = self.world.peer_id(peer)?;
        let state = self.world.state(node)?;
        Ok(state
            .peers
            .get(&peer)
            .is_some_and(|p| p.handshake == HandshakeState::Verified))
    }

    fn evaluate(&mut self, check: &Check) -> Result<Option<String>, SimError> {
        let fail = |held: bool, why: String| if held { None } else { Some(why) };
        Ok(match check {
            Check::Verified(a, b) => {
                let (ab, ba) = (self.verified(a, b)?, self.verified(b, a)?);
                fail(
                    ab && ba,
                    format!("{a} verified {b}: {ab}; {b} verified {a}: {ba}"),
                )
            }
            Check::NotVerified(a, b) => {
                let (ab, ba) = (self.verified(a, b)?, self.verified(b, a)?);
                fail(
                    !ab && !ba,
                    format!("{a} verified {b}: {ab}; {b} verified {a}: {ba}"),
                )
            }
            Check::Handshake(node, peer, state, reason) => {
                let peer_id = self.world.peer_id(peer)?;
                let latest = self
                    .events_of(node)
                    .filter_map(|e| match e {
                        Event::Handshake {
                            peer: p,
                            state,
                            failure,
                        } if *p == peer_id => Some((*state, failure.clone())),
                        _ => None,
                    })
                    .last();
                match latest {
                    None => Some(format!("{node} never had a handshake with {peer}")),
                    Some((actual, failure)) => {
                        let state_ok = state_matches(*state, actual);
                        let reason_ok = match (reason, &failure) {
                            (None, _) => true,
                            (Some(r), Some(f)) => failure_name(f) == r,
                            (Some(_), None) => false,
                        };
                        fail(
                            state_ok && reason_ok,
                            format!(
                                "latest state {actual:?}{}",
                                failure
                                    .map(|f| format!(" ({})", failure_name(&f)))
                                    .unwrap_or_default()
                            ),
                        )
                    }
                }
            }
            Check::Delivered(topic, node, data) | Check::NotDelivered(topic, node, data) => {
                let count = self
                    .events_of(node)
                    .filter(|e| {
                        matches!(e, Event::Broadcast { topic: t, data: d, .. }
                        if t == topic && data.as_ref().is_none_or(|want| want == d))
                    })
                    .count();
                match check {
                    Check::Delivered(..) => {
                        fail(count > 0, format!("{node} received nothing on {topic}"))
                    }
                    _ => fail(
                        count == 0,
                        format!("{node} received {count} message(s) on {topic}"),
                    ),
                }
            }
            Check::Requests(node, from, count) => {
                let from_id = self.world.peer_id(from)?;
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::Request { peer, .. } if *peer == from_id))
                    .count();
                fail(actual == *count, format!("{actual} request(s) delivered"))
            }
            Check::Rejected(node, from, code, at_least) => {
                let from_id = self.world.peer_id(from)?;
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::RequestRejected { peer, code: c } if *peer == from_id && c == code))
                    .count();
                fail(
                    actual >= *at_least,
                    format!("{actual} request(s) rejected with {code}"),
                )
            }
            Check::Banned(node, peer) | Check::NotBanned(node, peer) => {
                let peer_id = self.world.peer_id(peer)?;
                let banned = self.world.is_running(node)
                    && self.world.state(node)?.bans.contains_key(&peer_id);
                match check {
                    Check::Banned(..) => {
                        fail(banned, format!("{node} has no active ban on {peer}"))
                    }
                    _ => fail(!banned, format!("{node} has an active ban on {peer}")),
                }
            }
            Check::Refused(node, peer, rule) => {
                let peer_id = self.world.peer_id(peer)?;
                let refused = self.events_of(node).any(|e| match e {
                    Event::ConnectionRefused {
                        peer: Some(p),
                        reason,
                        ..
                    } if *p == peer_id => refusal_rule(reason) == rule,
                    _ => false,
                });
                fail(
                    refused,
                    format!("{node} refused no connection with {peer} by {rule}"),
                )
            }
            Check::Connections(node, peer, count) => {
                let state = self.world.state(node)?;
                let actual: u32 = match peer {
                    Some(peer) => {
                        let peer_id = self.world.peer_id(peer)?;
                        state.peers.get(&peer_id).map_or(0, |p| p.connections)
                    }
                    None => state.peers.values().map(|p| p.connections).sum(),
                };
                fail(actual == *count, format!("{actual} connection(s)"))
            }
            Check::Buffered(node, at_most) => {
                let peak = self.world.state(node)?.counters.peak_buffered;
                fail(peak <= *at_most, format!("{peak} item(s) held at the peak"))
            }
            Check::Malformed(node, at_least) => {
                let actual = self.world.state(node)?.counters.malformed;
                fail(
                    actual >= *at_least,
                    format!("{actual} malformed message(s) counted"),
                )
            }
            Check::Retried(node, at_least) => {
                let actual = self
                    .events_of(node)
                    .filter(|e| matches!(e, Event::SendRetrying { .. }))
                    .count();
                fail(actual >= *at_least, format!("{actual} retries"))
            }
        })
    }

    fn outcome_of(
        &self,
        sent: &SentMessage,
    ) -> Option<Result<InstanceMessageResponse, SendFailure>> {
        let id = sent.result.as_ref().ok()?;
        let mut incarnation = 0;
        self.world.trace().iter().find_map(|e| match &e.record {
            Record::World(text) if e.node == sent.plan.from && text == "crashed" => {
                incarnation += 1;
                None
            }
            Record::Event(Event::SendOutcome { id: i, result, .. })
                if e.node == sent.plan.from
                    && i == id
                    && incarnation == sent.incarnation
                    && e.at >= sent.at =>
            {
                Some(result.clone())
            }
            _ => None,
        })
    }

    fn pending_sends(&self) -> usize {
        self.sent
            .iter()
            .filter(|s| s.result.is_ok() && self.still_owned(s) && self.outcome_of(s).is_none())
            .count()
    }

    /// Whether the node that sent `s` has not crashed since.
    fn still_owned(&self, s: &SentMessage) -> bool {
        self.incarnations.get(&s.plan.from).copied().unwrap_or(0) == s.incarnation
            && self.world.is_running(&s.plan.from)
    }

    fn check_sends(&mut self) {
        let mut results = Vec::new();
        for sent in &self.sent {
            let Some(expect) = sent.plan.expect else {
                continue;
            };
            let outcome = self.outcome_of(sent);
            let (held, actual) = match (&sent.result, &outcome) {
                (Err(e), _) => (expect == SendExpect::Refused, format!("refused: {e}")),
                (Ok(_), None) => (false, "no outcome".to_owned()),
                (Ok(_), Some(Ok(response))) => {
                    let kind_ok = match (expect, response) {
                        (SendExpect::Success, InstanceMessageResponse::Success { .. }) => true,
                        (SendExpect::Protocol, InstanceMessageResponse::Protocol { .. }) => true,
                        (SendExpect::Error, InstanceMessageResponse::Error { code, .. }) => {
                            sent.plan.code.is_none_or(|c| c == *code)
                        }
                        _ => false,
                    };
                    let code = match response {
                        InstanceMessageResponse::Error { code, .. } => format!(" {code}"),
                        _ => String::new(),
                    };
                    (kind_ok, format!("{}{code} response", response.kind()))
                }
                (Ok(_), Some(Err(failure))) => {
                    (expect == SendExpect::Failed, format!("failed: {failure}"))
                }
            };
            results.push(CheckResult {
                at: render_duration(sent.at),
                line: sent.line,
                check: format!(
                    "send from {} to {} ends {}{}",
                    sent.plan.from,
                    sent.plan.to,
                    format!("{expect:?}").to_lowercase(),
                    sent.plan.code.map(|c| format!(" {c}")).unwrap_or_default()
                ),
                failure: (!held).then_some(actual),
            });
        }
        self.checks.extend(results);
    }

    fn never_violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for never in &self.plan.never {
            let (node, peer_name) = match never {
                Never::Handshake(n, p, _) | Never::Request(n, p) | Never::Broadcast(n, p) => (n, p),
            };
            let Ok(peer) = self.world.peer_id(peer_name) else {
                continue;
            };
            let hit = self.world.trace().iter().find(|e| {
                e.node == *node
                    && match (&e.record, never) {
                        (
                            Record::Event(Event::Handshake { peer: p, state, .. }),
                            Never::Handshake(_, _, s),
                        ) => *p == peer && state_matches(*s, *state),
                        (Record::Event(Event::Request { peer: p, .. }), Never::Request(..)) => {
                            *p == peer
                        }
                        (Record::Event(Event::Broadcast { from, .. }), Never::Broadcast(..)) => {
                            *from == peer
                        }
                        _ => false,
                    }
            });
            if let Some(entry) = hit {
                out.push(format!(
                    "never: {}",
                    crate::sim::trace::render(entry, self.world.names())
                ));
            }
        }
        out
    }

    fn finish(mut self) -> Outcome {
        let accepted: Vec<(String, SendId)> = self
            .sent
            .iter()
            .filter(|s| self.still_owned(s))
            .filter_map(|s| s.result.as_ref().ok().map(|id| (s.plan.from.clone(), *id)))
            .collect();
        let mut violations = self.never_violations();
        violations.extend(invariants::check_with_slack(
            self.world.trace(),
            self.world.names(),
            &self.configs,
            &accepted,
            self.world.elapsed(),
            self.world.timing_slack(),
        ));
        let mut nodes = BTreeMap::new();
        for name in self.world.node_names() {
            nodes.insert(name.clone(), self.final_node(&name));
        }
        let passed = violations.is_empty() && self.checks.iter().all(|c| c.failure.is_none());
        Outcome {
            scenario: self.plan.name.clone(),
            about: self.plan.about.clone(),
            seed: self.world.seed(),
            passed,
            checks: std::mem::take(&mut self.checks),
            violations,
            trace: self.world.trace_lines(),
            nodes,
            wire: self.world.wire(),
        }
    }

    fn final_node(&mut self, name: &str) -> FinalNode {
        let not_running = FinalNode {
            running: false,
            verified: Vec::new(),
            peers: BTreeMap::new(),
            bans: BTreeMap::new(),
            counters: Default::default(),
        };
        if !self.world.is_running(name) {
            return not_running;
        }
        let Ok(state) = self.world.state(name) else {
            return not_running;
        };
        let names = self.world.names();
        FinalNode {
            running: true,
            verified: state.verified_peers().iter().map(|p| names.of(p)).collect(),
            peers: state
                .peers
                .iter()
                .map(|(peer, p)| {
                    let mut text = format!("{:?}", p.handshake).to_lowercase();
                    if let Some(f) = &p.failure {
                        text.push_str(&format!(" ({})", failure_name(f)));
                    }
                    text.push_str(&format!(", {} connection(s)", p.connections));
                    (names.of(peer), text)
                })
                .collect(),
            bans: state
                .bans
                .iter()
                .map(|(peer, ban)| (names.of(peer), ban.reason.clone()))
                .collect(),
            counters: state.counters,
        }
    }
}

fn state_matches(spec: StateSpec, state: HandshakeState) -> bool {
    matches!(
        (spec, state),
        (StateSpec::Connected, HandshakeState::Connected)
            | (StateSpec::OutboundPending, HandshakeState::OutboundPending)
            | (StateSpec::InboundPending, HandshakeState::InboundPending)
            | (StateSpec::Verified, HandshakeState::Verified)
            | (StateSpec::Failed, HandshakeState::Failed)
    )
}

fn refusal_rule(reason: &crate::protocol::peers::Refusal) -> &'static str {
    use crate::protocol::peers::Refusal;
    match reason {
        Refusal::Banned { .. } => "banned",
        Refusal::InboundLimit { .. } => "inbound_limit",
        Refusal::OutboundLimit { .. } => "outbound_limit",
        Refusal::PerPeerLimit { .. } => "per_peer_limit",
        Refusal::TotalLimit { .. } => "total_limit",
        Refusal::PendingHandshakeLimit { .. } => "pending_handshake_limit",
    }
}

fn describe(check: &Check) -> String {
    let data = |d: &Option<Vec<u8>>| {
        d.as_ref()
            .map(|d| format!(" ({:?})", String::from_utf8_lossy(d)))
            .unwrap_or_default()
    };
    match check {
        Check::Verified(a, b) => format!("{a} and {b} verified"),
        Check::NotVerified(a, b) => format!("{a} and {b} not verified"),
        Check::Handshake(n, p, s, r) => format!(
            "{n}'s handshake with {p} is {s:?}{}",
            r.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
        ),
        Check::Delivered(t, n, d) => format!("broadcast on {t}{} delivered to {n}", data(d)),
        Check::NotDelivered(t, n, d) => format!("broadcast on {t}{} not delivered to {n}", data(d)),
        Check::Requests(n, f, c) => format!("{c} request(s) from {f} delivered to {n}"),
        Check::Rejected(n, f, code, c) => {
            format!("at least {c} request(s) from {f} rejected by {n} with {code}")
        }
        Check::Banned(n, p) => format!("{n} bans {p}"),
        Check::NotBanned(n, p) => format!("{n} does not ban {p}"),
        Check::Refused(n, p, r) => format!("{n} refused {p} ({r})"),
        Check::Retried(n, c) => format!("sends of {n} retried at least {c} time(s)"),
        Check::Malformed(n, c) => format!("at least {c} malformed message(s) dropped by {n}"),
        Check::Buffered(n, c) => format!("{n} held at most {c} item(s) at its peak"),
        Check::Connections(n, p, c) => format!(
            "{n} has {c} connection(s){}",
            p.as_ref().map(|p| format!(" with {p}")).unwrap_or_default()
        ),
    }
}
