//! Which code runs a node: simnet's own protocol ([`crate::protocol::Node`])
//! or, built with the cargo feature `reference`, `blueprint-networking`
//! through the adapter in `crate::reference`. Every network (both
//! simulators and real sockets) builds its nodes here, so a scenario runs
//! unchanged on either implementation.

use futures::future::BoxFuture;
use libp2p::Multiaddr;

use crate::protocol::{
    transport::BoxedTransport, Node, NodeConfig, NodeError, NodeHandle, NodeKeys,
};

/// An implementation of the protocol that simnet can run a node on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// simnet's own (`src/protocol/`).
    #[default]
    Simnet,
    /// `blueprint-networking` 0.2.0-alpha.13, the implementation the protocol
    /// document was written for (needs `--features reference`).
    Reference,
}

impl Implementation {
    /// Every implementation, simnet's first.
    pub const ALL: [Implementation; 2] = [Implementation::Simnet, Implementation::Reference];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Simnet => "simnet",
            Implementation::Reference => "reference",
        }
    }

    /// Whether this build can run it.
    pub fn is_built(self) -> bool {
        match self {
            Implementation::Simnet => true,
            Implementation::Reference => cfg!(feature = "reference"),
        }
    }
}

impl std::fmt::Display for Implementation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The implementation asked for is not in this build.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
#[error("this simnet was built without the cargo feature `reference`; build it with `cargo run --features reference -- …` to run --impl reference")]
pub struct NotBuilt;

/// A node, built and listening, ready to be driven: the future to spawn
/// and the application's handle on it.
pub struct StartedNode {
    /// Runs the node until it is shut down or its controls are dropped.
    pub run: BoxFuture<'static, ()>,
    /// Commands in, events out.
    pub handle: NodeHandle,
}

/// Builds the nodes of one network on one implementation. Nodes built by the
/// same builder know each other (the reference needs every peer's instance
/// key up front), so a network keeps one builder for its lifetime.
#[derive(Clone)]
pub struct NodeBuilder {
    implementation: Implementation,
    #[cfg(feature = "reference")]
    directory: crate::reference::Directory,
}

impl NodeBuilder {
    /// A builder for `implementation`, if this build has it.
    pub fn new(implementation: Implementation) -> Result<Self, NotBuilt> {
        if !implementation.is_built() {
            return Err(NotBuilt);
        }
        Ok(Self {
            implementation,
            #[cfg(feature = "reference")]
            directory: crate::reference::Directory::default(),
        })
    }

    /// Whether this implementation can run a node configured so; if not,
    /// why not. Networks ask before building, so a scenario it cannot run
    /// is reported as not applicable rather than failed.
    pub fn admits(&self, config: &NodeConfig) -> Result<(), String> {
        match self.implementation {
            Implementation::Simnet => Ok(()),
            #[cfg(feature = "reference")]
            Implementation::Reference => crate::reference::admits(config),
            #[cfg(not(feature = "reference"))]
            Implementation::Reference => {
                let _ = config;
                Err(NotBuilt.to_string())
            }
        }
    }

    /// Builds a node with `config` and `keys` on `transport`, listening on
    /// `listen`. Must be called inside a tokio runtime.
    pub fn start(
        &self,
        config: NodeConfig,
        keys: NodeKeys,
        transport: BoxedTransport,
        listen: Multiaddr,
    ) -> Result<StartedNode, NodeError> {
        match self.implementation {
            Implementation::Simnet => {
                let (mut node, handle) = Node::new(config, keys, transport)?;
                node.listen_on(listen)
                    .map_err(|e| NodeError::Config(format!("listen: {e}")))?;
                Ok(StartedNode {
                    run: Box::pin(node.run()),
                    handle,
                })
            }
            #[cfg(feature = "reference")]
            Implementation::Reference => {
                crate::reference::start(config, keys, transport, listen, &self.directory)
            }
            #[cfg(not(feature = "reference"))]
            Implementation::Reference => Err(NodeError::Config(NotBuilt.to_string())),
        }
    }
}
