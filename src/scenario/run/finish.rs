//! The end of a run: every send's outcome against its expectation, the
//! `never` patterns and the global invariants over the whole trace, and each
//! node's final state, gathered into the [`Outcome`].

use std::{collections::BTreeMap, time::Duration};

use super::{Runner, SentMessage};
use crate::{
    net::{
        trace::{render, render_duration, TraceLine},
        Network, Record,
    },
    protocol::{Event, InstanceMessageResponse, SendFailure, SendId},
    scenario::{
        applicability, invariants,
        model::{FailureReason, SendExpect, StateSpec},
        outcome::{CheckResult, FinalNode, Outcome},
        plan::Never,
        violation::{Rule, Violation},
    },
};

impl<W: Network> Runner<'_, W> {
    /// When the send's outcome arrived, and what it was.
    pub(super) fn outcome_of(
        &self,
        sent: &SentMessage,
    ) -> Option<(Duration, Result<InstanceMessageResponse, SendFailure>)> {
        let id = sent.result.as_ref().ok()?;
        let mut incarnation = 0;
        self.world.trace().iter().find_map(|e| match &e.record {
            Record::Crashed if e.node == sent.plan.from => {
                incarnation += 1;
                None
            }
            Record::Event(Event::SendOutcome { id: i, result, .. })
                if e.node == sent.plan.from
                    && i == id
                    && incarnation == sent.incarnation
                    && e.at >= sent.at =>
            {
                Some((e.at, result.clone()))
            }
            _ => None,
        })
    }

    pub(super) fn pending_sends(&self) -> usize {
        self.sent
            .iter()
            .filter(|s| s.result.is_ok() && self.still_owned(s) && self.outcome_of(s).is_none())
            .count()
    }

    /// Whether the node that sent `s` has not crashed since.
    pub(super) fn still_owned(&self, s: &SentMessage) -> bool {
        self.incarnations.get(&s.plan.from).copied().unwrap_or(0) == s.incarnation
            && self.world.is_running(&s.plan.from)
    }

    pub(super) fn check_sends(&mut self) {
        let mut results = Vec::new();
        for sent in &self.sent {
            let Some(expect) = sent.plan.expect else {
                continue;
            };
            let timed = self.outcome_of(sent);
            let late = match (&timed, sent.plan.within) {
                (Some((at, _)), Some(within)) if at.saturating_sub(sent.at) > within => Some(*at),
                _ => None,
            };
            let timed_at = timed.as_ref().map(|(at, _)| *at);
            let outcome = timed.map(|(_, result)| result);
            let (held, actual) = match (&sent.result, &outcome) {
                (Err(e), _) => (
                    expect == SendExpect::Refused,
                    format!("refused: {}", super::refusal(e, &sent.plan)),
                ),
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
            let failure = match late {
                Some(at) if held => Some(format!("{actual} at {}, too late", render_duration(at))),
                _ => (!held).then_some(actual),
            };
            let judged = timed_at.unwrap_or_else(|| self.world.elapsed());
            let not_applicable = applicability::of_send(self.plan, &sent.plan);
            let failure = failure.filter(|_| not_applicable.is_none());
            results.push(CheckResult {
                at: render_duration(sent.at),
                line: sent.line,
                kind: "send",
                check: format!(
                    "send from {} to {} ends {expect}{}{}",
                    sent.plan.from,
                    sent.plan.to,
                    sent.plan.code.map(|c| format!(" {c}")).unwrap_or_default(),
                    sent.plan
                        .within
                        .map(|w| format!(" within {}", render_duration(w)))
                        .unwrap_or_default()
                ),
                failure,
                not_applicable,
                time: judged,
                nodes: vec![sent.plan.from.clone(), sent.plan.to.clone()],
            });
        }
        self.checks.extend(results);
    }

    pub(super) fn never_violations(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        for never in &self.plan.never {
            let (node, peer_name) = never.pair();
            let Ok(peer) = self.world.peer_id(peer_name) else {
                continue;
            };
            let hit = self.world.trace().iter().enumerate().find(|(_, e)| {
                e.node == *node
                    && match (&e.record, never) {
                        (
                            Record::Event(Event::Handshake {
                                peer: p,
                                state,
                                failure,
                                ..
                            }),
                            Never::Handshake {
                                state: s,
                                reason: r,
                                ..
                            },
                        ) => {
                            *p == peer
                                && StateSpec::from(*state) == *s
                                && (r.is_none() || failure.as_ref().map(FailureReason::from) == *r)
                        }
                        (Record::Event(Event::Request { peer: p, .. }), Never::Request { .. }) => {
                            *p == peer
                        }
                        (Record::Event(Event::Broadcast { from, .. }), Never::Broadcast { .. }) => {
                            *from == peer
                        }
                        _ => false,
                    }
            });
            if let Some((index, entry)) = hit {
                out.push(Violation {
                    rule: Rule::Never,
                    detail: render(entry, self.world.names()),
                    entry: Some(index),
                    nodes: invariants::involved(entry, self.world.names()),
                });
            }
        }
        out
    }

    pub(super) fn finish(mut self) -> Outcome {
        let accepted: Vec<(String, SendId)> = self
            .sent
            .iter()
            .filter(|s| self.still_owned(s))
            .filter_map(|s| s.result.as_ref().ok().map(|id| (s.plan.from.clone(), *id)))
            .collect();
        let mut violations = self.never_violations();
        let mut allowed = BTreeMap::new();
        for node in &self.plan.nodes {
            if let Some(names) = &node.allow {
                let peers = names.iter().filter_map(|n| self.world.peer_id(n).ok());
                allowed.insert(node.name.clone(), peers.collect());
            }
        }
        let context = invariants::Context {
            names: self.world.names(),
            configs: &self.configs,
            allowed: &allowed,
            accepted: &accepted,
            end: self.world.elapsed(),
            slack: self.world.timing_slack(),
        };
        for violation in invariants::check(self.world.trace(), &context) {
            match applicability::of_invariant(self.plan, violation.rule) {
                None => violations.push(violation),
                Some(why) if !self.checks.iter().any(|c| c.not_applicable == Some(why)) => {
                    self.checks.push(CheckResult {
                        at: render_duration(self.world.elapsed()),
                        line: 0,
                        check: format!("invariant: {}", violation.rule.text()),
                        kind: "invariant",
                        failure: None,
                        not_applicable: Some(why),
                        time: self.world.elapsed(),
                        nodes: violation.nodes,
                    });
                }
                Some(_) => {}
            }
        }
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
            trace: self
                .world
                .trace()
                .iter()
                .map(|e| TraceLine::of(e, self.world.names()))
                .collect(),
            entries: self.world.trace().to_vec(),
            names: self.world.names().clone(),
            nodes,
            wire: self.world.wire(),
        }
    }

    pub(super) fn final_node(&mut self, name: &str) -> FinalNode {
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
                        text.push_str(&format!(" ({})", FailureReason::from(f)));
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
