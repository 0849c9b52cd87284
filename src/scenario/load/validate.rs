//! The [`Validator`]: the header, the network settings and each node's
//! settings of a parsed file, checked and turned into a [`Plan`]; steps and
//! checks are in [`super::steps`] and [`super::checks`].
//!
//! Every model struct is destructured field by field (no `..`), so a field
//! added to the file model that the loader does not handle is a compile error
//! here rather than a setting silently ignored.

use std::time::Duration;

use serde_saphyr::Location;

use super::{suggest::did_you_mean, LoadError, Position, DEFAULT_LATENCY, MAX_REPEAT};
use crate::{
    implementation::Implementation,
    protocol::{
        control::check_response,
        peers::{BanPolicy, Limits, MIN_PER_PEER},
        InstanceMessageResponse, Misbehaviour, NodeConfig, Responder,
    },
    scenario::{
        model::{
            DurationText, LimitsSpec, NetworkSpec, NodeKind, NodeRef, NodeSpec, RateLimitSpec,
            ReplaySpec, ResponderSpec, ScenarioFile,
        },
        plan::{Action, Check, Plan, PlannedNode, Step},
        time::{parse_duration, parse_latency},
    },
};

/// Validates one file; knows its name (for errors) and its nodes' names.
pub(super) struct Validator<'a> {
    file: &'a str,
    pub(super) nodes: Vec<String>,
}

impl<'a> Validator<'a> {
    pub(super) fn new(file: &'a str) -> Self {
        Validator {
            file,
            nodes: Vec::new(),
        }
    }

    pub(super) fn error_at(&self, location: &Location, message: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.to_owned(),
            position: (*location != Location::UNKNOWN).then(|| Position {
                line: location.line(),
                column: location.column(),
            }),
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    /// The name of a node of this scenario, or an error listing them.
    pub(super) fn node(&self, name: &NodeRef) -> Result<String, LoadError> {
        if self.nodes.contains(&name.value) {
            return Ok(name.value.clone());
        }
        let mut error = self.error_at(
            &name.referenced,
            format!(
                "unknown node `{}`; the nodes are {}",
                name.value,
                self.nodes
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        error.help = did_you_mean(&name.value, self.nodes.iter().map(String::as_str));
        Err(error)
    }

    /// Several node names.
    pub(super) fn nodes(&self, names: &[NodeRef]) -> Result<Vec<String>, LoadError> {
        names.iter().map(|n| self.node(n)).collect()
    }

    /// Two different nodes, written `[a, b]`, for `what`.
    pub(super) fn pair(
        &self,
        names: &[NodeRef],
        at: &Location,
        what: &str,
    ) -> Result<(String, String), LoadError> {
        match names {
            [a, b] => self.two(a, b, at, what),
            _ => Err(self.error_at(
                at,
                format!(
                    "{what} takes exactly two node names, like [alice, bob]; got {}",
                    names.len()
                ),
            )),
        }
    }

    /// Two different nodes `a` and `b`, for `what`.
    pub(super) fn two(
        &self,
        a: &NodeRef,
        b: &NodeRef,
        at: &Location,
        what: &str,
    ) -> Result<(String, String), LoadError> {
        let (a, b) = (self.node(a)?, self.node(b)?);
        if a == b {
            return Err(self.error_at(
                at,
                format!("{what} needs two different nodes, got `{a}` twice"),
            ));
        }
        Ok((a, b))
    }

    pub(super) fn duration(&self, text: &DurationText) -> Result<Duration, LoadError> {
        parse_duration(&text.value).map_err(|e| self.error_at(&text.referenced, e))
    }

    /// A `repeat` count: 1 when absent, at most [`MAX_REPEAT`].
    pub(super) fn repeat(&self, repeat: Option<u32>, at: &Location) -> Result<u32, LoadError> {
        match repeat {
            None => Ok(1),
            Some(n @ 1..=MAX_REPEAT) => Ok(n),
            Some(n) => Err(self.error_at(
                at,
                format!("`repeat` must be between 1 and {MAX_REPEAT}, got {n}"),
            )),
        }
    }

    pub(super) fn plan(mut self, raw: ScenarioFile) -> Result<Plan, LoadError> {
        let ScenarioFile {
            name,
            about,
            seed,
            network,
            nodes,
            steps,
            never,
            end,
        } = raw;
        if name.value.trim().is_empty() {
            return Err(self.error_at(&name.referenced, "`name` must not be empty"));
        }
        if about.value.trim().is_empty() {
            return Err(self.error_at(
                &about.referenced,
                "`about` must say in a sentence what the scenario proves",
            ));
        }
        if nodes.value.is_empty() {
            return Err(self.error_at(&nodes.referenced, "`nodes` must list at least one node"));
        }
        self.nodes = nodes.value.keys().cloned().collect();
        for (node, spec) in &nodes.value {
            if node.is_empty()
                || !node
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.error_at(
                    &spec.referenced,
                    format!("node name `{node}` may use only letters, digits, `-` and `_`"),
                ));
            }
        }
        let (latency, loss) = self.network(&network)?;
        let planned_nodes = nodes
            .value
            .iter()
            .map(|(node, spec)| self.node_plan(node, &spec.value, &spec.referenced))
            .collect::<Result<Vec<_>, _>>()?;
        let mut planned_steps = steps
            .iter()
            .map(|step| self.step(step))
            .collect::<Result<Vec<_>, _>>()?;
        // Stable: steps at the same time keep their order in the file.
        planned_steps.sort_by_key(|s| s.at);
        self.reached_follow_broadcasts(&planned_steps)?;
        let never = never
            .iter()
            .map(|n| self.never(n))
            .collect::<Result<Vec<_>, _>>()?;
        let end_at = end.as_ref().map(|e| self.duration(e)).transpose()?;
        if let (Some(end_at), Some(last)) = (end_at, planned_steps.last()) {
            if end_at < last.at {
                let place = end.as_ref().map_or(name.referenced, |e| e.referenced);
                return Err(self.error_at(
                    &place,
                    format!("`end` ({end_at:?}) is before the last step ({:?})", last.at),
                ));
            }
        }
        Ok(Plan {
            name: name.value,
            about: about.value,
            seed,
            latency,
            loss,
            nodes: planned_nodes,
            steps: planned_steps,
            never,
            end: end_at,
            implementation: Implementation::default(),
        })
    }

    /// Each `reached` check names a broadcast made before it: the check is
    /// about that broadcast's delivery.
    fn reached_follow_broadcasts(&self, steps: &[Step]) -> Result<(), LoadError> {
        for (index, step) in steps.iter().enumerate() {
            let Action::Expect(checks) = &step.action else {
                continue;
            };
            for check in checks {
                let Check::Reached {
                    from, topic, data, ..
                } = check
                else {
                    continue;
                };
                let published = steps[..index].iter().any(|s| {
                    matches!(&s.action, Action::Broadcast { from: f, topic: t, data: d, .. }
                        if f == from && t == topic && data.as_ref().is_none_or(|want| want == d))
                });
                if !published {
                    return Err(LoadError {
                        file: self.file.to_owned(),
                        position: Some(Position {
                            line: step.line,
                            column: 1,
                        }),
                        message: format!(
                            "`reached` checks a broadcast of `{from}` on `{topic}`, but no step before it broadcasts one"
                        ),
                        help: Some("add the `broadcast` step the check is about".into()),
                        source_line: None,
                    });
                }
            }
        }
        Ok(())
    }

    /// The network's latency range and loss rate.
    fn network(&self, network: &NetworkSpec) -> Result<((Duration, Duration), f64), LoadError> {
        let NetworkSpec { latency, loss } = network;
        let latency = match latency {
            Some(text) => {
                parse_latency(&text.value).map_err(|e| self.error_at(&text.referenced, e))?
            }
            None => DEFAULT_LATENCY,
        };
        let rate = loss.as_ref().map_or(0.0, |l| l.value);
        if let Some(bad) = loss.as_ref().filter(|_| !(0.0..=1.0).contains(&rate)) {
            return Err(self.error_at(
                &bad.referenced,
                format!("`network.loss` must be between 0 and 1, got {rate}"),
            ));
        }
        Ok((latency, rate))
    }

    fn node_plan(
        &self,
        name: &str,
        spec: &NodeSpec,
        at: &Location,
    ) -> Result<PlannedNode, LoadError> {
        let NodeSpec {
            kind,
            replays,
            responder,
            version,
            handshake_timeout,
            send_deadline,
            request_timeout,
            limits,
            allow,
            ban_after,
            ban_for,
            max_message_size,
            rate_limit,
            event_buffer,
            max_in_flight,
        } = spec;
        let defaults = NodeConfig::default();
        let mut config = NodeConfig {
            responder: responder_of(responder),
            protocol_version: match kind {
                NodeKind::WrongVersion => "simnet/99.0".into(),
                _ => version.clone().unwrap_or(defaults.protocol_version.clone()),
            },
            misbehaviour: misbehaviour_of(*kind),
            ..defaults
        };
        if let Some(t) = handshake_timeout {
            config.handshake_timeout = self.duration(t)?;
        }
        if let Some(max) = max_message_size {
            config.max_message_size = *max;
        }
        if let Some(rate) = rate_limit {
            let RateLimitSpec { requests, per } = rate;
            config.requests.rate = *requests;
            config.requests.window = self.duration(per)?;
            if config.requests.window.is_zero() {
                return Err(
                    self.error_at(&per.referenced, "`rate_limit.per` must be longer than zero")
                );
            }
        }
        if let Some(max) = max_in_flight {
            config.requests.max_in_flight = *max;
        }
        if let Some(events) = event_buffer {
            if *events == 0 {
                return Err(self.error_at(
                    at,
                    format!("the `event_buffer` of node `{name}` must be at least 1"),
                ));
            }
            config.event_buffer = *events as usize;
        }
        if let Some(t) = send_deadline {
            config.send_deadline = self.duration(t)?;
        }
        if let Some(t) = request_timeout {
            config.request_timeout = self.duration(t)?;
        }
        if let Some(limits) = limits {
            config.limits = self.limits(name, limits, at)?;
        }
        if let Responder::Fixed(response) = &config.responder {
            check_response(response, config.max_message_size).map_err(|e| {
                self.error_at(
                    at,
                    format!("the responder of node `{name}` cannot answer: {e}"),
                )
            })?;
        }
        let default_bans = BanPolicy::default();
        config.bans = BanPolicy {
            threshold: ban_after.unwrap_or(default_bans.threshold),
            window: default_bans.window,
            duration: match ban_for {
                Some(t) => self.duration(t)?,
                None => default_bans.duration,
            },
        };
        let replays = match (replays, kind) {
            (Some(ReplaySpec { from, to }), NodeKind::Replay) => {
                Some((self.node(from)?, self.node(to)?))
            }
            (None, NodeKind::Replay) => {
                return Err(self.error_at(
                    at,
                    format!("node `{name}` has `kind: replay` but no `replays: {{ from, to }}`"),
                ))
            }
            (Some(r), _) => {
                return Err(self.error_at(
                    &r.from.referenced,
                    format!("`replays` needs `kind: replay` on node `{name}`"),
                ))
            }
            (None, _) => None,
        };
        let allow = allow
            .as_deref()
            .map(|names| self.nodes(names))
            .transpose()?;
        Ok(PlannedNode {
            name: name.to_owned(),
            config,
            kind: *kind,
            replays,
            allow,
        })
    }

    fn limits(&self, name: &str, spec: &LimitsSpec, at: &Location) -> Result<Limits, LoadError> {
        let LimitsSpec {
            inbound,
            outbound,
            per_peer,
            total,
            pending_handshakes,
        } = *spec;
        if per_peer.is_some_and(|n| n < MIN_PER_PEER) {
            return Err(self.error_at(
                at,
                format!("`limits.per_peer` of node `{name}` must be at least {MIN_PER_PEER}: a simultaneous dial briefly needs one connection in each direction"),
            ));
        }
        let d = Limits::default();
        Ok(Limits {
            max_inbound: inbound.unwrap_or(d.max_inbound),
            max_outbound: outbound.unwrap_or(d.max_outbound),
            max_per_peer: per_peer.unwrap_or(d.max_per_peer),
            max_total: total.unwrap_or(d.max_total),
            max_pending_handshakes: pending_handshakes.unwrap_or(d.max_pending_handshakes),
            max_pending_connections: d.max_pending_connections,
        })
    }
}

fn responder_of(spec: &ResponderSpec) -> Responder {
    match spec {
        ResponderSpec::Echo => Responder::Echo,
        ResponderSpec::Protocol => Responder::Protocol,
        ResponderSpec::Silent => Responder::Silent,
        ResponderSpec::Error { code, message } => {
            Responder::Fixed(InstanceMessageResponse::Error {
                code: *code,
                message: message.clone(),
            })
        }
    }
}

/// The fault an adversarial kind has (`replay` gets its captured handshake
/// from the runner, which knows the seed).
fn misbehaviour_of(kind: NodeKind) -> Misbehaviour {
    match kind {
        NodeKind::Honest | NodeKind::Replay | NodeKind::WrongVersion => Misbehaviour::None,
        NodeKind::ForgedSignature => Misbehaviour::ForgeSignature,
        NodeKind::StaleTimestamp => Misbehaviour::StaleTimestamp(Duration::from_secs(120)),
        NodeKind::SilentHandshake => Misbehaviour::SilentHandshake,
        NodeKind::DropHandshake => Misbehaviour::DropHandshake,
        NodeKind::SkipHandshake => Misbehaviour::SkipHandshake,
        NodeKind::MalformedRequests => Misbehaviour::MalformedRequests,
        NodeKind::Oversized => Misbehaviour::IgnoreSizeLimit,
        NodeKind::UncheckedRelay => Misbehaviour::UncheckedRelay,
        NodeKind::ChangeKey => Misbehaviour::ChangeKey,
    }
}
