//! Failures in stable words, for events and traces.
//!
//! libp2p's own messages can embed process-wide counters (yamux numbers its
//! connections), which would make the same simulated run read differently
//! depending on what ran before it. Every failure text a node reports is
//! therefore worded here, from the error's kind only.

use libp2p::{
    request_response::{InboundFailure, OutboundFailure},
    swarm::DialError,
};

use super::codec::FrameError;

/// A send failure in stable words.
pub(crate) fn describe_failure(error: &OutboundFailure) -> String {
    match error {
        OutboundFailure::DialFailure => "dial failed".into(),
        OutboundFailure::Timeout => "no response in time".into(),
        OutboundFailure::ConnectionClosed => "connection closed before the response".into(),
        OutboundFailure::UnsupportedProtocols => "peer does not support the protocol".into(),
        OutboundFailure::Io(e) => match FrameError::find(e) {
            Some(frame) => frame.to_string(),
            None => format!("stream error ({:?})", e.kind()),
        },
    }
}

/// A dial failure in stable words.
pub(crate) fn describe_dial_error(error: &DialError) -> String {
    match error {
        DialError::LocalPeerId { .. } => "dialed our own address".into(),
        DialError::NoAddresses => "no address known".into(),
        DialError::DialPeerConditionFalse(_) => "already connected or dialing".into(),
        DialError::Aborted => "dial aborted".into(),
        DialError::WrongPeerId { .. } => "the address belongs to another peer".into(),
        DialError::Denied { .. } => "denied".into(),
        DialError::Transport(attempts) => {
            let kinds: Vec<String> = attempts
                .iter()
                .map(|(address, error)| match error {
                    libp2p::TransportError::MultiaddrNotSupported(_) => {
                        format!("{address}: address not supported")
                    }
                    libp2p::TransportError::Other(e) => format!("{address}: {:?}", e.kind()),
                })
                .collect();
            format!("transport failed: {}", kinds.join("; "))
        }
    }
}

/// The framing error behind an inbound failure, if a frame was at fault
/// (the peer sent bytes we refuse, as opposed to a timeout or a closed stream).
pub(crate) fn io_frame_error(error: &InboundFailure) -> Option<&FrameError> {
    match error {
        InboundFailure::Io(e) => FrameError::find(e),
        _ => None,
    }
}
