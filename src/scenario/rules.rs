//! The rules of the protocol document (`shared/seeds/networking-protocol.md`,
//! "Protocol Details" and the two state diagrams), each with the scenarios
//! of `scenarios/` that test it, and the rules simnet holds itself to beyond
//! the document ([`BEYOND`]: freshness, size and rate bounds, liveness). A
//! conformance run of another implementation is judged rule by rule from
//! these (`simnet reference-report`); a test keeps the tables and the
//! scenario directory in step, so a new scenario must name its rule here.

/// One rule of the protocol document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// A short, stable name.
    pub id: &'static str,
    /// The rule, in the document's words where it has them.
    pub text: &'static str,
    /// The scenarios (file stems in `scenarios/`) that test it.
    pub scenarios: &'static [&'static str],
}

/// Every rule, in the document's order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "handshake-on-first-connection",
        text: "The handshake is initiated on first connection, by either side.",
        scenarios: &["handshake-basic", "handshake-three-nodes", "link-latency", "hold-release"],
    },
    Rule {
        id: "mutual-authentication",
        text: "Mutual authentication: each peer signs the other's peer id with its key; each verifies the other's signature and stores its public key.",
        scenarios: &["handshake-basic", "handshake-reports-key", "key-change-after-verification", "allow-list"],
    },
    Rule {
        id: "signatures-verified",
        text: "Signature verification for handshakes: a forged signature, or one made for another peer (replayed), fails the handshake.",
        scenarios: &[
            "forged-signature",
            "replayed-handshake",
                                            ],
    },
    Rule {
        id: "handshake-states",
        text: "Handshake states: Connected, then OutboundPending or InboundPending, then Verified or Failed (invalid or timeout); a session ends when its connection closes.",
        scenarios: &[
            "handshake-basic",
            "crossed-handshake-rejected",
            "reconnect-rehandshakes",
                                    "crash-restart",
            "handshake-stream-drops-retry-bounded",
        ],
    },
    Rule {
        id: "handshake-timeout",
        text: "Handshakes time out after 30 seconds.",
        scenarios: &[
            "handshake-timeout",
            "handshake-flood",
            "silent-redialers-cannot-hold-pending-slots",
            "verified-outlives-handshake-timeout",
        ],
    },
    Rule {
        id: "concurrent-handshakes",
        text: "Concurrent handshakes are handled gracefully: a simultaneous dial verifies each side exactly once.",
        scenarios: &["simultaneous-dial", "near-simultaneous-dial", "crossed-handshake-rejected"],
    },
    Rule {
        id: "direct-needs-verification",
        text: "Direct P2P messages are targeted to a specific peer and require peer verification.",
        scenarios: &["send-needs-verification", "unverified-message-rejected"],
    },
    Rule {
        id: "direct-responses",
        text: "A direct request is answered with Success { data }, Protocol { data } or Error { code, message }.",
        scenarios: &[
            "response-kinds",
            "crash-restart",
            "verified-large-request-delivered",
            "malformed-requests",
                                                                    ],
    },
    Rule {
        id: "direct-delivery-attempt",
        text: "Direct messages have a guaranteed delivery attempt: a send ends in a response or a failure, retried across lost connections.",
        scenarios: &[
            "partition-heals",
            "listener-redials-announced-address",
            "lossy-link-retries",
            "send-deadline",
            "send-deadline-during-attempt",
                                            ],
    },
    Rule {
        id: "broadcast-gossipsub",
        text: "Broadcast messages are sent to all peers with gossipsub, best effort.",
        scenarios: &[
            "broadcast-subscribers",
            "broadcast-partitioned",
            "gossip-after-reconnect",
            "gossip-after-half-open-redial",
            "gossip-flood",
        ],
    },
    Rule {
        id: "verification-before-acceptance",
        text: "Peer verification before message acceptance: nothing from an unverified peer, direct or broadcast, reaches the application.",
        scenarios: &[
            "gossip-from-unverified",
            "gossip-skips-unverified",
            "gossip-unverified-relay-no-censor",
            "unverified-message-rejected",
        ],
    },
    Rule {
        id: "banned-peers",
        text: "Banned peer tracking: a banned peer's connections are closed and refused, its messages and gossip dropped, until the ban ends.",
        scenarios: &[
            "ban-and-expiry",
            "ban-during-dial",
            "reconnect-after-ban",
            "unban",
                                    "send-after-ban-refused",
                        "gossip-banned-author",
            "gossip-author-not-allowed",
        ],
    },
    Rule {
        id: "connection-limits",
        text: "Connection limits.",
        scenarios: &["inbound-limit", "outbound-limit", "handshake-flood", "silent-redialers-cannot-hold-pending-slots"],
    },
    Rule {
        id: "version-validation",
        text: "Protocol version validation: an incompatible version fails the handshake; a compatible one verifies.",
        scenarios: &["version-mismatch", "version-minor-compatible", "wrong-version-peer"],
    },
];

/// Rules simnet holds itself to that the document does not state. The
/// reference's own README promises some of them (timestamps against
/// replay, a 16 MiB message limit); they are judged separately.
pub const BEYOND: &[Rule] = &[
    Rule {
        id: "handshake-freshness",
        text: "A handshake's timestamp must be within 30 s of the verifier's clock (the reference's README: \"using timestamps to prevent replay attacks\").",
        scenarios: &["stale-timestamp", "clock-skew", "wrong-clock-bans-nobody"],
    },
    Rule {
        id: "message-size-limits",
        text: "Direct messages up to 16 MiB are delivered (the reference's `MAX_MESSAGE_SIZE`); larger ones, fields no peer decodes, and more than 4 KiB from an unverified peer are refused by the sender or dropped and counted by the receiver.",
        scenarios: &[
            "large-direct-message-delivered",
            "unverified-large-request-unread",
            "oversized-message",
            "oversized-sender",
            "long-protocol-name-refused",
        ],
    },
    Rule {
        id: "request-bounds",
        text: "A peer's direct requests are bounded by rate and by the number left unanswered; over either bound they are answered 429, and a request that times out frees its slot.",
        scenarios: &["request-flood", "in-flight-flood", "timed-out-request-frees-its-slot", "request-timeout-closes-its-connection", "backpressure-pauses-deadlines"],
    },
    Rule {
        id: "ban-policy",
        text: "Three ban-worthy handshake failures within 600 s ban a peer for 300 s, counted on either side, and so does a flood of requests without a handshake; a banned peer's redials are refused and backed off.",
        scenarios: &[
            "repeated-failures-ban",
            "spread-out-failures-ban-nobody",
            "banned-peer-redials-back-off",
            "unverified-flood-banned",
        ],
    },
    Rule {
        id: "dead-connections",
        text: "A connection that stops answering keep-alive pings is closed within 5 s, and its session with it, so a half-open peer handshakes again.",
        scenarios: &[
            "dead-connection-closed",
            "dead-connection-during-handshake",
            "half-open-session-rehandshakes",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_rule_has_scenarios() {
        let all: Vec<&Rule> = RULES.iter().chain(BEYOND).collect();
        let mut ids: Vec<_> = all.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert!(all.iter().all(|r| !r.scenarios.is_empty()));
    }
}
