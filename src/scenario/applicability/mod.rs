//! Checks that an implementation cannot answer, and why. simnet's own
//! implementation answers every check; another one (the reference, see
//! `crate::reference`) may lack what a check asks about, such as retries
//! or a way for its application to choose an answer. Such a check is
//! reported as not applicable, with its reason, and counts neither as a
//! pass nor as a failure; so is a check on a node whose settings the
//! implementation cannot take ([`settings`]).

mod settings;

use settings::Asked;

use super::{
    plan::{Check, Plan, SendPlan},
    violation::Rule,
};
use crate::{implementation::Implementation, protocol::Responder};

/// Why the reference cannot answer a `retried` check.
const NO_RETRIES: &str = "the reference sends each message once: it has no retries to count";
/// Why the reference cannot answer a `buffered` check.
const NO_BUFFER_COUNT: &str =
    "the reference queues without bound and counts nothing it holds: there is no peak to read";
/// Why the reference cannot answer a send to a node with its own responder.
const NO_CHOSEN_ANSWER: &str =
    "the reference drops a request's response channel before its application sees it: no application can choose this answer";

/// Why the reference's connections are not judged by simnet's limits.
const OWN_LIMITS: &str = "the reference applies one connection limit of its own (its target_peer_count) instead of the node's per-peer, inbound and outbound limits";

/// Why the invariant `rule` cannot be judged on `plan`'s implementation,
/// if it cannot: it would hold the implementation to settings it does not
/// have.
pub fn of_invariant(plan: &Plan, rule: Rule) -> Option<&'static str> {
    match (plan.implementation, rule) {
        (Implementation::Reference, Rule::ConnectionLimit) => Some(OWN_LIMITS),
        (Implementation::Reference, Rule::HandshakeLate | Rule::HandshakeNeverFinished) => plan
            .nodes
            .iter()
            .find_map(|n| settings::of_handshake_timeout(&n.config)),
        _ => None,
    }
}

/// Why `asked` cannot be answered on `plan`'s implementation, if a node of
/// the plan has a setting it cannot take that bears on the answer.
fn of_settings(plan: &Plan, asked: Asked<'_>) -> Option<&'static str> {
    if plan.implementation == Implementation::Simnet {
        return None;
    }
    plan.nodes
        .iter()
        .find_map(|n| settings::unmatched(&n.config, &n.name, asked))
}

/// Why `check` cannot be answered on `plan`'s implementation, if it cannot.
pub fn of_check(plan: &Plan, check: &Check) -> Option<&'static str> {
    match (plan.implementation, check) {
        (Implementation::Simnet, _) => None,
        (Implementation::Reference, Check::Retried { .. }) => Some(NO_RETRIES),
        (Implementation::Reference, Check::Buffered { .. }) => Some(NO_BUFFER_COUNT),
        (Implementation::Reference, _) => of_settings(plan, Asked::Check(check)),
    }
}

/// Why the outcome `send` expects cannot be asked of `plan`'s
/// implementation, if it cannot: a receiver whose application answers other
/// than by echoing (the scenario's default) needs a way to answer, and
/// sender and receiver need settings the implementation can take.
pub fn of_send(plan: &Plan, send: &SendPlan) -> Option<&'static str> {
    if plan.implementation == Implementation::Simnet {
        return None;
    }
    let receiver = plan.nodes.iter().find(|n| n.name == send.to)?;
    if receiver.config.responder != Responder::Echo {
        return Some(NO_CHOSEN_ANSWER);
    }
    of_settings(plan, Asked::Send(send))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load_str, plan::Action};

    const SCENARIO: &str = "
name: t
about: t
seed: 1
nodes:
  alice: {}
  quiet: { responder: silent }
  hasty: { send_deadline: 5s }
  tight: { handshake_timeout: 2s }
steps:
  - at: 0s
    send: { from: alice, to: quiet, payload: x, expect: failed }
  - at: 1s
    send: { from: quiet, to: alice, payload: x, expect: success }
  - at: 1s
    send: { from: hasty, to: alice, payload: x, expect: failed }
  - at: 2s
    expect:
      retried:
        - { node: alice, at_least: 1 }
      verified: [[alice, quiet], [alice, tight], [alice, hasty]]
";

    #[test]
    fn only_another_implementation_has_checks_it_cannot_answer_and_settings_it_cannot_take() {
        let mut plan = load_str(SCENARIO, "t.yaml").expect("loads");
        let (mut checks, mut sends): (Vec<Check>, Vec<SendPlan>) = (Vec::new(), Vec::new());
        for step in &plan.steps {
            match &step.action {
                Action::Expect(expected) => checks.extend(expected.iter().cloned()),
                Action::Send(send) => sends.push(send.clone()),
                _ => {}
            }
        }
        let judged = |plan: &Plan| {
            let checks: Vec<_> = checks
                .iter()
                .filter(|c| of_check(plan, c).is_some())
                .map(Check::keyword)
                .collect();
            let sends: Vec<_> = sends
                .iter()
                .filter(|s| of_send(plan, s).is_some())
                .map(|s| s.to.clone())
                .collect();
            (checks, sends)
        };
        assert_eq!(checks.len(), 4);
        assert_eq!(judged(&plan), (vec![], vec![]));
        plan.implementation = Implementation::Reference;
        assert_eq!(
            judged(&plan),
            (
                vec!["verified", "retried"],
                vec!["quiet".to_owned(), "alice".to_owned()]
            )
        );
    }
}
