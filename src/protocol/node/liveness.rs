//! The node's side of connection liveness: closing connections that stopped
//! answering keep-alive pings (see `protocol::liveness`), and replacing a peer's older connections when
//! it dials us again on a verified session.

use libp2p::{ping, swarm::ConnectionId, PeerId};
use tokio::time::Instant;
use tracing::debug;

use super::Node;
use crate::protocol::event::Event;

impl Node {
    pub(super) fn on_ping_event(&mut self, event: ping::Event) {
        let ping::Event {
            peer,
            connection,
            result,
        } = event;
        let error = match result {
            Ok(_) => return self.liveness.answered(connection, Instant::now()),
            // A peer without ping (another implementation) is not dead, and
            // its silence says nothing.
            Err(ping::Failure::Unsupported) => return self.liveness.forget(connection),
            Err(failure) => format!("keep-alive ping failed: {failure}"),
        };
        self.liveness.forget(connection);
        debug!(%peer, %error, "keep-alive ping failed; closing the connection");
        let number = self.connections.number_of(connection);
        self.emit(Event::ConnectionLost {
            peer,
            connection: number,
            error,
        });
        self.swarm.close_connection(connection);
    }

    /// Closes every connection with `peer`, in the order they opened.
    /// (`Swarm::disconnect_peer_id` closes them in the order of a hash map
    /// keyed by process-wide connection ids, so which one is reported closed
    /// first would differ between runs of one seed.)
    pub(super) fn disconnect(&mut self, peer: PeerId) {
        for connection in self.connections.of(&peer) {
            self.swarm.close_connection(connection);
        }
    }

    /// Closes the connections that answered no keep-alive ping for too long.
    pub(super) fn close_silent_connections(&mut self, now: Instant) {
        let silent_after = self.liveness.silent_after();
        for connection in self.liveness.take_dead(now) {
            let Some(peer) = self.connections.peer_of(connection) else {
                continue;
            };
            debug!(%peer, "no keep-alive answer; closing the connection");
            let number = self.connections.number_of(connection);
            self.emit(Event::ConnectionLost {
                peer,
                connection: number,
                error: format!("no answer to keep-alive pings for {silent_after:?}"),
            });
            self.swarm.close_connection(connection);
        }
    }

    /// A peer whose session with us is verified dialed us again: it dials
    /// only when it has no connection to us (or its application asked to),
    /// so our older connections to it are dead or about to be replaced.
    /// Closing them at once keeps one connection per peer, so requests and
    /// gossip (whose per-peer queue only the first connection's handler
    /// waits on) do not go into a connection the peer already dropped.
    ///
    /// Only the side that sees the new connection as inbound on a verified
    /// session closes, and both sides of one pair cannot be in that position
    /// for two crossing connections at once: each side's verification needs
    /// the connection it verified on to be open at the other side first.
    pub(super) fn replace_older_connections(&mut self, peer: PeerId, newest: ConnectionId) {
        let number = self.connections.number_of(newest);
        for old in self.connections.older_than(&peer, number) {
            debug!(%peer, ?old, "closing a connection the peer replaced");
            self.swarm.close_connection(old);
        }
    }
}
