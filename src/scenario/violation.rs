//! [`Violation`]: a global invariant or a `never` pattern that a run broke,
//! kept as its rule and the words that locate it, so suites group failures by
//! rule without re-splitting text, and reports show it as one line.

use std::fmt;

use serde::{Serialize, Serializer};

/// Which rule a run broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A direct message or broadcast from an unverified peer reached an application.
    UnverifiedMessage,
    /// A direct message or broadcast from a banned peer reached an application.
    BannedMessage,
    /// A broadcast whose author the receiver has banned reached its application.
    BannedAuthor,
    /// A broadcast whose author is not on the receiver's allow-list reached
    /// its application.
    AuthorNotAllowed,
    /// A handshake ended after its node's timeout.
    HandshakeLate,
    /// A handshake was still open long after its timeout when the run ended.
    HandshakeNeverFinished,
    /// A session was verified twice.
    VerifiedTwice,
    /// A node verified a peer it had banned.
    VerifiedWhileBanned,
    /// A node held more connections than its limits allow.
    ConnectionLimit,
    /// A send ended in more than one outcome.
    SendOutcomeTwice,
    /// An accepted send never ended in an outcome.
    SendNeverEnded,
    /// An event matched one of the scenario's `never` patterns.
    Never,
}

impl Rule {
    /// The rule in words, as reports show it.
    pub fn text(self) -> &'static str {
        match self {
            Rule::UnverifiedMessage => "message from an unverified peer reached the application",
            Rule::BannedMessage => "message from a banned peer reached the application",
            Rule::BannedAuthor => "broadcast whose author is banned reached the application",
            Rule::AuthorNotAllowed => {
                "broadcast whose author is not allowed reached the application"
            }
            Rule::HandshakeLate => "handshake finished after its timeout",
            Rule::HandshakeNeverFinished => "handshake never finished",
            Rule::VerifiedTwice => "session verified twice",
            Rule::VerifiedWhileBanned => "a banned peer was verified",
            Rule::ConnectionLimit => "connection limit exceeded",
            Rule::SendOutcomeTwice => "send ended in more than one outcome",
            Rule::SendNeverEnded => "never ended in an outcome",
            Rule::Never => "never",
        }
    }
}

/// A broken rule and what broke it: the trace line of the event, or for
/// the end-of-run rules the node, peer or send concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// Where: a rendered trace line, or `alice with bob since 1s`, `#7 of alice`.
    pub detail: String,
    /// The index in the trace of the event that broke it; `None` for the
    /// end-of-run rules. For drawing it in a diagram after that event.
    pub entry: Option<usize>,
    /// The nodes it concerns (the event's node and peer, or the node and
    /// peer an end-of-run rule names), for drawing it over them.
    pub nodes: Vec<String>,
}

impl Violation {
    /// How this violation fails, independent of times and counts: the rule
    /// alone for rules about one event, the masked line for `never` patterns
    /// and end-of-run rules (which name what they are about).
    pub fn signature(&self) -> String {
        let text = match self.rule {
            Rule::Never | Rule::HandshakeNeverFinished | Rule::SendNeverEnded => {
                mask_numbers(&self.to_string())
            }
            rule => rule.text().to_owned(),
        };
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Rule::SendNeverEnded => write!(f, "send {} {}", self.detail, self.rule.text()),
            rule => write!(f, "{}: {}", rule.text(), self.detail),
        }
    }
}

/// Snapshots and reports hold a violation as its one-line text.
impl Serialize for Violation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// `text` with every run of digits replaced by `#`.
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut previous_digit = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !previous_digit {
                out.push('#');
            }
            previous_digit = true;
        } else {
            previous_digit = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(line: &str) -> Violation {
        Violation {
            rule: Rule::Never,
            detail: line.into(),
            entry: None,
            nodes: Vec::new(),
        }
    }

    #[test]
    fn masking_replaces_digit_runs() {
        assert_eq!(mask_numbers("send #12 at 3.105s"), "send ## at #.#s");
    }

    #[test]
    fn never_violations_keep_the_event_and_lose_the_time() {
        let early = never("[    0.112s] alice: handshake with bob: failed (timeout)");
        let late = never("[   30.050s] alice: handshake with bob: failed (timeout)");
        let other = never("[   30.050s] alice: handshake with bob: failed (rejected)");
        assert_eq!(early.signature(), late.signature());
        assert_ne!(late.signature(), other.signature());
        let banned = Violation {
            rule: Rule::BannedMessage,
            detail: "[ 1.0s] alice: request".into(),
            entry: None,
            nodes: Vec::new(),
        };
        assert_eq!(
            banned.signature(),
            "message from a banned peer reached the application"
        );
    }

    #[test]
    fn text_is_the_rule_then_where() {
        assert_eq!(
            never("[    0.112s] a: x").to_string(),
            "never: [    0.112s] a: x"
        );
        let send = Violation {
            rule: Rule::SendNeverEnded,
            detail: "#7 of alice".into(),
            entry: None,
            nodes: Vec::new(),
        };
        assert_eq!(
            send.to_string(),
            "send #7 of alice never ended in an outcome"
        );
    }
}
