//! From one seed, one scenario in simnet's own file model: nodes (honest and
//! adversarial, with settings), a chaos phase of random actions and faults,
//! a heal phase that undoes every fault, a quiet phase long enough for every
//! timeout, ban and deadline to settle, and a probe phase whose checks are
//! the liveness oracles: every pair of honest nodes agrees on its session
//! (`agree`), fresh sends between honest nodes that may talk end as their
//! responder answers, and fresh broadcasts reach every connected honest
//! subscriber (`reached`). The scenario is plain YAML: written out, it
//! replays with `simnet run`.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::profile::{Profile, Weights};
use crate::scenario::model::{
    BanSpec, BroadcastSpec, ClockSpec, ExpectSpec, FailureReason, HandshakeNever, LatencySpec,
    LimitsSpec, LinkSpec, Located, LossSpec, NetworkSpec, NeverSpec, NodeKind, NodeRef, NodeSpec,
    PeerSpec, RateLimitSpec, ReachedExpect, ReplaySpec, ResponderSpec, ScenarioFile, SendExpect,
    SendSpec, StateSpec, StepSpec, SubscribeSpec,
};

/// Names of generated nodes, in order.
pub(crate) const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];
/// End of the chaos phase and start of the heal (ms): from here on, every
/// step belongs to the oracle (undo every fault, let it settle, probe).
pub const CHAOS_MS: u64 = 20_000;
/// The quiet phase: longer than every handshake timeout (≤ 30 s), send
/// deadline (≤ 60 s) and generated ban (≤ 30 s) that the chaos phase starts.
const QUIET_MS: u64 = 65_000;
/// Start of the probe phase (ms).
pub const PROBE_MS: u64 = CHAOS_MS + QUIET_MS;
/// In the half-open pattern, how long after the disconnect (made during a
/// partition of 1 s) the side that never heard of it dials again (ms).
const HALF_OPEN_REDIAL_MS: u64 = 1_500;
/// The topic every honest node subscribes to after the heal, for probes.
pub const PROBE_TOPIC: &str = "probe";
/// The topic of chaos-phase gossip.
const CHAOS_TOPIC: &str = "news";
/// Adversarial kinds the generator draws from.
const ADVERSARIES: [NodeKind; 8] = [
    NodeKind::ForgedSignature,
    NodeKind::Replay,
    NodeKind::StaleTimestamp,
    NodeKind::SilentHandshake,
    NodeKind::SkipHandshake,
    NodeKind::MalformedRequests,
    NodeKind::WrongVersion,
    NodeKind::Oversized,
];

/// The scenario of `seed` under `profile`.
pub fn generate(seed: u64, profile: Profile) -> ScenarioFile {
    Generator::new(seed, profile).scenario()
}

/// What the generator knows of a node while it writes steps.
struct Node {
    name: String,
    kind: NodeKind,
    spec: NodeSpec,
    /// Major protocol version it presents.
    major: u32,
    /// Runs with connection limits of its own: left out of probes, whose
    /// dials its limits may rightly refuse.
    constrained: bool,
}

struct Generator {
    rng: ChaCha8Rng,
    seed: u64,
    profile: Profile,
    weights: Weights,
    nodes: Vec<Node>,
    steps: Vec<(u64, StepSpec)>,
    partitioned: BTreeSet<(usize, usize)>,
    held: BTreeSet<(usize, usize)>,
    slowed: BTreeSet<(usize, usize)>,
    lossy: BTreeSet<(usize, usize)>,
    crashed: BTreeSet<usize>,
    shifted: BTreeSet<usize>,
    /// Bans the chaos phase made: (node, peer) → whether it is permanent.
    bans: BTreeMap<(usize, usize), bool>,
    /// Nodes a pattern of steps still needs running, until when (ms).
    pinned: BTreeMap<usize, u64>,
}

impl Generator {
    fn new(seed: u64, profile: Profile) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            profile,
            weights: profile.weights(),
            nodes: Vec::new(),
            steps: Vec::new(),
            partitioned: BTreeSet::new(),
            held: BTreeSet::new(),
            slowed: BTreeSet::new(),
            lossy: BTreeSet::new(),
            crashed: BTreeSet::new(),
            shifted: BTreeSet::new(),
            bans: BTreeMap::new(),
            pinned: BTreeMap::new(),
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.rng.next_u64() as f64 / u64::MAX as f64) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn scenario(mut self) -> ScenarioFile {
        self.make_nodes();
        self.chaos();
        self.heal();
        self.probe();
        let mut never = self.never_verified();
        never.extend(self.never_failed_between_honest());
        let mut steps = std::mem::take(&mut self.steps);
        steps.sort_by_key(|(at, _)| *at);
        let nodes: IndexMap<String, Located<NodeSpec>> = self
            .nodes
            .drain(..)
            .map(|n| (n.name, Located::new(n.spec)))
            .collect();
        ScenarioFile {
            name: Located::new(format!("explore-{}-{}", self.profile, self.seed)),
            about: Located::new(format!(
                "Generated by simnet explore (profile {}, seed {}): chaos, heal, quiet, then probes of session agreement, sends and broadcasts between honest nodes.",
                self.profile, self.seed
            )),
            seed: self.seed,
            network: NetworkSpec::default(),
            nodes: Located::new(nodes),
            steps: steps.into_iter().map(|(_, s)| Located::new(s)).collect(),
            never,
            end: None,
        }
    }

    /// A safety oracle: no honest node ever verifies an adversary whose
    /// credentials are invalid whatever the clock (a forged signature, a
    /// replayed handshake, an incompatible version).
    fn never_verified(&self) -> Vec<Located<NeverSpec>> {
        let invalid = |kind: NodeKind| {
            matches!(
                kind,
                NodeKind::ForgedSignature | NodeKind::Replay | NodeKind::WrongVersion
            )
        };
        let mut never = Vec::new();
        for h in self.honest() {
            for (a, node) in self.nodes.iter().enumerate() {
                if invalid(node.kind) {
                    never.push(self.never_handshake(h, a, StateSpec::Verified, None));
                }
            }
        }
        never
    }

    /// Oracles checked through the chaos, not only once it healed: two
    /// honest nodes that may talk never refuse each other's handshake, and,
    /// both with the default 30 s handshake timeout, never time out on each
    /// other (keep-alive closes a dead or held connection within 5 s, so a
    /// handshake between them ends verified or closed). Left out are pairs
    /// where either node's clock moved (its timestamps may rightly be stale
    /// to the other) or either banned the other (a ban ends the session
    /// with a 423).
    fn never_failed_between_honest(&self) -> Vec<Located<NeverSpec>> {
        let name = |n: &NodeRef| n.value.clone();
        let mut shifted = BTreeSet::new();
        let mut banned = BTreeSet::new();
        for (_, step) in &self.steps {
            if let Some(clock) = &step.clock {
                shifted.insert(name(&clock.node));
            }
            if let Some(ban) = &step.ban {
                banned.insert((name(&ban.node), name(&ban.peer)));
                banned.insert((name(&ban.peer), name(&ban.node)));
            }
        }
        let mut never = Vec::new();
        for a in self.honest() {
            for b in self.honest() {
                let (x, y) = (&self.nodes[a], &self.nodes[b]);
                let left_out = a == b
                    || !self.may_talk(a, b)
                    || shifted.contains(&x.name)
                    || shifted.contains(&y.name)
                    || banned.contains(&(x.name.clone(), y.name.clone()));
                if left_out {
                    continue;
                }
                let default_timeouts =
                    x.spec.handshake_timeout.is_none() && y.spec.handshake_timeout.is_none();
                let reasons = [
                    Some(FailureReason::Rejected),
                    default_timeouts.then_some(FailureReason::Timeout),
                ];
                for reason in reasons.into_iter().flatten() {
                    never.push(self.never_handshake(a, b, StateSpec::Failed, Some(reason)));
                }
            }
        }
        never
    }

    /// The `never` pattern: `node`'s handshake with `peer` reaches `state`
    /// (for `reason`, if given).
    fn never_handshake(
        &self,
        node: usize,
        peer: usize,
        state: StateSpec,
        reason: Option<FailureReason>,
    ) -> Located<NeverSpec> {
        Located::new(NeverSpec {
            handshake: Some(HandshakeNever {
                node: self.node_ref(node),
                peer: self.node_ref(peer),
                state,
                reason,
            }),
            request: None,
            broadcast: None,
        })
    }

    fn make_nodes(&mut self) {
        let count = self.between(2, NAMES.len() as u64) as usize;
        for (i, name) in NAMES.iter().take(count).enumerate() {
            let adversary = i >= 2 && self.chance(self.weights.adversary);
            let kind = if adversary {
                self.pick(&ADVERSARIES)
            } else {
                NodeKind::Honest
            };
            let mut node = Node {
                name: (*name).to_owned(),
                kind,
                spec: NodeSpec {
                    kind,
                    ..NodeSpec::default()
                },
                major: if kind == NodeKind::WrongVersion {
                    99
                } else {
                    1
                },
                constrained: false,
            };
            if kind == NodeKind::Honest && self.chance(self.weights.settings) {
                self.settings(&mut node, count);
            }
            self.nodes.push(node);
        }
        let honest: Vec<usize> = self.honest();
        for i in 0..self.nodes.len() {
            if self.nodes[i].kind == NodeKind::Replay {
                let from = self.pick(&honest);
                let to = self.pick(&honest);
                self.nodes[i].spec.replays = Some(ReplaySpec {
                    from: self.node_ref(from),
                    to: self.node_ref(to),
                });
            }
        }
    }

    /// Non-default settings for an honest node, each drawn on its own.
    fn settings(&mut self, node: &mut Node, count: usize) {
        let d = |ms: u64| Located::new(format!("{ms}ms"));
        if self.chance(0.3) {
            node.spec.handshake_timeout = Some(d(self.between(5_000, 30_000)));
        }
        if self.chance(0.3) {
            node.spec.send_deadline = Some(d(self.between(5_000, 60_000)));
        }
        if self.chance(0.3) {
            node.spec.responder = match self.below(4) {
                0 => ResponderSpec::Protocol,
                1 => ResponderSpec::Silent,
                2 => ResponderSpec::Error {
                    code: self.pick(&[400, 404, 500]),
                    message: "generated".into(),
                },
                _ => ResponderSpec::Echo,
            };
        }
        if self.chance(0.15) {
            let (version, major) = self.pick(&[("simnet/1.1", 1), ("simnet/2.0", 2)]);
            node.spec.version = Some(version.to_owned());
            node.major = major;
        }
        if self.chance(0.15) {
            let allowed: Vec<NodeRef> = NAMES
                .iter()
                .take(count)
                .filter(|_| self.chance(0.6))
                .map(|n| Located::new((*n).to_owned()))
                .collect();
            node.spec.allow = Some(allowed);
        }
        if self.chance(0.1) {
            node.spec.limits = Some(LimitsSpec {
                inbound: Some(self.between(1, 4) as u32),
                outbound: Some(self.between(1, 4) as u32),
                per_peer: None,
                total: None,
                pending_handshakes: Some(self.between(1, 4) as u32),
            });
            node.constrained = true;
        }
        if self.chance(0.2) {
            node.spec.ban_after = Some(self.between(1, 5) as u32);
            node.spec.ban_for = Some(d(self.between(5_000, 30_000)));
        }
        if self.chance(0.15) {
            node.spec.max_message_size = Some(self.pick(&[1024, 65_536, 1 << 20]));
        }
        if self.chance(0.1) {
            node.spec.rate_limit = Some(RateLimitSpec {
                requests: self.between(5, 50) as u32,
                per: d(self.between(1_000, 10_000)),
            });
        }
        if self.chance(0.1) {
            node.spec.max_in_flight = Some(self.between(2, 16) as u32);
        }
    }

    fn honest(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].kind == NodeKind::Honest)
            .collect()
    }

    fn node_ref(&self, i: usize) -> NodeRef {
        Located::new(self.nodes[i].name.clone())
    }

    /// Two different running nodes (the first two nodes of any draw when
    /// fewer than two run).
    fn pair(&mut self) -> (usize, usize) {
        let running = self.running();
        if running.len() < 2 {
            return (0, 1);
        }
        let a = self.below(running.len() as u64) as usize;
        let b = (a + 1 + self.below(running.len() as u64 - 1) as usize) % running.len();
        (running[a], running[b])
    }

    fn running(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| !self.crashed.contains(i))
            .collect()
    }

    /// A running node.
    fn one(&mut self) -> usize {
        let running = self.running();
        self.pick(&running)
    }

    fn link(&self, (a, b): (usize, usize)) -> Vec<NodeRef> {
        vec![self.node_ref(a), self.node_ref(b)]
    }

    fn push(&mut self, at: u64, fill: impl FnOnce(&mut StepSpec)) {
        let mut step = empty_step(at);
        fill(&mut step);
        self.steps.push((at, step));
    }

    fn chaos(&mut self) {
        let w = self.weights;
        let menu = [
            (w.dial, 0),
            (w.send, 1),
            (w.gossip, 2),
            (w.ban, 3),
            (w.link_fault, 4),
            (w.crash, 5),
            (w.clock, 6),
            (w.disconnect, 7),
        ];
        let total: u32 = menu.iter().map(|(weight, _)| weight).sum();
        // Everyone starts connected to someone.
        for from in 1..self.nodes.len() {
            let to = self.below(from as u64) as usize;
            let link = LinkSpec {
                from: self.node_ref(from),
                to: self.node_ref(to),
            };
            self.push(0, |s| s.dial = Some(link));
        }
        let actions = self.between(8, 40);
        // In time order, so the generator knows which nodes are down: a
        // crashed node takes part in nothing until it restarts.
        let mut times: Vec<u64> = (0..actions)
            .map(|_| self.between(100, CHAOS_MS - 1))
            .collect();
        times.sort_unstable();
        for at in times {
            let mut roll = self.below(u64::from(total)) as u32;
            let choice = menu
                .iter()
                .find(|(weight, _)| {
                    let hit = roll < *weight;
                    roll = roll.saturating_sub(*weight);
                    hit
                })
                .map_or(0, |(_, c)| *c);
            match choice {
                0 => self.dial(at),
                1 => self.send(at),
                2 => self.gossip(at),
                3 => self.ban(at),
                4 => self.link_fault(at),
                5 => self.crash(at),
                6 => self.clock(at),
                _ => self.disconnect(at),
            }
        }
    }

    fn dial(&mut self, at: u64) {
        let (a, b) = self.pair();
        let (from, to) = (self.node_ref(a), self.node_ref(b));
        // Sometimes both dial at once: crossed handshakes.
        if self.chance(0.2) {
            let (back_from, back_to) = (to.clone(), from.clone());
            self.push(at, |s| {
                s.dial = Some(LinkSpec {
                    from: back_from,
                    to: back_to,
                })
            });
        }
        self.push(at, |s| s.dial = Some(LinkSpec { from, to }));
    }

    fn send(&mut self, at: u64) {
        let (a, b) = self.pair();
        let size = match self.below(10) {
            0 => Some(self.between(60_000, 70_000) as usize),
            1 => Some(self.between(1 << 20, (1 << 20) + 1024) as usize),
            2 if self.chance(0.2) => Some(17 << 20),
            3 | 4 => Some(self.between(0, 4096) as usize),
            _ => None,
        };
        let repeat = match self.below(12) {
            0 => Some(self.between(20, 150) as u32),
            1 | 2 => Some(self.between(2, 4) as u32),
            _ => None,
        };
        let spec = SendSpec {
            from: self.node_ref(a),
            to: self.node_ref(b),
            protocol: None,
            payload: size.is_none().then(|| format!("chaos {at}")),
            payload_size: size,
            metadata: None,
            expect: None,
            code: None,
            repeat: if size.is_some_and(|s| s > 1 << 20) {
                None
            } else {
                repeat
            },
            within: None,
        };
        self.push(at, |s| s.send = Some(spec));
    }

    fn gossip(&mut self, at: u64) {
        let n = self.one();
        if self.chance(0.4) {
            let nodes = vec![self.node_ref(n)];
            self.push(at, |s| {
                s.subscribe = Some(SubscribeSpec {
                    nodes,
                    topic: CHAOS_TOPIC.into(),
                })
            });
        } else {
            let repeat = self.chance(0.1).then(|| self.between(10, 200) as u32);
            let from = self.node_ref(n);
            self.push(at, |s| {
                s.broadcast = Some(BroadcastSpec {
                    from,
                    topic: CHAOS_TOPIC.into(),
                    data: format!("gossip {at}"),
                    repeat,
                })
            });
        }
    }

    fn ban(&mut self, at: u64) {
        let (a, b) = self.pair();
        if self.bans.contains_key(&(a, b)) && self.chance(0.6) {
            self.bans.remove(&(a, b));
            let (node, peer) = (self.node_ref(a), self.node_ref(b));
            self.push(at, |s| s.unban = Some(PeerSpec { node, peer }));
            return;
        }
        let permanent = self.chance(0.5);
        let duration =
            (!permanent).then(|| Located::new(format!("{}ms", self.between(1_000, 30_000))));
        self.bans.insert((a, b), permanent);
        let (node, peer) = (self.node_ref(a), self.node_ref(b));
        // Sometimes the ban lands while the banning node's own dial of the
        // peer is still being set up.
        if self.chance(0.25) {
            let dial_at = at.saturating_sub(self.between(0, 40));
            let (from, to) = (node.clone(), peer.clone());
            self.push(dial_at, |s| s.dial = Some(LinkSpec { from, to }));
        }
        self.push(at, |s| {
            s.ban = Some(BanSpec {
                node,
                peer,
                duration,
            })
        });
    }

    fn link_fault(&mut self, at: u64) {
        let (a, b) = self.pair();
        let key = (a.min(b), a.max(b));
        let between = self.link(key);
        match self.below(4) {
            0 if self.partitioned.remove(&key) => self.push(at, |s| s.repair = Some(between)),
            0 => {
                self.partitioned.insert(key);
                self.push(at, |s| s.partition = Some(between));
            }
            1 if self.held.remove(&key) => self.push(at, |s| s.release = Some(between)),
            1 => {
                self.held.insert(key);
                self.push(at, |s| s.hold = Some(between));
            }
            2 => {
                self.slowed.insert(key);
                let min = self.between(1, 100);
                let range = Located::new(format!("{min}ms..{}ms", min + self.between(0, 200)));
                self.push(at, |s| s.latency = Some(LatencySpec { between, range }));
            }
            _ => {
                self.lossy.insert(key);
                let rate = [0.01, 0.05, 0.1, 0.3][self.below(4) as usize];
                self.push(at, |s| s.loss = Some(LossSpec { between, rate }));
            }
        }
    }

    fn crash(&mut self, at: u64) {
        let n = self.below(self.nodes.len() as u64) as usize;
        let node = self.node_ref(n);
        if self.pinned.get(&n).is_some_and(|until| *until >= at) {
            return;
        }
        if self.crashed.remove(&n) {
            self.push(at, |s| s.restart = Some(node));
        } else if self.crashed.len() + 2 < self.nodes.len() {
            self.crashed.insert(n);
            self.push(at, |s| s.crash = Some(node));
        }
    }

    fn clock(&mut self, at: u64) {
        let n = self.one();
        self.shifted.insert(n);
        let seconds = self.between(0, 120) as i64 - 60;
        let node = self.node_ref(n);
        self.push(at, |s| {
            s.clock = Some(ClockSpec {
                node,
                offset: Located::new(format!("{seconds}s")),
            })
        });
    }

    fn disconnect(&mut self, at: u64) {
        let (a, b) = self.pair();
        let key = (a.min(b), a.max(b));
        let (node, peer) = (self.node_ref(a), self.node_ref(b));
        // Sometimes the disconnect happens while the link is cut, so `b`
        // never hears of it and holds a half-open connection, and `b` dials
        // again soon after the repair, before keep-alive has found the dead
        // connection (review H1's shape).
        let dial_at = at + HALF_OPEN_REDIAL_MS;
        if dial_at < CHAOS_MS && !self.partitioned.contains(&key) && self.chance(0.5) {
            let between = self.link(key);
            let repair = between.clone();
            self.push(at, |s| s.partition = Some(between));
            let (from, to) = (peer.clone(), node.clone());
            self.push(at + 300, |s| s.disconnect = Some(PeerSpec { node, peer }));
            self.push(at + 1_000, |s| s.repair = Some(repair));
            self.push(dial_at, |s| s.dial = Some(LinkSpec { from, to }));
            self.pinned.insert(a, dial_at);
            self.pinned.insert(b, dial_at);
            return;
        }
        self.push(at, |s| s.disconnect = Some(PeerSpec { node, peer }));
    }

    /// Undoes every fault at the end of the chaos phase, lifts permanent
    /// bans, and subscribes every honest node to the probe topic.
    fn heal(&mut self) {
        let at = CHAOS_MS;
        for key in std::mem::take(&mut self.partitioned) {
            let between = self.link(key);
            self.push(at, |s| s.repair = Some(between));
        }
        for key in std::mem::take(&mut self.held) {
            let between = self.link(key);
            self.push(at, |s| s.release = Some(between));
        }
        for key in std::mem::take(&mut self.slowed) {
            let between = self.link(key);
            let range = Located::new("1ms..20ms".to_owned());
            self.push(at, |s| s.latency = Some(LatencySpec { between, range }));
        }
        for key in std::mem::take(&mut self.lossy) {
            let between = self.link(key);
            self.push(at, |s| s.loss = Some(LossSpec { between, rate: 0.0 }));
        }
        for n in std::mem::take(&mut self.crashed) {
            let node = self.node_ref(n);
            self.push(at, |s| s.restart = Some(node));
        }
        for n in std::mem::take(&mut self.shifted) {
            let node = self.node_ref(n);
            let offset = Located::new("0s".to_owned());
            self.push(at, |s| s.clock = Some(ClockSpec { node, offset }));
        }
        for ((a, b), permanent) in std::mem::take(&mut self.bans) {
            if permanent {
                let (node, peer) = (self.node_ref(a), self.node_ref(b));
                self.push(at, |s| s.unban = Some(PeerSpec { node, peer }));
            }
        }
        let honest: Vec<NodeRef> = self
            .honest()
            .into_iter()
            .map(|i| self.node_ref(i))
            .collect();
        self.push(at + 500, |s| {
            s.subscribe = Some(SubscribeSpec {
                nodes: honest,
                topic: PROBE_TOPIC.into(),
            })
        });
    }

    /// Whether honest nodes `a` and `b` may verify each other: compatible
    /// versions, each on the other's allow-list, no limits of their own.
    fn may_talk(&self, a: usize, b: usize) -> bool {
        let allows = |x: &Node, y: &Node| {
            x.spec
                .allow
                .as_ref()
                .is_none_or(|list| list.iter().any(|n| n.value == y.name))
        };
        let (x, y) = (&self.nodes[a], &self.nodes[b]);
        x.major == y.major && allows(x, y) && allows(y, x) && !x.constrained && !y.constrained
    }

    /// The oracles: session agreement once quiet, then fresh dials, sends
    /// and broadcasts between honest nodes.
    fn probe(&mut self) {
        let honest = self.honest();
        let pairs: Vec<(usize, usize)> = honest
            .iter()
            .enumerate()
            .flat_map(|(i, a)| honest[i + 1..].iter().map(move |b| (*a, *b)))
            .collect();
        let agree: Vec<Vec<NodeRef>> = pairs.iter().map(|p| self.link(*p)).collect();
        if !agree.is_empty() {
            self.push(PROBE_MS, |s| {
                s.expect = Some(ExpectSpec {
                    agree,
                    ..ExpectSpec::default()
                })
            });
        }
        let talking: Vec<(usize, usize)> = pairs
            .into_iter()
            .filter(|(a, b)| self.may_talk(*a, *b))
            .collect();
        for (a, b) in &talking {
            let link = LinkSpec {
                from: self.node_ref(*a),
                to: self.node_ref(*b),
            };
            self.push(PROBE_MS + 100, |s| s.dial = Some(link));
        }
        for (a, b) in &talking {
            for (from, to) in [(*a, *b), (*b, *a)] {
                let (expect, code) = match &self.nodes[to].spec.responder {
                    ResponderSpec::Silent => continue,
                    ResponderSpec::Echo => (SendExpect::Success, None),
                    ResponderSpec::Protocol => (SendExpect::Protocol, None),
                    ResponderSpec::Error { code, .. } => (SendExpect::Error, Some(*code)),
                };
                let spec = SendSpec {
                    from: self.node_ref(from),
                    to: self.node_ref(to),
                    protocol: None,
                    payload: Some("probe".into()),
                    payload_size: None,
                    metadata: None,
                    expect: Some(expect),
                    code,
                    repeat: None,
                    // No send deadline is over 60 s: an outcome later than
                    // that is a deadline not kept.
                    within: Some(Located::new("61s".into())),
                };
                self.push(PROBE_MS + 3_000, |s| s.send = Some(spec));
            }
        }
        let subscribers: Vec<NodeRef> = honest.iter().map(|i| self.node_ref(*i)).collect();
        let mut reached = Vec::new();
        for publisher in &honest {
            let data = format!("probe from {}", self.nodes[*publisher].name);
            let from = self.node_ref(*publisher);
            let spec = BroadcastSpec {
                from: from.clone(),
                topic: PROBE_TOPIC.into(),
                data: data.clone(),
                repeat: None,
            };
            self.push(PROBE_MS + 4_000, |s| s.broadcast = Some(spec));
            reached.push(ReachedExpect {
                from,
                topic: PROBE_TOPIC.into(),
                data: Some(data),
                to: subscribers.clone(),
            });
        }
        let verified: Vec<Vec<NodeRef>> = talking.iter().map(|p| self.link(*p)).collect();
        self.push(PROBE_MS + 9_000, |s| {
            s.expect = Some(ExpectSpec {
                agree: verified.clone(),
                verified,
                reached,
                ..ExpectSpec::default()
            })
        });
    }
}

/// A step at `at` ms with no action yet: every action field named, so a new
/// scenario word does not compile until the generator has considered it.
fn empty_step(at: u64) -> StepSpec {
    StepSpec {
        at: Located::new(format!("{at}ms")),
        dial: None,
        disconnect: None,
        send: None,
        subscribe: None,
        broadcast: None,
        ban: None,
        unban: None,
        partition: None,
        repair: None,
        hold: None,
        release: None,
        crash: None,
        restart: None,
        clock: None,
        stall: None,
        resume: None,
        latency: None,
        loss: None,
        expect: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{explore::profile::PROFILES, scenario::load_str};

    #[test]
    fn every_generated_scenario_loads_and_replays_from_its_yaml() {
        for profile in PROFILES {
            for seed in 0..200 {
                let model = generate(seed, profile);
                let yaml = serde_saphyr::to_string(&model).expect("serialise");
                let plan = load_str(&yaml, "generated.yaml")
                    .unwrap_or_else(|e| panic!("{profile} seed {seed}: {e}\n{yaml}"));
                assert_eq!(plan.seed, seed);
                let again = serde_saphyr::to_string(&generate(seed, profile)).expect("serialise");
                assert_eq!(yaml, again, "the same seed gives the same scenario");
            }
        }
    }

    #[test]
    fn runs_have_phases_and_probes_between_honest_nodes() {
        let model = generate(7, Profile::All);
        let text = serde_saphyr::to_string(&model).expect("serialise");
        let plan = load_str(&text, "generated.yaml").expect("loads");
        let last = plan.steps.last().expect("steps");
        assert!(last.at.as_millis() as u64 >= PROBE_MS + 9_000);
        assert!(plan
            .steps
            .iter()
            .all(|s| s.at.as_millis() as u64 >= PROBE_MS
                || s.at.as_millis() as u64 <= CHAOS_MS + 500));
        assert!(text.contains("agree:"), "{text}");
        assert!(text.contains("reached:"), "{text}");
    }

    #[test]
    fn profiles_change_what_is_drawn() {
        let count = |profile: Profile, word: &str| -> usize {
            (0..50)
                .map(|seed| {
                    serde_saphyr::to_string(&generate(seed, profile))
                        .expect("serialise")
                        .matches(word)
                        .count()
                })
                .sum()
        };
        assert_eq!(
            count(Profile::Faults, "kind:"),
            0,
            "faults: honest nodes only"
        );
        assert!(count(Profile::Adversaries, "kind:") > count(Profile::All, "kind:"));
        assert!(count(Profile::Churn, "crash:") > count(Profile::Adversaries, "crash:"));
        assert!(count(Profile::Gossip, "broadcast:") > count(Profile::Faults, "broadcast:"));
    }
}
