//! Node settings a scenario may give that the reference implementation
//! cannot take: it fixes these values in its code (file and line of
//! blueprint-networking 0.2.0-alpha.13 beside each), or has no such
//! setting at all. A check that names a node with such a setting is not
//! applicable there: its answer would hold the reference to a value it was
//! never given.

use std::time::Duration;

use crate::{
    protocol::{bounds::RequestBounds, peers::Limits, NodeConfig},
    scenario::{
        model::SendExpect,
        plan::{Check, SendPlan},
    },
};

/// What is asked of a node: a check, or a send's expected outcome.
#[derive(Clone, Copy)]
pub enum Asked<'a> {
    /// A check of an `expect` step.
    Check(&'a Check),
    /// A send and how it must end.
    Send(&'a SendPlan),
}

/// One setting: whether a node's value is one the reference has, and which
/// questions about that node its value bears on.
struct Setting {
    /// Whether `config` asks for what the reference does anyway.
    holds: fn(&NodeConfig) -> bool,
    /// Whether the setting of `node` can change the answer to `asked`.
    bears_on: fn(Asked<'_>, &str) -> bool,
    /// Why such a question is not applicable when the setting does not hold.
    why: &'static str,
}

/// The reference's handshake timeout, inbound and outbound
/// (`blueprint_protocol/handler.rs:14-15`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// The reference's request-response timeout (`blueprint_protocol/behaviour.rs:128`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Failed handshakes before the reference bans (`blueprint_protocol/behaviour.rs:336`).
pub const BAN_AFTER: u32 = 3;
/// How long the reference bans a peer whose handshakes failed
/// (`blueprint_protocol/behaviour.rs:338`).
pub const BAN_FOR: Duration = Duration::from_secs(300);
/// Requests the reference accepts from one peer per window, and the window
/// (`blueprint_protocol/behaviour.rs:343-344`).
pub const RATE: (u32, Duration) = (100, Duration::from_secs(10));
/// The largest direct message the reference encodes or decodes (`codec.rs:15`).
pub const MAX_MESSAGE_SIZE: u32 = 16 * 1024 * 1024;

/// Why a node's own handshake timeout cannot be asked of the reference.
const NO_HANDSHAKE_TIMEOUT: &str =
    "a node it names sets handshake_timeout: the reference times every handshake out after 30 s";

/// A check on `node`'s sessions, connections or bans.
fn on_sessions(asked: Asked<'_>, node: &str) -> bool {
    matches!(asked, Asked::Check(check) if matches!(
        check,
        Check::Verified { .. }
            | Check::NotVerified { .. }
            | Check::Agree { .. }
            | Check::Handshake { .. }
            | Check::Connections { .. }
            | Check::Banned { .. }
            | Check::NotBanned { .. }
            | Check::Refused { .. }
    ) && check.nodes().contains(&node))
}

/// A count of the requests `node` took, refused or dropped.
fn on_requests_taken(asked: Asked<'_>, node: &str) -> bool {
    matches!(asked, Asked::Check(
        Check::Requests { node: n, .. } | Check::Rejected { node: n, .. } | Check::Malformed { node: n, .. }
    ) if n == node)
}

/// A send to `node`, however it must end.
fn sent_to(asked: Asked<'_>, node: &str) -> bool {
    matches!(asked, Asked::Send(send) if send.to == node)
}

/// A send from or to `node` that must end in one of `ends`.
fn sent_ending(asked: Asked<'_>, node: &str, ends: &[SendExpect]) -> bool {
    matches!(asked, Asked::Send(send)
        if (send.from == node || send.to == node) && send.expect.is_some_and(|e| ends.contains(&e)))
}

const SETTINGS: [Setting; 8] = [
    Setting {
        holds: has_handshake_timeout,
        bears_on: on_sessions,
        why: NO_HANDSHAKE_TIMEOUT,
    },
    Setting {
        holds: |c| c.request_timeout == REQUEST_TIMEOUT,
        bears_on: |a, n| {
            on_requests_taken(a, n)
                || matches!(a, Asked::Check(c @ Check::Connections { .. }) if c.nodes().contains(&n))
                || sent_ending(a, n, &[SendExpect::Failed])
        },
        why: "a node it names sets request_timeout: the reference times every request out after 30 s",
    },
    Setting {
        holds: |c| c.send_deadline == NodeConfig::default().send_deadline,
        bears_on: |a, n| {
            matches!(a, Asked::Send(send) if send.from == n && send.expect == Some(SendExpect::Failed))
        },
        why: "a node it names sets send_deadline: the reference sends each message once, with no deadline of its own",
    },
    Setting {
        holds: |c| c.bans.threshold == BAN_AFTER && c.bans.duration == BAN_FOR,
        bears_on: |a, n| {
            on_sessions(a, n) || sent_ending(a, n, &[SendExpect::Refused, SendExpect::Failed])
        },
        why: "a node it names sets ban_after or ban_for: the reference bans after 3 failed handshakes, for 300 s",
    },
    Setting {
        holds: |c| c.max_message_size == MAX_MESSAGE_SIZE,
        bears_on: |a, n| on_requests_taken(a, n) || matches!(a, Asked::Send(s) if s.from == n || s.to == n),
        why: "a node it names sets max_message_size: the reference takes direct messages up to 16 MiB",
    },
    Setting {
        holds: |c| (c.requests.rate, c.requests.window) == RATE,
        bears_on: |a, n| on_requests_taken(a, n) || sent_to(a, n),
        why: "a node it names sets rate_limit: the reference accepts 100 requests per peer per 10 s",
    },
    Setting {
        holds: |c| c.requests.max_in_flight == RequestBounds::default().max_in_flight,
        bears_on: |a, n| on_requests_taken(a, n) || sent_to(a, n),
        why: "a node it names sets max_in_flight: the reference does not bound the requests its application holds",
    },
    Setting {
        holds: |c| {
            let (l, d) = (c.limits, Limits::default());
            (l.max_per_peer, l.max_total, l.max_pending_handshakes)
                == (d.max_per_peer, d.max_total, d.max_pending_handshakes)
        },
        bears_on: on_sessions,
        why: "a node it names sets limits.per_peer, total or pending_handshakes: the reference has one connection limit (its target_peer_count)",
    },
];

/// Why the reference cannot answer `asked` about `node` with `config`, if
/// it cannot: the first setting `config` asks for that the reference does
/// not have and that bears on the answer.
pub fn unmatched(config: &NodeConfig, node: &str, asked: Asked<'_>) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|s| !(s.holds)(config) && (s.bears_on)(asked, node))
        .map(|s| s.why)
}

/// Why the handshake-timeout invariants cannot judge the reference on a
/// run with a node of `config`, if they cannot.
pub fn of_handshake_timeout(config: &NodeConfig) -> Option<&'static str> {
    (!has_handshake_timeout(config)).then_some(NO_HANDSHAKE_TIMEOUT)
}

/// Whether `config` times handshakes out when the reference does.
fn has_handshake_timeout(config: &NodeConfig) -> bool {
    config.handshake_timeout == HANDSHAKE_TIMEOUT
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change to a node's settings.
    type Change = fn(&mut NodeConfig);

    fn send(from: &str, to: &str, expect: SendExpect) -> SendPlan {
        SendPlan {
            from: from.into(),
            to: to.into(),
            protocol: "scenario".into(),
            payload: Vec::new(),
            metadata: None,
            expect: Some(expect),
            code: None,
            repeat: 1,
            within: None,
        }
    }

    #[test]
    fn simnet_defaults_are_what_the_reference_does() {
        let verified = Check::Verified {
            a: "a".into(),
            b: "b".into(),
        };
        let failed = send("a", "b", SendExpect::Failed);
        for asked in [Asked::Check(&verified), Asked::Send(&failed)] {
            assert_eq!(unmatched(&NodeConfig::default(), "a", asked), None);
        }
    }

    #[test]
    fn each_setting_the_reference_lacks_is_named_where_it_bears_and_only_there() {
        let verified = Check::Verified {
            a: "a".into(),
            b: "b".into(),
        };
        let taken = Check::Requests {
            node: "a".into(),
            from: "b".into(),
            count: 1,
        };
        let timed_out = send("a", "b", SendExpect::Failed);
        let answered = send("b", "a", SendExpect::Success);
        let changes: [(Change, Asked<'_>); 8] = [
            (
                |c| c.handshake_timeout = Duration::from_secs(2),
                Asked::Check(&verified),
            ),
            (
                |c| c.request_timeout = Duration::from_secs(5),
                Asked::Check(&taken),
            ),
            (
                |c| c.send_deadline = Duration::from_secs(5),
                Asked::Send(&timed_out),
            ),
            (
                |c| c.bans.duration = Duration::from_secs(10),
                Asked::Check(&verified),
            ),
            (|c| c.max_message_size = 1024, Asked::Send(&answered)),
            (|c| c.requests.rate = 5, Asked::Send(&answered)),
            (|c| c.requests.max_in_flight = 2, Asked::Check(&taken)),
            (
                |c| c.limits.max_pending_handshakes = 2,
                Asked::Check(&verified),
            ),
        ];
        for ((change, asked), setting) in changes.into_iter().zip(&SETTINGS) {
            let mut config = NodeConfig::default();
            change(&mut config);
            assert_eq!(unmatched(&config, "a", asked), Some(setting.why));
            assert_eq!(unmatched(&config, "c", asked), None, "{}", setting.why);
        }
    }

    #[test]
    fn a_deadline_bears_on_a_send_that_must_fail_not_on_one_that_must_succeed() {
        let config = NodeConfig {
            send_deadline: Duration::from_secs(5),
            ..NodeConfig::default()
        };
        let verified = Check::Verified {
            a: "a".into(),
            b: "b".into(),
        };
        let answered = send("a", "b", SendExpect::Success);
        assert_eq!(unmatched(&config, "a", Asked::Send(&answered)), None);
        assert_eq!(unmatched(&config, "a", Asked::Check(&verified)), None);
    }

    #[cfg(feature = "reference")]
    #[test]
    fn the_size_limit_is_the_reference_crates_own() {
        assert_eq!(
            MAX_MESSAGE_SIZE as usize,
            blueprint_networking::types::MAX_MESSAGE_SIZE
        );
    }
}
