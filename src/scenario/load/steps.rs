//! Steps: each [`StepSpec`] holds a time and exactly one action. The step is
//! destructured field by field, so an action added to the file model does not
//! compile until it is turned into an [`Action`] here; the action's keyword
//! comes from [`Action::keyword`] and the list of all of them from the
//! model itself ([`super::action_keywords`]).

use serde_saphyr::Location;

use super::{action_keywords, validate::Validator, LoadError, MAX_PAYLOAD};
use crate::scenario::{
    model::{
        BanSpec, BroadcastSpec, ClockSpec, LatencySpec, LinkSpec, Located, LossSpec, NodeRef,
        PeerSpec, SendSpec, StepSpec, SubscribeSpec,
    },
    plan::{Action, SendPlan, Step},
    time::{parse_latency, parse_offset_ms},
};

impl Validator<'_> {
    pub(super) fn step(&self, spanned: &Located<StepSpec>) -> Result<Step, LoadError> {
        let StepSpec {
            at,
            dial,
            disconnect,
            send,
            subscribe,
            broadcast,
            ban,
            unban,
            partition,
            repair,
            hold,
            release,
            crash,
            restart,
            clock,
            stall,
            resume,
            latency,
            loss,
            expect,
        } = &spanned.value;
        let here = at.referenced;
        let step_at = self.duration(at)?;
        let link = |names: &Option<Vec<_>>, what, make: fn(String, String) -> Action| {
            names
                .as_ref()
                .map(|names| self.pair(names, &here, what).map(|(a, b)| make(a, b)))
        };
        let one = |name: &Option<NodeRef>, make: fn(String) -> Action| {
            name.as_ref().map(|n| self.node(n).map(make))
        };
        let candidates: Vec<Option<Result<Action, LoadError>>> = vec![
            dial.as_ref().map(|d| self.dial(d)),
            disconnect.as_ref().map(|p| {
                let PeerSpec { node, peer } = p;
                Ok(Action::Disconnect {
                    node: self.node(node)?,
                    peer: self.node(peer)?,
                })
            }),
            send.as_ref().map(|s| self.send(s)),
            subscribe.as_ref().map(|s| {
                let SubscribeSpec { nodes, topic } = s;
                Ok(Action::Subscribe {
                    nodes: self.nodes(nodes)?,
                    topic: topic.clone(),
                })
            }),
            broadcast
                .as_ref()
                .map(|b| self.broadcast(b, &spanned.referenced)),
            ban.as_ref().map(|b| self.ban(b)),
            unban.as_ref().map(|p| {
                let PeerSpec { node, peer } = p;
                Ok(Action::Unban {
                    node: self.node(node)?,
                    peer: self.node(peer)?,
                })
            }),
            link(partition, "partition", |a, b| Action::Partition { a, b }),
            link(repair, "repair", |a, b| Action::Repair { a, b }),
            link(hold, "hold", |a, b| Action::Hold { a, b }),
            link(release, "release", |a, b| Action::Release { a, b }),
            one(crash, |node| Action::Crash { node }),
            one(restart, |node| Action::Restart { node }),
            clock.as_ref().map(|c| self.clock(c)),
            one(stall, |node| Action::Stall { node }),
            one(resume, |node| Action::Resume { node }),
            latency.as_ref().map(|l| self.latency(l, &here)),
            loss.as_ref().map(|l| self.loss(l, &here)),
            expect
                .as_ref()
                .map(|e| self.checks(e, &here).map(Action::Expect)),
        ];
        let mut actions = candidates
            .into_iter()
            .flatten()
            .collect::<Result<Vec<_>, _>>()?;
        match actions.len() {
            1 => Ok(Step {
                at: step_at,
                line: here.line(),
                action: actions.remove(0),
            }),
            0 => Err(self.error_at(
                &spanned.referenced,
                format!(
                    "a step needs one action besides `at`: {}",
                    or_list(&action_keywords())
                ),
            )),
            _ => Err(self.error_at(
                &spanned.referenced,
                format!(
                    "a step takes exactly one action, this one has {}; split it into one step per action",
                    actions
                        .iter()
                        .map(|a| format!("`{}`", a.keyword()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            )),
        }
    }

    fn dial(&self, spec: &LinkSpec) -> Result<Action, LoadError> {
        let LinkSpec { from, to } = spec;
        let (from, to) = self.two(from, to, &from.referenced, "dial")?;
        Ok(Action::Dial { from, to })
    }

    fn send(&self, spec: &SendSpec) -> Result<Action, LoadError> {
        let SendSpec {
            from,
            to,
            protocol,
            payload,
            payload_size,
            metadata,
            expect,
            code,
            repeat,
            within,
        } = spec;
        let here = from.referenced;
        let payload = match (payload_size, payload) {
            (Some(_), Some(_)) => {
                return Err(self.error_at(&here, "give `payload` or `payload_size`, not both"))
            }
            (Some(size), None) if *size <= MAX_PAYLOAD => vec![0u8; *size],
            (Some(size), None) => {
                return Err(self.error_at(
                    &here,
                    format!(
                        "`payload_size` must be at most {MAX_PAYLOAD} bytes (64 MiB), got {size}"
                    ),
                ))
            }
            (None, Some(text)) => text.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        };
        let copies = repeat.unwrap_or(1) as usize;
        if payload.len().saturating_mul(copies) > MAX_PAYLOAD {
            return Err(self.error_at(
                &here,
                format!(
                    "this send would queue {} bytes ({} copies of {} bytes); at most {MAX_PAYLOAD} (64 MiB) per step",
                    payload.len().saturating_mul(copies),
                    copies,
                    payload.len()
                ),
            ));
        }
        Ok(Action::Send(SendPlan {
            from: self.node(from)?,
            to: self.node(to)?,
            protocol: protocol.clone().unwrap_or_else(|| "scenario".into()),
            payload,
            metadata: metadata.as_ref().map(|m| m.as_bytes().to_vec()),
            expect: *expect,
            code: *code,
            repeat: self.repeat(*repeat, &here)?,
            within: within.as_ref().map(|w| self.duration(w)).transpose()?,
        }))
    }

    fn broadcast(&self, spec: &BroadcastSpec, step: &Location) -> Result<Action, LoadError> {
        let BroadcastSpec {
            from,
            topic,
            data,
            repeat,
        } = spec;
        Ok(Action::Broadcast {
            from: self.node(from)?,
            topic: topic.clone(),
            data: data.as_bytes().to_vec(),
            repeat: self.repeat(*repeat, step)?,
        })
    }

    fn ban(&self, spec: &BanSpec) -> Result<Action, LoadError> {
        let BanSpec {
            node,
            peer,
            duration,
        } = spec;
        Ok(Action::Ban {
            duration: duration.as_ref().map(|d| self.duration(d)).transpose()?,
            node: self.node(node)?,
            peer: self.node(peer)?,
        })
    }

    fn clock(&self, spec: &ClockSpec) -> Result<Action, LoadError> {
        let ClockSpec { node, offset } = spec;
        let offset_ms =
            parse_offset_ms(&offset.value).map_err(|e| self.error_at(&offset.referenced, e))?;
        Ok(Action::Clock {
            node: self.node(node)?,
            offset_ms,
        })
    }

    fn latency(&self, spec: &LatencySpec, here: &Location) -> Result<Action, LoadError> {
        let LatencySpec { between, range } = spec;
        let (a, b) = self.pair(between, here, "latency")?;
        let (min, max) =
            parse_latency(&range.value).map_err(|e| self.error_at(&range.referenced, e))?;
        Ok(Action::Latency { a, b, min, max })
    }

    fn loss(&self, spec: &LossSpec, here: &Location) -> Result<Action, LoadError> {
        let LossSpec { between, rate } = spec;
        let (a, b) = self.pair(between, here, "loss")?;
        if !(0.0..=1.0).contains(rate) {
            return Err(self.error_at(
                here,
                format!("loss `rate` must be between 0 and 1, got {rate}"),
            ));
        }
        Ok(Action::Loss { a, b, rate: *rate })
    }
}

/// `a, b or c`.
fn or_list(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
