//! What happened in a simulation: every node event and every injected fault,
//! stamped with virtual time, with peer ids rendered as node names.
//!
//! A trace contains nothing that differs between two runs of the same seed:
//! no wall-clock times, no libp2p process-wide ids.

use std::{collections::BTreeMap, fmt::Write as _, time::Duration};

use libp2p::PeerId;

use crate::protocol::{peers::Direction, Event};

/// One thing that happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// A node reported an event.
    Event(Event),
    /// The simulator injected a fault into the network or a node's clock.
    Fault(Fault),
    /// The node was stopped, losing its state.
    Crashed,
    /// The crashed node was started again with the same identity.
    Restarted,
    /// A remark of the runner's own (a command the node refused).
    Note(String),
}

/// A fault the simulator injected: what it did and to which nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Every message between `a` and `b` is dropped.
    Partition { a: String, b: String },
    /// A partition between `a` and `b` ended.
    Repair { a: String, b: String },
    /// Messages between `a` and `b` are queued.
    Hold { a: String, b: String },
    /// Messages held between `a` and `b` are delivered.
    Release { a: String, b: String },
    /// The latency range of the link between `a` and `b` changed.
    Latency {
        a: String,
        b: String,
        min: Duration,
        max: Duration,
    },
    /// The loss rate of the link between `a` and `b` changed.
    Loss { a: String, b: String, rate: f64 },
    /// Every link loses messages at `rate`.
    GlobalLoss { rate: f64 },
    /// The node's wall clock is shifted by `offset_ms`.
    Clock { offset_ms: i64 },
    /// The node's application stops taking events (they queue in the node).
    Stall,
    /// The node's application takes its events again.
    Resume,
}

impl Fault {
    /// The nodes the fault touches (none for a network-wide one; the node it
    /// is recorded under for a clock or a stalled application).
    pub fn nodes(&self) -> Vec<&str> {
        match self {
            Fault::Partition { a, b }
            | Fault::Repair { a, b }
            | Fault::Hold { a, b }
            | Fault::Release { a, b }
            | Fault::Latency { a, b, .. }
            | Fault::Loss { a, b, .. } => vec![a, b],
            Fault::GlobalLoss { .. } | Fault::Clock { .. } | Fault::Stall | Fault::Resume => {
                Vec::new()
            }
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Partition { a, b } => write!(f, "partition {a} | {b}"),
            Fault::Repair { a, b } => write!(f, "repair {a} | {b}"),
            Fault::Hold { a, b } => write!(f, "hold {a} | {b}"),
            Fault::Release { a, b } => write!(f, "release {a} | {b}"),
            Fault::Latency { a, b, min, max } => write!(f, "latency {a} | {b}: {min:?}..{max:?}"),
            Fault::Loss { a, b, rate } => write!(f, "loss {a} | {b}: {rate}"),
            Fault::GlobalLoss { rate } => write!(f, "loss on every link: {rate}"),
            Fault::Clock { offset_ms } => write!(f, "clock offset {offset_ms} ms"),
            Fault::Stall => write!(f, "application stalls"),
            Fault::Resume => write!(f, "application resumes"),
        }
    }
}

/// A record with its virtual time and the node it belongs to (`world` for
/// network-wide faults).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    /// Virtual time since the simulation started.
    pub at: Duration,
    /// Node name.
    pub node: String,
    /// What happened.
    pub record: Record,
}

/// Maps peer ids to node names for rendering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names(BTreeMap<PeerId, String>);

impl Names {
    /// Registers `name` for `peer`.
    pub fn insert(&mut self, peer: PeerId, name: String) {
        self.0.insert(peer, name);
    }

    /// The node name of `peer`, or its peer id if it is not a node of this world.
    pub fn of(&self, peer: &PeerId) -> String {
        self.0
            .get(peer)
            .cloned()
            .unwrap_or_else(|| peer.to_string())
    }

    /// The peer id of node `name`.
    pub fn peer(&self, name: &str) -> Option<PeerId> {
        self.0.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }
}

/// Renders an event in one line, naming peers by node name.
pub fn describe(event: &Event, names: &Names) -> String {
    let n = |peer: &PeerId| names.of(peer);
    match event {
        Event::Listening { address } => format!("listening on {address}"),
        Event::ConnectionEstablished {
            peer,
            connection,
            direction,
        } => format!(
            "connection #{connection} {} {} established",
            direction_word(*direction),
            match direction {
                Direction::Inbound => format!("from {}", n(peer)),
                Direction::Outbound => format!("to {}", n(peer)),
            }
        ),
        Event::ConnectionClosed {
            peer,
            connection,
            remaining,
        } => {
            format!(
                "connection #{connection} with {} closed, {remaining} left",
                n(peer)
            )
        }
        Event::ConnectionLost {
            peer,
            connection,
            error,
        } => format!("connection #{connection} with {} lost: {error}", n(peer)),
        Event::ConnectionRefused {
            peer,
            direction,
            reason,
        } => format!(
            "refused {} connection {} {}: {reason}",
            direction_word(*direction),
            match direction {
                Direction::Inbound => "from",
                Direction::Outbound => "to",
            },
            peer.as_ref().map_or("unknown peer".to_owned(), n)
        ),
        Event::DialFailed { peer, error } => format!(
            "dial {} failed: {error}",
            peer.as_ref().map_or("unknown peer".to_owned(), n)
        ),
        Event::Handshake {
            peer,
            state,
            failure,
            ..
        } => {
            let mut line = format!(
                "handshake with {}: {}",
                n(peer),
                snake(&format!("{state:?}"))
            );
            if let Some(failure) = failure {
                let _ = write!(line, " ({failure})");
            }
            line
        }
        Event::Request { peer, id, request } => format!(
            "request #{} from {}: {} ({} bytes)",
            id.0,
            n(peer),
            request.protocol,
            request.payload.len()
        ),
        Event::RequestRejected { peer, code } => {
            format!("rejected request from {} with code {code}", n(peer))
        }
        Event::SendRetrying {
            id,
            peer,
            attempts,
            error,
        } => format!(
            "send #{} to {} interrupted after {attempts} attempt(s): {error}",
            id.0,
            n(peer)
        ),
        Event::SendOutcome { id, peer, result } => match result {
            Ok(response) => format!(
                "send #{} to {}: {} response",
                id.0,
                n(peer),
                response.kind()
            ),
            Err(failure) => format!("send #{} to {} failed: {failure}", id.0, n(peer)),
        },
        Event::Subscribed { peer, topic } => format!("{} subscribed to {topic}", n(peer)),
        Event::Broadcast {
            topic,
            author,
            from,
            data,
        } => format!(
            "broadcast on {topic} by {} via {} ({} bytes)",
            author.as_ref().map_or("anonymous".to_owned(), n),
            n(from),
            data.len()
        ),
        Event::BroadcastRejected {
            topic,
            from,
            reason,
        } => {
            format!("rejected broadcast on {topic} via {}: {reason}", n(from))
        }
        Event::Banned {
            peer,
            reason,
            duration,
        } => format!(
            "banned {} {}: {reason}",
            n(peer),
            duration.map_or("permanently".to_owned(), |d| format!(
                "for {}",
                render_duration(d)
            ))
        ),
        Event::Unbanned { peer, expired } => format!(
            "unbanned {} ({})",
            n(peer),
            if *expired { "expired" } else { "lifted" }
        ),
        Event::Malformed {
            peer,
            protocol,
            error,
        } => format!(
            "malformed {protocol} message from {}: {error}",
            peer.as_ref().map_or("unknown peer".to_owned(), n)
        ),
    }
}

/// `OutboundPending` → `outbound_pending`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

/// `1.5s`, `300s`, `250ms`.
pub fn render_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

/// One trace entry as reports read it: its time, its node, the other nodes
/// it concerns (the peer of an event, the two ends of a link fault) and its
/// text. Snapshots and JSON hold it as its rendered line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// Virtual time since the start.
    pub at: Duration,
    /// The node it was recorded under (`world` for network faults).
    pub node: String,
    /// The other nodes it is about, by name.
    pub about: Vec<String>,
    /// What happened, in words.
    pub text: String,
}

impl TraceLine {
    /// The report's view of `entry`, peers named by `names`.
    pub fn of(entry: &TraceEntry, names: &Names) -> TraceLine {
        let about = match &entry.record {
            Record::Event(event) => event.peer().map(|p| names.of(&p)).into_iter().collect(),
            Record::Fault(fault) => fault.nodes().into_iter().map(str::to_owned).collect(),
            Record::Crashed | Record::Restarted | Record::Note(_) => Vec::new(),
        };
        TraceLine {
            at: entry.at,
            node: entry.node.clone(),
            about,
            text: text_of(&entry.record, names),
        }
    }
}

impl std::fmt::Display for TraceLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{:>5}.{:03}s] {}: {}",
            self.at.as_secs(),
            self.at.subsec_millis(),
            self.node,
            self.text
        )
    }
}

impl serde::Serialize for TraceLine {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn text_of(record: &Record, names: &Names) -> String {
    match record {
        Record::Event(event) => describe(event, names),
        Record::Fault(fault) => fault.to_string(),
        Record::Crashed => "crashed".to_owned(),
        Record::Restarted => "restarted".to_owned(),
        Record::Note(text) => text.clone(),
    }
}

/// Renders one entry as `[   1.234s] alice: handshake with bob: verified`.
pub fn render(entry: &TraceEntry, names: &Names) -> String {
    TraceLine::of(entry, names).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_render_compactly() {
        assert_eq!(render_duration(Duration::from_secs(300)), "300s");
        assert_eq!(render_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(render_duration(Duration::from_millis(1500)), "1.500s");
    }

    #[test]
    fn states_render_in_snake_case() {
        assert_eq!(snake("OutboundPending"), "outbound_pending");
        assert_eq!(snake("Verified"), "verified");
    }
}
