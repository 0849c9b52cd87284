//! What the reference says in its logs, as typed observations.
//!
//! `blueprint-networking` reports most of what it does only through
//! `tracing`: its behaviour never emits a swarm event, and handshake failures,
//! rejected requests and delivered messages leave no other trace. Each node
//! therefore runs under its own [`Capture`] dispatcher, which keeps the
//! crate's log events (and nothing else) and turns the ones the adapter maps
//! into an [`Observed`] here, in the one place that knows their texts. The
//! texts are those of the pinned version; [`tests`] and the adapter's
//! handshake test fail if they stop being seen.

use std::{
    fmt,
    str::FromStr,
    sync::{Arc, Mutex},
};

use libp2p::PeerId;
use tracing::{
    field::{Field, Visit},
    subscriber::Interest,
    Dispatch, Event, Metadata,
};
use tracing_subscriber::{
    layer::{Context, SubscriberExt},
    Layer,
};

/// The crate whose log events are kept.
const TARGET: &str = "blueprint_networking";

/// One thing the reference did that only its log shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// It sent its handshake request on a first connection.
    HandshakeSent {
        /// To whom.
        peer: PeerId,
    },
    /// A handshake request arrived.
    HandshakeReceived {
        /// From whom.
        peer: PeerId,
    },
    /// A handshake message (request or response) failed verification.
    HandshakeInvalid {
        /// The connection's peer.
        peer: PeerId,
        /// Whether it was too old rather than badly signed.
        stale: bool,
        /// Whether it was a request (answered 400) rather than a response.
        request: bool,
    },
    /// A direct request was handed to the application.
    RequestDelivered {
        /// The connection's (authenticated) peer.
        peer: PeerId,
    },
    /// A direct request from an unverified peer was answered 403.
    RequestFromUnverified {
        /// The sender.
        peer: PeerId,
    },
    /// A direct request's payload did not decode; answered 400.
    RequestUndecodable {
        /// The sender.
        peer: PeerId,
    },
    /// A direct request or gossip message was dropped over the rate limit.
    RateLimited {
        /// The sender or forwarder.
        peer: PeerId,
    },
    /// A gossip message was handed to the application.
    GossipDelivered {
        /// The peer that forwarded it.
        from: PeerId,
    },
    /// A gossip message from an unverified forwarder was not delivered.
    GossipFromUnverified {
        /// The forwarder.
        from: PeerId,
    },
    /// A gossip message's payload did not decode.
    GossipUndecodable {
        /// The forwarder.
        from: PeerId,
    },
    /// A peer subscribed to a topic (by its hash).
    Subscribed {
        /// The peer.
        peer: PeerId,
        /// The topic's hash, as gossipsub prints it.
        topic_hash: String,
    },
}

/// A log event's message and the fields the adapter reads.
#[derive(Default)]
struct Fields {
    message: String,
    peer: Option<PeerId>,
    topic: Option<String>,
}

/// The fields the adapter reads; the crate logs whole requests in others,
/// which are never formatted.
const READ: [&str; 6] = [
    "message",
    "peer",
    "peer_id",
    "conn.peer_id",
    "propagation_source",
    "topic",
];

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if READ.contains(&field.name()) {
            self.record(field.name(), &format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field.name(), value);
    }
}

impl Fields {
    fn record(&mut self, name: &str, value: &str) {
        match name {
            "message" => self.message = value.to_owned(),
            "peer" | "peer_id" | "conn.peer_id" | "propagation_source" => {
                self.peer = PeerId::from_str(value).ok();
            }
            "topic" => self.topic = Some(value.to_owned()),
            _ => {}
        }
    }

    /// The observation this event stands for, if the adapter maps it.
    fn observed(self) -> Option<Observed> {
        let peer = self.peer?;
        let text = self.message.as_str();
        let stale = text.contains("Handshake message expired");
        Some(match text {
            "Sent handshake request" => Observed::HandshakeSent { peer },
            "Received handshake request" => Observed::HandshakeReceived { peer },
            _ if text.starts_with("Invalid handshake request") => Observed::HandshakeInvalid {
                peer,
                stale,
                request: true,
            },
            _ if text.starts_with("Invalid handshake verification") => Observed::HandshakeInvalid {
                peer,
                stale,
                request: false,
            },
            "Received protocol request" => Observed::RequestDelivered { peer },
            "Received protocol message from unverified peer" => {
                Observed::RequestFromUnverified { peer }
            }
            _ if text.starts_with("Failed to deserialize protocol message") => {
                Observed::RequestUndecodable { peer }
            }
            "Per-peer rate limit exceeded, dropping message" => Observed::RateLimited { peer },
            "Forwarding gossip message to protocol handler" => {
                Observed::GossipDelivered { from: peer }
            }
            "Received gossip from unverified peer" => Observed::GossipFromUnverified { from: peer },
            "Failed to deserialize gossip message" => Observed::GossipUndecodable { from: peer },
            "Peer subscribed to topic" => Observed::Subscribed {
                peer,
                topic_hash: self.topic?,
            },
            _ => return None,
        })
    }
}

/// The observations of one node, oldest first, shared with its dispatcher.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Log>>);

#[derive(Default)]
struct Log {
    observed: Vec<Observed>,
    /// Whether the crate logged anything since [`Capture::take_activity`]:
    /// it logs whatever it does, so this says the adapter should look.
    active: bool,
}

impl Capture {
    /// A dispatcher that records the reference's log events into this
    /// capture and drops every other event.
    pub fn dispatch(&self) -> Dispatch {
        Dispatch::new(tracing_subscriber::registry().with(CaptureLayer(self.clone())))
    }

    /// Takes everything observed since the last call.
    pub fn take(&self) -> Vec<Observed> {
        std::mem::take(&mut self.log().observed)
    }

    /// Whether the crate logged anything since the last call.
    pub fn take_activity(&self) -> bool {
        std::mem::take(&mut self.log().active)
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct CaptureLayer(Capture);

fn wanted(metadata: &Metadata<'_>) -> bool {
    metadata.is_event() && metadata.target().starts_with(TARGET)
}

impl<S: tracing::Subscriber> Layer<S> for CaptureLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if wanted(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(metadata)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut log = self.0.log();
        log.active = true;
        log.observed.extend(fields.observed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(message: &str, peer: PeerId) -> Option<Observed> {
        Fields {
            message: message.into(),
            peer: Some(peer),
            topic: Some("hash".into()),
        }
        .observed()
    }

    #[test]
    fn texts_of_the_pinned_version_map_to_observations() {
        let peer = PeerId::random();
        assert_eq!(
            observe("Invalid handshake request: Error { code: 400, message: \"Handshake message expired\" }", peer),
            Some(Observed::HandshakeInvalid { peer, stale: true, request: true })
        );
        assert_eq!(
            observe("Invalid handshake verification: Error { code: 400, message: \"Invalid handshake signature\" }", peer),
            Some(Observed::HandshakeInvalid { peer, stale: false, request: false })
        );
        assert_eq!(
            observe("Peer subscribed to topic", peer),
            Some(Observed::Subscribed {
                peer,
                topic_hash: "hash".into()
            })
        );
        assert_eq!(observe("some other text", peer), None);
    }

    #[test]
    fn only_the_reference_crate_is_captured() {
        let capture = Capture::default();
        let peer = PeerId::random();
        tracing::dispatcher::with_default(&capture.dispatch(), || {
            tracing::debug!(target: "blueprint_networking::x", %peer, "Received handshake request");
            tracing::debug!(target: "libp2p_swarm", %peer, "Received handshake request");
        });
        assert_eq!(capture.take(), vec![Observed::HandshakeReceived { peer }]);
        assert!(capture.take().is_empty());
    }
}
