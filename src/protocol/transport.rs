//! The libp2p transport stack: any byte-stream transport, upgraded with noise
//! (authentication and encryption) and yamux (multiplexing).
//!
//! Real runs use tokio TCP; the simulator hands its own TCP to [`upgrade`], so
//! both run the same security and multiplexing code. Every connection's close
//! is bounded in time ([`super::close_deadline`]).

use std::time::Duration;

use super::close_deadline::CloseDeadline;
use libp2p::{
    core::{muxing::StreamMuxerBox, transport::Boxed, upgrade::Version, Transport},
    identity::Keypair,
    noise, tcp, yamux, PeerId,
};

/// A transport that yields authenticated, multiplexed connections.
pub type BoxedTransport = Boxed<(PeerId, StreamMuxerBox)>;

/// How long noise + yamux negotiation may take on a new connection. It needs
/// a few round trips; a dial whose negotiation stalls (its link died) is
/// given up after this and retried by whoever needs the connection.
pub const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a transport could not be built.
#[derive(Debug, thiserror::Error)]
#[error("noise configuration failed: {0}")]
pub struct TransportError(#[from] noise::Error);

/// Upgrades a raw byte-stream transport with noise and yamux.
pub fn upgrade<T>(raw: T, keypair: &Keypair) -> Result<BoxedTransport, TransportError>
where
    T: Transport + Send + Unpin + 'static,
    T::Output: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
    T::Error: Send + Sync + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
{
    Ok(raw
        .upgrade(Version::V1)
        .authenticate(noise::Config::new(keypair)?)
        .multiplex(yamux::Config::default())
        .timeout(UPGRADE_TIMEOUT)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(CloseDeadline::new(muxer))))
        .boxed())
}

/// tokio TCP (no Nagle delay) with noise and yamux, for real sockets.
pub fn tcp(keypair: &Keypair) -> Result<BoxedTransport, TransportError> {
    upgrade(
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true)),
        keypair,
    )
}
