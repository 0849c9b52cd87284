//! What each trace entry lets a diagram honestly draw.
//!
//! The protocol records what a node saw, not every frame it wrote, so an
//! arrow is drawn from the event of the side that recorded the message:
//!
//! | event (at node N, about peer P) | drawn | recorded by |
//! |---|---|---|
//! | connection established, outbound | `N->>P` connect | the dialer (the listener's inbound event is the same connection and is not drawn again) |
//! | handshake `outbound_pending` | `N->>P` `HandshakeRequest`, then a note | the sender |
//! | handshake `inbound_pending` | a note over N (P's request verified); an arrow `P->>N` only if P recorded no request of its own | the receiver |
//! | handshake `verified` after `inbound_pending` | `N-->>P` accepting `HandshakeResponse`, then a note | the sender (the response was flushed) |
//! | handshake `verified` otherwise | `P-->>N` accepting `HandshakeResponse`, unless P already drew it, then a note | **inferred from the receiver**: in a crossed handshake the session may verify when N's own answer is sent, but each side answers the other's request, so the wire carries this response either way |
//! | handshake `failed`, rejected by the peer | `P--xN` `HandshakeResponse::Rejected` with its code | **inferred from the receiver** |
//! | handshake `failed`, any other reason | a note over N | N |
//! | request delivered | `P->>N` `InstanceMessageRequest` | **inferred from the receiver** (a sender records no event when it writes a request) |
//! | request rejected with a code | `P->>N` request, `N-->>P` `Error` code | the receiver, which also sent the error |
//! | send outcome: a response | `P-->>N` the response kind, unless P's rejection already drew it | the receiver of the response |
//! | send failed or retried | a note over N | N |
//! | subscribed | `P->>N` `SUBSCRIBE` | **inferred from the receiver** |
//! | broadcast delivered or rejected | `P->>N` (or `P-xN`) gossip from its forwarder | **inferred from the receiver**; a publisher records nothing, so a publication with no receiver is not drawn |
//! | connection closed, lost, refused; dial failed; ban, unban; malformed | notes over N (and P for a close, since either side may have closed it) | N |
//! | fault | a note over the nodes it touches | the simulator |
//!
//! `listening` and `connected` states draw nothing (the connect arrow says it).
//!
//! Every step carries the time its node reported the event. A node whose
//! application takes no events for a while reports what queued meanwhile
//! when it reads again, so its arrows (and those inferred from its events)
//! are drawn then: a response can appear before the request it answers.

use std::collections::BTreeMap;

use libp2p::PeerId;

use super::{Arrow, Mark, Step};
use crate::{
    net::{
        trace::{render_duration, Names, TraceEntry},
        Record,
    },
    protocol::{
        handshake::{HandshakeFailure, HandshakeState},
        peers::Direction,
        Event, InstanceMessageResponse,
    },
};

/// Messages drawn by one side that the other side's later event must not
/// draw again, per (sender, receiver).
#[derive(Default)]
struct Drawn {
    handshake_requests: BTreeMap<(String, String), usize>,
    handshake_responses: BTreeMap<(String, String), usize>,
    rejections: BTreeMap<(String, String), usize>,
}

impl Drawn {
    /// Counts a message drawn from the sender's side.
    fn sent(map: &mut BTreeMap<(String, String), usize>, from: &str, to: &str) {
        *map.entry((from.to_owned(), to.to_owned())).or_default() += 1;
    }

    /// Whether the sender already drew this message (and consumes it).
    fn already(map: &mut BTreeMap<(String, String), usize>, from: &str, to: &str) -> bool {
        match map.get_mut(&(from.to_owned(), to.to_owned())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

/// The steps of `trace`, in trace order; peers are named by `names`.
pub fn steps(trace: &[TraceEntry], names: &Names) -> Vec<Step> {
    let mut out = Vec::new();
    let mut drawn = Drawn::default();
    let mut states: BTreeMap<(String, String), HandshakeState> = BTreeMap::new();
    for (index, entry) in trace.iter().enumerate() {
        let marks = match &entry.record {
            Record::Event(event) => {
                let mut marks = event_marks(entry, event, names, &mut drawn, &mut states);
                if let Some(peer) = event.peer().map(|p| names.of(&p)) {
                    for mark in &mut marks {
                        if let Mark::Note { over, about, .. } = mark {
                            if !over.contains(&peer) {
                                about.push(peer.clone());
                            }
                        }
                    }
                }
                marks
            }
            Record::Fault(fault) => {
                // No nodes: a clock fault (over its node) or one on every link (over all).
                let mut over: Vec<String> = fault.nodes().into_iter().map(str::to_owned).collect();
                if over.is_empty() && entry.node != "world" {
                    over.push(entry.node.clone());
                }
                vec![Mark::Note {
                    over,
                    about: Vec::new(),
                    text: format!("⚡ {fault}"),
                }]
            }
            Record::Crashed => {
                states.retain(|(node, _), _| *node != entry.node);
                vec![note(&entry.node, "💥 crashed".to_owned())]
            }
            Record::Restarted => vec![note(&entry.node, "restarted".to_owned())],
            Record::Note(text) => vec![note(&entry.node, text.clone())],
        };
        let count = marks.len();
        if count == 0 {
            counted_by_its_rejection(&mut out, entry, names);
        }
        for (i, mark) in marks.into_iter().enumerate() {
            out.push(Step {
                at: entry.at,
                // The entry is counted once, by its last step.
                entries: usize::from(i + 1 == count),
                entry: Some(index),
                mark,
            });
        }
    }
    out
}

/// An error response the rejecting side already drew is counted by the
/// latest rejection arrow from its sender to this node, so the notes on
/// what was left out count only entries that are not drawn at all.
fn counted_by_its_rejection(out: &mut [Step], entry: &TraceEntry, names: &Names) {
    let Record::Event(Event::SendOutcome { peer, .. }) = &entry.record else {
        return;
    };
    let sender = names.of(peer);
    let rejection = out.iter_mut().rev().find(|s| {
        matches!(&s.mark, Mark::Message { from, to, arrow: Arrow::Rejection, .. }
            if *from == sender && *to == entry.node)
    });
    if let Some(step) = rejection {
        step.entries += 1;
    }
}

fn note(node: &str, text: String) -> Mark {
    Mark::Note {
        over: vec![node.to_owned()],
        about: Vec::new(),
        text,
    }
}

fn message(from: &str, to: &str, arrow: Arrow, text: String) -> Mark {
    Mark::Message {
        from: from.to_owned(),
        to: to.to_owned(),
        arrow,
        text,
    }
}

fn event_marks(
    entry: &TraceEntry,
    event: &Event,
    names: &Names,
    drawn: &mut Drawn,
    states: &mut BTreeMap<(String, String), HandshakeState>,
) -> Vec<Mark> {
    let node = entry.node.as_str();
    let name = |peer: &PeerId| names.of(peer);
    let maybe = |peer: &Option<PeerId>| peer.as_ref().map_or("an unknown peer".to_owned(), name);
    match event {
        Event::Listening { .. } => Vec::new(),
        Event::ConnectionEstablished {
            peer, direction, ..
        } => match direction {
            Direction::Outbound => {
                vec![message(node, &name(peer), Arrow::Request, "connect".into())]
            }
            Direction::Inbound if names.peer(&name(peer)).is_some() => Vec::new(),
            Direction::Inbound => {
                vec![message(&name(peer), node, Arrow::Request, "connect".into())]
            }
        },
        Event::ConnectionClosed {
            peer, remaining, ..
        } => vec![Mark::Note {
            over: vec![node.to_owned(), name(peer)],
            about: Vec::new(),
            text: format!("{node}: connection closed, {remaining} left"),
        }],
        Event::ConnectionLost { peer, error, .. } => {
            vec![note(
                node,
                format!("connection with {} lost: {error}", name(peer)),
            )]
        }
        Event::ConnectionRefused {
            peer,
            direction,
            reason,
        } => match (direction, peer) {
            (Direction::Inbound, Some(peer)) => vec![message(
                &name(peer),
                node,
                Arrow::Refused,
                format!("connect refused: {reason}"),
            )],
            _ => vec![note(
                node,
                format!("refused connection with {}: {reason}", maybe(peer)),
            )],
        },
        Event::DialFailed { peer, error } => {
            vec![note(node, format!("dial {} failed: {error}", maybe(peer)))]
        }
        Event::Handshake {
            peer,
            state,
            failure,
            ..
        } => {
            let peer = name(peer);
            let previous = states.insert((node.to_owned(), peer.clone()), *state);
            handshake_marks(node, &peer, *state, previous, failure.as_ref(), drawn)
        }
        Event::Request { peer, request, .. } => vec![message(
            &name(peer),
            node,
            Arrow::Request,
            format!(
                "InstanceMessageRequest {} ({} bytes)",
                request.protocol,
                request.payload.len()
            ),
        )],
        Event::RequestRejected { peer, code } => {
            let peer = name(peer);
            Drawn::sent(&mut drawn.rejections, node, &peer);
            vec![
                message(&peer, node, Arrow::Request, "InstanceMessageRequest".into()),
                message(node, &peer, Arrow::Rejection, format!("Error {code}")),
            ]
        }
        Event::SendRetrying {
            peer,
            attempts,
            error,
            ..
        } => vec![note(
            node,
            format!(
                "send to {} interrupted after {attempts} attempt(s): {error}",
                name(peer)
            ),
        )],
        Event::SendOutcome { peer, result, .. } => {
            let peer = name(peer);
            match result {
                Ok(InstanceMessageResponse::Error { .. })
                    if Drawn::already(&mut drawn.rejections, &peer, node) =>
                {
                    Vec::new()
                }
                Ok(response) => vec![message(
                    &peer,
                    node,
                    match response {
                        InstanceMessageResponse::Error { .. } => Arrow::Rejection,
                        _ => Arrow::Response,
                    },
                    response_text(response),
                )],
                Err(failure) => vec![note(node, format!("send to {peer} failed: {failure}"))],
            }
        }
        Event::Subscribed { peer, topic } => {
            vec![message(
                &name(peer),
                node,
                Arrow::Request,
                format!("SUBSCRIBE {topic}"),
            )]
        }
        Event::Broadcast {
            topic,
            author,
            from,
            data,
        } => {
            let from = name(from);
            let by = match author.as_ref().map(name) {
                Some(author) if author == from => String::new(),
                Some(author) => format!(" by {author}"),
                None => " (anonymous)".to_owned(),
            };
            vec![message(
                &from,
                node,
                Arrow::Request,
                format!("gossip {topic}{by} ({} bytes)", data.len()),
            )]
        }
        Event::BroadcastRejected {
            topic,
            from,
            reason,
        } => vec![message(
            &name(from),
            node,
            Arrow::Refused,
            format!("gossip {topic} rejected: {reason}"),
        )],
        Event::Banned {
            peer,
            reason,
            duration,
        } => vec![note(
            node,
            format!(
                "bans {} {}: {reason}",
                name(peer),
                duration.map_or("permanently".to_owned(), |d| format!(
                    "for {}",
                    render_duration(d)
                ))
            ),
        )],
        Event::Unbanned { peer, expired } => vec![note(
            node,
            format!(
                "ban on {} {}",
                name(peer),
                if *expired { "expired" } else { "lifted" }
            ),
        )],
        Event::Malformed {
            peer,
            protocol,
            error,
        } => match peer {
            Some(peer) => vec![message(
                &name(peer),
                node,
                Arrow::Refused,
                format!("malformed {protocol} message: {error}"),
            )],
            None => vec![note(node, format!("malformed {protocol} message: {error}"))],
        },
    }
}

fn handshake_marks(
    node: &str,
    peer: &str,
    state: HandshakeState,
    previous: Option<HandshakeState>,
    failure: Option<&HandshakeFailure>,
    drawn: &mut Drawn,
) -> Vec<Mark> {
    match state {
        HandshakeState::Connected => Vec::new(),
        HandshakeState::OutboundPending => {
            Drawn::sent(&mut drawn.handshake_requests, node, peer);
            vec![
                message(node, peer, Arrow::Request, "HandshakeRequest".into()),
                note(node, format!("outbound_pending with {peer}")),
            ]
        }
        HandshakeState::InboundPending => {
            let mut marks = Vec::new();
            if !Drawn::already(&mut drawn.handshake_requests, peer, node) {
                marks.push(message(
                    peer,
                    node,
                    Arrow::Request,
                    "HandshakeRequest".into(),
                ));
            }
            marks.push(note(
                node,
                format!("inbound_pending: {peer}'s signature verified"),
            ));
            marks
        }
        HandshakeState::Verified => {
            let mut marks = Vec::new();
            if previous == Some(HandshakeState::InboundPending) {
                Drawn::sent(&mut drawn.handshake_responses, node, peer);
                marks.push(message(
                    node,
                    peer,
                    Arrow::Response,
                    "HandshakeResponse accepted".into(),
                ));
            } else if !Drawn::already(&mut drawn.handshake_responses, peer, node) {
                marks.push(message(
                    peer,
                    node,
                    Arrow::Response,
                    "HandshakeResponse accepted".into(),
                ));
            }
            marks.push(note(node, format!("✓ verified {peer}")));
            marks
        }
        HandshakeState::Failed => match failure {
            Some(HandshakeFailure::Rejected { code, message: why }) => vec![
                message(
                    peer,
                    node,
                    Arrow::Rejection,
                    format!("HandshakeResponse::Rejected {code}: {why}"),
                ),
                note(node, format!("failed with {peer}: rejected")),
            ],
            Some(failure) => vec![note(node, format!("failed with {peer}: {failure}"))],
            None => vec![note(node, format!("failed with {peer}"))],
        },
    }
}

/// `InstanceMessageResponse::Success`, `… ::Error 429: too many requests`.
fn response_text(response: &InstanceMessageResponse) -> String {
    match response {
        InstanceMessageResponse::Success { .. } => "InstanceMessageResponse::Success".into(),
        InstanceMessageResponse::Protocol { data } => {
            format!("InstanceMessageResponse::Protocol ({} bytes)", data.len())
        }
        InstanceMessageResponse::Error { code, message } => {
            format!("InstanceMessageResponse::Error {code}: {message}")
        }
    }
}
