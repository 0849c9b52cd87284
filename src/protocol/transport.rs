//! The libp2p transport stack: any byte-stream transport, upgraded with noise
//! (authentication and encryption) and yamux (multiplexing).
//!
//! Real runs use tokio TCP; the simulator hands its own TCP to [`upgrade`], so
//! both run the same security and multiplexing code.

use std::time::Duration;

use libp2p::{
    core::{muxing::StreamMuxerBox, transport::Boxed, upgrade::Version, Transport},
    identity::Keypair,
    noise, tcp, yamux, PeerId,
};

/// A transport that yields authenticated, multiplexed connections.
pub type BoxedTransport = Boxed<(PeerId, StreamMuxerBox)>;

/// How long noise + yamux negotiation may take on a new connection.
pub const UPGRADE_TIMEOUT: Duration = Duration::from_secs(20);

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
        .boxed())
}

/// tokio TCP (no Nagle delay) with noise and yamux, for real sockets.
pub fn tcp(keypair: &Keypair) -> Result<BoxedTransport, TransportError> {
    upgrade(
        tcp::tokio::Transport::new(tcp::Config::default().nodelay(true)),
        keypair,
    )
}
