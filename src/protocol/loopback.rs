//! A node on real TCP at 127.0.0.1, for tests, benchmarks and the demo:
//! [`spawn`] starts it on an ephemeral port and returns once it listens.

use std::time::Duration;

use libp2p::{
    multiaddr::{Multiaddr, Protocol},
    PeerId,
};

use super::{
    control::{CommandError, NodeHandle},
    event::Event,
    keys::NodeKeys,
    node::{Node, NodeError},
    transport::{self, TransportError},
    NodeConfig,
};

/// Longest [`spawn`] waits for the listener's address (wall time). Binding to
/// the loopback interface takes microseconds; this bound only turns a node
/// that never reports an address into an error instead of a hang.
pub const LISTEN_WAIT: Duration = Duration::from_secs(10);

/// Why a loopback node could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// The TCP transport could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The node could not be built.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The node refused to listen.
    #[error("could not listen: {0}")]
    Listen(#[from] CommandError),
    /// The node stopped, or reported no address within [`LISTEN_WAIT`].
    #[error("node {0} did not start listening")]
    NoAddress(PeerId),
}

/// Starts a node with `config` and `keys` on `127.0.0.1:0` as a tokio task and
/// waits for its [`Event::Listening`]; returns its handle and that address.
/// Must be called inside a tokio runtime. Events before the address are
/// consumed here.
pub async fn spawn(
    config: NodeConfig,
    keys: NodeKeys,
) -> Result<(NodeHandle, Multiaddr), LoopbackError> {
    let transport = transport::tcp(&keys.identity)?;
    let (node, mut handle) = Node::new(config, keys, transport)?;
    tokio::spawn(node.run());
    handle.control.listen(any_port()).await?;
    let address = wait_listening(&mut handle).await?;
    Ok((handle, address))
}

/// `127.0.0.1` on a port the system picks.
pub fn any_port() -> Multiaddr {
    Multiaddr::empty()
        .with(Protocol::Ip4([127, 0, 0, 1].into()))
        .with(Protocol::Tcp(0))
}

/// Waits for a starting node's [`Event::Listening`], consuming the events
/// before it, for at most [`LISTEN_WAIT`].
pub async fn wait_listening(handle: &mut NodeHandle) -> Result<Multiaddr, LoopbackError> {
    let listening = tokio::time::timeout(LISTEN_WAIT, async {
        while let Some(event) = handle.next_event().await {
            if let Event::Listening { address } = event {
                return Some(address);
            }
        }
        None
    });
    match listening.await {
        Ok(Some(address)) => Ok(address),
        _ => Err(LoopbackError::NoAddress(handle.peer_id())),
    }
}
